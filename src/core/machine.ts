/**
 * The unpickling machine's state and the helpers its opcode handlers share: one value stack with
 * MARK positions (no array per MARK), the memo, global resolution, and dict building.
 */
import { ErrorCode, PickleError, UnpicklingError } from './errors.js';
import { python3Name } from './compat.js';
import { builtinRegistry } from './bindings/index.js';
import { ExtensionRegistry, type Registry } from './registry.js';
import type { Reader } from './reader.js';
import { ByteArray, PickleBuffer } from './python/bytes.js';
import { FrozenSet } from './python/frozenset.js';
import { isArrayIndexKey, isDictObject } from './python/dict.js';
import { rememberStateSetter } from './bindings/classes.js';
import { Partial } from './python/builtins.js';
import { PyGlobal, PyObject, type PyObjectKind } from './python/object.js';
import { Tuple } from './python/tuple.js';
import { typeName } from './python/typename.js';
import {
  DEFAULT_LIMITS,
  resolveLimits,
  type LimitName,
  type LimitOptions,
  type UnpicklerLimits,
  withCharger,
} from './limits.js';
import { nestingDepthOver } from './depth.js';

/** Options shared by `loads`, `loadAll` and `Unpickler`. */
export interface UnpicklerOptions {
  /**
   * Load every Python int as a `bigint`, so that `dumps(value, { exact: true })` writes back
   * the same types (ints stay ints, floats stay floats). Defaults to `false`: ints that are safe
   * integers become `number`.
   */
  exact?: boolean;
  /** Map Python 2 module and class names to Python 3 ones (protocols 0-2). Defaults to `true`. */
  fixImports?: boolean;
  /**
   * How to decode Python 2 `str` (STRING, BINSTRING, SHORT_BINSTRING): `'ASCII'`, `'latin1'`,
   * `'utf-8'`, any label `TextDecoder` knows, or `'bytes'` to keep them as `Uint8Array`.
   * Defaults to `'ASCII'`, as in Python 3.
   */
  encoding?: string;
  /** Error handler for `encoding`: `'strict'`, `'replace'`, `'ignore'`, ... Defaults to `'strict'`. */
  errors?: string;
  /** Out-of-band buffers for NEXT_BUFFER (protocol 5), in the order `bufferCallback` saw them. */
  buffers?: Iterable<Uint8Array | ArrayBufferView | ArrayBuffer | PickleBuffer>;
  /** Turns a persistent ID (PERSID, BINPERSID) into a value. Without it, those opcodes fail. */
  persistentLoad?: (pid: unknown) => unknown;
  /**
   * Resolves a global. Return a `PyGlobal` (with or without behaviour) or any value; throw to
   * refuse it. Defaults to the registry's bindings, and an inert `PyGlobal` for other names.
   */
  findClass?: (module: string, name: string) => unknown;
  /**
   * Your bindings for globals and classes (`registry.register`, `defineGlobal`, ...), consulted
   * before the built-in registry. Defaults to none.
   */
  registry?: Registry;
  /** Extension codes for EXT1/EXT2/EXT4. Defaults to none. */
  extensions?: ExtensionRegistry;
  /**
   * `bytes` and `bytearray` values (and numpy arrays built on them) view the input instead of
   * copying it, so they change if the input does. `Unpickler`/`loads` only: a stream's input is
   * not kept. Defaults to `false`.
   */
  zeroCopy?: boolean;
  /**
   * Resource limits (see `UnpicklerLimits`); any you leave out keep their `DEFAULT_LIMITS` value.
   * A load that passes one fails with code `LIMIT_EXCEEDED`.
   */
  limits?: LimitOptions;
}

export type Handler = (m: Machine) => void;

export { typeName };

const emptyExtensions = new ExtensionRegistry();

/** A dict with many string keys (see `Machine.fillFromTemplate`). */
interface DictTemplate {
  readonly keys: readonly string[];
  readonly object: object;
}

/** Dicts with fewer keys stay fast in V8 when built key by key. */
const TEMPLATE_MIN_KEYS = 17;
/** Memo slots per chunk (see `Machine.memoChunks`). */
const MEMO_SHIFT = 12;
const MEMO_CHUNK = 1 << MEMO_SHIFT;
const MEMO_MASK = MEMO_CHUNK - 1;

/** Templates one load may make (each costs a JSON.parse and some memory). */
const MAX_TEMPLATES = 256;

