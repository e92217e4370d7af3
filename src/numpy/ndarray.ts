/**
 * `numpy.ndarray` as a JS value: a dtype, a shape, a memory order and the data in one typed
 * array (or a JS array for object arrays), with element access by index.
 */
import { Tuple, reprSymbol } from '../index.js';
import { DType } from './dtype.js';
import {
  bytesOfData,
  dtypeOfTypedArray,
  flatten,
  readItem,
  storageOf,
  writeItem,
  type NDData,
  type TypedData,
} from './elements.js';

/** Memory order: `'C'` (row-major, last index fastest) or `'F'` (column-major, Fortran). */
export type Order = 'C' | 'F';

const inspect = Symbol.for('nodejs.util.inspect.custom');
/** Items per dimension `console.log` shows of an array. */
const PREVIEW_ITEMS = 20;

/** The number of elements of a shape, checked to be a list of safe non-negative integers. */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const n of shape) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`bad array dimension ${String(n)} in shape (${shape.join(', ')})`);
    size *= n;
  }
  if (!Number.isSafeInteger(size))
    throw new RangeError(`array of shape (${shape.join(', ')}) is too large`);
  return size;
}

/**
 * A numpy array. `data` holds the elements in memory order (`order`), in this machine's byte
 * order, in the typed array matching the dtype:
 *
 * | dtype | `data` | `get()` gives |
 * | --- | --- | --- |
 * | `bool` | `Uint8Array` (0/1) | `boolean` |
 * | `int8`...`uint32`, `float32`, `float64` | `Int8Array`...`Uint32Array`, `Float32Array`, `Float64Array` | `number` |
 * | `int64`, `uint64`, `datetime64`, `timedelta64` | `BigInt64Array`, `BigUint64Array` | `bigint` |
 * | `float16` | `Uint16Array` of raw bits | `number` |
 * | `complex64`, `complex128` | `Float32Array`, `Float64Array` (re, im interleaved) | `Complex` |
 * | `'U'` strings | `Uint32Array` of code points | `string` |
 * | `'S'` bytes, `'V'` records, others | `Uint8Array` of raw elements | `Uint8Array`, record object |
 * | `object` | `unknown[]` | the value |
 *
 * @example
 * ```ts
 * const a = NDArray.from(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * a.dtype;      // '<f8'
 * a.get(1, 2);  // 6
 * a.toArray();  // [[1, 2, 3], [4, 5, 6]]
 * ```
 */
export class NDArray<T extends NDData = NDData> {
  /** The dtype, with its fields, unit and byte order. */
  readonly descr: DType;
  readonly shape: readonly number[];
  readonly order: Order;
  /** The elements, in memory order (see the table above). */
  readonly data: T;
  /** Whether numpy saw the array as read-only (loaded from a read-only buffer). */
  readonly readonly: boolean;

  /**
   * An array of `dtype` and `shape` over `data` (not copied), or filled with zeros (empty
   * strings, `null` for objects) when `data` is not given.
   */
  constructor(
    dtype: string | DType,
    shape: readonly number[],
    data?: T,
    options: { order?: Order; readonly?: boolean } = {},
  ) {
    const descr = DType.of(dtype);
    const size = shapeSize(shape);
    const order = options.order ?? 'C';
    if (order !== 'C' && order !== 'F')
      throw new TypeError(`order must be 'C' or 'F', not ${String(order)}`);
    const storage = storageOf(descr);
    if (data === undefined) {
      data = (
        storage ? new storage.type(size * storage.lanes) : new Array<unknown>(size).fill(null)
      ) as T;
    } else if (storage === undefined) {
      if (!Array.isArray(data))
        throw new TypeError(`an array of ${descr.str} holds its values in a JS array`);
      if (data.length !== size)
        throw new RangeError(`${data.length} values for shape (${shape.join(', ')})`);
    } else {
      if (!(data instanceof storage.type))
        throw new TypeError(
          `an array of ${descr.str} holds its data in a ${storage.type.name}, not ${data.constructor.name}`,
        );
      if (data.length !== size * storage.lanes)
        throw new RangeError(
          `${data.length} ${storage.type.name} items for ${size} elements of ${descr.str} (${storage.lanes} each)`,
        );
    }
    this.descr = descr;
    this.shape = Object.freeze([...shape]);
    this.order = order;
    this.data = data;
    this.readonly = options.readonly ?? false;
  }

