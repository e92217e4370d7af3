/**
 * Jobs: how one call's tasks are made and how their results come together. A `ChunkSource`
 * cuts the input into chunks and pickles each one when a worker has room for it (so a long
 * input is never pickled all at once); a `ChunkSink` receives the chunks' outcomes: `MapJob`
 * assembles a list, `IMapJob` feeds an `IMapIterator`.
 */
import { tuple } from '../index.js';
import type { PoolCodec } from './codec.js';
import type { AnyFunction } from './functions.js';
import type { TaskMode } from './protocol.js';
import { AsyncResult, IMapIterator, SETTLE } from './results.js';
import type { TaskSource } from './scheduler.js';
import type { Outcome, Task, TaskStats } from './workers.js';

/** Turns a task's outcome into its value (or error), on the pool's side. */
export type Deliver = (outcome: Outcome, settle: (ok: boolean, value: unknown) => void) => void;

/** Progress of a map-style call: items finished, and the total when known. */
export type ProgressCallback = (done: number, total: number | undefined) => void;

export interface ChunkSink {
  /** Chunk `index` (of `items` items) finished: `value` is its list of results, or the error. */
  outcome(index: number, items: number, ok: boolean, value: unknown): void;
  /** The input is exhausted: there are `tasks` chunks, of `items` items, in all. */
  setTotal(tasks: number, items: number): void;
  /** The input could not be read, or the pool could not run the rest (`made` chunks were made). */
  fail(error: unknown, made: number): void;
  /** Whether the job still wants results (false once it failed or was closed). */
  readonly open: boolean;
}

export class ChunkSource implements TaskSource {
  private index = 0;
  private itemsRead = 0;
  private finished = false;

  constructor(
    private readonly codec: PoolCodec,
    private readonly fn: AnyFunction,
    private readonly mode: TaskMode,
    private readonly input: Iterator<unknown>,
    private readonly chunksize: number,
    private readonly stats: TaskStats,
    private readonly sink: ChunkSink,
    private readonly deliver: Deliver,
  ) {}

  next(): Task | undefined {
    for (;;) {
      if (this.finished || !this.sink.open) return undefined;
      const chunk = this.read();
      if (chunk === undefined) return undefined;
      const index = this.index;
      try {
        const packed = this.codec.dump(tuple<unknown>(this.mode, this.fn, chunk));
        this.index++;
        return {
          packed,
          items: chunk.length,
          stats: this.stats,
          settle: (outcome) =>
            this.deliver(outcome, (ok, value) => this.sink.outcome(index, chunk.length, ok, value)),
        };
      } catch (e) {
        // A chunk that cannot be pickled fails in its place; the others go on.
        this.index++;
        this.sink.outcome(index, chunk.length, false, e);
      }
    }
  }

  /** The next chunk of input, or undefined at its end (after telling the sink the total). */
  private read(): unknown[] | undefined {
    const chunk: unknown[] = [];
    try {
      while (chunk.length < this.chunksize) {
        const r = this.input.next();
        if (r.done) break;
        chunk.push(r.value);
      }
    } catch (e) {
      this.finished = true;
      this.sink.fail(e, this.index);
      return undefined;
    }
    if (chunk.length === 0) {
      this.finished = true;
      this.sink.setTotal(this.index, this.itemsRead);
      return undefined;
    }
    this.itemsRead += chunk.length;
    return chunk;
  }

  fail(error: Error): void {
    this.finished = true;
    this.sink.fail(error, this.index);
  }
}

/** Collects a `map`'s chunks into one list, failing at the first error (as Python's MapResult). */
export class MapJob<R> implements ChunkSink {
  private readonly chunks: unknown[][] = [];
  private received = 0;
  private total: number | undefined;
  private done = 0;

  constructor(
    readonly result: AsyncResult<R[]>,
    private readonly totalItems: number,
    private readonly onProgress: ProgressCallback | undefined,
    private readonly onEnd: () => void,
  ) {}

  get open(): boolean {
    return !this.result.ready();
  }

  outcome(index: number, items: number, ok: boolean, value: unknown): void {
    if (!this.open) return;
    if (!ok) {
      this.fail(value);
      return;
    }
    this.chunks[index] = value as unknown[];
    this.received++;
    this.done += items;
    this.onProgress?.(this.done, this.totalItems);
    this.finishIfDone();
  }

  setTotal(tasks: number): void {
    this.total = tasks;
    this.finishIfDone();
  }

  fail(error: unknown): void {
    if (!this.open) return;
    this.result[SETTLE](false, error);
    this.onEnd();
  }

  private finishIfDone(): void {
    if (this.total === undefined || this.received < this.total || !this.open) return;
    this.result[SETTLE](true, this.chunks.flat());
    this.onEnd();
  }
}

/** Feeds chunk outcomes to an `IMapIterator`, item by item. */
export class IMapJob<R> implements ChunkSink {
  private done = 0;
  private closed = false;

  constructor(
    readonly iterator: IMapIterator<R>,
    private totalItems: number | undefined,
    private readonly onProgress: ProgressCallback | undefined,
  ) {}

  get open(): boolean {
    return !this.closed;
  }

  close(): void {
    this.closed = true;
  }

  outcome(index: number, items: number, ok: boolean, value: unknown): void {
    if (this.closed) return;
    this.iterator[SETTLE](index, ok ? { ok, items: value as R[] } : { ok, error: value });
    this.done += items;
    this.onProgress?.(this.done, this.totalItems);
  }

  setTotal(tasks: number, items: number): void {
    this.totalItems = items;
    this.iterator.setTotal(tasks);
  }

  fail(error: unknown, made: number): void {
    if (this.closed) return;
    // The error takes the place after the last chunk made; nothing follows it.
    this.iterator[SETTLE](made, { ok: false, error });
    this.iterator.setTotal(made + 1);
    this.closed = true;
  }
}