export class Machine {
  readonly r: Reader;
  /**
   * The unpickling stack is `stack[0, sp)`. Slots at `sp` and above are stale and never read.
   * Cutting the stack back by moving `sp`, instead of setting `stack.length`, keeps V8 from
   * trimming the backing store after every APPENDS batch and then growing it again (loads of
   * 1M ints: about 10 of 50 ms).
   */
  stack: unknown[] = [];
  sp = 0;
  /** Stack lengths at each open MARK. */
  marks: number[] = [];
  /** The stack index below which the current MARK's items may not pop. */
  fence = 0;
  /**
   * The memo's dense slots, `[0, memoLength)`, in chunks of `MEMO_CHUNK` (`memoAt`). One big
   * array would grow by copying: past ~16k items each copy is a fresh large-object allocation
   * (300k memo entries: 4.2 ms of pushes, against 0.6 ms in chunks). The first chunk grows by
   * push, so a small pickle allocates no more than it needs.
   */
  private memoChunks: unknown[][] = [];
  private memoLength = 0;
  /** Number of filled memo slots: MEMOIZE stores at this index, as `len(memo)` in CPython. */
  memoCount = 0;
  /** Memo slots past this size live in a Map instead of the array. */
  private bigMemo: Map<number, unknown> | null = null;
  proto = 0;
  /** A list whose length was set ahead of its items (see runs.ts), and how far it is filled. */
  sizedList: unknown[] | null = null;
  sizedFill = 0;
  sizedEnd = 0;

  readonly exact: boolean;
  readonly fixImports: boolean;
  readonly encoding: string;
  readonly errors: string;
  private readonly buffers: Iterator<unknown> | null;
  private readonly persistentLoadHook: ((pid: unknown) => unknown) | undefined;
  private readonly findClassHook: ((module: string, name: string) => unknown) | undefined;
  private readonly registry: Registry | undefined;
  private readonly extensions: ExtensionRegistry;
  private readonly globals = new Map<string, unknown>();
  private readonly extensionCache = new Map<number, unknown>();

  /** Dicts that became Maps after they were created (a non-string key arrived). */
  private forward: Map<object, Map<unknown, unknown>> | null = null;
  /**
   * The last dict EMPTY_DICT made, and its memo index once MEMOIZE/PUT stores it: while it is
   * still empty and referenced only there and on the stack, SETITEMS may replace it by an object
   * built from a template (see `fillFromTemplate`).
   */
  freshDict: object | null = null;
  freshDictMemo = -1;
  /**
   * The same for the last list EMPTY_LIST made: its first batch replaces it by an array of
   * exactly its items (see `replaceFreshList`).
   */
  freshList: unknown[] | null = null;
  freshListMemo = -1;
  /** Templates for dicts with many string keys, by their first key (see `fillFromTemplate`). */
  private templates: Map<string, DictTemplate[]> | null = null;
  private templateCount = 0;
  /** Plain-object dicts handed out by GET or DUP, which a later promotion must chase. */
  private exposed: Set<object> | null = null;
  /** Whether the result must be walked to replace promoted dicts. */
  needsFixup = false;
  /** The inert object the last REDUCE built: a POP right after it may be a state setter call. */
  lastReduced: PyObject | null = null;

  readonly limits: UnpicklerLimits;
  /** Estimated heap bytes the values built so far take (see `HEAP_COST`). */
  heap = 0;
  /** `heap` may grow to this before a checkpoint must fail the load. */
  readonly maxHeap: number;
  readonly maxMemo: number;

  constructor(reader: Reader, options: UnpicklerOptions) {
    this.r = reader;
    this.exact = options.exact ?? false;
    this.fixImports = options.fixImports ?? true;
    this.encoding = options.encoding ?? 'ASCII';
    this.errors = options.errors ?? 'strict';
    this.buffers = options.buffers ? options.buffers[Symbol.iterator]() : null;
    this.persistentLoadHook = options.persistentLoad;
    this.findClassHook = options.findClass;
    this.registry = options.registry;
    this.extensions = options.extensions ?? emptyExtensions;
    this.limits = resolveLimits(options.limits);
    this.maxHeap = this.limits.maxHeapBytes;
    this.maxMemo = this.limits.maxMemo;
  }

  /** A `LIMIT_EXCEEDED` error that says which limit and how to raise it. */
  overLimit(name: LimitName, what: string): UnpicklingError {
    const limit = this.limits[name];
    return this.error(
      ErrorCode.LIMIT_EXCEEDED,
      `${what}: more than the ${name} limit of ${limit.toLocaleString('en-US')}` +
        (limit === DEFAULT_LIMITS[name] ? ' (the default)' : '') +
        `; raise it with the option limits: { ${name}: ... } if you trust this input`,
    );
  }

  /** Gives back the unfilled tail of a presized list (see runs.ts). */
  unsize(): void {
    const list = this.sizedList;
    if (list === null) return;
    list.length = this.sizedFill;
    this.sizedList = null;
  }

  /** Adds `n` bytes to the heap estimate, failing at once if that passes `maxHeapBytes`. */
  charge(n: number): void {
    if ((this.heap += n) > this.maxHeap) {
      throw this.overLimit('maxHeapBytes', 'the loaded values would take too much memory');
    }
  }

