/**
 * The numpy globals a pickle names, and how `NDArray`, `DType` and `NumpyScalar` are written:
 *
 * - `numpy._core.multiarray._reconstruct(ndarray, (0,), b'b')` then BUILD with
 *   `(1, shape, dtype, is_fortran, data)`: protocols 0-4, and object arrays at 5;
 * - `numpy._core.numeric._frombuffer(buffer, dtype, shape, order)`: protocol 5, the buffer
 *   in-band (bytearray) or out-of-band (NEXT_BUFFER);
 * - `numpy.dtype(typestr, False, True)` then BUILD with the dtype state;
 * - `numpy._core.multiarray.scalar(dtype, bytes)`.
 *
 * numpy 1.x names the same functions under `numpy.core`; both load. Nothing here runs code from
 * the pickle: these functions only build values.
 */
import {
  ByteArray,
  ErrorCode,
  PickleBuffer,
  PyGlobal,
  Tuple,
  UnpicklingError,
  dictToMap,
  isDictObject,
  tuple,
  type Constructor,
  type ReduceValue,
  type Registry,
} from '../index.js';
import {
  DATETIME_UNITS,
  DType,
  NATIVE_ORDER,
  type ByteOrder,
  type DatetimeUnit,
  type DTypeField,
  type DTypeState,
} from './dtype.js';
import { dataFromBytes } from './elements.js';
import { NDArray, reorder, setArrayState, shapeSize, type Order } from './ndarray.js';
import { NumpyScalar, plainScalarValue } from './scalar.js';

/** Options of `registerNumpy` and `numpyRegistry`. */
export interface NumpyOptions {
  /**
   * What numpy scalars load as: `'plain'` gives JS values where they are exact (`number`,
   * `bigint`, `boolean`, `string`, `Complex`, `Uint8Array`) and `NumpyScalar` otherwise;
   * `'typed'` gives a `NumpyScalar` for every scalar, so that it pickles back as the same numpy
   * type. Defaults to `'plain'`.
   */
  scalars?: 'plain' | 'typed';
  /**
   * Write the numpy 1.x module names (`numpy.core.multiarray`, `numpy.core.numeric`) instead of
   * numpy 2's (`numpy._core...`), for readers older than numpy 1.26. Defaults to `false`.
   */
  legacyNames?: boolean;
}

function fail(message: string): never {
  throw new UnpicklingError(ErrorCode.BAD_OPERAND, message);
}

function typeName(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return v instanceof Tuple ? 'tuple' : 'list';
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}

/** An int from a pickle (number or bigint) as a safe JS integer. */
function int(v: unknown, what: string): number {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    fail(`${what} must be an integer, not ${typeName(v)}`);
  return n;
}

function shapeOf(v: unknown, what: string): number[] {
  let shape: number[];
  if (v instanceof Tuple) shape = v.map((n) => int(n, what));
  // numpy accepts a bare int for a 1-d shape.
  else if (typeof v === 'number' || typeof v === 'bigint') shape = [int(v, what)];
  else return fail(`${what} must be a tuple, not ${typeName(v)}`);
  try {
    shapeSize(shape);
  } catch (e) {
    fail(`${what}: ${(e as Error).message}`);
  }
  return shape;
}

/** Bytes from a pickle: `bytes`, `bytearray`, or a Python 2 `str` loaded as latin-1 text. */
function bytesOf(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c > 0xff)
        fail(
          `${what}: a str holding data must be latin-1 (load with encoding 'latin1' or 'bytes')`,
        );
      out[i] = c;
    }
    return out;
  }
  return fail(`${what} must be bytes, not ${typeName(v)}`);
}

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && isDictObject(v);
}

/** A short text from a `str`, or from `bytes` (Python 2 pickles loaded with encoding 'bytes'). */
function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array && v.length <= 256) return String.fromCharCode(...v);
  return undefined;
}

function dtypeArg(v: unknown, what: string): DType {
  if (!(v instanceof DType)) fail(`${what} must be a numpy.dtype, not ${typeName(v)}`);
  return v;
}

// --- loading ------------------------------------------------------------------------------------

/** `numpy.dtype(typestr, align, copy)`: the dtype before BUILD sets its state. */
function makeDtype(args: readonly unknown[]): DType {
  const text = textOf(args[0]);
  const d = text === undefined ? undefined : DType.fromPickleTypestr(text);
  if (d === undefined)
    fail(`data type ${JSON.stringify(text ?? typeName(args[0]))} not understood`);
  return d;
}

