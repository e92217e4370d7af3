/**
 * Element storage: which typed array holds a dtype's data, how bytes become that typed array
 * (a view when the bytes are aligned and in this machine's byte order, else one copy), and how
 * single elements are read and written, from typed storage or from raw record bytes.
 */
import { Complex } from '../index.js';
import { DType, NATIVE_ORDER } from './dtype.js';
import { float16ToNumber, numberToFloat16 } from './float16.js';

/** The typed arrays an `NDArray` may hold its data in. */
export type TypedData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** An `NDArray`'s data: a typed array, or the Python values of an object array. */
export type NDData = TypedData | unknown[];

interface TypedArrayClass {
  new (length: number): TypedData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedData;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

/** How a dtype's elements are stored: the typed array class and how many of its lanes per element. */
export interface Storage {
  readonly type: TypedArrayClass;
  readonly lanes: number;
}

const numericStorage: Record<string, TypedArrayClass> = {
  b1: Uint8Array,
  i1: Int8Array,
  u1: Uint8Array,
  i2: Int16Array,
  u2: Uint16Array,
  i4: Int32Array,
  u4: Uint32Array,
  i8: BigInt64Array,
  u8: BigUint64Array,
  f2: Uint16Array,
  f4: Float32Array,
  f8: Float64Array,
  c8: Float32Array,
  c16: Float64Array,
  M8: BigInt64Array,
  m8: BigInt64Array,
} as Record<string, TypedArrayClass>;

/** The storage of a dtype's elements, or `undefined` for object arrays (a JS array). */
export function storageOf(d: DType): Storage | undefined {
  if (d.hasObject) return undefined;
  if (d.fields === undefined && d.subarray === undefined) {
    const type = numericStorage[`${d.kind}${d.itemsize}`];
    if (type !== undefined) return { type, lanes: d.kind === 'c' ? 2 : 1 };
    if (d.kind === 'U') return { type: Uint32Array as TypedArrayClass, lanes: d.itemsize / 4 };
  }
  // Byte strings, records, sub-arrays, long doubles: the raw bytes of each element.
  return { type: Uint8Array as TypedArrayClass, lanes: d.itemsize };
}

/** Bytes per lane that must be reversed for a non-native byte order (1: none). */
function swapWidth(d: DType, s: Storage): number {
  if (!d.isSwapped || s.type === (Uint8Array as TypedArrayClass)) return 1;
  return s.type.BYTES_PER_ELEMENT;
}

/** Reverses each `width`-byte group of `b` in place. */
function swapBytes(b: Uint8Array, width: number): void {
  for (let i = 0; i + width <= b.length; i += width) {
    for (let lo = i, hi = i + width - 1; lo < hi; lo++, hi--) {
      const t = b[lo]!;
      b[lo] = b[hi]!;
      b[hi] = t;
    }
  }
}

/**
 * `count` elements of `d` from their bytes (in `d`'s byte order): a view of `bytes` when it is
 * aligned for the typed array and needs no byte swap, else one copy (swapped if needed).
 */
export function dataFromBytes(d: DType, bytes: Uint8Array, count: number): TypedData {
  const s = storageOf(d)!;
  const length = count * s.lanes;
  const width = swapWidth(d, s);
  if (width === 1 && bytes.byteOffset % s.type.BYTES_PER_ELEMENT === 0) {
    return new s.type(bytes.buffer, bytes.byteOffset, length);
  }
  const out = new s.type(length);
  const raw = new Uint8Array(out.buffer, 0, out.byteLength);
  raw.set(bytes.subarray(0, out.byteLength));
  if (width > 1) swapBytes(raw, width);
  return out;
}

/** The bytes of typed data in `d`'s byte order: a view when no swap is needed, else a copy. */
export function bytesOfData(d: DType, data: TypedData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const width = swapWidth(d, storageOf(d)!);
  if (width === 1) return view;
  const out = view.slice();
  swapBytes(out, width);
  return out;
}

// --- single elements from typed storage ---------------------------------------------------------

/** Element `i` of typed storage as a JS value. */
export function readItem(d: DType, data: NDData, i: number): unknown {
  if (Array.isArray(data)) return data[i];
  switch (d.kind) {
    case 'b':
      if (d.itemsize === 1 && d.fields === undefined) return data[i] !== 0;
      break;
    case 'i':
    case 'u':
    case 'M':
    case 'm':
      if (data.BYTES_PER_ELEMENT === d.itemsize) return data[i];
      break;
    case 'f':
      if (d.itemsize === 2) return float16ToNumber(data[i] as number);
      if (data.BYTES_PER_ELEMENT === d.itemsize) return data[i];
      break;
    case 'c':
      if (data.BYTES_PER_ELEMENT * 2 === d.itemsize)
        return new Complex(data[2 * i] as number, data[2 * i + 1] as number);
      break;
    case 'U': {
      const n = d.itemsize / 4;
      return codePointsToString(data as Uint32Array, i * n, n);
    }
  }
  const bytes = data as Uint8Array;
  return decodeAt(d, viewOf(bytes), bytes, i * d.itemsize);
}

/** Sets element `i` of typed storage from a JS value. */
export function writeItem(d: DType, data: NDData, i: number, value: unknown): void {
  if (Array.isArray(data)) {
    data[i] = value;
    return;
  }
  switch (d.kind) {
    case 'b':
      if (d.itemsize === 1 && d.fields === undefined) {
        data[i] = value ? 1 : 0;
        return;
      }
      break;
    case 'i':
    case 'u':
    case 'M':
    case 'm':
      if (d.itemsize === 8) {
        (data as BigInt64Array)[i] = toBigInt(value, d);
        return;
      }
      if (data.BYTES_PER_ELEMENT === d.itemsize) {
        (data as Int32Array)[i] = toInteger(value, d);
        return;
      }
      break;
    case 'f':
      if (d.itemsize === 2) {
        (data as Uint16Array)[i] = numberToFloat16(toNumber(value, d));
        return;
      }
      if (data.BYTES_PER_ELEMENT === d.itemsize) {
        (data as Float64Array)[i] = toNumber(value, d);
        return;
      }
      break;
    case 'c':
      if (data.BYTES_PER_ELEMENT * 2 === d.itemsize) {
        const [re, im] = toComplexParts(value, d);
        (data as Float64Array)[2 * i] = re;
        (data as Float64Array)[2 * i + 1] = im;
        return;
      }
      break;
    case 'U': {
      const n = d.itemsize / 4;
      stringToCodePoints(toStr(value, d), data as Uint32Array, i * n, n);
      return;
    }
  }
  const bytes = data as Uint8Array;
  encodeAt(d, viewOf(bytes), bytes, i * d.itemsize, value);
}

// --- single elements from raw bytes (records, scalars) ------------------------------------------

export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The element of `d` stored at `bytes[offset...]` (in `d`'s byte order). */
export function decodeAt(d: DType, view: DataView, bytes: Uint8Array, offset: number): unknown {
  const le = d.byteorder !== '>';
  if (d.fields !== undefined) {
    const record: Record<string, unknown> = {};
    for (const f of d.fields) {
      const v = decodeAt(f.dtype, view, bytes, offset + f.offset);
      // A field named __proto__ is an own property, never the prototype.
      if (f.name === '__proto__')
        Object.defineProperty(record, f.name, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else record[f.name] = v;
    }
    return record;
  }
  if (d.subarray !== undefined) {
    const { base, shape } = d.subarray;
    return nest(shape, (k) => decodeAt(base, view, bytes, offset + k * base.itemsize));
  }
  switch (`${d.kind}${d.itemsize}`) {
    case 'b1':
      return view.getUint8(offset) !== 0;
    case 'i1':
      return view.getInt8(offset);
    case 'u1':
      return view.getUint8(offset);
    case 'i2':
      return view.getInt16(offset, le);
    case 'u2':
      return view.getUint16(offset, le);
    case 'i4':
      return view.getInt32(offset, le);
    case 'u4':
      return view.getUint32(offset, le);
    case 'i8':
    case 'M8':
    case 'm8':
      return view.getBigInt64(offset, le);
    case 'u8':
      return view.getBigUint64(offset, le);
    case 'f2':
      return float16ToNumber(view.getUint16(offset, le));
    case 'f4':
      return view.getFloat32(offset, le);
    case 'f8':
      return view.getFloat64(offset, le);
    case 'c8':
      return new Complex(view.getFloat32(offset, le), view.getFloat32(offset + 4, le));
    case 'c16':
      return new Complex(view.getFloat64(offset, le), view.getFloat64(offset + 8, le));
  }
  if (d.kind === 'U') {
    const n = d.itemsize / 4;
    const cps = new Uint32Array(n);
    for (let k = 0; k < n; k++) cps[k] = view.getUint32(offset + 4 * k, le);
    return codePointsToString(cps, 0, n);
  }
  if (d.kind === 'S') return trimNuls(bytes.slice(offset, offset + d.itemsize));
  if (d.kind === 'O') throw new TypeError('object elements have no bytes');
  return bytes.slice(offset, offset + d.itemsize);
}

/** Writes `value` as an element of `d` at `bytes[offset...]`. */
export function encodeAt(
  d: DType,
  view: DataView,
  bytes: Uint8Array,
  offset: number,
  value: unknown,
): void {
  const le = d.byteorder !== '>';
  if (d.fields !== undefined) {
    const fields = d.fields;
    const get: (k: number) => unknown = Array.isArray(value)
      ? (k) => value[k]
      : (k) => (value as Record<string, unknown> | null)?.[fields[k]!.name];
    if (typeof value !== 'object' || value === null)
      throw new TypeError(`a record of ${d.str} needs an object or an array, not ${typeof value}`);
    fields.forEach((f, k) => encodeAt(f.dtype, view, bytes, offset + f.offset, get(k)));
    return;
  }
  if (d.subarray !== undefined) {
    const { base, shape } = d.subarray;
    const flat = flatten(value, shape);
    flat.forEach((v, k) => encodeAt(base, view, bytes, offset + k * base.itemsize, v));
    return;
  }
  switch (`${d.kind}${d.itemsize}`) {
    case 'b1':
      return view.setUint8(offset, value ? 1 : 0);
    case 'i1':
      return view.setInt8(offset, toInteger(value, d));
    case 'u1':
      return view.setUint8(offset, toInteger(value, d));
    case 'i2':
      return view.setInt16(offset, toInteger(value, d), le);
    case 'u2':
      return view.setUint16(offset, toInteger(value, d), le);
    case 'i4':
      return view.setInt32(offset, toInteger(value, d), le);
    case 'u4':
      return view.setUint32(offset, toInteger(value, d), le);
    case 'i8':
    case 'M8':
    case 'm8':
      return view.setBigInt64(offset, toBigInt(value, d), le);
    case 'u8':
      return view.setBigUint64(offset, toBigInt(value, d), le);
    case 'f2':
      return view.setUint16(offset, numberToFloat16(toNumber(value, d)), le);
    case 'f4':
      return view.setFloat32(offset, toNumber(value, d), le);
    case 'f8':
      return view.setFloat64(offset, toNumber(value, d), le);
    case 'c8':
    case 'c16': {
      const [re, im] = toComplexParts(value, d);
      const half = d.itemsize / 2;
      if (half === 4) {
        view.setFloat32(offset, re, le);
        view.setFloat32(offset + 4, im, le);
      } else {
        view.setFloat64(offset, re, le);
        view.setFloat64(offset + 8, im, le);
      }
      return;
    }
  }
  if (d.kind === 'U') {
    const n = d.itemsize / 4;
    const cps = new Uint32Array(n);
    stringToCodePoints(toStr(value, d), cps, 0, n);
    for (let k = 0; k < n; k++) view.setUint32(offset + 4 * k, cps[k]!, le);
    return;
  }
  if (d.kind === 'O') throw new TypeError('object elements have no bytes');
  // 'S', 'V' and raw kinds: bytes, truncated or padded with NULs as numpy does.
  const src =
    typeof value === 'string' && d.kind === 'S' ? asciiBytes(value, d) : (value as Uint8Array);
  if (!(src instanceof Uint8Array))
    throw new TypeError(`an element of ${d.str} needs bytes (Uint8Array), not ${typeof value}`);
  const n = Math.min(src.length, d.itemsize);
  bytes.set(src.subarray(0, n), offset);
  bytes.fill(0, offset + n, offset + d.itemsize);
}

// --- conversions ------------------------------------------------------------------------------

/** Builds nested arrays of `shape` from a flat element function (C order). */
export function nest(shape: readonly number[], item: (k: number) => unknown): unknown {
  if (shape.length === 0) return item(0);
  let k = 0;
  const build = (dim: number): unknown[] => {
    const n = shape[dim]!;
    const out = new Array<unknown>(n);
    if (dim === shape.length - 1) for (let j = 0; j < n; j++) out[j] = item(k++);
    else for (let j = 0; j < n; j++) out[j] = build(dim + 1);
    return out;
  };
  return build(0);
}

/** The elements of nested arrays of `shape`, flat in C order; throws on a ragged nesting. */
export function flatten(value: unknown, shape: readonly number[]): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown, dim: number): void => {
    if (dim === shape.length) {
      out.push(v);
      return;
    }
    if (!isSequence(v) || v.length !== shape[dim])
      throw new RangeError(`expected a nested array of shape (${shape.join(', ')})`);
    for (let j = 0; j < v.length; j++) walk(v[j], dim + 1);
  };
  walk(value, 0);
  return out;
}

function isSequence(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function trimNuls(b: Uint8Array): Uint8Array {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return n === b.length ? b : b.slice(0, n);
}

function codePointsToString(cps: ArrayLike<number>, start: number, n: number): string {
  let end = start + n;
  while (end > start && cps[end - 1] === 0) end--;
  let s = '';
  for (let k = start; k < end; k++) {
    const cp = cps[k]!;
    s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  }
  return s;
}

function stringToCodePoints(s: string, out: Uint32Array, start: number, n: number): void {
  let k = 0;
  for (const ch of s) {
    if (k === n) break;
    out[start + k++] = ch.codePointAt(0)!;
  }
  out.fill(0, start + k, start + n);
}

function asciiBytes(s: string, d: DType): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c > 0x7f) throw new TypeError(`${d.str} holds bytes: ${JSON.stringify(s)} is not ASCII`);
    out[k] = c;
  }
  return out;
}

