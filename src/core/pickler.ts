/**
 * `dumps` and `Pickler`: values to bytes, choosing the opcodes CPython's C pickler chooses, so
 * that built-in values come out byte for byte as `pickle.dumps` writes them.
 *
 * `save()` follows CPython's precedence: persistent ID, atoms, memo, built-in containers,
 * `reducerOverride`, then the inert Python objects, the reducer table and the registry.
 */
import {
  decimalnl_long,
  decimalnl_short,
  encodeLong,
  float8,
  floatnl,
  int4,
  stringnl_noescape,
  stringnl_noescape_pair,
  uint2,
} from './args.js';
import { python2Name } from './compat.js';
import { ErrorCode, PickleError, PicklingError } from './errors.js';
import { DEFAULT_PROTOCOL, HIGHEST_PROTOCOL, OP } from './opcodes.js';
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
import { FRAME_SIZE_TARGET, Writer } from './writer.js';

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
const EMPTY_TUPLE = tuple();

/** A string to write without memo lookup (see `saveFreshStr`). */
class FreshStr {
  constructor(readonly value: string) {}
}

/** Thrown inside `save()`; `dump()` turns it into a `PicklingError` naming the path. */
class Unpicklable extends Error {
  readonly segments: string[] = [];
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Adds a path segment to an error passing up through a container. */
function within(e: unknown, segment: string): unknown {
  if (e instanceof Unpicklable) e.segments.push(segment);
  return e;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function keySegment(k: unknown): string {
  if (typeof k === 'string') return IDENTIFIER.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean' || k === null) {
    return `[${String(k)}]`;
  }
  return '[<key>]';
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
  private readonly w = new Writer();
  private readonly bin: boolean;
  private readonly fixImports: boolean;
  private readonly exact: boolean;
  private readonly bufferCallback: PicklerOptions['bufferCallback'];
  private readonly persistentId: PicklerOptions['persistentId'];
  private readonly reducerOverride: PicklerOptions['reducerOverride'];
  private readonly reducers: ReadonlyMap<Constructor, Reducer> | undefined;
  private readonly extensions: ExtensionRegistry | undefined;
  private readonly registry: Registry | undefined;
  /** Objects and strings already written, by identity (strings by value), to memo index. */
  private memo = new Map<unknown, number>();
  /** Globals already written, by `module\nname`: one Python object per name. */
  private globalMemo = new Map<string, number>();
  private memoCount = 0;

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
    this.globalMemo = new Map();
    this.memoCount = 0;
  }

  /** Pickles `value` and returns the bytes of this one pickle. */
  dump(value: unknown): Uint8Array {
    const w = this.w;
    w.pos = 0;
    if (this.protocol >= 2) w.byte2(OP.PROTO, this.protocol);
    if (this.protocol >= 4) w.startFraming();
    try {
      this.save(value);
    } catch (e) {
      w.pos = 0;
      throw toPicklingError(e);
    }
    w.byte(OP.STOP);
    return w.finish(0);
  }

  // --- the dispatch ---------------------------------------------------------------------------

  private save(v: unknown, savePersistentId = true): void {
    this.w.maybeCommitFrame();
    if (this.persistentId !== undefined && savePersistentId) {
      const pid = this.persistentId(v);
      if (pid !== undefined && pid !== null) {
        this.savePersistent(pid);
        return;
      }
    }
    switch (typeof v) {
      case 'number':
        if (!this.exact && Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) this.saveInt(v);
        else this.saveFloat(v);
        return;
      case 'string': {
        const idx = this.memo.get(v);
        if (idx !== undefined) this.writeGet(idx);
        else this.saveStr(v);
        return;
      }
      case 'boolean':
        if (this.protocol >= 2) this.w.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
        else this.w.ascii(v ? 'I01\n' : 'I00\n');
        return;
      case 'bigint':
        this.saveInt(v);
        return;
      case 'object':
        if (v === null) this.w.byte(OP.NONE);
        else this.saveObject(v);
        return;
      case 'undefined':
        throw new Unpicklable(ErrorCode.UNPICKLABLE, 'cannot pickle undefined (None is null)');
      default:
        this.saveOther(v);
    }
  }