function parseByteOrder(v: unknown): ByteOrder {
  const text = textOf(v);
  if (text === undefined || text.length !== 1)
    fail('endian is not a 1-char string in numpy dtype unpickling');
  if (text === '=') return NATIVE_ORDER;
  if (text === '<' || text === '>' || text === '|') return text;
  return fail(`bad byte order ${JSON.stringify(text)} in numpy dtype unpickling`);
}

/** The fields dict of a dtype state (name → (dtype, offset[, title])), ordered by `names`. */
function parseFields(namesValue: unknown, fieldsValue: unknown): DTypeField[] {
  const fields =
    fieldsValue instanceof Map
      ? fieldsValue
      : isDict(fieldsValue)
        ? dictToMap(fieldsValue)
        : fail(`non-dict fields in numpy dtype unpickling`);
  if (!(namesValue instanceof Tuple)) fail('non-tuple names in numpy dtype unpickling');
  return namesValue.map((n) => {
    const name = textOf(n);
    if (name === undefined) fail(`field name must be a str, not ${typeName(n)}`);
    const entry = fields.get(n) ?? fields.get(name);
    if (!(entry instanceof Tuple) || entry.length < 2)
      fail(`field ${JSON.stringify(name)} missing or malformed in numpy dtype unpickling`);
    const field: DTypeField = {
      name,
      dtype: dtypeArg(entry[0], `dtype of field ${name}`),
      offset: int(entry[1], `offset of field ${name}`),
    };
    return entry.length > 2 && entry[2] !== null ? { ...field, title: entry[2] } : field;
  });
}

/** numpy's `arraydescr_setstate`, for every state length numpy has written (5 to 9 items). */
export function parseDtypeState(d: DType, state: unknown): DTypeState {
  if (!(state instanceof Tuple)) fail(`dtype state must be a tuple, not ${typeName(state)}`);
  // Lengths 9 to 7: (version, endian, subarray, names, fields, elsize, alignment[, flags
  // [, metadata]]); 6: no names; 5: no version either.
  const at = (k: number): unknown => state[k];
  const n = state.length;
  if (n < 5 || n > 9)
    fail('invalid dtype state: is the pickle corrupted or made by a newer numpy?');
  const version = n === 5 ? 0 : int(at(0), 'dtype state version');
  const base = n === 5 ? -1 : 0;
  const endian = at(base + 1);
  const subarray = at(base + 2);
  let names: unknown = n >= 7 ? at(3) : undefined;
  let fields: unknown = n >= 7 ? at(4) : at(base + 3);
  const elsize = n >= 7 ? at(5) : at(base + 4);
  const alignment = n >= 7 ? at(6) : at(base + 5);
  const flags = n >= 8 ? at(7) : undefined;
  const extra = n === 9 ? at(8) : undefined;
  if (version < 0 || version > 4) fail(`can't handle version ${version} of numpy.dtype pickle`);
  if ((version === 0 || version === 1) && fields !== null && fields !== undefined) {
    // Old pickles keep the names in the fields dict under the key -1.
    const map =
      fields instanceof Map ? new Map(fields) : fail('non-dict fields in numpy dtype unpickling');
    const key = [...map.keys()].find((k) => k === -1 || k === -1n);
    names = map.get(key);
    map.delete(key);
    fields = map;
  }
  const parsed: DTypeState = {
    byteorder: parseByteOrder(endian),
    elsize: int(elsize, 'dtype elsize'),
    alignment: int(alignment, 'dtype alignment'),
  };
  if (flags !== undefined) parsed.flags = int(flags, 'dtype flags');
  if (subarray !== null && subarray !== undefined) {
    if (!(subarray instanceof Tuple) || subarray.length !== 2)
      fail('incorrect subarray in numpy dtype unpickling');
    parsed.subarray = {
      base: dtypeArg(subarray[0], 'subarray dtype'),
      shape: shapeOf(subarray[1], 'subarray shape'),
    };
  }
  if ((fields === null || fields === undefined) !== (names === null || names === undefined))
    fail('inconsistent fields and names in numpy dtype unpickling');
  if (fields !== null && fields !== undefined) parsed.fields = parseFields(names, fields);
  if (d.kind === 'M' || d.kind === 'm') {
    // (metadata, (unit, num, den, events)), as numpy 1.7 and later write it.
    if (extra instanceof Tuple && extra.length === 2 && extra[1] instanceof Tuple) {
      const unit = textOf(extra[1][0]);
      if (unit === undefined || !(DATETIME_UNITS as readonly string[]).includes(unit))
        fail(`bad datetime unit in numpy dtype unpickling`);
      parsed.unit = {
        unit: unit as DatetimeUnit,
        count: int(extra[1][1], 'datetime unit multiplier'),
      };
      if (extra[0] !== null) parsed.metadata = extra[0];
    }
  } else if (extra !== undefined && extra !== null) {
    parsed.metadata = extra;
  }
  return parsed;
}

