/**
 * `dumps` and `Pickler`: values to bytes, choosing the opcodes CPython's C pickler chooses, so
 * that built-in values come out byte for byte as `pickle.dumps` writes them.
 *
 * `saveValue()` follows CPython's precedence: persistent ID, atoms, memo, built-in containers,
 * `reducerOverride`, globals, the reducer table, the registry, inert objects. Containers do not
 * recurse: they push frames (pickler-frames.ts) that the loop in `run()` steps through.
 */
import {
  decimalnl_long,
  decimalnl_short,
  encodeLong,
  floatnl,
  stringnl_noescape,
  stringnl_noescape_pair,
  writeSafeLong,
} from './args.js';
import { python2Name } from './compat.js';
import { ErrorCode, PicklingError } from './errors.js';
import { DEFAULT_PROTOCOL, HIGHEST_PROTOCOL, OP } from './opcodes.js';
import {
  A_BYTE,
  A_BYTES,
  A_DICT_ITEMS,
  A_LIST_ITEMS,
  A_MEMO,
  A_MEMO_GLOBAL,
  A_SAVE,
  A_SAVE_FRESH,
  A_SAVE_RAW,
  F_ACTIONS,
  F_BATCH,
  F_SEQUENCE,
  Frame,
  ITEMS,
  KEYS,
  LABEL_SET,
  PAIRS,
  SINGLE_LONE,
  SINGLE_NEVER,
  SINGLE_WHOLE,
  Unpicklable,
  framePath,
} from './pickler-frames.js';
import { ByteArray, PickleBuffer } from './python/bytes.js';
import { PyFloat } from './python/float.js';
import { isDictObject } from './python/dict.js';
import { FrozenSet } from './python/frozenset.js';
import { PyGlobal, PyObject } from './python/object.js';
import { pyStr } from './python/repr.js';
import { Tuple, tuple } from './python/tuple.js';
import { builtinRegistry } from './bindings/index.js';
import {
  BUILTINS_BYTEARRAY,
  BUILTINS_BYTES,
  BUILTINS_FROZENSET,
  BUILTINS_GETATTR,
  BUILTINS_SET,
  CODECS_ENCODE,
  COPYREG_NEWOBJ,
  COPYREG_NEWOBJ_EX,
} from './bindings/names.js';
import type { Constructor, ExtensionRegistry, Registry } from './registry.js';
import { decodeLatin1, encodeRawUnicodeEscape, encodeUtf8, encodeUtf8Into } from './text.js';
import { FRAME_HEADER_SIZE, FRAME_SIZE_TARGET, Writer } from './writer.js';
import { StringMemo } from './string-memo.js';

/**
 * What a reducer returns, as Python's `__reduce__`: a global to save the value as, or
 * `[callable, args, state?, listItems?, dictItems?, stateSetter?]`.
 */
export type ReduceValue =
  | PyGlobal
  | readonly [
      callable: unknown,
      args: readonly unknown[],
      state?: unknown,
      listItems?: Iterable<unknown> | null,
      dictItems?: Iterable<readonly [unknown, unknown]> | null,
      stateSetter?: unknown,
    ];

export type Reducer = (value: never) => ReduceValue;

/** Dict key positions whose memo index `stepBatch` remembers. */
const KEY_CACHE_SIZE = 64;

export interface PicklerOptions {
  /** Protocol 0 to 5; a negative number means the highest (5). Defaults to 4. */
  protocol?: number;
  /** Write Python 2 module names for protocols 0-2. Defaults to `true`. */
  fixImports?: boolean;
  /**
   * Numbers are always Python floats, and only `bigint`s are ints: the counterpart of loading
   * with `exact: true`. Defaults to `false`: a number that is a safe integer pickles as an int.
   */
  exact?: boolean;
  /**
   * The most decimal digits of an int written as text (protocols 0 and 1). Defaults to 4300,
   * CPython's `sys.get_int_max_str_digits()`: CPython 3.11+ refuses to write or read a longer
   * one. `Infinity` writes it anyway (what CPython does with the limit lifted).
   */
  maxIntDigits?: number;
  /**
   * Python's `Pickler.fast`: no memo. Nothing is memoized (no PUT or MEMOIZE opcodes), so an
   * object reached twice is written twice and loads as two objects, and a cycle fails (once 50
   * containers deep, as in CPython). For tree-shaped data: records dumps take about 0.6x the time.
   * Defaults to `false`.
   */
  fast?: boolean;
  /** Protocol 5: called with each `PickleBuffer`; a falsy return sends it out-of-band. */
  bufferCallback?: (buffer: PickleBuffer) => unknown;
  /** A persistent ID for a value, or `undefined`/`null` to pickle it normally. */
  persistentId?: (value: unknown) => unknown;
  /** Called for values that are not built-in types; return `undefined` to fall through. */
  reducerOverride?: (value: unknown) => ReduceValue | undefined;
  /** Reducers by constructor (Python's `dispatch_table`). */
  reducers?: ReadonlyMap<Constructor, Reducer>;
  /** Extension codes for globals (EXT1/2/4 from protocol 2). */
  extensions?: ExtensionRegistry;
  /**
   * How instances of your classes are written (`registry.register`). Consulted before the
   * built-in registry (datetime, Decimal, collections, JS `Date`, ...).
   */
  registry?: Registry;
}

const BATCHSIZE = 1000;
/** Fast mode checks for cycles from this many containers deep (CPython's FAST_NESTING_LIMIT). */
const FAST_NESTING_LIMIT = 50;
/**
 * Lists and tuples up to this long have their atoms written by `saveList`/`saveTuple` without
 * a frame (records dumps: 58 -> 50 ms, dicts: 48 -> 40 ms); longer ones take the batch loop of
 * `stepBatch`.
 */
const SMALL = 32;
const EMPTY_TUPLE = tuple();

/** A string to write without memo lookup (see `A_SAVE_FRESH`). */
class FreshStr {
  constructor(readonly value: string) {}
}

function describe(v: unknown): string {
  if (typeof v === 'function') return v.name ? `function ${v.name}` : 'function';
  if (typeof v === 'object' && v !== null) return `${v.constructor?.name ?? 'object'} instance`;
  return typeof v;
}

function isReduceTuple(v: unknown): v is Exclude<ReduceValue, PyGlobal> {
  return Array.isArray(v) && v.length >= 2 && v.length <= 6;
}

/**
 * Writes values as pickles. The memo carries over from one `dump` to the next, as in Python,
 * so several pickles written by one `Pickler` share objects; `clearMemo()` forgets.
 *
 * @example
 * ```ts
 * const p = new Pickler({ protocol: 2 });
 * const a = p.dump([1, 2]);
 * ```
 */
