/**
 * pickle-ts/numpy: numpy arrays, dtypes and scalars, both ways, zero-copy where the bytes allow.
 * Opt in by adding the bindings to a registry and passing it to `loads`/`dumps`.
 *
 * @example
 * ```ts
 * import { dumps, loads } from 'pickle-ts';
 * import { NDArray, numpyRegistry } from 'pickle-ts/numpy';
 *
 * const registry = numpyRegistry();
 * const a = loads(bytes, { registry }) as NDArray<Float64Array>;
 * a.dtype;                     // '<f8'
 * a.shape;                     // [2, 3]
 * a.get(1, 2);                 // 5
 * dumps(a, { registry, protocol: 5 }); // what numpy 2 writes
 * ```
 */
import { Registry } from '../index.js';
import { registerNumpy, type NumpyOptions } from './bindings.js';

export { registerNumpy, type NumpyOptions } from './bindings.js';
export {
  DType,
  DATETIME_UNITS,
  NATIVE_ORDER,
  type ByteOrder,
  type DatetimeUnit,
  type DTypeField,
  type FieldSpec,
} from './dtype.js';
export { NDArray, type Order } from './ndarray.js';
export { NumpyScalar } from './scalar.js';
export { float16ToNumber, numberToFloat16 } from './float16.js';
export { datetime64ToDate, NAT } from './datetime.js';
export type { NDData, TypedData } from './elements.js';

/**
 * A new registry holding only the numpy bindings (pass it as `registry`; the built-in bindings
 * still apply after it).
 *
 * @example
 * ```ts
 * loads(bytes, { registry: numpyRegistry() });
 * ```
 */
export function numpyRegistry(options: NumpyOptions = {}): Registry {
  return registerNumpy(new Registry(), options);
}