/** BUILD of a dtype, refusing sizes and offsets that would reach outside an element. */
export function restoreDtype(d: DType, state: unknown): void {
  const s = parseDtypeState(d, state);
  const flexible = d.kind === 'S' || d.kind === 'U' || d.kind === 'V';
  const itemsize = s.elsize >= 0 && flexible ? s.elsize : d.itemsize;
  if (d.kind === 'U' && itemsize % 4 !== 0)
    fail(`a unicode dtype's size must be a multiple of 4, not ${itemsize}`);
  for (const f of s.fields ?? []) {
    if (f.offset < 0 || f.offset + f.dtype.itemsize > itemsize)
      fail(`field ${JSON.stringify(f.name)} does not fit in a record of ${itemsize} bytes`);
  }
  if (s.subarray !== undefined) {
    const count = s.subarray.shape.reduce((a, n) => a * n, 1);
    if (s.subarray.base.itemsize * count > itemsize)
      fail(`sub-array of ${count} elements does not fit in ${itemsize} bytes`);
  }
  d.setState(s);
}

/** `_reconstruct(ndarray, (0,), b'b')`: an empty array that BUILD fills. */
function reconstruct(args: readonly unknown[]): NDArray | undefined {
  const cls = args[0];
  // Subclasses of ndarray (with their own state) stay inert PyObjects.
  if (!(cls instanceof PyGlobal) || cls.module !== 'numpy' || cls.name !== 'ndarray')
    return undefined;
  return new NDArray('|i1', [0]);
}

/** numpy's `array_setstate`: `(version, shape, dtype, is_fortran, data)`, or without version. */
export function restoreArray(a: NDArray, state: unknown): void {
  if (!(state instanceof Tuple) || (state.length !== 5 && state.length !== 4))
    fail(
      `ndarray state must be a tuple of 4 or 5 items, not ${typeName(state)}${state instanceof Tuple ? ` of ${state.length}` : ''}`,
    );
  const [version, shapeValue, dtypeValue, fortranValue, raw] =
    state.length === 5 ? state : [0, ...state];
  const v = int(version, 'ndarray state version');
  if (v !== 0 && v !== 1) fail(`can't handle version ${v} of numpy.ndarray pickle`);
  const shape = shapeOf(shapeValue, 'ndarray shape');
  const descr = dtypeArg(dtypeValue, 'ndarray dtype');
  const fortran =
    typeof fortranValue === 'boolean' ? fortranValue : int(fortranValue, 'is_fortran') !== 0;
  const order: Order = fortran ? 'F' : 'C';
  const size = shapeSize(shape);
  if (descr.hasObject) {
    if (!Array.isArray(raw) || raw instanceof Tuple)
      fail(`object array data must be a list, not ${typeName(raw)}`);
    if (raw.length !== size) fail(`object array data has ${raw.length} items for ${size} elements`);
    // numpy lists the elements in C order whatever the memory order.
    setArrayState(
      a,
      descr,
      shape,
      order,
      order === 'F' ? reorder(raw, shape, 'C', 'F') : raw,
      false,
    );
    return;
  }
  const bytes = bytesOf(raw, 'ndarray data');
  const nbytes = size * descr.itemsize;
  if (bytes.length !== nbytes)
    fail(`buffer size does not match array size: ${bytes.length} bytes for ${nbytes}`);
  // numpy byte-swaps non-native data as it loads it and gives the array the native dtype; the
  // typed array holds native values either way.
  const data = dataFromBytes(descr, bytes, size);
  setArrayState(a, descr.withByteOrder(NATIVE_ORDER), shape, order, data, false);
}

