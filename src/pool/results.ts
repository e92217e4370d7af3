/**
 * The handles pool methods return, named and behaving as Python's: `AsyncResult` (from
 * `applyAsync`, `mapAsync`, `starmapAsync`) with `get(timeout)`, `wait`, `ready`, `successful`
 * and callbacks; `IMapIterator` (from `imap`, `imapUnordered`), an async iterator. Timeouts are
 * in seconds, as in Python.
 */
import { PoolError, PoolErrorCode, TimeoutError } from './errors.js';

/** Internal: settles a handle. Not exported from the package. */
export const SETTLE = Symbol('settle');

export interface ResultCallbacks<T> {
  /** Called with the result when it succeeds (Python's `callback`). */
  callback?: ((value: T) => void) | undefined;
  /** Called with the error when it fails (Python's `error_callback`). */
  errorCallback?: ((error: unknown) => void) | undefined;
}

function checkTimeout(timeout: number | undefined): void {
  if (timeout !== undefined && (typeof timeout !== 'number' || Number.isNaN(timeout))) {
    throw new TypeError(`timeout must be a number of seconds, got ${String(timeout)}`);
  }
}

/** Runs a user callback; an exception in it is reported as uncaught, never swallowed. */
function runCallback<A>(fn: ((arg: A) => void) | undefined, arg: A): void {
  if (!fn) return;
  try {
    fn(arg);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** A timer for `timeout` seconds that `cancel` stops; none when `timeout` is undefined. */
function timer(timeout: number | undefined, onTimeout: () => void): () => void {
  if (timeout === undefined) return () => {};
  const t = setTimeout(onTimeout, Math.max(0, timeout) * 1000);
  return () => clearTimeout(t);
}

/**
 * The result of a task that runs in the background (Python's `AsyncResult`). Await it, or call
 * `get()`.
 *
 * @example
 * ```ts
 * const r = pool.applyAsync((a: number, b: number) => a + b, [1, 2]);
 * r.ready();        // false while it runs
 * await r.get(5);   // 3, or a TimeoutError after 5 seconds
 * ```
 */
export class AsyncResult<T> implements PromiseLike<T> {
  private state: 'pending' | 'ok' | 'failed' = 'pending';
  private value: T | undefined;
  private error: unknown;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly callbacks: ResultCallbacks<T> = {}) {}

  /** Whether the task has finished (either way). */
  ready(): boolean {
    return this.state !== 'pending';
  }

  /** Whether it finished without an error. Throws if it has not finished. */
  successful(): boolean {
    if (this.state === 'pending') {
      throw new PoolError(PoolErrorCode.NOT_READY, 'the result is not ready');
    }
    return this.state === 'ok';
  }

  /** Waits until it finishes, or `timeout` seconds pass; never throws the task's error. */
  wait(timeout?: number): Promise<void> {
    checkTimeout(timeout);
    if (this.ready()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        cancel();
        this.waiters.delete(done);
        resolve();
      };
      const cancel = timer(timeout, done);
      this.waiters.add(done);
    });
  }

  /** The result; rejects with the task's error, or a `TimeoutError` after `timeout` seconds. */
  async get(timeout?: number): Promise<T> {
    await this.wait(timeout);
    if (this.state === 'ok') return this.value as T;
    if (this.state === 'failed') throw this.error;
    throw new TimeoutError(`the result was not ready within ${timeout} seconds`);
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.get().then(onFulfilled, onRejected);
  }

  /** @internal */
  [SETTLE](ok: boolean, value: unknown): void {
    if (this.state !== 'pending') return;
    if (ok) {
      this.state = 'ok';
      this.value = value as T;
    } else {
      this.state = 'failed';
      this.error = value;
    }
    for (const w of [...this.waiters]) w();
    if (ok) runCallback(this.callbacks.callback, value as T);
    else runCallback(this.callbacks.errorCallback, value);
  }
}

type Outcome<T> = { ok: true; items: T[] } | { ok: false; error: unknown };

/**
 * The results of `imap` (in order) or `imapUnordered` (as they finish), as an async iterator.
 * An item whose task failed throws at its place; `next()` may be called again to go on past it.
 * Leaving a `for await` loop early stops sending the rest of the input to the workers.
 *
 * @example
 * ```ts
 * for await (const y of pool.imap((x: number) => x * x, range(5))) console.log(y);
 * ```
 */
export class IMapIterator<T> implements AsyncIterableIterator<T> {
  private readonly ordered: boolean;
  private readonly onClose: () => void;
  /** Outcomes that arrived out of order (ordered mode), by task index. */
  private readonly early = new Map<number, Outcome<T>>();
  private nextIndex = 0;
  /** Outcomes ready to hand out, in order. */
  private readonly ready: Outcome<T>[] = [];
  private items: T[] = [];
  private itemPos = 0;
  private received = 0;
  private total: number | undefined;
  private closed = false;
  private readonly waiters: Array<() => void> = [];

  constructor(ordered: boolean, onClose: () => void) {
    this.ordered = ordered;
    this.onClose = onClose;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next result; `timeout` in seconds rejects with a `TimeoutError` (Python's `next`). */
  async next(timeout?: number): Promise<IteratorResult<T, undefined>> {
    checkTimeout(timeout);
    for (;;) {
      if (this.itemPos < this.items.length) {
        const value = this.items[this.itemPos++]!;
        return { value, done: false };
      }
      const outcome = this.ready.shift();
      if (outcome) {
        if (!outcome.ok) throw outcome.error;
        this.items = outcome.items;
        this.itemPos = 0;
        continue;
      }
      if (this.closed || (this.total !== undefined && this.received >= this.total)) {
        return { value: undefined, done: true };
      }
      await this.arrival(timeout);
    }
  }

  /** Stops early: the rest of the input is not sent; results still running are dropped. */
  async return(): Promise<IteratorResult<T, undefined>> {
    if (!this.closed) {
      this.closed = true;
      this.onClose();
      this.wake();
    }
    return { value: undefined, done: true };
  }

  private arrival(timeout: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cancel = timer(timeout, () => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new TimeoutError(`no result within ${timeout} seconds`));
      });
      const done = () => {
        cancel();
        resolve();
      };
      this.waiters.push(done);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** @internal The outcome of task `index` (a chunk of items, or an error). */
  [SETTLE](index: number, outcome: Outcome<T>): void {
    if (this.closed) return;
    this.received++;
    if (!this.ordered) {
      this.ready.push(outcome);
    } else {
      this.early.set(index, outcome);
      for (let o = this.early.get(this.nextIndex); o; o = this.early.get(this.nextIndex)) {
        this.early.delete(this.nextIndex++);
        this.ready.push(o);
      }
    }
    this.wake();
  }

  /** @internal The number of tasks, once the input is exhausted. */
  setTotal(total: number): void {
    this.total = total;
    this.wake();
  }
}
