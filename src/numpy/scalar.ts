/**
 * numpy scalars (`numpy.float64(1.5)`, `numpy.datetime64('2020-01-01')`, a record): a pickle
 * writes them as `numpy._core.multiarray.scalar(dtype, bytes)`.
 */
import { Complex, reprSymbol } from '../index.js';
import { DType } from './dtype.js';
import { decodeAt, encodeAt, viewOf } from './elements.js';

const inspect = Symbol.for('nodejs.util.inspect.custom');

/**
 * A numpy scalar kept with its dtype, so that it pickles back as the same numpy type. Loading
 * gives one for dtypes with no exact plain JS value (`datetime64`, `timedelta64`, records,
 * `void`, long doubles), or for every scalar with `numpyRegistry({ scalars: 'typed' })`.
 *
 * @example
 * ```ts
 * const s = NumpyScalar.of('<M8[D]', 18262n);
 * s.value;  // 18262n (days since 1970-01-01)
 * s.dtype;  // '<M8[D]'
 * ```
 */
export class NumpyScalar {
  readonly descr: DType;
  /** The element's bytes, in the dtype's byte order (numpy's pickled form). */
  readonly bytes: Uint8Array;

  constructor(dtype: string | DType, bytes: Uint8Array) {
    const descr = DType.of(dtype);
    if (descr.hasObject)
      throw new TypeError('an object scalar is its value: no NumpyScalar needed');
    if (bytes.length !== descr.itemsize)
      throw new RangeError(
        `${bytes.length} bytes for a scalar of ${descr.str} (${descr.itemsize} expected)`,
      );
    this.descr = descr;
    this.bytes = bytes;
  }

  /** A scalar of `dtype` holding `value` (converted as `NDArray.set` converts). */
  static of(dtype: string | DType, value: unknown): NumpyScalar {
    const descr = DType.of(dtype);
    const bytes = new Uint8Array(descr.itemsize);
    encodeAt(descr, viewOf(bytes), bytes, 0, value);
    return new NumpyScalar(descr, bytes);
  }

  /** numpy's `dtype.str`. */
  get dtype(): string {
    return this.descr.str;
  }

  /**
   * The value as JS holds it: `boolean`, `number`, `bigint` (64-bit integers, datetime64 and
   * timedelta64 counts), `Complex`, `string`, `Uint8Array`, or a record object.
   */
  get value(): unknown {
    return decodeAt(this.descr, viewOf(this.bytes), this.bytes, 0);
  }

  valueOf(): unknown {
    const v = this.value;
    return typeof v === 'bigint' || typeof v === 'number' ? v : this;
  }

  toString(): string {
    const v = this.value;
    if (this.descr.kind === 'M' || this.descr.kind === 'm') {
      const unit =
        this.descr.unit === 'generic'
          ? ''
          : `[${this.descr.unitCount === 1 ? '' : this.descr.unitCount}${this.descr.unit}]`;
      return `${this.descr.kind === 'M' ? 'datetime64' : 'timedelta64'}(${String(v)}${unit})`;
    }
    return v instanceof Complex ? v.toString() : String(v);
  }

  [inspect](_depth: number, options: object, show: (v: unknown, o: object) => string): string {
    return `NumpyScalar<${this.dtype}> ${show(this.value, options)}`;
  }

  [reprSymbol](repr: (v: unknown) => string): string {
    return `numpy.scalar(${repr(this.descr)}, ${repr(this.value)})`;
  }
}

/**
 * The plain JS value of a scalar when one is exact: `boolean`, integers as `number` when safe
 * (else `bigint`), `number` for float16/32/64, `Complex`, `string` for `'U'`, `Uint8Array` for
 * `'S'`. `undefined` when there is none (dates, records, long doubles).
 */
export function plainScalarValue(descr: DType, bytes: Uint8Array): unknown {
  if (descr.fields !== undefined || descr.subarray !== undefined) return undefined;
  const k = descr.kind;
  const exact =
    k === 'b' ||
    k === 'i' ||
    k === 'u' ||
    k === 'U' ||
    k === 'S' ||
    (k === 'f' && descr.itemsize <= 8) ||
    (k === 'c' && descr.itemsize <= 16);
  if (!exact) return undefined;
  const v = decodeAt(descr, viewOf(bytes), bytes, 0);
  if (
    typeof v === 'bigint' &&
    v >= BigInt(Number.MIN_SAFE_INTEGER) &&
    v <= BigInt(Number.MAX_SAFE_INTEGER)
  )
    return Number(v);
  return v;
}