  /**
   * An array over a typed array (not copied), with the dtype numpy gives its elements
   * (`Float64Array` → `'<f8'`, `Int32Array` → `'<i4'`, `BigInt64Array` → `'<i8'`, `Uint8Array` →
   * `'|u1'`, ...). The shape defaults to one dimension.
   */
  static from<D extends TypedData>(
    data: D,
    shape?: readonly number[],
    order: Order = 'C',
  ): NDArray<D> {
    return new NDArray(dtypeOfTypedArray(data), shape ?? [data.length], data, { order });
  }

  /**
   * An array of `dtype` from nested JS arrays of values (their nesting is the shape), converted
   * element by element: strings for `'U'`, `Uint8Array`s or ASCII strings for `'S'`, records as
   * objects (by field name) or `Tuple`s (by position), `Complex` or numbers for complex dtypes,
   * `bigint`s or numbers for 64-bit integers.
   *
   * @example
   * ```ts
   * NDArray.fromArray([['a', 'bc'], ['def', '']], '<U3').get(1, 0); // 'def'
   * ```
   */
  static fromArray(values: unknown, dtype: string | DType, order: Order = 'C'): NDArray {
    const descr = DType.of(dtype);
    const shape: number[] = [];
    // Nested arrays are dimensions; a Tuple is one record of a structured dtype.
    for (let v = values; Array.isArray(v) && !(v instanceof Tuple); v = v[0]) {
      shape.push(v.length);
      if (v.length === 0) break;
    }
    const a = new NDArray(descr, shape, undefined, { order });
    const flat = flatten(values, shape);
    const memory = order === 'C' ? flat : reorder(flat, shape, 'C', 'F');
    memory.forEach((v, i) => writeItem(descr, a.data, i, v));
    return a;
  }

  /** numpy's `dtype.str`: `'<f8'`, `'|b1'`, `'<U3'`, `'<M8[ms]'`, `'|V12'`... */
  get dtype(): string {
    return this.descr.str;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }

  get itemsize(): number {
    return this.descr.itemsize;
  }

  get nbytes(): number {
    return this.size * this.descr.itemsize;
  }

  /** Element strides of the memory layout (in elements, not bytes). */
  get strides(): number[] {
    const n = this.shape.length;
    const strides = new Array<number>(n);
    let step = 1;
    if (this.order === 'C') {
      for (let k = n - 1; k >= 0; k--) {
        strides[k] = step;
        step *= this.shape[k]!;
      }
    } else {
      for (let k = 0; k < n; k++) {
        strides[k] = step;
        step *= this.shape[k]!;
      }
    }
    return strides;
  }

  /** Whether C and Fortran order lay the data out alike (at most one dimension longer than 1). */
  get isContiguousBothWays(): boolean {
    return this.shape.filter((n) => n > 1).length <= 1 || this.size === 0;
  }

  /** The memory position of an element; negative indices count from the end, as in Python. */
  private flatIndex(index: readonly number[]): number {
    if (index.length !== this.shape.length)
      throw new RangeError(
        `${index.length} indices for an array of ${this.shape.length} dimensions`,
      );
    const strides = this.strides;
    let flat = 0;
    for (let k = 0; k < index.length; k++) {
      const n = this.shape[k]!;
      let i = index[k]!;
      if (i < 0) i += n;
      if (!Number.isInteger(i) || i < 0 || i >= n)
        throw new RangeError(`index ${index[k]} is out of bounds for axis ${k} with size ${n}`);
      flat += i * strides[k]!;
    }
    return flat;
  }

  /**
   * The element at `index` (one number per dimension; none for a 0-d array), as a JS value (see
   * the table above).
   */
  get(...index: number[]): unknown {
    return readItem(this.descr, this.data, this.flatIndex(index));
  }

  /** Sets the element at `index` (an array of one number per dimension, or a number for 1-d). */
  set(index: number | readonly number[], value: unknown): void {
    writeItem(
      this.descr,
      this.data,
      this.flatIndex(typeof index === 'number' ? [index] : index),
      value,
    );
  }

  /** The elements in memory order, each as `get()` gives it. */
  *[Symbol.iterator](): Generator<unknown, void, undefined> {
    const size = this.size;
    for (let i = 0; i < size; i++) yield readItem(this.descr, this.data, i);
  }