  private saveObject(v: object): void {
    const idx = this.memo.get(v);
    if (idx !== undefined) {
      this.writeGet(idx);
      return;
    }
    const c = v.constructor;
    if (c === Array) this.saveList(v as unknown[]);
    else if (c === Object || c === undefined) this.saveDict(v as Record<string, unknown>);
    else if (c === Tuple) this.saveTuple(v as Tuple);
    else if (c === Map) this.saveDict(v as Map<unknown, unknown>);
    else if (c === Uint8Array) this.saveBytes(v as Uint8Array);
    else if (c === Set) this.saveSet(v as Set<unknown>);
    else if (c === FrozenSet) this.saveFrozenSet(v as FrozenSet);
    else if (c === ByteArray) this.saveBytearray(v as ByteArray);
    else if (c === PickleBuffer) this.savePickleBuffer(v as PickleBuffer);
    else this.saveOther(v);
  }

  /** Everything that is not an exact built-in type. */
  private saveOther(v: unknown): void {
    if (v instanceof PyFloat) return this.saveFloat(v.value);
    if (v instanceof FreshStr) return this.saveFreshStr(v.value);
    if (this.reducerOverride !== undefined) {
      const rv = this.reducerOverride(v);
      if (rv !== undefined) {
        this.saveReduceValue(rv, v, 'reducerOverride');
        return;
      }
    }
    if (v instanceof PyGlobal) return this.saveGlobal(v);
    if (typeof v === 'object' || typeof v === 'function') {
      const o = v as object;
      const reducer = this.reducers?.get(o.constructor as Constructor);
      if (reducer !== undefined) {
        this.saveReduceValue((reducer as (x: unknown) => ReduceValue)(v), v, 'reducer');
        return;
      }
      const binding = this.registry?.bindingFor(o) ?? builtinRegistry.bindingFor(o);
      if (binding !== undefined) {
        this.saveReduceValue(
          binding.reduce(o as never, this.protocol),
          v,
          `the ${binding.global.fullName} binding`,
        );
        return;
      }
    }
    if (v instanceof PyObject) return this.savePyObject(v);
    // Subclasses of the built-in containers pickle as the container.
    if (v instanceof Uint8Array)
      return v instanceof ByteArray ? this.saveBytearray(v) : this.saveBytes(v);
    if (Array.isArray(v)) return v instanceof Tuple ? this.saveTuple(v) : this.saveList(v);
    if (v instanceof Map) return this.saveDict(v);
    if (v instanceof Set) return v instanceof FrozenSet ? this.saveFrozenSet(v) : this.saveSet(v);
    if (typeof v === 'object' && v !== null && isDictObject(v))
      return this.saveDict(v as Record<string, unknown>);
    throw new Unpicklable(
      ErrorCode.UNPICKLABLE,
      `cannot pickle ${describe(v)}: add a reducer for it (reducers or reducerOverride)`,
    );
  }

  private saveReduceValue(rv: ReduceValue, obj: unknown, source: string): void {
    if (rv instanceof PyGlobal) {
      this.saveGlobal(rv);
      return;
    }
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
    this.saveReduce(func, args, state, listItems ?? null, dictItems ?? null, stateSetter, obj);
  }

  // --- atoms ----------------------------------------------------------------------------------