function toNumber(v: unknown, d: DType): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return Number(v);
  throw new TypeError(`an element of ${d.str} needs a number, not ${describe(v)}`);
}

const INT_RANGES: Record<string, readonly [number, number]> = {
  i1: [-0x80, 0x7f],
  u1: [0, 0xff],
  i2: [-0x8000, 0x7fff],
  u2: [0, 0xffff],
  i4: [-0x80000000, 0x7fffffff],
  u4: [0, 0xffffffff],
};

function toInteger(v: unknown, d: DType): number {
  const n = typeof v === 'boolean' ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
  const range = INT_RANGES[`${d.kind}${d.itemsize}`]!;
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new TypeError(`an element of ${d.str} needs an integer, not ${describe(v)}`);
  if (n < range[0] || n > range[1])
    throw new RangeError(`${String(v)} is out of bounds for ${d.str}`);
  return n;
}

function toBigInt(v: unknown, d: DType): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'boolean') b = BigInt(v);
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else throw new TypeError(`an element of ${d.str} needs an integer, not ${describe(v)}`);
  const fits = d.kind === 'u' ? BigInt.asUintN(64, b) === b : BigInt.asIntN(64, b) === b;
  if (!fits) throw new RangeError(`${b} is out of bounds for ${d.str}`);
  return b;
}

function toComplexParts(v: unknown, d: DType): [number, number] {
  if (v instanceof Complex) return [v.re, v.im];
  return [toNumber(v, d), 0];
}

function toStr(v: unknown, d: DType): string {
  if (typeof v === 'string') return v;
  throw new TypeError(`an element of ${d.str} needs a string, not ${describe(v)}`);
}

function describe(v: unknown): string {
  return v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

/** The dtype numpy gives a typed array's elements (native byte order). */
export function dtypeOfTypedArray(data: TypedData): DType {
  const o = NATIVE_ORDER;
  const spec =
    data instanceof Float64Array
      ? `${o}f8`
      : data instanceof Float32Array
        ? `${o}f4`
        : data instanceof Int32Array
          ? `${o}i4`
          : data instanceof Uint32Array
            ? `${o}u4`
            : data instanceof Int16Array
              ? `${o}i2`
              : data instanceof Uint16Array
                ? `${o}u2`
                : data instanceof Int8Array
                  ? '|i1'
                  : data instanceof BigInt64Array
                    ? `${o}i8`
                    : data instanceof BigUint64Array
                      ? `${o}u8`
                      : '|u1';
  return DType.of(spec);
}
