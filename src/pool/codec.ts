/**
 * How values cross between the pool and its workers: as pickles, made by the core's `Pickler`
 * at protocol 5 in exact mode (numbers stay numbers and bigints stay bigints), extended through
 * the core's hooks only:
 *
 * - `reducerOverride` reduces functions (see functions.ts), typed arrays, `ArrayBuffer`s and
 *   errors to globals of the `pickle_ts.pool` module, which the receiving side's `Registry`
 *   rebuilds. Their bytes are `PickleBuffer`s: from 16 KiB (and always when shared) they go
 *   out-of-band through `bufferCallback`, so the message can transfer them instead of copying.
 * - `persistentId` keeps what JS has and a Python pickle cannot say: `undefined`, a `Map` with
 *   only string keys (a dict would load as a plain object), a plain object with keys such as
 *   `'0'` or `'__proto__'` (which would load as a `Map`), and large `Uint8Array`s (out-of-band).
 */
import {
  PickleBuffer,
  Pickler,
  PyGlobal,
  Registry,
  Tuple,
  Unpickler,
  builtinRegistry,
  isArrayIndexKey,
  tuple,
  type ReduceValue,
} from '../index.js';
import { errorParts, reviveError, type ErrorParts } from './errors.js';
import { FunctionCodec, type AnyFunction, type ModuleTable } from './functions.js';
import { FunctionLocator } from './locate.js';

const MODULE = 'pickle_ts.pool';
const TYPED_ARRAY = new PyGlobal(MODULE, 'typed_array');
const ERROR = new PyGlobal(MODULE, 'error');
/** From this size, binary data travels beside the pickle (protocol 5 out-of-band buffers). */
export const OUT_OF_BAND_BYTES = 16 * 1024;

/** A value as pickle bytes, the out-of-band buffers it refers to, and the modules it needs. */
export interface Packed {
  bytes: Uint8Array;
  buffers: ArrayBufferView[];
  modules: string[];
}

type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => object;

const VIEW_CONSTRUCTORS: ReadonlyMap<string, ViewConstructor> = new Map<string, ViewConstructor>([
  ['Int8Array', Int8Array],
  ['Uint8Array', Uint8Array],
  ['Uint8ClampedArray', Uint8ClampedArray],
  ['Int16Array', Int16Array],
  ['Uint16Array', Uint16Array],
  ['Int32Array', Int32Array],
  ['Uint32Array', Uint32Array],
  ['Float32Array', Float32Array],
  ['Float64Array', Float64Array],
  ['BigInt64Array', BigInt64Array],
  ['BigUint64Array', BigUint64Array],
]);

const isShared = (view: ArrayBufferView): boolean =>
  typeof SharedArrayBuffer === 'function' && view.buffer instanceof SharedArrayBuffer;

function assertAttached(view: ArrayBufferView | ArrayBuffer): void {
  if (view.byteLength !== 0) return;
  const buffer = view instanceof ArrayBuffer ? view : view.buffer;
  try {
    new Uint8Array(buffer);
  } catch {
    throw new TypeError(
      'cannot send an array whose ArrayBuffer was transferred away (detached). A task that ' +
        'returns a buffer it keeps (a cache) must return a copy: array.slice().',
    );
  }
}

/** Per-pickle state of the hooks. */
interface DumpState {
  buffers: ArrayBufferView[];
  modules: Set<string>;
  ids: Map<object, number>;
}

/** Per-unpickle state: objects built from persistent IDs, by ID (for shared and cyclic ones). */
type LoadState = Map<number, object>;

/** Pickles and unpickles the pool's messages. One per pool and one per worker. */
export class PoolCodec implements ModuleTable {
  private readonly namespaces = new Map<string, object | null>();
  private readonly locator: FunctionLocator | undefined;
  readonly functions: FunctionCodec;
  private readonly registry: Registry;