  /**
   * Run every 64 KiB of input and at STOP: the limits that the handlers do not check one by one
   * (the heap estimate, which the decode loop adds to per opcode, and the stack's size).
   */
  checkpoint(): void {
    if (this.heap > this.maxHeap) {
      throw this.overLimit('maxHeapBytes', 'the loaded values would take too much memory');
    }
    if (this.sp > this.limits.maxItems) {
      throw this.overLimit('maxItems', `${this.sp} values on the unpickling stack`);
    }
  }

  /** Fails if a container of `n` items would pass `maxItems`. */
  checkItems(n: number, what: string): void {
    if (n > this.limits.maxItems) throw this.overLimit('maxItems', `a ${what} of ${n} items`);
  }

  /** After STOP: the `maxDepth` check, walking the value only when it could be that deep. */
  checkDepth(value: unknown): void {
    const max = this.limits.maxDepth;
    if (max === Infinity || typeof value !== 'object' || value === null) return;
    // Every container charges at least 48 bytes, so there are at most heap/48 of them.
    if (this.heap / 48 <= max) return;
    const depth = nestingDepthOver(value, max);
    if (depth !== undefined) {
      throw this.overLimit('maxDepth', `a value nested ${depth} deep`);
    }
  }

  error(code: ErrorCode, message: string, cause?: unknown): UnpicklingError {
    return this.r.error(code, message, cause);
  }

  underflow(): never {
    throw this.error(ErrorCode.STACK_UNDERFLOW, 'unpickling stack underflow');
  }

  /** Throws unless at least `n` items are above the current MARK. */
  need(n: number): void {
    if (this.sp - this.fence < n) this.underflow();
  }

  push(v: unknown): void {
    this.stack[this.sp++] = v;
  }

  pop(): unknown {
    if (this.sp <= this.fence) this.underflow();
    return this.stack[--this.sp];
  }

  top(): unknown {
    if (this.sp <= this.fence) this.underflow();
    return this.stack[this.sp - 1];
  }

  /** Closes the innermost MARK and returns the stack index where its items start. */
  popMark(): number {
    const k = this.marks.pop();
    if (k === undefined) {
      throw this.error(ErrorCode.NO_MARK, 'could not find MARK');
    }
    this.fence = this.marks.length > 0 ? this.marks[this.marks.length - 1]! : 0;
    return k;
  }

  /** The items above the innermost MARK, removed from the stack. */
  popMarkItems(): unknown[] {
    const k = this.popMark();
    this.checkItems(this.sp - k, 'list, dict or set');
    const items = this.stack.slice(k, this.sp);
    this.sp = k;
    return items;
  }

  /** Closes the innermost MARK; returns the index of the object just below it (the target). */
  popMarkTarget(): number {
    const k = this.popMark();
    if (k - 1 < this.fence) this.underflow();
    return k - 1;
  }

  // --- memo ---------------------------------------------------------------------------------

  /** The memo's slot `i`, or undefined. */
  memoAt(i: number): unknown {
    const chunk = this.memoChunks[i >>> MEMO_SHIFT];
    const v = chunk === undefined ? undefined : chunk[i & MEMO_MASK];
    return v === undefined && this.bigMemo !== null ? this.bigMemo.get(i) : v;
  }

  memoGet(i: number): unknown {
    let v = this.memoAt(i);
    if (v === undefined) {
      throw this.error(ErrorCode.MEMO_MISSING, `Memo value not found at index ${i}`);
    }
    if (typeof v === 'object' && v !== null) v = this.shared(v);
    return v;
  }

  memoPut(i: number, v: unknown): void {
    // Dense indices (every pickler writes 0, 1, 2, ...) live in the chunks; any other goes to a
    // Map, so that holes cost nothing. CPython's memo is an array, so a huge index is a
    // MemoryError there; here it is past maxMemo.
    if (i === this.memoLength && this.bigMemo === null && this.memoCount < this.maxMemo) {
      // The common case, every pickler's MEMOIZE/PUT n+1.
      this.memoCount++;
      this.memoStore(i, v);
      if (v === this.freshList || v === this.freshDict) this.noteFresh(i, v);
      return;
    }
    if (v === this.freshList || v === this.freshDict) this.noteFresh(i, v);
    if (i >= this.maxMemo) throw this.overLimit('maxMemo', `memo index ${i}`);
    if (i < this.memoLength) {
      if (this.memoAt(i) === undefined) this.addMemo();
      this.bigMemo?.delete(i);
      this.memoStore(i, v);
    } else if (i === this.memoLength) {
      if (!this.bigMemo?.delete(i)) this.addMemo();
      this.memoStore(i, v);
    } else {
      this.bigMemo ??= new Map();
      if (!this.bigMemo.has(i)) {
        this.addMemo();
        this.charge(48);
      }
      this.bigMemo.set(i, v);
    }
  }