export class Pickler {
  readonly protocol: number;
  private readonly w = new Writer(0);
  private readonly bin: boolean;
  private readonly fixImports: boolean;
  private readonly exact: boolean;
  private readonly maxIntDigits: number;
  private readonly fast: boolean;
  /** Fast mode: lists, dicts and frozensets being written, and those of them 50 deep or more. */
  private fastNesting = 0;
  private fastMemo: Set<object> | null = null;
  private readonly bufferCallback: PicklerOptions['bufferCallback'];
  private readonly persistentId: PicklerOptions['persistentId'];
  private readonly reducerOverride: PicklerOptions['reducerOverride'];
  private readonly reducers: ReadonlyMap<Constructor, Reducer> | undefined;
  private readonly extensions: ExtensionRegistry | undefined;
  private readonly registry: Registry | undefined;
  /** Objects already written, by identity, to memo index. */
  private memo = new Map<unknown, number>();
  /** Strings already written, by value, to memo index. */
  private strMemo = new StringMemo();
  /** Globals already written, by `module\nname`: one Python object per name. */
  private globalMemo = new Map<string, number>();
  private memoCount = 0;
  /** The string key last written at each position of a dict, and its memo index. */
  private readonly keyCache = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);
  private readonly keyCacheIndex = new Array<number>(KEY_CACHE_SIZE).fill(0);
  /** The explicit stack of containers being written, and its depth. */
  private readonly frames: Frame[] = [];
  private depth = 0;

  constructor(options: PicklerOptions = {}) {
    let protocol = options.protocol ?? DEFAULT_PROTOCOL;
    if (protocol < 0) protocol = HIGHEST_PROTOCOL;
    if (!Number.isInteger(protocol) || protocol > HIGHEST_PROTOCOL) {
      throw new PicklingError(
        ErrorCode.BAD_OPTION,
        `pickle protocol must be <= ${HIGHEST_PROTOCOL}, got ${protocol}`,
      );
    }
    if (options.bufferCallback && protocol < 5) {
      throw new PicklingError(ErrorCode.BAD_OPTION, 'bufferCallback needs protocol >= 5');
    }
    this.protocol = protocol;
    this.bin = protocol >= 1;
    this.fixImports = (options.fixImports ?? true) && protocol < 3;
    this.exact = options.exact ?? false;
    this.maxIntDigits = options.maxIntDigits ?? 4300;
    this.fast = options.fast ?? false;
    this.bufferCallback = options.bufferCallback;
    this.persistentId = options.persistentId;
    this.reducerOverride = options.reducerOverride;
    this.reducers = options.reducers;
    this.extensions = options.extensions;
    this.registry = options.registry;
  }

  /** Forgets the objects written so far. */
  clearMemo(): void {
    this.memo = new Map();
    this.strMemo = new StringMemo();
    this.keyCache.fill(undefined);
    this.globalMemo = new Map();
    this.memoCount = 0;
  }

  /** Pickles `value` and returns the bytes of this one pickle. */
  dump(value: unknown): Uint8Array {
    const w = this.w;
    w.begin();
    try {
      this.depth = 0;
      this.fastNesting = 0;
      this.fastMemo = null;
      if (this.protocol >= 2) w.byte2(OP.PROTO, this.protocol);
      if (this.protocol >= 4) w.startFraming();
      try {
        this.saveValue(value, true);
        this.run();
      } catch (e) {
        const path = framePath(this.frames, this.depth);
        while (this.depth > 0) this.pop();
        throw e instanceof Unpicklable ? e.toPicklingError(path) : e;
      }
      w.byte(OP.STOP);
      return w.finish(0);
    } finally {
      w.end();
    }
  }

  // --- the loop -------------------------------------------------------------------------------

  /** Steps the frame on top of the stack until the stack is empty. */
  private run(): void {
    const frames = this.frames;
    while (this.depth > 0) {
      const f = frames[this.depth - 1]!;
      if (f.kind === F_BATCH) this.stepBatch(f);
      else if (f.kind === F_SEQUENCE) this.stepSequence(f);
      else this.stepActions(f);
    }
  }

  private push(kind: number, obj: unknown, items: ArrayLike<unknown>): Frame {
    let f = this.frames[this.depth];
    if (f === undefined) this.frames.push((f = new Frame()));
    this.depth++;
    f.kind = kind;
    f.obj = obj;
    f.items = items;
    f.dict = null;
    f.values = null;
    f.fastEntered = false;
    f.read = ITEMS;
    f.i = 0;
    f.n = items.length;
    f.cur = 0;
    f.open = false;
    f.full = false;
    f.phase = 0;
    f.label = 0;
    return f;
  }

  private pop(): void {
    const f = this.frames[--this.depth]!;
    if (f.fastEntered) {
      f.fastEntered = false;
      this.leaveFast(f.obj as object);
    }
    // Drop references, so the pickler does not keep the value alive after the dump.
    f.obj = undefined;
    f.items = [];
    f.dict = null;
    f.values = null;
  }

  /**
   * A batched container: MARK, up to 1000 children, then `multiOp`; a batch written with
   * `singleOp` and no MARK where CPython writes one that way (see `singleRule`).
   */
  private pushBatch(
    obj: unknown,
    items: ArrayLike<unknown>,
    read: number,
    multiOp: number,
    singleOp: number,
    singleRule: number,
    emptyTail: boolean,
  ): Frame {
    const f = this.push(F_BATCH, obj, items);
    f.read = read;
    f.multiOp = multiOp;
    f.singleOp = singleOp;
    // Protocol 0 has no MARK-batched opcodes: every child is followed by APPEND or SETITEM.
    f.batch = this.bin ? BATCHSIZE : 1;
    f.singleRule = this.bin ? singleRule : SINGLE_LONE;
    f.emptyTail = this.bin && emptyTail;
    return f;
  }

  private stepBatch(f: Frame): void {
    const w = this.w;
    for (;;) {
      if (!f.open) {
        if (f.i >= f.n && !f.full) {
          this.pop();
          return;
        }
        f.end = Math.min(f.i + f.batch, f.n);
        const count = f.end - f.i;
        f.full = f.emptyTail && count === f.batch;
        f.single =
          f.singleRule === SINGLE_LONE
            ? count === 1
            : f.singleRule === SINGLE_WHOLE
              ? f.n === 1
              : false;
        if (!f.single) w.byte(OP.MARK);
        f.open = true;
      }
      const items = f.items;
      // Atoms (numbers, strings, booleans, null) skip saveValue's dispatch; so do the keys and
      // values of plain objects. Not with persistentId, which sees every value.
      const fast = this.bin && this.persistentId === undefined;
      if (f.read === ITEMS) {
        while (f.i < f.end) {
          const v = items[f.i];
          if (fast) {
            if (typeof v === 'number' && this.writeNumbers(f, items)) continue;
            if (this.saveAtom(v)) {
              f.i++;
              continue;
            }
          }
          f.cur = f.i++;
          if (this.saveValue(v, true)) return;
        }
      } else if (fast && f.values !== null) {
        const values = f.values;
        while (f.i < f.end) {
          const j = f.i;
          const key = items[j] as string;
          const value = values[j];
          f.cur = j;
          // phase 1: the key is written (by saveDict) and its value is next.
          if (f.phase === 0) this.saveKey(key, j);
          else f.phase = 0;
          f.i++;
          if (!this.saveAtom(value) && this.saveValue(value, true)) return;
        }
      } else {
        while (f.i < f.end) {
          f.cur = f.i;
          let key: unknown;
          let value: unknown;
          if (f.read === KEYS) {
            key = items[f.i];
            const d = f.dict!;
            value = d instanceof Map ? d.get(key) : d[key as string];
          } else {
            const pair = items[f.i];
            if (!Array.isArray(pair) || pair.length !== 2) {
              throw new Unpicklable(ErrorCode.BAD_OPTION, 'dict items must be [key, value] pairs');
            }
            [key, value] = pair as [unknown, unknown];
          }
          if (f.phase === 0) {
            f.phase = 1;
            if (fast && typeof key === 'string') this.saveKey(key, f.i);
            else if (this.saveValue(key, true)) return;
          }
          f.phase = 0;
          f.i++;
          if (this.saveValue(value, true)) return;
        }
      }
      w.byte(f.single ? f.singleOp : f.multiOp);
      f.open = false;
    }
  }

  /**
   * The string key at position `j` of a dict. Dicts of one shape repeat their keys in one
   * order: the memo index of the key at each position is remembered, and a key that is the same
   * string as last time is a GET without a memo lookup (records dumps: ~630k lookups).
   */
  private saveKey(key: string, j: number): void {
    this.w.maybeCommitFrame();
    if (j < KEY_CACHE_SIZE && this.keyCache[j] === key) {
      this.writeGet(this.keyCacheIndex[j]!);
      return;
    }
    this.saveString(key);
    if (j < KEY_CACHE_SIZE && !this.fast) {
      this.strMemo.hashOf(key);
      const idx = this.strMemo.find(key);
      if (idx >= 0) {
        this.keyCache[j] = key;
        this.keyCacheIndex[j] = idx;
      }
    }
  }

  /**
   * Writes `v` as saveValue would, if it is a number, string, bigint, boolean or null (binary
   * protocols, no persistentId); returns false, having written nothing, for anything else.
   */
  private saveAtom(v: unknown): boolean {
    const w = this.w;
    if (typeof v === 'number') {
      w.maybeCommitFrame();
      if (this.exact || !Number.isSafeInteger(v) || (v === 0 && 1 / v < 0)) this.writeBinFloat(v);
      else if ((v | 0) === v) this.writeBinInt(v);
      else this.saveInt(v);
    } else if (typeof v === 'string') {
      w.maybeCommitFrame();
      this.saveString(v);
    } else if (typeof v === 'bigint') {
      w.maybeCommitFrame();
      this.saveInt(v);
    } else if (v === null) {
      w.maybeCommitFrame();
      w.byte(OP.NONE);
    } else if (typeof v === 'boolean') {
      w.maybeCommitFrame();
      if (this.protocol >= 2) w.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
      else w.ascii(v ? 'I01\n' : 'I00\n');
    } else return false;
    return true;
  }

  /**
   * Writes the run of numbers that starts at `f.i` in one tight loop: locals for the buffer and
   * position, one room check for the whole batch, and the frame-size check inline (CPython may
   * commit a frame before any item). Stops at anything else: other values, ints past 32 bits
   * and -0 take saveValue. Returns whether it wrote anything.
   * (Dumps of 1M ints: 15.4 -> 7.9 ms; of 1M floats: 13.4 -> 6.8 ms.)
   */
  private writeNumbers(f: Frame, items: ArrayLike<unknown>): boolean {
    const w = this.w;
    const exact = this.exact;
    const start = f.i;
    const end = f.end;
    // 9 bytes per BINFLOAT, and a frame header: at most one commit fits in a batch of 1000.
    w.ensure((end - start) * 9 + FRAME_HEADER_SIZE);
    const buf = w.buf;
    const view = w.view;
    let pos = w.pos;
    let frameEnd = w.frameEnd;
    let i = start;
    for (; i < end; i++) {
      const v = items[i];
      if (typeof v !== 'number') break;
      if (pos >= frameEnd) {
        w.pos = pos;
        w.nextFrame();
        pos = w.pos;
        frameEnd = w.frameEnd;
      }
      if (!exact && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
        if (v >= 0 && v <= 0xff) {
          buf[pos] = OP.BININT1;
          buf[pos + 1] = v;
          pos += 2;
        } else if (v >= 0 && v <= 0xffff) {
          buf[pos] = OP.BININT2;
          buf[pos + 1] = v & 0xff;
          buf[pos + 2] = v >>> 8;
          pos += 3;
        } else {
          buf[pos] = OP.BININT;
          buf[pos + 1] = v & 0xff;
          buf[pos + 2] = (v >>> 8) & 0xff;
          buf[pos + 3] = (v >>> 16) & 0xff;
          buf[pos + 4] = v >>> 24;
          pos += 5;
        }
      } else if (exact || !Number.isInteger(v)) {
        buf[pos] = OP.BINFLOAT;
        view.setFloat64(pos + 1, v, false);
        pos += 9;
      } else break;
    }
    w.pos = pos;
    f.i = i;
    return i > start;
  }

  /** Tuples and frozensets: the items, then TUPLE/FROZENSET, or a GET if one contained itself. */
  private stepSequence(f: Frame): void {
    const items = f.items;
    while (f.i < f.n) {
      f.cur = f.i;
      if (this.saveValue(items[f.i++], true)) return;
    }
    const w = this.w;
    const obj = f.obj;
    const n = f.n;
    const frozen = f.label === LABEL_SET;
    this.pop();
    const idx = this.memo.get(obj);
    if (idx !== undefined) {
      // It contained itself: drop what was pushed and fetch it from the memo.
      if (frozen || (this.bin && !(n <= 3 && this.protocol >= 2))) w.byte(OP.POP_MARK);
      else if (n <= 3 && this.protocol >= 2) for (let i = 0; i < n; i++) w.byte(OP.POP);
      else for (let i = 0; i <= n; i++) w.byte(OP.POP);
      this.writeGet(idx);
      return;
    }
    if (frozen) w.byte(OP.FROZENSET);
    else if (n <= 3 && this.protocol >= 2) {
      w.byte(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : OP.TUPLE3);
    } else w.byte(OP.TUPLE);
    this.memoize(obj);
  }

  private stepActions(f: Frame): void {
    const a = f.items;
    const w = this.w;
    while (f.i < f.n) {
      const action = a[f.i] as number;
      const arg = a[f.i + 1];
      f.cur = f.i;
      f.i += 3;
      switch (action) {
        case A_SAVE:
          if (this.saveValue(arg, true)) return;
          break;
        case A_SAVE_RAW:
          if (this.saveValue(arg, false)) return;
          break;
        case A_SAVE_FRESH:
          if (this.saveFreshStr(arg as string)) return;
          break;
        case A_BYTE:
          w.byte(arg as number);
          break;
        case A_BYTES:
          w.bytes(arg as Uint8Array);
          break;
        case A_MEMO: {
          const idx = this.memo.get(arg);
          if (idx !== undefined) {
            // Built while its own arguments were written (recursive): fetch it from the memo.
            w.byte(OP.POP);
            this.writeGet(idx);
          } else this.memoize(arg);
          break;
        }
        case A_MEMO_GLOBAL:
          if (this.fast) break;
          this.globalMemo.set(arg as string, this.memoCount);
          this.writePut(this.memoCount++);
          break;
        case A_LIST_ITEMS:
          this.pushBatch(null, arg as unknown[], ITEMS, OP.APPENDS, OP.APPEND, SINGLE_LONE, false);
          return;
        case A_DICT_ITEMS:
          this.pushBatch(
            null,
            arg as unknown[],
            PAIRS,
            OP.SETITEMS,
            OP.SETITEM,
            SINGLE_LONE,
            false,
          );
          return;
      }
    }
    this.pop();
  }

  // --- the dispatch ---------------------------------------------------------------------------

  /** Writes `v`, or starts writing it; returns whether it pushed a frame to finish the job. */
  private saveValue(v: unknown, checkPersistent: boolean): boolean {
    this.w.maybeCommitFrame();
    if (checkPersistent && this.persistentId !== undefined) {
      const pid = this.persistentId(v);
      if (pid !== undefined && pid !== null) return this.savePersistent(pid);
    }
    switch (typeof v) {
      case 'number':
        if (!this.exact && Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) this.saveInt(v);
        else this.saveFloat(v);
        return false;
      case 'string':
        this.saveString(v);
        return false;
      case 'boolean':
        if (this.protocol >= 2) this.w.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
        else this.w.ascii(v ? 'I01\n' : 'I00\n');
        return false;
      case 'bigint':
        this.saveInt(v);
        return false;
      case 'object':
        if (v === null) {
          this.w.byte(OP.NONE);
          return false;
        }
        return this.saveObject(v);
      case 'undefined':
        throw new Unpicklable(ErrorCode.UNPICKLABLE, 'cannot pickle undefined (None is null)');
      default:
        return this.saveOther(v);
    }
  }

  private saveObject(v: object): boolean {
    const idx = this.memo.get(v);
    if (idx !== undefined) {
      this.writeGet(idx);
      return false;
    }
    const c = v.constructor;
    if (c === Array) return this.saveList(v as unknown[]);
    if (c === Object || c === undefined) return this.saveDict(v as Record<string, unknown>);
    if (c === Tuple) return this.saveTuple(v as Tuple);
    if (c === Map) return this.saveDict(v as Map<unknown, unknown>);
    if (c === Uint8Array) return this.saveBytes(v as Uint8Array);
    if (c === Set) return this.saveSet(v as Set<unknown>);
    if (c === FrozenSet) return this.saveFrozenSet(v as FrozenSet);
    if (c === ByteArray) return this.saveBytearray(v as ByteArray);
    if (c === PickleBuffer) return this.savePickleBuffer(v as PickleBuffer);
    return this.saveOther(v);
  }

  /** Everything that is not an exact built-in type. */
  private saveOther(v: unknown): boolean {
    if (v instanceof PyFloat) {
      this.saveFloat(v.value);
      return false;
    }
    if (v instanceof FreshStr) return this.saveFreshStr(v.value);
    if (this.reducerOverride !== undefined) {
      const rv = this.reducerOverride(v);
      if (rv !== undefined) return this.saveReduceValue(rv, v, 'reducerOverride');
    }
    if (v instanceof PyGlobal) return this.saveGlobal(v);
    if (typeof v === 'object' || typeof v === 'function') {
      const o = v as object;
      const reducer = this.reducers?.get(o.constructor as Constructor);
      if (reducer !== undefined) {
        return this.saveReduceValue((reducer as (x: unknown) => ReduceValue)(v), v, 'reducer');
      }
      const binding = this.registry?.bindingFor(o) ?? builtinRegistry.bindingFor(o);
      if (binding !== undefined) {
        const rv = binding.reduce(o as never, this.protocol);
        return this.saveReduceValue(rv, v, `the ${binding.global.fullName} binding`);
      }
    }
    if (v instanceof PyObject) return this.savePyObject(v);
    // Subclasses of the built-in containers pickle as the container.
    if (v instanceof Uint8Array) {
      return v instanceof ByteArray ? this.saveBytearray(v) : this.saveBytes(v);
    }
    if (Array.isArray(v)) return v instanceof Tuple ? this.saveTuple(v) : this.saveList(v);
    if (v instanceof Map) return this.saveDict(v);
    if (v instanceof Set) return v instanceof FrozenSet ? this.saveFrozenSet(v) : this.saveSet(v);
    if (typeof v === 'object' && v !== null && isDictObject(v)) {
      return this.saveDict(v as Record<string, unknown>);
    }
    throw new Unpicklable(
      ErrorCode.UNPICKLABLE,
      `cannot pickle ${describe(v)}: add a reducer for it (reducers or reducerOverride)`,
    );
  }

  private saveReduceValue(rv: ReduceValue, obj: unknown, source: string): boolean {
    if (rv instanceof PyGlobal) return this.saveGlobal(rv);
    if (!isReduceTuple(rv)) {
      throw new Unpicklable(
        ErrorCode.BAD_OPTION,
        `${source} must return a PyGlobal or an array of 2 to 6 items`,
      );
    }
    const [func, args, state, listItems, dictItems, stateSetter] = rv;
    if (!Array.isArray(args)) {
      throw new Unpicklable(ErrorCode.BAD_OPTION, `args from ${source} must be an array or Tuple`);
    }
    return this.saveReduce(
      func,
      args,
      state,
      listItems ?? null,
      dictItems ?? null,
      stateSetter,
      obj,
    );
  }

  // --- atoms ----------------------------------------------------------------------------------

  private saveInt(v: number | bigint): void {
    const w = this.w;
    // A bigint in the safe range takes the number paths (exact-mode dumps of records, whose ints
    // are bigints: 133 -> 83 ms). Past that range, Number() gives no safe integer.
    if (typeof v === 'bigint') {
      const n = Number(v);
      if (Number.isSafeInteger(n)) v = n;
    }
    if (typeof v === 'number' && (v | 0) === v) {
      const n = v;
      if (this.bin) this.writeBinInt(n);
      else {
        w.byte(OP.INT);
        decimalnl_short.write(w, n);
      }
      return;
    }
    if (this.protocol >= 2 && typeof v === 'number') {
      this.writeSafeLong1(v);
      return;
    }
    if (this.protocol >= 2) {
      const bytes = encodeLong(v);
      if (bytes.length < 256) {
        w.byte2(OP.LONG1, bytes.length);
      } else {
        w.byte(OP.LONG4);
        w.i32(bytes.length);
      }
      w.bytes(bytes);
      return;
    }
    // Protocols 0 and 1 write the int as decimal text. CPython 3.11+ refuses an int of more
    // than 4300 digits there (sys.get_int_max_str_digits), and would refuse to load it: so do we.
    const text = String(v);
    const digits = text.length - (text[0] === '-' ? 1 : 0);
    if (digits > this.maxIntDigits) {
      throw new Unpicklable(
        ErrorCode.UNPICKLABLE,
        `an int of ${digits} digits exceeds the limit (${this.maxIntDigits} digits) for integer ` +
          `string conversion at protocol ${this.protocol}, as in CPython: use protocol 2 or ` +
          `higher, which writes ints in binary, or the option maxIntDigits: Infinity`,
      );
    }
    w.byte(OP.LONG);
    decimalnl_long.write(w, v);
  }

  /** BININT1, BININT2 or BININT for a 32-bit int, with one capacity check. */
  private writeBinInt(n: number): void {
    const w = this.w;
    if (w.pos + 5 > w.buf.length) w.ensure(5);
    const b = w.buf;
    let p = w.pos;
    if (n >= 0 && n <= 0xff) {
      b[p++] = OP.BININT1;
      b[p++] = n;
    } else if (n >= 0 && n <= 0xffff) {
      b[p++] = OP.BININT2;
      b[p++] = n & 0xff;
      b[p++] = n >>> 8;
    } else {
      b[p++] = OP.BININT;
      b[p++] = n & 0xff;
      b[p++] = (n >>> 8) & 0xff;
      b[p++] = (n >>> 16) & 0xff;
      b[p++] = n >>> 24;
    }
    w.pos = p;
  }

  /** LONG1 of a safe integer past 32 bits, written in place (`writeSafeLong`). */
  private writeSafeLong1(x: number): void {
    const w = this.w;
    w.ensure(2 + 8);
    const n = writeSafeLong(x, w.buf, w.pos + 2);
    w.buf[w.pos] = OP.LONG1;
    w.buf[w.pos + 1] = n;
    w.pos += 2 + n;
  }

  /** BINFLOAT, with one capacity check. */
  private writeBinFloat(v: number): void {
    const w = this.w;
    w.ensure(9);
    w.buf[w.pos] = OP.BINFLOAT;
    w.view.setFloat64(w.pos + 1, v, false);
    w.pos += 9;
  }

  private saveFloat(v: number): void {
    if (this.bin) {
      this.writeBinFloat(v);
    } else {
      this.w.byte(OP.FLOAT);
      floatnl.write(this.w, v);
    }
  }

  /**
   * A string CPython builds afresh each time (a class's `__qualname__`, a nested class's last
   * name): written in full and memoized under a new index, never fetched from the memo.
   */
  private saveFreshStr(s: string): boolean {
    this.w.maybeCommitFrame();
    if (this.persistentId !== undefined) {
      const pid = this.persistentId(s);
      if (pid !== undefined && pid !== null) return this.savePersistent(pid);
    }
    this.writeStr(s);
    if (!this.fast) this.writePut(this.memoCount++);
    return false;
  }

  /**
   * A string: a GET if an equal one was written, else written and memoized. Short strings are
   * encoded in place first, since the encoding loop also hashes them for the string memo; a
   * string found there becomes a GET written over the bytes just encoded.
   */
  private saveString(s: string): void {
    if (this.fast) {
      this.writeStr(s);
      return;
    }
    const w = this.w;
    const memo = this.strMemo;
    // Strings that recur (dict values such as 'a', 'BR'): dicts dumps 43 -> 40 ms.
    const recent = memo.findRecent(s);
    if (recent >= 0) {
      this.writeGet(recent);
      return;
    }
    if (this.bin && s.length * 3 < FRAME_SIZE_TARGET) {
      const header = this.protocol >= 4 && s.length * 3 <= 0xff ? 2 : 5;
      // The header, the text, and a BINPUT/LONG_BINPUT after it.
      w.ensure(header + s.length * 3 + 5);
      const n = memo.encode(s, w.buf, w.pos + header);
      const idx = memo.find(s);
      if (idx >= 0) {
        this.writeGet(idx);
        return;
      }
      this.strHeader(header, n);
    } else {
      memo.hashOf(s);
      const idx = memo.find(s);
      if (idx >= 0) {
        this.writeGet(idx);
        return;
      }
      this.writeStr(s);
    }
    memo.add(s, this.memoCount);
    this.writePut(this.memoCount++);
  }

  /**
   * Writes the opcode and length of a string of `n` UTF-8 bytes encoded at `header` bytes past
   * `pos` (2 or 5: the largest header it could need), moving the text when the header is shorter.
   */
  private strHeader(header: number, n: number): void {
    const w = this.w;
    const buf = w.buf;
    const p = w.pos;
    if (this.protocol >= 4 && n <= 0xff) {
      if (header === 5) buf.copyWithin(p + 2, p + 5, p + 5 + n);
      buf[p] = OP.SHORT_BINUNICODE;
      buf[p + 1] = n;
      w.pos = p + 2 + n;
    } else {
      buf[p] = OP.BINUNICODE;
      buf[p + 1] = n & 0xff;
      buf[p + 2] = (n >>> 8) & 0xff;
      buf[p + 3] = (n >>> 16) & 0xff;
      buf[p + 4] = n >>> 24;
      w.pos = p + 5 + n;
    }
  }

  /** Writes a string's opcode and text, without the memo. */
  private writeStr(s: string): void {
    const w = this.w;
    if (!this.bin) {
      w.byte(OP.UNICODE);
      w.bytes(encodeRawUnicodeEscape(s));
      w.byte(0x0a);
    } else if (s.length * 3 < FRAME_SIZE_TARGET) {
      // Encode in place after the largest header it can need, then fix the header.
      const header = this.protocol >= 4 && s.length * 3 <= 0xff ? 2 : 5;
      w.ensure(header + s.length * 3);
      this.strHeader(header, encodeUtf8Into(s, w.buf, w.pos + header));
    } else {
      const bytes = encodeUtf8(s);
      this.sizedPayload(
        bytes,
        OP.SHORT_BINUNICODE,
        OP.BINUNICODE,
        OP.BINUNICODE8,
        this.protocol >= 4,
        'str',
      );
    }
  }

  /** Writes bytes with the smallest of a 1-, 4- or 8-byte length header. */
  private sizedPayload(
    data: Uint8Array,
    op1: number,
    op4: number,
    op8: number,
    allowShort: boolean,
    what: string,
  ): void {
    const w = this.w;
    const n = data.length;
    w.headerAndPayload(() => {
      if (n <= 0xff && allowShort) w.byte2(op1, n);
      else if (n <= 0xffffffff) {
        w.byte(op4);
        w.i32(n);
      } else if (this.protocol >= 4) {
        w.byte(op8);
        w.u64(n);
      } else {
        throw new Unpicklable(
          ErrorCode.PROTOCOL,
          `cannot serialize a ${what} larger than 4 GiB at protocol ${this.protocol}; use protocol 4 or higher`,
        );
      }
    }, data);
  }

  private saveBytes(b: Uint8Array): boolean {
    if (this.protocol < 3) {
      // Python 3 bytes for Python 2: bytes() or _codecs.encode(latin1 text, 'latin1').
      const args = b.length === 0 ? EMPTY_TUPLE : tuple(decodeLatin1(b), 'latin1');
      const func = b.length === 0 ? BUILTINS_BYTES : CODECS_ENCODE;
      return this.saveReduce(func, args, undefined, null, null, undefined, b);
    }
    this.saveBytesData(b, b);
    return false;
  }

  private saveBytesData(data: Uint8Array, memoKey: unknown): void {
    this.sizedPayload(data, OP.SHORT_BINBYTES, OP.BINBYTES, OP.BINBYTES8, true, 'bytes object');
    this.memoize(memoKey);
  }

  private saveBytearray(b: Uint8Array): boolean {
    if (this.protocol < 5) {
      const args = b.length === 0 ? EMPTY_TUPLE : tuple(new Uint8Array(b));
      return this.saveReduce(BUILTINS_BYTEARRAY, args, undefined, null, null, undefined, b);
    }
    this.saveBytearrayData(b, b);
    return false;
  }

  private saveBytearrayData(data: Uint8Array, memoKey: unknown): void {
    const w = this.w;
    w.headerAndPayload(() => {
      w.byte(OP.BYTEARRAY8);
      w.u64(data.length);
    }, data);
    this.memoize(memoKey);
  }

  private savePickleBuffer(b: PickleBuffer): boolean {
    if (this.protocol < 5) {
      throw new Unpicklable(
        ErrorCode.PROTOCOL,
        'PickleBuffer can only be pickled with protocol >= 5',
      );
    }
    const inBand = this.bufferCallback === undefined || Boolean(this.bufferCallback(b));
    if (inBand) {
      if (b.readonly) this.saveBytesData(b.data, b);
      else this.saveBytearrayData(b.data, b);
    } else {
      this.w.byte(OP.NEXT_BUFFER);
      if (b.readonly) this.w.byte(OP.READONLY_BUFFER);
    }
    return false;
  }

  private savePersistent(pid: unknown): boolean {
    if (this.bin) {
      this.push(F_ACTIONS, null, [A_SAVE_RAW, pid, '.<persistent id>', A_BYTE, OP.BINPERSID, '']);
      return true;
    }
    // Protocol 0 writes Python's str(pid) as a line of ASCII.
    const text = pyStr(pid, this.exact);
    if (!isAsciiLine(text)) {
      throw new Unpicklable(
        ErrorCode.PROTOCOL,
        'persistent IDs in protocol 0 must be ASCII strings without a newline',
      );
    }
    this.w.byte(OP.PERSID);
    stringnl_noescape.write(this.w, text);
    return false;
  }

  // --- containers -----------------------------------------------------------------------------

  private saveList(a: unknown[]): boolean {
    if (!this.fast) return this.saveListItems(a);
    this.enterFast(a);
    return this.enteredFast(a, this.saveListItems(a));
  }

  private saveListItems(a: unknown[]): boolean {
    const w = this.w;
    if (this.bin) w.byte(OP.EMPTY_LIST);
    else w.byte2(OP.MARK, OP.LIST);
    this.memoize(a);
    const n = a.length;
    if (n === 0) return false;
    // As C's batch_list_exact: batches of 1000, the last one may hold a single item.
    if (n > SMALL || !this.bin || this.persistentId !== undefined) {
      // A long list that starts with a string is likely a list of strings.
      if (n > SMALL && typeof a[0] === 'string') this.strMemo.reserve(n);
      this.pushBatch(a, a, ITEMS, OP.APPENDS, OP.APPEND, SINGLE_WHOLE, false);
      return true;
    }
    // A small list: its atoms written here, a frame only from its first other item on.
    if (n > 1) w.byte(OP.MARK);
    for (let j = 0; j < n; j++) {
      const v = a[j];
      if (this.saveAtom(v) || this.saveAtomSequence(v)) continue;
      const f = this.pushBatch(a, a, ITEMS, OP.APPENDS, OP.APPEND, SINGLE_WHOLE, false);
      this.openBatch(f, j, n === 1);
      return true;
    }
    w.byte(n === 1 ? OP.APPEND : OP.APPENDS);
    return false;
  }

  private saveDict(d: Map<unknown, unknown> | Record<string, unknown>): boolean {
    if (!this.fast) return this.saveDictItems(d);
    this.enterFast(d);
    return this.enteredFast(d, this.saveDictItems(d));
  }

  private saveDictItems(d: Map<unknown, unknown> | Record<string, unknown>): boolean {
    const w = this.w;
    if (this.bin) w.byte(OP.EMPTY_DICT);
    else w.byte2(OP.MARK, OP.DICT);
    this.memoize(d);
    if (d instanceof Map || !this.bin || this.persistentId !== undefined) {
      const keys: unknown[] = d instanceof Map ? [...d.keys()] : Object.keys(d);
      if (keys.length === 0) return false;
      // As C's batch_dict_exact: a dict of exactly k*1000 items ends with an empty batch.
      const f = this.pushBatch(d, keys, KEYS, OP.SETITEMS, OP.SETITEM, SINGLE_WHOLE, true);
      f.dict = d;
      return true;
    }
    // A plain object: its values in one call (no lookup per key), and, in a dict of fewer than
    // 1000 items, its atoms written here, a frame only from its first other value on.
    const keys = Object.keys(d);
    const n = keys.length;
    if (n === 0) return false;
    const values = Object.values(d);
    if (n < BATCHSIZE) {
      if (n > 1) w.byte(OP.MARK);
      for (let j = 0; j < n; j++) {
        const v = values[j];
        this.saveKey(keys[j]!, j);
        if (this.saveAtom(v) || this.saveAtomSequence(v)) continue;
        const f = this.pushBatch(d, keys, KEYS, OP.SETITEMS, OP.SETITEM, SINGLE_WHOLE, true);
        f.dict = d;
        f.values = values;
        this.openBatch(f, j, n === 1);
        f.phase = 1;
        return true;
      }
      w.byte(n === 1 ? OP.SETITEM : OP.SETITEMS);
      return false;
    }
    const f = this.pushBatch(d, keys, KEYS, OP.SETITEMS, OP.SETITEM, SINGLE_WHOLE, true);
    f.dict = d;
    f.values = values;
    return true;
  }

  /**
   * Writes `v` if it is a list or tuple of at most `SMALL` atoms, which saveValue writes whole
   * without a frame: so a small container holding such sequences needs no frame either (records
   * dumps: each record whole, its lists and tuples included; 53 -> 50 ms). Recursion stops there:
   * a sequence of atoms holds no container.
   */
  private saveAtomSequence(v: unknown): boolean {
    if (typeof v !== 'object' || v === null) return false;
    const c = v.constructor;
    if (c !== Array && c !== Tuple) return false;
    const a = v as unknown[];
    const n = a.length;
    if (n > SMALL) return false;
    for (let i = 0; i < n; i++) {
      const x = a[i];
      const t = typeof x;
      if (!(t === 'number' || t === 'string' || t === 'boolean' || t === 'bigint' || x === null)) {
        return false;
      }
    }
    this.saveValue(v, true);
    return true;
  }

  /**
   * Puts a frame just pushed in the state of its one batch (all its items, fewer than 1000)
   * written up to item `j`: MARK and the items before `j` are written already. The frame goes
   * on from `j` (the caller does not save it: no recursion, however deep the nesting).
   */
  private openBatch(f: Frame, j: number, single: boolean): void {
    f.open = true;
    f.end = f.n;
    f.full = false;
    f.single = single;
    f.i = j;
  }

  private saveTuple(t: readonly unknown[]): boolean {
    const n = t.length;
    const w = this.w;
    if (n === 0) {
      if (this.bin) w.byte(OP.EMPTY_TUPLE);
      else w.byte2(OP.MARK, OP.TUPLE);
      return false;
    }
    const short = n <= 3 && this.protocol >= 2;
    if (!short) w.byte(OP.MARK);
    if (n <= SMALL && this.bin && this.persistentId === undefined) {
      // A small tuple: its atoms written here, a frame only from its first other item on; one
      // of atoms only cannot contain itself, so needs no memo lookup after its items.
      for (let j = 0; j < n; j++) {
        const v = t[j];
        if (this.saveAtom(v) || this.saveAtomSequence(v)) continue;
        this.push(F_SEQUENCE, t, t).i = j;
        return true;
      }
      if (short) w.byte(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : OP.TUPLE3);
      else w.byte(OP.TUPLE);
      this.memoize(t);
      return false;
    }
    this.push(F_SEQUENCE, t, t);
    return true;
  }

  private saveSet(s: Set<unknown>): boolean {
    if (this.protocol < 4) return this.saveSetAsReduce(BUILTINS_SET, s);
    this.w.byte(OP.EMPTY_SET);
    this.memoize(s);
    if (s.size === 0) return false;
    // As C's save_set: batches of 1000, and a set of k*1000 items ends with an empty batch.
    this.pushBatch(s, [...s], ITEMS, OP.ADDITEMS, OP.ADDITEMS, SINGLE_NEVER, true);
    return true;
  }

  private saveFrozenSet(s: FrozenSet): boolean {
    if (this.protocol < 4) return this.saveSetAsReduce(BUILTINS_FROZENSET, s);
    if (this.fast) this.enterFast(s);
    this.w.byte(OP.MARK);
    const f = this.push(F_SEQUENCE, s, [...s]);
    f.label = LABEL_SET;
    f.fastEntered = this.fast;
    return true;
  }

  /** Protocols 0-3: `set(list)` / `frozenset(list)`; a bad member is reported as `{i}`. */
  private saveSetAsReduce(cls: PyGlobal, s: Set<unknown>): boolean {
    this.saveReduce(cls, tuple([...s]), undefined, null, null, undefined, s);
    this.frames[this.depth - 1]!.label = LABEL_SET;
    return true;
  }

  // --- globals and reduce ---------------------------------------------------------------------

  private saveGlobal(g: PyGlobal): boolean {
    const w = this.w;
    let module = g.module;
    let name = g.name;
    const memoKey = `${module}\n${name}`;
    const idx = this.globalMemo.get(memoKey);
    if (idx !== undefined) {
      this.writeGet(idx);
      return false;
    }
    if (this.protocol >= 2 && this.extensions !== undefined) {
      const code = this.extensions.codeOf(module, name);
      if (code !== undefined) {
        if (code <= 0xff) w.byte2(OP.EXT1, code);
        else if (code <= 0xffff) {
          w.byte(OP.EXT2);
          w.u16(code);
        } else {
          w.byte(OP.EXT4);
          w.i32(code);
        }
        return false;
      }
    }
    const dot = name.lastIndexOf('.');
    if (this.protocol >= 4) {
      this.push(F_ACTIONS, null, [
        A_SAVE, module, '.<module>',
        A_SAVE_FRESH, name, '.<name>',
        A_BYTE, OP.STACK_GLOBAL, '',
        A_MEMO_GLOBAL, memoKey, '',
      ]); // prettier-ignore
      return true;
    }
    if (dot >= 0) {
      // Protocols 0-3 cannot name a nested class: getattr(Outer, 'Inner').
      const parent = new PyGlobal(module, name.slice(0, dot));
      const args = tuple<unknown>(parent, new FreshStr(name.slice(dot + 1)));
      this.saveReduce(BUILTINS_GETATTR, args, undefined, null, null, undefined, undefined);
      const f = this.frames[this.depth - 1]!;
      f.items = [...(f.items as unknown[]), A_MEMO_GLOBAL, memoKey, ''];
      f.n = f.items.length;
      return true;
    }
    if (this.fixImports) [module, name] = python2Name(module, name);
    if (this.protocol < 3 && !(isAscii(module) && isAscii(name))) {
      throw new Unpicklable(
        ErrorCode.PROTOCOL,
        `can't pickle global identifier '${g.module}.${g.name}' using pickle protocol ${this.protocol}`,
      );
    }
    if (module.includes('\n') || name.includes('\n')) {
      throw new Unpicklable(
        ErrorCode.UNPICKLABLE,
        `a global name cannot contain a newline: ${g.module}.${g.name}`,
      );
    }
    w.byte(OP.GLOBAL);
    stringnl_noescape_pair.write(w, `${module} ${name}`);
    if (!this.fast) {
      this.globalMemo.set(memoKey, this.memoCount);
      this.writePut(this.memoCount++);
    }
    return false;
  }

  /** Python's `save_reduce`, as a list of actions. `obj` is memoized after the call. */
  private saveReduce(
    func: unknown,
    args: readonly unknown[],
    state: unknown,
    listItems: Iterable<unknown> | null,
    dictItems: Iterable<readonly [unknown, unknown]> | null,
    stateSetter: unknown,
    obj: unknown,
  ): boolean {
    const funcName =
      func instanceof PyGlobal ? func.name.slice(func.name.lastIndexOf('.') + 1) : '';
    const a: unknown[] = [];
    if (this.protocol >= 4 && funcName === '__newobj_ex__') {
      const [cls, clsArgs, kwargs] = args;
      a.push(
        A_SAVE,
        cls,
        '.<reduce>',
        A_SAVE,
        Array.isArray(clsArgs) ? asTuple(clsArgs) : clsArgs,
        '.<reduce>',
      );
      a.push(A_SAVE, kwargs, '.<reduce>', A_BYTE, OP.NEWOBJ_EX, '');
    } else if (this.protocol >= 2 && funcName === '__newobj__') {
      if (args.length === 0) {
        throw new Unpicklable(
          ErrorCode.BAD_OPTION,
          '__newobj__ arguments must start with the class',
        );
      }
      a.push(A_SAVE, args[0], '.<reduce>', A_SAVE, asTuple(args.slice(1)), '.<reduce>');
      a.push(A_BYTE, OP.NEWOBJ, '');
    } else {
      a.push(A_SAVE, func, '.<reduce>', A_SAVE, asTuple(args), '.<reduce>', A_BYTE, OP.REDUCE, '');
    }
    if (obj !== undefined) a.push(A_MEMO, obj, '');
    if (listItems !== null) a.push(A_LIST_ITEMS, [...listItems], '');
    if (dictItems !== null) a.push(A_DICT_ITEMS, [...dictItems], '');
    if (state !== undefined && state !== null) {
      if (stateSetter === undefined || stateSetter === null) {
        a.push(A_SAVE, state, '.<state>', A_BYTE, OP.BUILD, '');
      } else {
        // state_setter(obj, state), called for its effect: TUPLE2 REDUCE POP.
        a.push(A_SAVE, stateSetter, '.<state>', A_SAVE, obj, '.<state>', A_SAVE, state, '.<state>');
        a.push(A_BYTE, OP.TUPLE2, '', A_BYTE, OP.REDUCE, '', A_BYTE, OP.POP, '');
      }
    }
    this.push(F_ACTIONS, obj, a);
    return true;
  }

  /** An inert object, written back the way the pickle built it. */
  private savePyObject(o: PyObject): boolean {
    const listItems = o.listItems.length > 0 ? o.listItems : null;
    const dictItems = o.dictItems.length > 0 ? o.dictItems : null;
    switch (o.kind) {
      case 'reduce':
        return this.saveReduce(o.cls, o.args, o.state, listItems, dictItems, o.stateSetter, o);
      case 'newobj': {
        const args = [o.cls, ...o.args];
        return this.saveReduce(
          COPYREG_NEWOBJ,
          args,
          o.state,
          listItems,
          dictItems,
          o.stateSetter,
          o,
        );
      }
      case 'newobj_ex': {
        const args = [o.cls, o.args, o.kwargs ?? {}];
        return this.saveReduce(
          COPYREG_NEWOBJ_EX,
          args,
          o.state,
          listItems,
          dictItems,
          o.stateSetter,
          o,
        );
      }
      default:
        return this.saveInstance(o, listItems, dictItems);
    }
  }

  /** As Python 2's save_inst: OBJ in binary protocols, INST (named by text) in protocol 0. */
  private saveInstance(
    o: PyObject,
    listItems: unknown[] | null,
    dictItems: Array<[unknown, unknown]> | null,
  ): boolean {
    const cls = o.cls;
    if (!this.bin && !(cls instanceof PyGlobal)) {
      return this.saveReduce(cls, o.args, o.state, listItems, dictItems, undefined, o);
    }
    const a: unknown[] = [A_BYTE, OP.MARK, ''];
    if (this.bin) a.push(A_SAVE, cls, '.cls');
    o.args.forEach((arg, i) => a.push(A_SAVE, arg, `.args[${i}]`));
    if (this.bin) a.push(A_BYTE, OP.OBJ, '');
    else {
      const g = cls as PyGlobal;
      let [module, name] = [g.module, g.name];
      if (this.fixImports) [module, name] = python2Name(module, name);
      const text = new Writer(module.length + name.length + 3);
      text.byte(OP.INST);
      stringnl_noescape_pair.write(text, `${module} ${name}`);
      a.push(A_BYTES, text.finish(0), '');
    }
    a.push(A_MEMO, o, '');
    if (listItems !== null) a.push(A_LIST_ITEMS, listItems, '');
    if (dictItems !== null) a.push(A_DICT_ITEMS, dictItems, '');
    if (o.state !== undefined) a.push(A_SAVE, o.state, '.state', A_BYTE, OP.BUILD, '');
    this.push(F_ACTIONS, o, a);
    return true;
  }

  // --- memo -----------------------------------------------------------------------------------

  /**
   * Fast mode, on entering a list, dict or frozenset: CPython's `fast_save_enter`, which from 50
   * containers deep remembers the ones being written, so that a cycle fails instead of looping.
   */
  private enterFast(obj: object): void {
    if (++this.fastNesting < FAST_NESTING_LIMIT) return;
    const open = (this.fastMemo ??= new Set());
    if (open.has(obj)) {
      throw new Unpicklable(
        ErrorCode.UNPICKLABLE,
        `fast mode: can't pickle cyclic objects including object type ${describe(obj)}`,
      );
    }
    open.add(obj);
  }

  private leaveFast(obj: object): void {
    if (this.fastNesting-- >= FAST_NESTING_LIMIT) this.fastMemo?.delete(obj);
  }

  /** After a container entered in fast mode: left now, or when its frame (on top) pops. */
  private enteredFast(obj: object, pushed: boolean): boolean {
    if (pushed) this.frames[this.depth - 1]!.fastEntered = true;
    else this.leaveFast(obj);
    return pushed;
  }

  private memoize(v: unknown): void {
    if (this.fast) return;
    const idx = this.memoCount++;
    this.memo.set(v, idx);
    this.writePut(idx);
  }

  private writePut(idx: number): void {
    const w = this.w;
    if (this.protocol >= 4) w.byte(OP.MEMOIZE);
    else if (this.bin) {
      if (idx < 256) w.byte2(OP.BINPUT, idx);
      else {
        w.byte(OP.LONG_BINPUT);
        w.i32(idx);
      }
    } else {
      w.byte(OP.PUT);
      decimalnl_short.write(w, idx);
    }
  }

  private writeGet(idx: number): void {
    const w = this.w;
    if (this.bin) {
      if (idx < 256) w.byte2(OP.BINGET, idx);
      else {
        w.byte(OP.LONG_BINGET);
        w.i32(idx);
      }
    } else {
      w.byte(OP.GET);
      decimalnl_short.write(w, idx);
    }
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** ASCII without a newline: what fits on one protocol 0 text line. */
function isAsciiLine(s: string): boolean {
  return isAscii(s) && !s.includes('\n');
}

function asTuple(items: readonly unknown[]): Tuple {
  if (items instanceof Tuple) return items;
  const t = new Tuple();
  for (let i = 0; i < items.length; i++) t[i] = items[i];
  return t;
}

/**
 * The pickle of `value`, as `pickle.dumps(value, protocol)` would write it.
 *
 * @example
 * ```ts
 * dumps({ a: [1, 2] }, { protocol: 2 });
 * ```
 */
export function dumps(value: unknown, options: PicklerOptions = {}): Uint8Array {
  return new Pickler(options).dump(value);
}

/**
 * One live instance of each class the hot loops work on. V8 drops a hidden class (and
 * deoptimizes the code specialized for it) once no object has it, so when every pickler of the
 * last `dumps` was collected, the next one started over from unoptimized code (dumps of 1M
 * ints, with a full GC between calls: 7.6 -> 4.5 ms; records: 108 -> 88 ms).
 */
export const LIVE_SHAPES: readonly object[] = [new Pickler(), new Frame()];