  constructor(options: { entryUrl?: string | undefined; locate?: boolean } = {}) {
    this.locator = options.locate === false ? undefined : new FunctionLocator();
    this.functions = new FunctionCodec({
      locator: this.locator,
      modules: this,
      entryUrl: options.entryUrl,
    });
    const registry = new Registry();
    registry.defineGlobal(MODULE, 'source_function', {
      call: (args) => this.functions.compile(args),
    });
    registry.defineGlobal(MODULE, 'typed_array', { call: (args) => typedArray(args) });
    registry.defineGlobal(MODULE, 'error', { call: (args) => reviveError(errorFromArgs(args)) });
    this.registry = registry.seal();
  }

  /** Module namespaces imported for pickled functions (`ModuleTable`). */
  get(url: string): object | null | undefined {
    return this.namespaces.get(url);
  }

  /** Imports the modules a pickle needs; a module that fails to import fails here. */
  async importModules(urls: Iterable<string>): Promise<void> {
    for (const url of urls) {
      if (this.namespaces.get(url)) continue;
      this.namespaces.set(url, (await import(url)) as object);
    }
  }

  /** Whether every module of `urls` is imported already (so `load` can run at once). */
  hasModules(urls: readonly string[]): boolean {
    for (const url of urls) if (!this.namespaces.get(url)) return false;
    return true;
  }

  /** Pickles `value`, noting the modules its functions come from. */
  dump(value: unknown): Packed {
    const state: DumpState = { buffers: [], modules: new Set(), ids: new Map() };
    const pickler = new Pickler({
      protocol: 5,
      exact: true,
      bufferCallback: (b) => {
        if (b.data.byteLength < OUT_OF_BAND_BYTES && !isShared(b.data)) return true;
        state.buffers.push(b.data);
        return false;
      },
      persistentId: (v) => this.persistentId(v, state),
      reducerOverride: (v) => this.reduce(v, state),
    });
    const bytes = pickler.dump(value);
    return { bytes, buffers: state.buffers, modules: [...state.modules] };
  }

  /** Unpickles bytes made by `dump` on the other side; their modules must be imported. */
  load(bytes: Uint8Array, buffers: readonly ArrayBufferView[]): unknown {
    const state: LoadState = new Map();
    const unpickler = new Unpickler(bytes, {
      exact: true,
      buffers,
      persistentLoad: (pid) => persistentLoad(pid, state),
      findClass: (module, name) =>
        this.registry.resolve(module, name) ??
        builtinRegistry.resolve(module, name) ??
        this.functions.resolve(module, name),
    });
    return unpickler.load();
  }

  close(): void {
    this.locator?.close();
  }

  // --- the hooks ------------------------------------------------------------------------------

  private persistentId(v: unknown, state: DumpState): unknown {
    if (v === undefined) return 'undefined';
    if (typeof v !== 'object' || v === null) return undefined;
    const c = v.constructor;
    let kind: string;
    if (c === Object) {
      if (!hasNonObjectKey(v)) return undefined;
      kind = 'Object';
    } else if (c === Map) {
      if (!onlyObjectKeys(v as Map<unknown, unknown>)) return undefined;
      kind = 'Map';
    } else if (c === Uint8Array) {
      const u8 = v as Uint8Array;
      if (u8.byteLength < OUT_OF_BAND_BYTES && !isShared(u8)) return undefined;
      assertAttached(u8);
      kind = 'bytes';
    } else {
      return undefined;
    }
    const seen = state.ids.get(v);
    if (seen !== undefined) return tuple<unknown>(kind, seen);
    const id = state.ids.size;
    state.ids.set(v, id);
    return tuple<unknown>(kind, id, persistentPayload(kind, v));
  }

  private reduce(v: unknown, state: DumpState): ReduceValue | undefined {
    if (typeof v === 'function') return this.functions.reduce(v as AnyFunction, state.modules);
    if (typeof v !== 'object' || v === null) return undefined;
    if (ArrayBuffer.isView(v)) {
      assertAttached(v);
      const kind = Buffer.isBuffer(v) ? 'Buffer' : v.constructor.name;
      return [TYPED_ARRAY, tuple<unknown>(kind, new PickleBuffer(v))];
    }
    if (v instanceof ArrayBuffer) {
      assertAttached(v);
      return [TYPED_ARRAY, tuple<unknown>('ArrayBuffer', new PickleBuffer(v))];
    }
    if (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer) {
      return [
        TYPED_ARRAY,
        tuple<unknown>('SharedArrayBuffer', new PickleBuffer(new Uint8Array(v))),
      ];
    }
    if (v instanceof Error) {
      const parts = errorParts(v, (x) => this.picklable(x));
      return [
        ERROR,
        tuple(
          parts.className,
          parts.name,
          parts.message,
          parts.stack,
          parts.fields,
          parts.cause,
          parts.hasCause,
        ),
      ];
    }
    return undefined;
  }