  /** Stores slot `i`, at most one past the dense slots. */
  private memoStore(i: number, v: unknown): void {
    const k = i >>> MEMO_SHIFT;
    let chunk = this.memoChunks[k];
    if (chunk === undefined) {
      chunk = k === 0 ? [] : new Array<unknown>(MEMO_CHUNK);
      this.memoChunks.push(chunk);
    }
    chunk[i & MEMO_MASK] = v;
    if (i === this.memoLength) this.memoLength++;
  }

  /** A fresh container stored in the memo: its one slot, or, stored twice, not fresh. */
  private noteFresh(i: number, v: unknown): void {
    if (v === this.freshList) {
      if (this.freshListMemo < 0) this.freshListMemo = i;
      else this.freshList = null;
    } else if (this.freshDictMemo < 0) this.freshDictMemo = i;
    else this.freshDict = null;
  }

  /**
   * Replaces the fresh list at `stack[index]`, still empty and referenced only there and in its
   * memo slot, by `items`: an array of exactly its first batch. V8 gives an array that grows
   * from empty room for 16 items (a 2-item list took 190 bytes instead of 64), and the
   * scavenger copies every byte of what a load keeps, twice. Dicts loads: 98.6 -> 65.7 ms
   * (scavenges 39 -> 11 ms), records 124 -> 95 ms.
   */
  replaceFreshList(items: unknown[], index: number): void {
    this.freshList = null;
    this.stack[index] = items;
    if (this.freshListMemo >= 0) this.memoReplace(this.freshListMemo, items);
  }

  /** Puts `v` in memo slot `i`, which holds a value already: a dense slot or a sparse one. */
  private memoReplace(i: number, v: unknown): void {
    if (i < this.memoLength) this.memoStore(i, v);
    else this.bigMemo!.set(i, v);
  }

  private addMemo(): void {
    if (++this.memoCount > this.maxMemo) {
      throw this.overLimit('maxMemo', `${this.memoCount} memo entries`);
    }
  }

  /** A value about to be referenced a second time (GET, DUP): chase promotions, note dicts. */
  shared(v: object): object {
    if (this.forward !== null) {
      const promoted = this.forward.get(v);
      if (promoted !== undefined) return promoted;
    }
    if (isDictObject(v)) (this.exposed ??= new Set()).add(v);
    if (v === this.freshList) this.freshList = null;
    if (v === this.freshDict) this.freshDict = null;
    return v;
  }

  // --- globals ------------------------------------------------------------------------------

  /** `find_class`: the import renames, then the hook or the registry, interned per name. */
  findClass(module: string, name: string): unknown {
    if (this.proto < 3 && this.fixImports) [module, name] = python3Name(module, name);
    const k = `${module}\n${name}`;
    if (this.globals.has(k)) return this.globals.get(k);
    // What Python's import and getattr reject, whatever the module.
    if (module === '') throw this.error(ErrorCode.BAD_ARGUMENT, 'Empty module name');
    if (name.split('.').includes('')) {
      throw this.error(
        ErrorCode.BAD_ARGUMENT,
        `Can't get attribute '${name}' on module '${module}'`,
      );
    }
    let g: unknown;
    if (this.findClassHook) {
      try {
        g = this.findClassHook(module, name);
      } catch (e) {
        if (e instanceof PickleError) throw e;
        throw this.error(
          ErrorCode.GLOBAL_BLOCKED,
          `global ${module}.${name} refused: ${String(e)}`,
          e,
        );
      }
      if (g === undefined) g = new PyGlobal(module, name);
    } else {
      g =
        this.registry?.resolve(module, name) ??
        builtinRegistry.resolve(module, name) ??
        new PyGlobal(module, name);
    }
    this.globals.set(k, g);
    return g;
  }

  extension(code: number): unknown {
    const cached = this.extensionCache.get(code);
    if (cached !== undefined) return cached;
    const target = this.extensions.lookup(code);
    if (!target) {
      if (code <= 0) throw this.error(ErrorCode.BAD_ARGUMENT, 'EXT specifies code <= 0');
      throw this.error(ErrorCode.EXTENSION_MISSING, `unregistered extension code ${code}`);
    }
    const g = this.findClass(target[0], target[1]);
    this.extensionCache.set(code, g);
    return g;
  }

  persistentLoad(pid: unknown): unknown {
    if (!this.persistentLoadHook) {
      throw this.error(
        ErrorCode.PERSISTENT_LOAD,
        'A load persistent id instruction was encountered, but no persistentLoad function was specified.',
      );
    }
    return this.persistentLoadHook(pid);
  }