/** `_frombuffer(buffer, dtype, shape, order)`: protocol 5, viewing the buffer where it can. */
function frombuffer(args: readonly unknown[]): NDArray {
  if (args.length !== 4) fail(`_frombuffer takes 4 arguments, not ${args.length}`);
  const [buf, dtypeValue, shapeValue, orderValue] = args;
  let bytes: Uint8Array;
  let readonly: boolean;
  if (buf instanceof PickleBuffer) {
    bytes = buf.data;
    readonly = buf.readonly;
  } else if (buf instanceof Uint8Array) {
    bytes = buf;
    readonly = !(buf instanceof ByteArray);
  } else {
    return fail(`_frombuffer needs a buffer, not ${typeName(buf)}`);
  }
  const descr = dtypeArg(dtypeValue, '_frombuffer dtype');
  if (descr.hasObject) fail('cannot create an object array from a buffer');
  const shape = shapeOf(shapeValue, '_frombuffer shape');
  const order = textOf(orderValue);
  if (order !== 'C' && order !== 'F')
    fail(`_frombuffer order must be 'C' or 'F', not ${JSON.stringify(order)}`);
  const size = shapeSize(shape);
  if (bytes.length !== size * descr.itemsize)
    fail(
      `buffer of ${bytes.length} bytes does not hold an array of shape (${shape.join(', ')}) and dtype ${descr.str}`,
    );
  const a = new NDArray('|i1', [0]);
  setArrayState(a, descr, shape, order, dataFromBytes(descr, bytes, size), readonly);
  return a;
}

/** `scalar(dtype, bytes)`, or `scalar(dtype('O'), obj)`. */
function scalar(args: readonly unknown[], typed: boolean): unknown {
  const descr = dtypeArg(args[0], 'scalar dtype');
  if (descr.hasObject) {
    if (descr.kind === 'O') return args[1];
    fail('a numpy scalar with object fields cannot be rebuilt from bytes');
  }
  const bytes = bytesOf(args[1], 'scalar data');
  if (bytes.length < descr.itemsize)
    fail(`initialization string is too small for a scalar of ${descr.str}`);
  const own = bytes.slice(0, descr.itemsize);
  if (!typed) {
    const v = plainScalarValue(descr, own);
    if (v !== undefined) return v;
  }
  return new NumpyScalar(descr, own);
}

// --- registration -------------------------------------------------------------------------------

/**
 * Adds the numpy bindings to `registry`: arrays, dtypes and scalars load from every form numpy
 * 1.x and 2.x write, and `NDArray`, `DType` and `NumpyScalar` pickle as numpy 2 pickles them.
 * Returns the registry.
 *
 * @example
 * ```ts
 * const registry = registerNumpy(new Registry());
 * const a = loads(bytes, { registry }) as NDArray<Float64Array>;
 * dumps(a, { registry, protocol: 5 });
 * ```
 */
export function registerNumpy(registry: Registry, options: NumpyOptions = {}): Registry {
  const typed = options.scalars === 'typed';
  for (const core of ['numpy.core', 'numpy._core']) {
    registry.defineGlobal(`${core}.multiarray`, '_reconstruct', { call: reconstruct });
    registry.defineGlobal(`${core}.numeric`, '_frombuffer', { call: frombuffer });
    registry.defineGlobal(`${core}.multiarray`, 'scalar', { call: (a) => scalar(a, typed) });
  }
  registry.defineGlobal('numpy', 'dtype', { call: makeDtype });
  addWriters(registry, options.legacyNames ? 'numpy.core' : 'numpy._core');
  return registry;
}