  private picklable(value: unknown): boolean {
    try {
      this.dump(value);
      return true;
    } catch {
      return false;
    }
  }
}

function hasNonObjectKey(obj: object): boolean {
  for (const key of Object.keys(obj)) {
    if (key === '__proto__' || isArrayIndexKey(key)) return true;
  }
  return false;
}

function onlyObjectKeys(map: Map<unknown, unknown>): boolean {
  for (const key of map.keys()) {
    if (typeof key !== 'string' || key === '__proto__' || isArrayIndexKey(key)) return false;
  }
  return true;
}

function persistentPayload(kind: string, v: object): unknown {
  if (kind === 'bytes') return new PickleBuffer(v as Uint8Array, true);
  const flat: unknown[] = [];
  if (kind === 'Map') {
    for (const [k, x] of v as Map<unknown, unknown>) flat.push(k, x);
  } else {
    for (const k of Object.keys(v)) flat.push(k, (v as Record<string, unknown>)[k]);
  }
  return flat;
}

function persistentLoad(pid: unknown, state: LoadState): unknown {
  if (pid === 'undefined') return undefined;
  if (!(pid instanceof Tuple) || typeof pid[0] !== 'string' || typeof pid[1] !== 'number') {
    throw new TypeError(`unknown persistent ID in a pool message: ${String(pid)}`);
  }
  const [kind, id] = pid as unknown as [string, number, unknown];
  let target = state.get(id);
  if (pid.length === 2) {
    // A reference to an object defined earlier, or (in a cycle) one still being loaded.
    if (target === undefined) {
      if (kind === 'bytes') throw new TypeError('reference to bytes not yet loaded');
      target = kind === 'Map' ? new Map() : {};
      state.set(id, target);
    }
    return target;
  }
  const payload = pid[2];
  if (kind === 'bytes') {
    const data = (payload as PickleBuffer).data;
    state.set(id, data);
    return data;
  }
  const flat = payload as unknown[];
  if (kind === 'Map') {
    const map = (target as Map<unknown, unknown> | undefined) ?? new Map<unknown, unknown>();
    for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
    target = map;
  } else {
    const obj = (target as Record<string, unknown> | undefined) ?? {};
    for (let i = 0; i < flat.length; i += 2) {
      Object.defineProperty(obj, flat[i] as string, {
        value: flat[i + 1],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    target = obj;
  }
  state.set(id, target);
  return target;
}

/** Rebuilds a typed array, `DataView`, `Buffer` or `ArrayBuffer` over the bytes given. */
function typedArray(args: readonly unknown[]): unknown {
  const [kind, data] = args;
  const bytes =
    data instanceof PickleBuffer ? data.data : data instanceof Uint8Array ? data : undefined;
  if (typeof kind !== 'string' || bytes === undefined) {
    throw new TypeError('typed_array needs a type name and bytes');
  }
  if (kind === 'ArrayBuffer' || kind === 'SharedArrayBuffer') {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return whole ? bytes.buffer : bytes.slice().buffer;
  }
  if (kind === 'Buffer') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === 'DataView') return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ctor = VIEW_CONSTRUCTORS.get(kind);
  if (!ctor) throw new TypeError(`unknown typed array type ${kind}`);
  const size = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  // A view must start at a multiple of its element size; bytes that do not are copied.
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new ctor(aligned.buffer, aligned.byteOffset, aligned.byteLength / size);
}

function errorFromArgs(args: readonly unknown[]): ErrorParts {
  const [className, name, message, stack, fields, cause, hasCause] = args as [
    string,
    string,
    string,
    string,
    Record<string, unknown>,
    unknown,
    boolean,
  ];
  return { className, name, message, stack, fields, cause, hasCause };
}