  nextBuffer(): PickleBuffer {
    if (this.buffers === null) {
      throw this.error(
        ErrorCode.BUFFERS,
        'pickle stream refers to out-of-band data but no buffers option was given',
      );
    }
    const next = this.buffers.next();
    if (next.done) throw this.error(ErrorCode.BUFFERS, 'not enough out-of-band buffers');
    const b = next.value;
    if (b instanceof PickleBuffer) return b;
    if (ArrayBuffer.isView(b) || b instanceof ArrayBuffer) return new PickleBuffer(b);
    throw this.error(ErrorCode.BUFFERS, `out-of-band buffer is not a buffer: ${typeName(b)}`);
  }

  // --- calling globals ----------------------------------------------------------------------

  /** Runs a binding's behaviour, locating its errors at the current opcode. */
  private run<T>(f: () => T): T {
    try {
      return withCharger(this, f);
    } catch (e) {
      if (e instanceof PickleError && e.offset === undefined) {
        throw this.error(e.code, e.reason, e);
      }
      throw e;
    }
  }

  /** REDUCE: `callable(*args)`. */
  reduce(callable: unknown, args: unknown): unknown {
    if (!(args instanceof Tuple)) {
      throw this.error(
        ErrorCode.BAD_OPERAND,
        `REDUCE arguments must be a tuple, not ${typeName(args)}`,
      );
    }
    if (callable instanceof PyGlobal) {
      if (callable.name === 'getattr' && callable.module === 'builtins') {
        // getattr(cls, 'Inner'): protocols 0-3 name a nested class this way.
        const [target, attr] = args;
        if (target instanceof PyGlobal && typeof attr === 'string' && args.length === 2) {
          return this.findClass(target.module, `${target.name}.${attr}`);
        }
      }
      const call = callable.call;
      if (call !== undefined) {
        const v = this.run(() => call(args));
        if (v !== undefined) return v;
      }
      return (this.lastReduced = new PyObject(callable, args, 'reduce'));
    }
    // partial(cls.__new__, cls, *args, **kwargs)(): how protocols 2-3 write NEWOBJ_EX.
    if (callable instanceof Partial && args.length === 0) {
      const built = this.partialNew(callable);
      if (built !== undefined) return built;
    }
    // Objects the pickle built that Python could call (an object with __call__, a partial):
    // the call stays inert too.
    if (callable instanceof PyObject || callable instanceof Partial) {
      return (this.lastReduced = new PyObject(callable, args, 'reduce'));
    }
    throw this.error(ErrorCode.BAD_OPERAND, `'${typeName(callable)}' object is not callable`);
  }

  /** `partial(cls.__new__, cls, *args, **kwargs)()` for a registered `cls`, else undefined. */
  private partialNew(p: Partial): unknown {
    const [cls, ...args] = p.args;
    if (!(p.func instanceof PyGlobal) || !(cls instanceof PyGlobal) || cls.construct === undefined)
      return undefined;
    if (p.func.module !== cls.module || p.func.name !== `${cls.name}.__new__`) return undefined;
    const construct = cls.construct;
    return this.run(() => construct(args, p.keywords ?? {}));
  }

  /** NEWOBJ and NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`. */
  newObject(cls: unknown, args: unknown, kwargs: unknown, kind: PyObjectKind): unknown {
    const op = kind === 'newobj' ? 'NEWOBJ' : 'NEWOBJ_EX';
    if (!(args instanceof Tuple)) {
      throw this.error(
        ErrorCode.BAD_OPERAND,
        `${op} args argument must be a tuple, not ${typeName(args)}`,
      );
    }
    if (kind === 'newobj_ex' && !isDictValue(kwargs)) {
      throw this.error(
        ErrorCode.BAD_OPERAND,
        `NEWOBJ_EX kwargs argument must be a dict, not ${typeName(kwargs)}`,
      );
    }
    if (cls instanceof PyGlobal) {
      if (cls.module === 'builtins' && BUILTIN_FUNCTIONS.has(cls.name)) {
        throw this.error(
          ErrorCode.BAD_OPERAND,
          `${op} class argument must be a type, not builtin_function_or_method`,
        );
      }
      const construct = cls.construct;
      if (construct !== undefined) {
        const v = this.run(() => construct(args, kwargs ?? {}));
        if (v !== undefined) return v;
      }
      return new PyObject(cls, args, kind, kwargs);
    }
    if (cls instanceof PyObject) return new PyObject(cls, args, kind, kwargs);
    throw this.error(ErrorCode.BAD_OPERAND, `${op} class argument isn't a type object`);
  }

  /** INST and OBJ: `klass(*args)`, or `klass.__new__(klass)` without arguments. */
  instantiate(cls: unknown, args: Tuple, kind: 'inst' | 'obj'): unknown {
    if (cls instanceof PyGlobal) {
      const { call, construct } = cls;
      if (args.length > 0 && call !== undefined) {
        const v = this.run(() => call(args));
        if (v !== undefined) return v;
      } else if (args.length === 0 && (construct ?? call) !== undefined) {
        const v = this.run(() => (construct ? construct(args, {}) : call!(args)));
        if (v !== undefined) return v;
      }
      return new PyObject(cls, args, kind);
    }
    if (cls instanceof PyObject) return new PyObject(cls, args, kind);
    throw this.error(ErrorCode.BAD_OPERAND, `'${typeName(cls)}' object is not callable`);
  }