  private saveInt(v: number | bigint): void {
    const w = this.w;
    if (typeof v === 'number' ? (v | 0) === v : v >= -0x80000000n && v <= 0x7fffffffn) {
      const n = Number(v);
      if (this.bin) {
        if (n >= 0 && n <= 0xff) w.byte2(OP.BININT1, n);
        else if (n >= 0 && n <= 0xffff) {
          w.byte(OP.BININT2);
          uint2.write(w, n);
        } else {
          w.byte(OP.BININT);
          int4.write(w, n);
        }
      } else {
        w.byte(OP.INT);
        decimalnl_short.write(w, n);
      }
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
    w.byte(OP.LONG);
    decimalnl_long.write(w, v);
  }

  private saveFloat(v: number): void {
    if (this.bin) {
      this.w.byte(OP.BINFLOAT);
      float8.write(this.w, v);
    } else {
      this.w.byte(OP.FLOAT);
      floatnl.write(this.w, v);
    }
  }

  /**
   * A string CPython builds afresh each time (a class's `__qualname__`, a nested class's last
   * name): written in full and memoized under a new index, never fetched from the memo.
   */
  private saveFreshStr(s: string): void {
    this.w.maybeCommitFrame();
    if (this.persistentId !== undefined) {
      const pid = this.persistentId(s);
      if (pid !== undefined && pid !== null) {
        this.savePersistent(pid);
        return;
      }
    }
    this.saveStr(s, true);
  }

  private saveStr(s: string, fresh = false): void {
    const w = this.w;
    if (!this.bin) {
      w.byte(OP.UNICODE);
      w.bytes(encodeRawUnicodeEscape(s));
      w.byte(0x0a);
    } else if (s.length * 3 < FRAME_SIZE_TARGET) {
      // Encode in place after the largest header it can need, then fix the header.
      const short = this.protocol >= 4;
      const header = short && s.length * 3 <= 0xff ? 2 : 5;
      w.ensure(header + s.length * 3);
      const p = w.pos;
      const buf = w.buf;
      const n = encodeUtf8Into(s, buf, p + header);
      if (short && n <= 0xff) {
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
    if (fresh) this.writePut(this.memoCount++);
    else this.memoize(s);
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

  private saveBytes(b: Uint8Array): void {
    if (this.protocol < 3) {
      if (b.length === 0) {
        this.saveReduce(BUILTINS_BYTES, EMPTY_TUPLE, undefined, null, null, undefined, b);
      } else {
        this.saveReduce(
          CODECS_ENCODE,
          tuple(decodeLatin1(b), 'latin1'),
          undefined,
          null,
          null,
          undefined,
          b,
        );
      }
      return;
    }
    this.saveBytesData(b, b);
  }

  private saveBytesData(data: Uint8Array, memoKey: unknown): void {
    this.sizedPayload(data, OP.SHORT_BINBYTES, OP.BINBYTES, OP.BINBYTES8, true, 'bytes object');
    this.memoize(memoKey);
  }

  private saveBytearray(b: Uint8Array): void {
    if (this.protocol < 5) {
      const args = b.length === 0 ? EMPTY_TUPLE : tuple(new Uint8Array(b));
      this.saveReduce(BUILTINS_BYTEARRAY, args, undefined, null, null, undefined, b);
      return;
    }
    this.saveBytearrayData(b, b);
  }

  private saveBytearrayData(data: Uint8Array, memoKey: unknown): void {
    const w = this.w;
    w.headerAndPayload(() => {
      w.byte(OP.BYTEARRAY8);
      w.u64(data.length);
    }, data);
    this.memoize(memoKey);
  }

  private savePickleBuffer(b: PickleBuffer): void {
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
  }

  private savePersistent(pid: unknown): void {
    if (this.bin) {
      this.save(pid, false);
      this.w.byte(OP.BINPERSID);
    } else {
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
    }
  }

  // --- containers -----------------------------------------------------------------------------

  private saveTuple(t: readonly unknown[]): void {
    const w = this.w;
    const n = t.length;
    if (n === 0) {
      if (this.bin) w.byte(OP.EMPTY_TUPLE);
      else w.byte2(OP.MARK, OP.TUPLE);
      return;
    }
    if (n <= 3 && this.protocol >= 2) {
      this.saveItems(t, 0, n);
      const idx = this.memo.get(t);
      if (idx !== undefined) {
        // The tuple contains itself: drop its items and fetch it from the memo.
        for (let i = 0; i < n; i++) w.byte(OP.POP);
        this.writeGet(idx);
      } else {
        w.byte(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : OP.TUPLE3);
        this.memoize(t);
      }
      return;
    }
    w.byte(OP.MARK);
    this.saveItems(t, 0, n);
    const idx = this.memo.get(t);
    if (idx !== undefined) {
      if (this.bin) w.byte(OP.POP_MARK);
      else for (let i = 0; i <= n; i++) w.byte(OP.POP);
      this.writeGet(idx);
      return;
    }
    w.byte(OP.TUPLE);
    this.memoize(t);
  }

  private saveItems(items: readonly unknown[], from: number, to: number): void {
    let i = from;
    try {
      for (; i < to; i++) this.save(items[i]);
    } catch (e) {
      throw within(e, `[${i}]`);
    }
  }

  private saveList(a: unknown[]): void {
    const w = this.w;
    if (this.bin) w.byte(OP.EMPTY_LIST);
    else w.byte2(OP.MARK, OP.LIST);
    this.memoize(a);
    const n = a.length;
    if (n === 0) return;
    if (!this.bin) {
      for (let i = 0; i < n; i++) {
        this.saveItems(a, i, i + 1);
        w.byte(OP.APPEND);
      }
      return;
    }
    if (n === 1) {
      this.saveItems(a, 0, 1);
      w.byte(OP.APPEND);
      return;
    }
    // As C's batch_list_exact: batches of 1000, the last one may hold a single item.
    for (let i = 0; i < n; i += BATCHSIZE) {
      w.byte(OP.MARK);
      this.saveItems(a, i, Math.min(i + BATCHSIZE, n));
      w.byte(OP.APPENDS);
    }
  }

  private saveDict(d: Map<unknown, unknown> | Record<string, unknown>): void {
    const w = this.w;
    if (this.bin) w.byte(OP.EMPTY_DICT);
    else w.byte2(OP.MARK, OP.DICT);
    this.memoize(d);
    const isMap = d instanceof Map;
    const keys: unknown[] = isMap ? [...d.keys()] : Object.keys(d);
    const n = keys.length;
    const saveEntry = (k: unknown) => {
      const value = isMap ? d.get(k) : d[k as string];
      try {
        this.save(k);
        this.save(value);
      } catch (e) {
        throw within(e, keySegment(k));
      }
    };
    if (!this.bin) {
      for (const k of keys) {
        saveEntry(k);
        w.byte(OP.SETITEM);
      }
      return;
    }
    if (n === 0) return;
    if (n === 1) {
      saveEntry(keys[0]);
      w.byte(OP.SETITEM);
      return;
    }
    // As C's batch_dict_exact: a dict of exactly k*1000 items ends with an empty batch.
    let i = 0;
    for (;;) {
      w.byte(OP.MARK);
      const end = Math.min(i + BATCHSIZE, n);
      const full = end - i === BATCHSIZE;
      for (; i < end; i++) saveEntry(keys[i]);
      w.byte(OP.SETITEMS);
      if (!full) return;
    }
  }

  private saveSet(s: Set<unknown>): void {
    if (this.protocol < 4) {
      this.saveSetAsReduce(BUILTINS_SET, s);
      return;
    }
    const w = this.w;
    w.byte(OP.EMPTY_SET);
    this.memoize(s);
    if (s.size === 0) return;
    const items = [...s];
    // As C's save_set: batches of 1000, and a set of k*1000 items ends with an empty batch.
    let i = 0;
    for (;;) {
      w.byte(OP.MARK);
      const end = Math.min(i + BATCHSIZE, items.length);
      const full = end - i === BATCHSIZE;
      this.saveSetItems(items, i, end);
      i = end;
      w.byte(OP.ADDITEMS);
      if (!full) return;
    }
  }

  /** Protocols 0-3: `set(list)` / `frozenset(list)`, reporting a bad member as `{i}`. */
  private saveSetAsReduce(cls: PyGlobal, s: Set<unknown>): void {
    try {
      this.saveReduce(cls, tuple([...s]), undefined, null, null, undefined, s);
    } catch (e) {
      // The member's error passed through the list ([i]), the args tuple ([0]) and the reduce.
      if (e instanceof Unpicklable && e.segments.length >= 3) {
        const [item, args, reduce] = e.segments.slice(-3);
        if (args === '[0]' && reduce === '.<reduce>' && item?.startsWith('[')) {
          e.segments.splice(-3, 3, `{${item.slice(1, -1)}}`);
        }
      }
      throw e;
    }
  }

  private saveSetItems(items: readonly unknown[], from: number, to: number): void {
    let i = from;
    try {
      for (; i < to; i++) this.save(items[i]);
    } catch (e) {
      throw within(e, `{${i}}`);
    }
  }

  private saveFrozenSet(s: FrozenSet): void {
    if (this.protocol < 4) {
      this.saveSetAsReduce(BUILTINS_FROZENSET, s);
      return;
    }
    const w = this.w;
    w.byte(OP.MARK);
    const items = [...s];
    this.saveSetItems(items, 0, items.length);
    const idx = this.memo.get(s);
    if (idx !== undefined) {
      w.byte(OP.POP_MARK);
      this.writeGet(idx);
      return;
    }
    w.byte(OP.FROZENSET);
    this.memoize(s);
  }

  // --- globals and reduce ---------------------------------------------------------------------

  private saveGlobal(g: PyGlobal): void {
    const w = this.w;
    let module = g.module;
    let name = g.name;
    const memoKey = `${module}\n${name}`;
    const idx = this.globalMemo.get(memoKey);
    if (idx !== undefined) {
      this.writeGet(idx);
      return;
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
        return;
      }
    }
    const dot = name.lastIndexOf('.');
    if (this.protocol >= 4) {
      this.save(module);
      this.saveFreshStr(name);
      w.byte(OP.STACK_GLOBAL);
    } else if (dot >= 0) {
      // Protocols 0-3 cannot name a nested class: getattr(Outer, 'Inner').
      const parent = new PyGlobal(module, name.slice(0, dot));
      this.saveReduce(
        BUILTINS_GETATTR,
        tuple<unknown>(parent, new FreshStr(name.slice(dot + 1))),
        undefined,
        null,
        null,
        undefined,
        undefined,
      );
    } else {
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
    }
    this.memoCount++;
    this.writePut(this.memoCount - 1);
    this.globalMemo.set(memoKey, this.memoCount - 1);
  }

  /** Python's `save_reduce`. `obj` is memoized after the call, as the object built. */
  private saveReduce(
    func: unknown,
    args: readonly unknown[],
    state: unknown,
    listItems: Iterable<unknown> | null,
    dictItems: Iterable<readonly [unknown, unknown]> | null,
    stateSetter: unknown,
    obj: unknown,
  ): void {
    const w = this.w;
    const funcName =
      func instanceof PyGlobal ? func.name.slice(func.name.lastIndexOf('.') + 1) : '';
    try {
      if (this.protocol >= 4 && funcName === '__newobj_ex__') {
        const [cls, clsArgs, kwargs] = args;
        this.save(cls);
        this.save(Array.isArray(clsArgs) ? asTuple(clsArgs) : clsArgs);
        this.save(kwargs);
        w.byte(OP.NEWOBJ_EX);
      } else if (this.protocol >= 2 && funcName === '__newobj__') {
        if (args.length === 0) {
          throw new Unpicklable(
            ErrorCode.BAD_OPTION,
            '__newobj__ arguments must start with the class',
          );
        }
        this.save(args[0]);
        this.save(asTuple(args.slice(1)));
        w.byte(OP.NEWOBJ);
      } else {
        this.save(func);
        this.save(asTuple(args));
        w.byte(OP.REDUCE);
      }
    } catch (e) {
      throw within(e, '.<reduce>');
    }
    if (obj !== undefined) {
      const idx = this.memo.get(obj);
      if (idx !== undefined) {
        w.byte(OP.POP);
        this.writeGet(idx);
      } else {
        this.memoize(obj);
      }
    }
    if (listItems !== null) this.batchAppends(listItems);
    if (dictItems !== null) this.batchSetItems(dictItems);
    if (state !== undefined && state !== null) {
      try {
        if (stateSetter === undefined || stateSetter === null) {
          this.save(state);
          w.byte(OP.BUILD);
        } else {
          this.save(stateSetter);
          this.save(obj);
          this.save(state);
          w.byte(OP.TUPLE2);
          w.byte(OP.REDUCE);
          w.byte(OP.POP);
        }
      } catch (e) {
        throw within(e, '.<state>');
      }
    }
  }

  /** Items of a reduce value's list part, as C's `batch_list` (a lone last item uses APPEND). */
  private batchAppends(items: Iterable<unknown>): void {
    const w = this.w;
    const all = [...items];
    if (!this.bin) {
      for (let i = 0; i < all.length; i++) {
        this.saveItems(all, i, i + 1);
        w.byte(OP.APPEND);
      }
      return;
    }
    for (let i = 0; i < all.length; i += BATCHSIZE) {
      const end = Math.min(i + BATCHSIZE, all.length);
      if (end - i === 1) {
        this.saveItems(all, i, end);
        w.byte(OP.APPEND);
      } else {
        w.byte(OP.MARK);
        this.saveItems(all, i, end);
        w.byte(OP.APPENDS);
      }
    }
  }

  /** Pairs of a reduce value's dict part, as C's `batch_dict` (a lone last pair uses SETITEM). */
  private batchSetItems(items: Iterable<readonly [unknown, unknown]>): void {
    const w = this.w;
    const all = [...items];
    const savePair = (i: number) => {
      const pair = all[i];
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new Unpicklable(ErrorCode.BAD_OPTION, 'dict items must be [key, value] pairs');
      }
      try {
        this.save(pair[0]);
        this.save(pair[1]);
      } catch (e) {
        throw within(e, keySegment(pair[0]));
      }
    };
    if (!this.bin) {
      for (let i = 0; i < all.length; i++) {
        savePair(i);
        w.byte(OP.SETITEM);
      }
      return;
    }
    for (let i = 0; i < all.length; i += BATCHSIZE) {
      const end = Math.min(i + BATCHSIZE, all.length);
      if (end - i === 1) {
        savePair(i);
        w.byte(OP.SETITEM);
      } else {
        w.byte(OP.MARK);
        for (let j = i; j < end; j++) savePair(j);
        w.byte(OP.SETITEMS);
      }
    }
  }

  /** An inert object, written back the way the pickle built it. */
  private savePyObject(o: PyObject): void {
    const w = this.w;
    const listItems = o.listItems.length > 0 ? o.listItems : null;
    const dictItems = o.dictItems.length > 0 ? o.dictItems : null;
    switch (o.kind) {
      case 'reduce':
        this.saveReduce(o.cls, o.args, o.state, listItems, dictItems, o.stateSetter, o);
        return;
      case 'newobj':
        this.saveReduce(
          COPYREG_NEWOBJ,
          [o.cls, ...o.args],
          o.state,
          listItems,
          dictItems,
          o.stateSetter,
          o,
        );
        return;
      case 'newobj_ex':
        this.saveReduce(
          COPYREG_NEWOBJ_EX,
          [o.cls, o.args, o.kwargs ?? {}],
          o.state,
          listItems,
          dictItems,
          o.stateSetter,
          o,
        );
        return;
      case 'inst':
      case 'obj': {
        // As Python 2's save_inst: OBJ in binary protocols, INST (named by text) in protocol 0.
        const cls = o.cls;
        if (!this.bin && !(cls instanceof PyGlobal)) {
          this.saveReduce(cls, o.args, o.state, listItems, dictItems, undefined, o);
          return;
        }
        w.byte(OP.MARK);
        try {
          if (this.bin) this.save(cls);
          this.saveItems(o.args, 0, o.args.length);
        } catch (e) {
          throw within(e, '.args');
        }
        if (this.bin) w.byte(OP.OBJ);
        else {
          const g = cls as PyGlobal;
          let [module, name] = [g.module, g.name];
          if (this.fixImports) [module, name] = python2Name(module, name);
          w.byte(OP.INST);
          stringnl_noescape_pair.write(w, `${module} ${name}`);
        }
        const idx = this.memo.get(o);
        if (idx !== undefined) {
          w.byte(OP.POP);
          this.writeGet(idx);
        } else {
          this.memoize(o);
        }
        if (listItems !== null) this.batchAppends(listItems);
        if (dictItems !== null) this.batchSetItems(dictItems);
        if (o.state !== undefined) {
          try {
            this.save(o.state);
          } catch (e) {
            throw within(e, '.state');
          }
          w.byte(OP.BUILD);
        }
        return;
      }
    }
  }

  // --- memo -----------------------------------------------------------------------------------

  private memoize(v: unknown): void {
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

function toPicklingError(e: unknown): unknown {
  if (e instanceof Unpicklable) {
    const path = 'value' + e.segments.reverse().join('');
    return new PicklingError(e.code, e.reason, { path });
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new PicklingError(ErrorCode.LIMIT_EXCEEDED, 'value nested too deeply to pickle', {
      cause: e,
    });
  }
  if (e instanceof PickleError) return e;
  return e;
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
