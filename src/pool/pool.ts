/**
 * `Pool`: Python's `multiprocessing.Pool` on worker threads, with its names and semantics.
 * Functions, arguments and results cross as pickles (codec.ts), so bigints, tuples, sets, bytes
 * and shared references arrive as themselves, and functions travel by reference or by source.
 */
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { tuple } from '../index.js';
import { PoolCodec, type Packed } from './codec.js';
import { mainScriptUrl, workerEntry } from './entry.js';
import { PoolError, PoolErrorCode, taskError } from './errors.js';
import { capture, type AnyFunction } from './functions.js';
import { ChunkSource, IMapJob, MapJob, type ProgressCallback } from './jobs.js';
import { TaskMode, packBatch } from './protocol.js';
import { AsyncResult, IMapIterator, SETTLE, type ResultCallbacks } from './results.js';
import { Scheduler } from './scheduler.js';
import type { Outcome, TaskStats } from './workers.js';

export interface PoolOptions {
  /** Number of worker threads. Defaults to the number of CPUs (`os.availableParallelism()`). */
  processes?: number;
  /** Run in each worker before its first task, with `initargs`; may return a promise. */
  initializer?: AnyFunction;
  initargs?: readonly unknown[];
  /** Replace a worker after it has run this many tasks (chunks). Defaults to never. */
  maxTasksPerChild?: number;
  /** V8 heap limits per worker: a worker that exceeds them is replaced and its task fails. */
  resourceLimits?: ResourceLimits;
  /**
   * Move large binary arguments (16 KiB and up) to the worker instead of copying them: faster,
   * but the caller's `ArrayBuffer`s are detached. Results are always moved. Defaults to `false`.
   */
  transferArguments?: boolean;
}

export interface TaskOptions {
  /** Values for the names a function sent by source takes from its scope (see `capture`). */
  captures?: Record<string, unknown>;
}

export interface MapOptions extends TaskOptions {
  /** Items per task. Defaults to Python's rule: len / (4 * processes), rounded up. */
  chunksize?: number;
  /** Called as items finish: `(done, total)`. */
  onProgress?: (done: number, total: number) => void;
}

export interface IMapOptions extends TaskOptions {
  /** Items per task. Defaults to 1. */
  chunksize?: number;
  /** Called as items finish: `(done, total)`; `total` is undefined until the input ends. */
  onProgress?: ProgressCallback;
}

export type MapAsyncOptions<R> = MapOptions & ResultCallbacks<R[]>;
export type ApplyAsyncOptions<R> = TaskOptions & ResultCallbacks<R>;

type Mapper<T, R> = (item: T) => R;
type Starmapper<A extends readonly unknown[], R> = (...args: A) => R;

function checkChunksize(chunksize: unknown): number {
  if (typeof chunksize !== 'number' || !Number.isInteger(chunksize) || chunksize < 1) {
    throw new PoolError(
      PoolErrorCode.BAD_ARGUMENT,
      `chunksize must be an integer of 1 or more, not ${String(chunksize)}`,
    );
  }
  return chunksize;
}

function options<O extends { chunksize?: number }>(arg: number | O | undefined): O {
  return (typeof arg === 'number' ? { chunksize: arg } : (arg ?? {})) as O;
}

function withCaptures(fn: AnyFunction, captures: Record<string, unknown> | undefined) {
  if (typeof fn !== 'function') {
    throw new TypeError(`the task must be a function, got ${fn === null ? 'null' : typeof fn}`);
  }
  return captures ? capture(captures, fn) : fn;
}

/**
 * A pool of worker threads (Python's `multiprocessing.Pool`).
 *
 * @example
 * ```ts
 * import { Pool, range } from 'pickle-ts/pool';
 * await using pool = new Pool(2);
 * await pool.map(Math.cos, range(10));
 * await pool.map((x: number) => 2 ** x, range(10)); // [1, 2, 4, ..., 512]
 * ```
 */
export class Pool implements AsyncDisposable {
  /** Number of workers. */
  readonly processes: number;
  private readonly codec: PoolCodec;
  private readonly scheduler: Scheduler;
  /** Task times by function (and by source text, for lambdas made anew for each call). */
  private readonly statsByFunction = new WeakMap<AnyFunction, TaskStats>();
  private readonly statsBySource = new Map<string, TaskStats>();