  /**
   * POP of what the last REDUCE built, when that was `setter(obj, state)`: the pickle applies a
   * `__reduce__` state setter (`... TUPLE2 REDUCE POP`). The state stays on `obj` with its setter.
   */
  popped(popped: unknown): void {
    const v = this.lastReduced;
    if (v === null || popped !== v) return;
    this.lastReduced = null;
    const [target, state] = v.args;
    if (v.args.length !== 2) return;
    if (target instanceof PyObject && target.state === undefined) {
      target.state = state;
      target.stateSetter = v.cls;
    } else if (typeof target === 'object' && target !== null && !(target instanceof PyObject)) {
      // A registered class's instance: its binding applies the state, and the setter is kept
      // so that dumping calls it again in Python.
      const binding = this.bindingFor(target);
      if (binding?.restore) {
        this.run(() => binding.restore!(target as never, state));
        rememberStateSetter(target, v.cls);
      }
    }
  }

  /** BUILD: `__setstate__` or `__dict__` update. Only objects the pickle built can take state. */
  build(inst: unknown, state: unknown): void {
    if (inst instanceof PyObject) {
      inst.state = state;
      return;
    }
    const restore =
      typeof inst === 'object' && inst !== null ? this.bindingFor(inst)?.restore : undefined;
    if (restore === undefined) {
      // Without __setstate__, Python's BUILD sets nothing for a None state, whatever the object.
      if (state === null) return;
      throw this.error(
        ErrorCode.BAD_OPERAND,
        `cannot BUILD a ${typeName(inst)}: it has no state to set`,
      );
    }
    this.run(() => restore(inst as never, state));
  }

  /** The binding of a registered class's instance (yours first, then the built-in ones). */
  private bindingFor(obj: object) {
    return this.registry?.bindingFor(obj) ?? builtinRegistry.bindingFor(obj);
  }

  // --- containers ---------------------------------------------------------------------------

  appendItems(target: unknown, from: number): void {
    const stack = this.stack;
    const sp = this.sp;
    if (Array.isArray(target) && !(target instanceof Tuple)) {
      if (target.length + sp - from > this.limits.maxItems) {
        this.checkItems(target.length + sp - from, 'list');
      }
      if (target === this.freshList && target.length === 0) {
        this.replaceFreshList(stack.slice(from, sp), from - 1);
      } else for (let i = from; i < sp; i++) target.push(stack[i]);
    } else if (target instanceof PyObject) {
      for (let i = from; i < sp; i++) target.listItems.push(stack[i]);
    } else {
      const append =
        typeof target === 'object' && target !== null ? this.bindingFor(target)?.append : undefined;
      if (append === undefined)
        throw this.error(ErrorCode.BAD_OPERAND, `cannot append to a ${typeName(target)}`);
      const items = stack.slice(from, sp);
      this.run(() => append(target as never, items));
    }
    this.sp = from;
  }

  /** Adds the key/value pairs stack[from..] to the dict at stack[targetIndex]. */
  setItems(targetIndex: number, from: number): void {
    const stack = this.stack;
    const sp = this.sp;
    if ((sp - from) % 2 !== 0) {
      throw this.error(ErrorCode.BAD_OPERAND, 'odd number of items for SETITEMS');
    }
    let target = stack[targetIndex];
    let i = from;
    if (target === this.freshDict && sp - from >= 2 * TEMPLATE_MIN_KEYS) {
      this.freshDict = null;
      if (this.fillFromTemplate(target as object, targetIndex, from)) {
        this.sp = from;
        return;
      }
    }
    if (typeof target === 'object' && target !== null && isDictObject(target)) {
      const obj = target as Record<string, unknown>;
      for (; i < sp; i += 2) {
        const k = stack[i];
        if (typeof k !== 'string' || k === '__proto__' || isArrayIndexKey(k)) break;
        obj[k] = stack[i + 1];
      }
      if (i === sp) {
        this.sp = from;
        return;
      }
      target = this.promote(obj, targetIndex);
    }
    if (target instanceof Map) {
      this.checkItems(target.size + (sp - i) / 2, 'dict');
      for (; i < sp; i += 2) {
        const k = stack[i];
        this.checkHashable(k);
        target.set(k, stack[i + 1]);
      }
    } else if (Array.isArray(target) && !(target instanceof Tuple)) {
      // SETITEM on a list is `list[i] = v` in Python.
      for (; i < sp; i += 2) this.setListItem(target, stack[i], stack[i + 1]);
    } else if (target instanceof PyObject) {
      for (; i < sp; i += 2) target.dictItems.push([stack[i], stack[i + 1]]);
    } else {
      const setItems =
        typeof target === 'object' && target !== null
          ? this.bindingFor(target)?.setItems
          : undefined;
      if (setItems === undefined) {
        throw this.error(ErrorCode.BAD_OPERAND, `cannot set items on a ${typeName(target)}`);
      }
      const pairs: Array<[unknown, unknown]> = [];
      for (; i < sp; i += 2) pairs.push([stack[i], stack[i + 1]]);
      this.run(() => setItems(target as never, pairs));
    }
    this.sp = from;
  }

