/**
 * pickle-ts/pool: Python's `multiprocessing.Pool` for Node, on worker threads, with tasks,
 * functions and results travelling as pickles.
 *
 * @example
 * ```ts
 * import { Pool, range } from 'pickle-ts/pool';
 *
 * await using pool = new Pool(2);
 * await pool.map(Math.cos, range(10));
 * await pool.map((x: number) => 2 ** x, range(10)); // [1, 2, 4, ..., 512]
 * ```
 */
export {
  Pool,
  type PoolOptions,
  type TaskOptions,
  type MapOptions,
  type MapAsyncOptions,
  type IMapOptions,
  type ApplyAsyncOptions,
} from './pool.js';
export { AsyncResult, IMapIterator, type ResultCallbacks } from './results.js';
export { capture, FunctionPicklingError, type AnyFunction } from './functions.js';
export { PoolError, PoolErrorCode, TimeoutError, RemoteTraceback } from './errors.js';
export { range, Range } from './range.js';
export type { ProgressCallback } from './jobs.js';