  /**
   * Nested JS arrays of the elements (numpy's `tolist()`); a 0-d array gives its element.
   */
  toArray(): unknown {
    const strides = this.strides;
    const { descr, data, shape } = this;
    if (shape.length === 0) return readItem(descr, data, 0);
    const build = (dim: number, base: number): unknown[] => {
      const n = shape[dim]!;
      const step = strides[dim]!;
      const out = new Array<unknown>(n);
      if (dim === shape.length - 1)
        for (let j = 0; j < n; j++) out[j] = readItem(descr, data, base + j * step);
      else for (let j = 0; j < n; j++) out[j] = build(dim + 1, base + j * step);
      return out;
    };
    return build(0, 0);
  }

  /**
   * The raw bytes numpy holds (`tobytes('A')`: memory order, the dtype's byte order). A view of
   * `data` when the dtype is in this machine's byte order, else a copy. Not for object arrays.
   */
  tobytes(): Uint8Array {
    if (Array.isArray(this.data))
      throw new TypeError(`an array of ${this.dtype} holds objects, not bytes`);
    return bytesOfData(this.descr, this.data as TypedData);
  }

  /** The elements in C (row-major) order, as values: what numpy pickles for object arrays. */
  valuesInCOrder(): unknown[] {
    const memory = [...this];
    return this.order === 'C' || this.isContiguousBothWays
      ? memory
      : reorder(memory, this.shape, 'F', 'C');
  }

  /** numpy's repr, roughly: `array([[1, 2], [3, 4]], dtype=dtype('int32'))`; long dimensions cut. */
  [reprSymbol](repr: (v: unknown) => string): string {
    return `array(${repr(this.preview(PREVIEW_ITEMS))}, dtype=${repr(this.descr)})`;
  }

  [inspect](_depth: number, options: object, show: (v: unknown, o: object) => string): string {
    const order = this.order === 'F' ? ", order: 'F'" : '';
    const shape = `(${this.shape.join(', ')}${this.shape.length === 1 ? ',' : ''})`;
    return `NDArray<${this.dtype}> ${shape}${order} ${show(this.preview(PREVIEW_ITEMS), options)}`;
  }

  /** Nested arrays like `toArray()`, each dimension cut to `limit` items (for printing). */
  private preview(limit: number): unknown {
    const { descr, data, shape } = this;
    const strides = this.strides;
    if (shape.length === 0) return readItem(descr, data, 0);
    const build = (dim: number, base: number): unknown[] => {
      const n = Math.min(shape[dim]!, limit);
      const out: unknown[] = [];
      for (let j = 0; j < n; j++) {
        const at = base + j * strides[dim]!;
        out.push(dim === shape.length - 1 ? readItem(descr, data, at) : build(dim + 1, at));
      }
      if (shape[dim]! > limit) out.push(`... ${shape[dim]! - limit} more`);
      return out;
    };
    return build(0, 0);
  }
}

/** Reorders flat values of `shape` from one memory order to the other. */
export function reorder(
  values: readonly unknown[],
  shape: readonly number[],
  from: Order,
  to: Order,
): unknown[] {
  if (from === to) return [...values];
  const n = shape.length;
  const out = new Array<unknown>(values.length);
  const index = new Array<number>(n).fill(0);
  // Walk `values` in `from` order, computing each one's position in `to` order.
  const toStrides = new Array<number>(n);
  let step = 1;
  for (let j = 0; j < n; j++) {
    const k = to === 'C' ? n - 1 - j : j;
    toStrides[k] = step;
    step *= shape[k]!;
  }
  const dims = from === 'C' ? [...Array(n).keys()].reverse() : [...Array(n).keys()];
  for (let i = 0; i < values.length; i++) {
    let pos = 0;
    for (let k = 0; k < n; k++) pos += index[k]! * toStrides[k]!;
    out[pos] = values[i];
    for (const k of dims) {
      if (++index[k]! < shape[k]!) break;
      index[k] = 0;
    }
  }
  return out;
}

/** BUILD and `_frombuffer` fill a placeholder array in place (numpy's `__setstate__`). */
export function setArrayState(
  a: NDArray,
  descr: DType,
  shape: readonly number[],
  order: Order,
  data: NDData,
  readonly: boolean,
): void {
  const fields = a as unknown as {
    descr: DType;
    shape: readonly number[];
    order: Order;
    data: NDData;
    readonly: boolean;
  };
  fields.descr = descr;
  fields.shape = Object.freeze([...shape]);
  fields.order = order;
  fields.data = data;
  fields.readonly = readonly;
}