  /**
   * SETITEMS of `TEMPLATE_MIN_KEYS` or more string keys into the fresh empty dict at
   * `stack[targetIndex]`. V8 turns an object that gets more than ~16 properties by computed keys
   * into a slow dictionary-mode object (for the reader too); an object cloned from a template
   * that JSON.parse made keeps fast properties and is built ~2x faster (records: 30k dicts of
   * 21 keys). The new object replaces the empty one on the stack and in the memo, which is only
   * safe while nothing else has seen it (no GET, no DUP). False when the keys do not qualify.
   */
  private fillFromTemplate(target: object, targetIndex: number, from: number): boolean {
    const memoIndex = this.freshDictMemo;
    if (memoIndex < 0 || this.memoAt(memoIndex) !== target || this.exposed?.has(target)) {
      return false;
    }
    for (const _ in target) return false; // not empty after all
    const stack = this.stack;
    const sp = this.sp;
    const count = (sp - from) >> 1;
    const first = stack[from];
    if (typeof first !== 'string') return false;
    const candidates = (this.templates ??= new Map()).get(first);
    let template: DictTemplate | undefined;
    if (candidates !== undefined) {
      for (const t of candidates) {
        if (t.keys.length !== count) continue;
        let same = true;
        for (let j = 0, i = from; j < count; j++, i += 2) {
          if (t.keys[j] !== stack[i]) {
            same = false;
            break;
          }
        }
        if (same) {
          template = t;
          break;
        }
      }
    }
    if (template === undefined) {
      if (this.templateCount >= MAX_TEMPLATES) return false;
      const keys: string[] = [];
      const seen = new Set<string>();
      for (let i = from; i < sp; i += 2) {
        const k = stack[i];
        if (typeof k !== 'string' || k === '__proto__' || isArrayIndexKey(k) || seen.has(k)) {
          return false;
        }
        seen.add(k);
        keys.push(k);
      }
      // JSON.parse builds an object with fast properties in this key order (no key is an array
      // index, so none is reordered).
      const json = `{${keys.map((k) => `${JSON.stringify(k)}:0`).join(',')}}`;
      template = { keys, object: JSON.parse(json) as object };
      if (candidates === undefined) this.templates.set(first, [template]);
      else candidates.push(template);
      this.templateCount++;
      this.charge(64 * count);
    }
    const obj: Record<string, unknown> = { ...template.object };
    for (let i = from; i < sp; i += 2) obj[stack[i] as string] = stack[i + 1];
    stack[targetIndex] = obj;
    this.memoReplace(memoIndex, obj);
    return true;
  }

  /** `list[index] = value`, with Python's index rules. */
  private setListItem(list: unknown[], index: unknown, value: unknown): void {
    let i: number;
    if (typeof index === 'number' && Number.isInteger(index)) i = index;
    else if (typeof index === 'bigint') i = Number(index);
    else if (typeof index === 'boolean') i = index ? 1 : 0;
    else {
      throw this.error(
        ErrorCode.BAD_OPERAND,
        `list indices must be integers or slices, not ${typeName(index)}`,
      );
    }
    if (i < 0) i += list.length;
    if (!(i >= 0 && i < list.length)) {
      throw this.error(ErrorCode.BAD_OPERAND, 'list assignment index out of range');
    }
    list[i] = value;
  }