  constructor(processes?: number | PoolOptions, options: PoolOptions = {}) {
    const o: PoolOptions =
      typeof processes === 'object'
        ? processes
        : { ...options, processes: processes ?? options.processes };
    const n = o.processes ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) {
      throw new PoolError(PoolErrorCode.BAD_ARGUMENT, `processes must be 1 or more, not ${n}`);
    }
    const max = o.maxTasksPerChild;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
      throw new PoolError(
        PoolErrorCode.BAD_ARGUMENT,
        `maxTasksPerChild must be a positive integer, not ${max}`,
      );
    }
    if (o.initializer !== undefined && typeof o.initializer !== 'function') {
      throw new TypeError('initializer must be a function');
    }
    this.processes = n;
    this.codec = new PoolCodec({ entryUrl: mainScriptUrl() });
    this.scheduler = new Scheduler({
      processes: n,
      entry: workerEntry(),
      maxTasksPerChild: max,
      resourceLimits: o.resourceLimits,
      moveArguments: o.transferArguments ?? false,
      codec: this.codec,
    });
    this.start(o);
  }

  /** Pickles the initializer (throwing here if it cannot be sent), then starts the workers. */
  private start(o: PoolOptions): void {
    if (!o.initializer) {
      this.scheduler.start(null);
      return;
    }
    const packed = this.codec.dump(tuple<unknown>(o.initializer, tuple(...(o.initargs ?? []))));
    this.scheduler.start(packBatch([packed], new Set(), false));
  }

  private checkRunning(): void {
    const s = this.scheduler;
    if (s.state === 'running') return;
    if (s.brokenBy) throw s.brokenBy;
    throw new PoolError(PoolErrorCode.NOT_RUNNING, `the pool is ${s.state}: it takes no new tasks`);
  }

  private statsFor(fn: AnyFunction): TaskStats {
    let stats = this.statsByFunction.get(fn);
    if (!stats) {
      const source = Function.prototype.toString.call(fn);
      stats = this.statsBySource.get(source);
      if (!stats) {
        stats = { averageMs: undefined };
        this.statsBySource.set(source, stats);
      }
      this.statsByFunction.set(fn, stats);
    }
    return stats;
  }

  // --- apply ----------------------------------------------------------------------------------

  /**
   * Calls `fn(...args)` in a worker and returns its result (Python's `apply`).
   *
   * @example
   * ```ts
   * await pool.apply((a: bigint, b: bigint) => a ** b, [2n, 100n]);
   * ```
   */
  async apply<A extends readonly unknown[], R>(
    fn: Starmapper<A, R>,
    args?: A,
    options?: TaskOptions,
  ): Promise<Awaited<R>> {
    return this.applyAsync(fn, args, options).get();
  }

  /**
   * Calls `fn(...args)` in a worker; returns a handle to its result (Python's `apply_async`).
   *
   * @example
   * ```ts
   * const r = pool.applyAsync(Math.max, [1, 5, 3], { callback: (v) => console.log(v) });
   * await r.get(); // 5
   * ```
   */
  applyAsync<A extends readonly unknown[], R>(
    fn: Starmapper<A, R>,
    args?: A,
    options: ApplyAsyncOptions<Awaited<R>> = {},
  ): AsyncResult<Awaited<R>> {
    this.checkRunning();
    const f = withCaptures(fn as AnyFunction, options.captures);
    const result = new AsyncResult<Awaited<R>>(options);
    const settle = (ok: boolean, value: unknown) => result[SETTLE](ok, value);
    const stats = this.statsFor(fn as AnyFunction);
    const submit = (packed: Packed) =>
      this.scheduler.submit({
        packed,
        items: 1,
        stats,
        settle: (outcome) => this.deliver(outcome, settle),
      });
    try {
      submit(this.codec.dump(tuple<unknown>(TaskMode.APPLY, f, tuple(...(args ?? [])))));
    } catch (e) {
      settle(false, e);
    }
    return result;
  }

  // --- map ------------------------------------------------------------------------------------

  /**
   * `fn` applied to every item, in order (Python's `map`). The input is cut into chunks of
   * `chunksize` items, by default len / (4 * processes) rounded up, as in Python.
   *
   * @example
   * ```ts
   * await pool.map((x: number) => x * x, [1, 2, 3]); // [1, 4, 9]
   * await pool.map(f, items, { chunksize: 100, onProgress: (done, total) => {} });
   * ```
   */
  async map<T, R>(
    fn: Mapper<T, R>,
    iterable: Iterable<T>,
    chunksize?: number | MapOptions,
  ): Promise<Awaited<R>[]> {
    return this.mapAsync(fn, iterable, chunksize).get();
  }

  /** `map`, returning a handle to the list (Python's `map_async`). */
  mapAsync<T, R>(
    fn: Mapper<T, R>,
    iterable: Iterable<T>,
    chunksize?: number | MapAsyncOptions<Awaited<R>>,
  ): AsyncResult<Awaited<R>[]> {
    return this.mapLike(TaskMode.MAP, fn as AnyFunction, iterable, options(chunksize));
  }

  /**
   * `fn(...args)` for every tuple of arguments, in order (Python's `starmap`).
   *
   * @example
   * ```ts
   * await pool.starmap((a: number, b: number) => a + b, [[1, 2], [3, 4]]); // [3, 7]
   * ```
   */
  async starmap<A extends readonly unknown[], R>(
    fn: Starmapper<A, R>,
    iterable: Iterable<A>,
    chunksize?: number | MapOptions,
  ): Promise<Awaited<R>[]> {
    return this.starmapAsync(fn, iterable, chunksize).get();
  }

  /** `starmap`, returning a handle to the list (Python's `starmap_async`). */
  starmapAsync<A extends readonly unknown[], R>(
    fn: Starmapper<A, R>,
    iterable: Iterable<A>,
    chunksize?: number | MapAsyncOptions<Awaited<R>>,
  ): AsyncResult<Awaited<R>[]> {
    return this.mapLike(TaskMode.STARMAP, fn as AnyFunction, iterable, options(chunksize));
  }

  private mapLike<R>(
    mode: TaskMode,
    fn: AnyFunction,
    iterable: Iterable<unknown>,
    o: MapAsyncOptions<R>,
  ): AsyncResult<R[]> {
    this.checkRunning();
    const f = withCaptures(fn, o.captures);
    // Python takes the length, making a list of an input that has none.
    const items = Array.isArray(iterable) ? (iterable as unknown[]) : [...iterable];
    let chunksize = o.chunksize;
    if (chunksize === undefined) {
      chunksize = Math.ceil(items.length / (this.processes * 4));
    } else {
      checkChunksize(chunksize);
    }
    const result = new AsyncResult<R[]>(o);
    if (items.length === 0) {
      result[SETTLE](true, []);
      return result;
    }
    const onProgress = o.onProgress as ProgressCallback | undefined;
    const job = new MapJob<R>(result, items.length, onProgress, () =>
      this.scheduler.removeSource(source),
    );
    const source = new ChunkSource(
      this.codec,
      f,
      mode,
      items[Symbol.iterator](),
      chunksize,
      this.statsFor(fn),
      job,
      (outcome, settle) => this.deliver(outcome, settle),
    );
    this.scheduler.addSource(source);
    return result;
  }

  // --- imap -----------------------------------------------------------------------------------

  /**
   * `fn` applied to every item, as an async iterator of results in order (Python's `imap`). The
   * input is read as workers have room for it, so it may be long or endless.
   *
   * @example
   * ```ts
   * for await (const y of pool.imap((x: number) => x * 2, range(3))) console.log(y); // 0 2 4
   * ```
   */
  imap<T, R>(
    fn: Mapper<T, R>,
    iterable: Iterable<T>,
    chunksize?: number | IMapOptions,
  ): IMapIterator<Awaited<R>> {
    return this.imapLike(true, fn as AnyFunction, iterable, options(chunksize));
  }

  /** `imap`, yielding results as they finish, in any order (Python's `imap_unordered`). */
  imapUnordered<T, R>(
    fn: Mapper<T, R>,
    iterable: Iterable<T>,
    chunksize?: number | IMapOptions,
  ): IMapIterator<Awaited<R>> {
    return this.imapLike(false, fn as AnyFunction, iterable, options(chunksize));
  }

  private imapLike<R>(
    ordered: boolean,
    fn: AnyFunction,
    iterable: Iterable<unknown>,
    o: IMapOptions,
  ): IMapIterator<R> {
    this.checkRunning();
    const f = withCaptures(fn, o.captures);
    const chunksize = checkChunksize(o.chunksize ?? 1);
    const iterator = new IMapIterator<R>(ordered, () => {
      job.close();
      this.scheduler.removeSource(source);
    });
    const total = Array.isArray(iterable) ? iterable.length : undefined;
    const job = new IMapJob<R>(iterator, total, o.onProgress);
    const source = new ChunkSource(
      this.codec,
      f,
      TaskMode.MAP,
      iterable[Symbol.iterator](),
      chunksize,
      this.statsFor(fn),
      job,
      (outcome, settle) => this.deliver(outcome, settle),
    );
    this.scheduler.addSource(source);
    return iterator;
  }

  // --- results --------------------------------------------------------------------------------

  /** Unpickles a task's outcome here, importing the modules it names first if needed. */
  private deliver(outcome: Outcome, settle: (ok: boolean, value: unknown) => void): void {
    if (!outcome.ok && !outcome.remote) {
      settle(false, outcome.error);
      return;
    }
    const finish = () => {
      let value: unknown;
      try {
        value = this.codec.load(outcome.bytes, outcome.buffers);
      } catch (e) {
        settle(false, e);
        return;
      }
      if (outcome.ok) settle(true, value);
      else settle(false, taskError(value, `pool worker ${outcome.worker}`));
    };
    if (this.codec.hasModules(outcome.modules)) finish();
    else this.codec.importModules(outcome.modules).then(finish, (e: unknown) => settle(false, e));
  }

  // --- lifecycle ------------------------------------------------------------------------------

  /** Takes no more tasks; the workers exit once the tasks submitted are done. */
  close(): void {
    this.scheduler.close();
  }

  /** Waits for the workers to exit; call `close()` or `terminate()` first. */
  async join(): Promise<void> {
    if (this.scheduler.state === 'running') {
      throw new PoolError(PoolErrorCode.STILL_RUNNING, 'join() needs close() or terminate() first');
    }
    await this.scheduler.join();
  }

  /** Stops the workers now; every unfinished task fails with a `PoolError` (`TERMINATED`). */
  async terminate(): Promise<void> {
    await this.scheduler.terminate();
  }

  /** `await using pool = new Pool()` terminates the pool at the end of the block, as Python's
   * `with Pool() as pool:` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }
}