/** How `NDArray`, `DType` and `NumpyScalar` pickle: numpy 2's `__reduce_ex__`, byte for byte. */
function addWriters(registry: Registry, core: string): void {
  const RECONSTRUCT = new PyGlobal(`${core}.multiarray`, '_reconstruct');
  const FROMBUFFER = new PyGlobal(`${core}.numeric`, '_frombuffer');
  const SCALAR = new PyGlobal(`${core}.multiarray`, 'scalar');
  const NDARRAY = new PyGlobal('numpy', 'ndarray');
  const DTYPE = new PyGlobal('numpy', 'dtype');

  // CPython keeps one object for b'' and for each one-byte bytes, and numpy one dtype object per
  // built-in type: a pickle refers back to them (BINGET) where numpy's does.
  const smallBytes = new Map<number, Uint8Array>();
  const interned = (b: Uint8Array): Uint8Array => {
    if (b.length > 1) return b;
    const k = b.length === 0 ? -1 : b[0]!;
    let v = smallBytes.get(k);
    if (v === undefined) smallBytes.set(k, (v = b.slice()));
    return v;
  };
  const B = interned(Uint8Array.of(0x62));
  const builtins = new Map<string, DType>();
  const written = (d: DType): DType => {
    if (!d.isBuiltin) return d;
    let v = builtins.get(d.str);
    if (v === undefined) builtins.set(d.str, (v = d));
    return v;
  };
  const ints = (ns: readonly number[]) => tuple(...ns.map((n) => BigInt(n)));

  // DType's constructor is private (dtypes come from DType.of); the registry keys on the class.
  registry.addClass(DType as unknown as Constructor<DType>, {
    global: DTYPE,
    reduce: (d) => [
      DTYPE,
      tuple<unknown>(d.pickleTypestr, false, true),
      dtypeState(d, interned, written),
    ],
    restore: restoreDtype,
  });

  registry.addClass(NDArray, {
    global: NDARRAY,
    reduce: (a, protocol): ReduceValue => {
      const descr = written(a.descr);
      const shape = ints(a.shape);
      const fortran = a.order === 'F' && !a.isContiguousBothWays;
      // numpy pickles a PickleBuffer of the array where the array has the buffer protocol:
      // not for objects, datetime64/timedelta64, or zero-size elements.
      const buffered =
        !descr.hasObject && descr.itemsize > 0 && descr.kind !== 'M' && descr.kind !== 'm';
      if (protocol >= 5 && buffered) {
        const buffer = new PickleBuffer(a.tobytes(), a.readonly);
        return [FROMBUFFER, tuple<unknown>(buffer, descr, shape, fortran ? 'F' : 'C')];
      }
      const data = descr.hasObject ? a.valuesInCOrder() : interned(a.tobytes());
      return [
        RECONSTRUCT,
        tuple<unknown>(NDARRAY, tuple(0n), B),
        tuple<unknown>(1n, shape, descr, fortran, data),
      ];
    },
    restore: restoreArray,
  });

  registry.addClass(NumpyScalar, {
    global: SCALAR,
    reduce: (s) => [SCALAR, tuple<unknown>(written(s.descr), interned(s.bytes))],
  });
}

/** numpy's `arraydescr_reduce` state. */
function dtypeState(
  d: DType,
  interned: (b: Uint8Array) => Uint8Array,
  written: (d: DType) => DType,
): Tuple {
  const extended = d.kind === 'S' || d.kind === 'U' || d.kind === 'V';
  const datetime = d.kind === 'M' || d.kind === 'm';
  const items: unknown[] = [
    datetime || d.metadata !== undefined ? 4n : 3n,
    d.byteorder,
    d.subarray
      ? tuple<unknown>(written(d.subarray.base), tuple(...d.subarray.shape.map((n) => BigInt(n))))
      : null,
    d.fields ? tuple(...d.fields.map((f) => f.name)) : null,
    d.fields ? fieldsDict(d.fields, written) : null,
    extended ? BigInt(d.itemsize) : -1n,
    extended ? BigInt(d.alignment) : -1n,
    BigInt(d.flags),
  ];
  if (datetime) {
    const unit = interned(Uint8Array.from(d.unit ?? 'generic', (c) => c.charCodeAt(0)));
    items.push(
      tuple<unknown>(d.metadata ?? null, tuple<unknown>(unit, BigInt(d.unitCount), 1n, 1n)),
    );
  } else if (d.metadata !== undefined) {
    items.push(d.metadata);
  }
  return tuple(...items);
}

function fieldsDict(
  fields: readonly DTypeField[],
  written: (d: DType) => DType,
): Map<unknown, Tuple> {
  const out = new Map<unknown, Tuple>();
  for (const f of fields) {
    const entry =
      f.title === undefined
        ? tuple<unknown>(written(f.dtype), BigInt(f.offset))
        : tuple<unknown>(written(f.dtype), BigInt(f.offset), f.title);
    out.set(f.name, entry);
    if (f.title !== undefined) out.set(f.title, entry);
  }
  return out;
}