  /** A new dict from alternating keys and values. */
  makeDict(items: unknown[]): Record<string, unknown> | Map<unknown, unknown> {
    if (items.length % 2 !== 0) {
      throw this.error(ErrorCode.BAD_OPERAND, 'odd number of items for DICT');
    }
    let plain = true;
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (typeof k !== 'string' || k === '__proto__' || isArrayIndexKey(k)) {
        plain = false;
        break;
      }
    }
    if (plain) {
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < items.length; i += 2) obj[items[i] as string] = items[i + 1];
      return obj;
    }
    this.checkItems(items.length / 2, 'dict');
    const m = new Map<unknown, unknown>();
    for (let i = 0; i < items.length; i += 2) {
      this.checkHashable(items[i]);
      m.set(items[i], items[i + 1]);
    }
    return m;
  }

  /**
   * A plain-object dict is about to get a key a plain object cannot hold: it becomes a Map.
   * References to the old object are replaced on the stack, chased on later GETs, and, if the
   * object was already shared, fixed in the result when the pickle ends.
   */
  private promote(obj: Record<string, unknown>, targetIndex: number): Map<unknown, unknown> {
    const m = new Map<unknown, unknown>();
    for (const k of Object.keys(obj)) m.set(k, obj[k]);
    (this.forward ??= new Map()).set(obj, m);
    this.stack[targetIndex] = m;
    if (this.exposed?.has(obj)) {
      const stack = this.stack;
      for (let i = 0; i < this.sp; i++) if (stack[i] === obj) stack[i] = m;
      this.needsFixup = true;
    }
    return m;
  }

  addItems(target: unknown, from: number): void {
    const stack = this.stack;
    const sp = this.sp;
    if (!(target instanceof Set) || target instanceof FrozenSet) {
      throw this.error(ErrorCode.BAD_OPERAND, `cannot add items to a ${typeName(target)}`);
    }
    this.checkItems(target.size + sp - from, 'set');
    for (let i = from; i < sp; i++) {
      this.checkHashable(stack[i]);
      target.add(stack[i]);
    }
    this.sp = from;
  }

  /** Rejects keys and set members Python could not hash (lists, dicts, sets, bytearrays). */
  checkHashable(v: unknown): void {
    if (typeof v !== 'object' || v === null) return;
    const bad = unhashable(v);
    if (bad === undefined) return;
    if (bad !== 'tuple') throw this.error(ErrorCode.BAD_OPERAND, `unhashable type: '${bad}'`);
    // A tuple hashes its items: look inside, without recursion (tuples may nest deeply).
    const todo: unknown[] = [v];
    const seen = new Set<object>();
    while (todo.length > 0) {
      const t = todo.pop() as Tuple;
      if (seen.has(t)) continue;
      seen.add(t);
      for (const x of t) {
        if (typeof x !== 'object' || x === null) continue;
        const b = unhashable(x);
        if (b === 'tuple') todo.push(x);
        else if (b !== undefined)
          throw this.error(ErrorCode.BAD_OPERAND, `unhashable type: '${b}'`);
      }
    }
  }

  // --- after STOP ---------------------------------------------------------------------------

  /** Replaces references to promoted dicts throughout `root` (rare: see `promote`). */
  fixup(root: unknown): unknown {
    const forward = this.forward!;
    const swap = (v: unknown): unknown =>
      typeof v === 'object' && v !== null ? (forward.get(v) ?? v) : v;
    const seen = new Set<object>();
    const todo: unknown[] = [swap(root)];
    const result = todo[0];
    while (todo.length > 0) {
      const v = todo.pop();
      if (typeof v !== 'object' || v === null || seen.has(v)) continue;
      seen.add(v);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) todo.push((v[i] = swap(v[i])));
      } else if (v instanceof Map) {
        for (const [k, x] of v) {
          const y = swap(x);
          if (y !== x) v.set(k, y);
          todo.push(k, y);
        }
      } else if (v instanceof Set) {
        for (const x of v) todo.push(x);
      } else if (v instanceof PyObject) {
        v.cls = swap(v.cls);
        v.kwargs = swap(v.kwargs);
        v.state = swap(v.state);
        v.stateSetter = swap(v.stateSetter);
        todo.push(v.cls, v.args, v.kwargs, v.state, v.stateSetter, v.listItems);
        for (const pair of v.dictItems) {
          pair[1] = swap(pair[1]);
          todo.push(pair[0], pair[1]);
        }
      } else if (isDictObject(v)) {
        for (const k of Object.keys(v)) todo.push((v[k] = swap(v[k])));
      }
    }
    return result;
  }
}

/** Why Python could not hash `v`: its type name, 'tuple' if its items decide, else undefined. */
function unhashable(v: object): string | undefined {
  if (Array.isArray(v)) return v instanceof Tuple ? (v.length > 0 ? 'tuple' : undefined) : 'list';
  if (v instanceof Map || isDictObject(v)) return 'dict';
  if (v instanceof Set) return v instanceof FrozenSet ? undefined : 'set';
  if (v instanceof ByteArray) return 'bytearray';
  return undefined;
}

/**
 * The functions (not types) of Python's `builtins` module: NEWOBJ on one of them fails in Python
 * ("must be a type"), so it fails here too rather than giving an inert object.
 */
const BUILTIN_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    '__build_class__ __import__ abs aiter all anext any ascii bin breakpoint callable chr ' +
    'compile delattr dir divmod eval exec format getattr globals hasattr hash hex id input ' +
    'isinstance issubclass iter len locals max min next oct open ord pow print repr round ' +
    'setattr sorted sum vars'
  ).split(' '),
);

function isDictValue(v: unknown): boolean {
  return (
    v instanceof Map ||
    (typeof v === 'object' && v !== null && isDictObject(v) && !Array.isArray(v))
  );
}
