/**
 * The pool's engine: the workers, the queue of tasks, and the sources that make tasks lazily
 * (a `map`'s chunks, an `imap`'s input). Tasks go out in batches, a few per worker at a time:
 * many when tasks are short (so messages are few), one when they are long (so no worker sits
 * idle while another has a queue). A worker that dies is replaced; the task it was running
 * fails with the reason, and tasks it never started run elsewhere.
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { PoolCodec } from './codec.js';
import { PoolError, PoolErrorCode, taskError } from './errors.js';
import { unpackBatch, type PackedBatch, type ResultsMessage } from './protocol.js';
import { PoolWorker, type Task, type WorkerEntry, type WorkerEvents } from './workers.js';

/** Makes tasks one at a time; `undefined` when it has no more. */
export interface TaskSource {
  next(): Task | undefined;
  /** The pool cannot run the rest: fail the job. */
  fail(error: Error): void;
}

export interface SchedulerOptions {
  processes: number;
  entry: WorkerEntry;
  maxTasksPerChild: number | undefined;
  resourceLimits: ResourceLimits | undefined;
  /** Move (rather than copy) the out-of-band buffers of task arguments to the worker. */
  moveArguments: boolean;
  codec: PoolCodec;
}

export type PoolState = 'running' | 'closed' | 'terminated' | 'broken';

/** Most tasks one worker holds at once, and the time a batch of short tasks aims to fill. */
const MAX_IN_FLIGHT = 64;
const BATCH_TARGET_MS = 2;
/** From this long, a worker holds one task at a time: no task waits behind a long one. */
const LONG_TASK_MS = 5;

export class Scheduler implements WorkerEvents {
  state: PoolState = 'running';
  /** Why the pool broke (its initializer failed), for the tasks submitted after. */
  brokenBy: PoolError | undefined;
  private readonly workers: PoolWorker[] = [];
  private nextWorkerId = 1;
  private queue: Task[] = [];
  private sources: TaskSource[] = [];
  private dispatchScheduled = false;
  private readonly exitWaiters: Array<() => void> = [];
  /** The pickled initializer and its arguments, given to every worker. */
  private init: PackedBatch | null = null;

  constructor(private readonly options: SchedulerOptions) {}

  /** Starts the workers, which run `init` first. */
  start(init: PackedBatch | null): void {
    if (this.state !== 'running') return;
    this.init = init;
    for (let i = 0; i < this.options.processes; i++) this.spawn();
    this.afterChange();
  }

  /** The pool cannot start (its initializer could not be pickled). */
  fail(cause: unknown): void {
    const message = `the pool's initializer cannot be sent to the workers: ${
      cause instanceof Error ? cause.message : String(cause)
    }`;
    this.break(new PoolError(PoolErrorCode.INITIALIZER_FAILED, message, { cause }));
  }

  /** Queues one task. */
  submit(task: Task): void {
    this.queue.push(task);
    this.scheduleDispatch();
  }

  /** Adds a source of tasks, drawn from after the tasks queued before it. */
  addSource(source: TaskSource): void {
    this.sources.push(source);
    this.scheduleDispatch();
  }

  /** Drops a source (its job was closed or failed): its unsent tasks are never made. */
  removeSource(source: TaskSource): void {
    this.sources = this.sources.filter((s) => s !== source);
  }

  scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => this.dispatch());
  }

  private spawn(): void {
    const o = this.options;
    const w = new PoolWorker(this.nextWorkerId++, o.entry, this.init, o.resourceLimits, this);
    this.workers.push(w);
  }

  /** How many tasks a worker may hold when the next is `task`, from how long its kind take. */
  private inFlightLimit(task: Task): number {
    const avg = task.stats.averageMs;
    // Until a task of this kind has come back, assume it is long.
    if (avg === undefined) return 1;
    if (avg >= LONG_TASK_MS) return 1;
    return Math.min(MAX_IN_FLIGHT, Math.max(2, Math.ceil(BATCH_TARGET_MS / Math.max(avg, 1e-3))));
  }

  private takeTask(): Task | undefined {
    const task = this.queue.shift();
    if (task) return task;
    while (this.sources.length > 0) {
      const t = this.sources[0]!.next();
      if (t) return t;
      this.sources.shift();
    }
    return undefined;
  }

  private dispatch(): void {
    this.dispatchScheduled = false;
    if (this.state === 'terminated' || this.state === 'broken') return;
    const max = this.options.maxTasksPerChild;
    const batches = new Map<PoolWorker, Task[]>();
    const ready = this.workers
      .filter((w) => w.state === 'ready')
      .sort((a, b) => a.inFlight.length - b.inFlight.length);
    // One task per worker per round, so that a few tasks spread over all workers.
    let more = true;
    while (more) {
      more = false;
      for (const w of ready) {
        const batch = batches.get(w) ?? [];
        if (max !== undefined && w.sent + batch.length >= max) continue;
        const task = this.takeTask();
        if (!task) {
          more = false;
          break;
        }
        if (w.inFlight.length + batch.length >= this.inFlightLimit(task)) {
          this.queue.unshift(task);
          continue;
        }
        batch.push(task);
        batches.set(w, batch);
        more = true;
      }
    }
    for (const [w, tasks] of batches) {
      try {
        w.send(tasks, this.options.moveArguments);
      } catch (e) {
        for (const t of tasks) t.settle({ ok: false, remote: false, error: e as Error });
      }
    }
    this.afterChange();
  }

  /** Retires used-up workers, finishes a closed pool, and sets whether workers keep us alive. */
  private afterChange(): void {
    const max = this.options.maxTasksPerChild;
    for (const w of this.workers) {
      if (max !== undefined && w.state === 'ready' && w.sent >= max && w.inFlight.length === 0) {
        w.retire();
        if (this.state === 'running' || this.hasWork()) this.spawn();
      }
    }
    if (this.state === 'closed' && !this.hasWork()) {
      for (const w of this.workers) w.retire();
    }
    // Idle workers do not keep the process alive, unless someone waits for them to exit.
    const busy = this.hasWork() || this.exitWaiters.length > 0;
    for (const w of this.workers) w.setReferenced(busy);
  }

  private hasWork(): boolean {
    return (
      this.queue.length > 0 ||
      this.sources.length > 0 ||
      this.workers.some((w) => w.inFlight.length > 0)
    );
  }

  // --- worker events --------------------------------------------------------------------------

  ready(): void {
    this.scheduleDispatch();
  }

  initFailed(w: PoolWorker, error: PackedBatch): void {
    let cause: unknown;
    try {
      const [only] = unpackBatch(error);
      cause = taskError(this.options.codec.load(only!.bytes, only!.buffers), `pool worker ${w.id}`);
    } catch (e) {
      cause = e;
    }
    const message = `the pool's initializer failed in worker ${w.id}: ${
      cause instanceof Error ? cause.message : String(cause)
    }`;
    this.break(new PoolError(PoolErrorCode.INITIALIZER_FAILED, message, { cause }));
  }

  results(w: PoolWorker, m: ResultsMessage, tasks: Task[]): void {
    tasks.forEach((task, i) => {
      const ms = m.durations[i] ?? 0;
      const s = task.stats;
      s.averageMs = s.averageMs === undefined ? ms : s.averageMs * 0.7 + ms * 0.3;
    });
    const failed = new Set(m.failed);
    let i = 0;
    for (const pickle of unpackBatch(m)) {
      const task = tasks[i]!;
      const base = {
        bytes: pickle.bytes,
        buffers: pickle.buffers,
        modules: m.modules,
        worker: w.id,
      };
      task.settle(failed.has(i) ? { ok: false, remote: true, ...base } : { ok: true, ...base });
      i++;
    }
    this.scheduleDispatch();
  }

  exited(
    w: PoolWorker,
    unexpected: boolean,
    description: string,
    exitCode: number,
    affected: number,
  ): void {
    this.workers.splice(this.workers.indexOf(w), 1);
    if (unexpected && this.state !== 'terminated' && this.state !== 'broken') {
      if (affected === 0 && w.everReady) {
        // No task fails for this (say, a timer a task left behind threw): say so all the same.
        process.emitWarning(`pickle-ts pool worker ${w.id} ${description} between tasks`, {
          code: 'PICKLE_TS_POOL_WORKER_EXIT',
          detail: 'It was replaced; no task was running on it.',
        });
      }
      if (!w.everReady) {
        // It died before it could run anything: replacing it would only die again.
        this.break(
          new PoolError(
            PoolErrorCode.INITIALIZER_FAILED,
            `pool worker ${w.id} ${description} while starting`,
            { exitCode },
          ),
        );
      } else {
        this.queue = [...w.neverStarted, ...this.queue];
        if (this.state === 'running' || this.hasWork()) this.spawn();
      }
    }
    this.scheduleDispatch();
    if (this.workers.length === 0) for (const wake of this.exitWaiters.splice(0)) wake();
  }

  // --- lifecycle ------------------------------------------------------------------------------

  close(): void {
    if (this.state === 'running') this.state = 'closed';
    this.afterChange();
  }

  /** Ends every worker now; every task not finished fails. */
  async terminate(): Promise<void> {
    if (this.state !== 'broken') this.state = 'terminated';
    this.failEverything(
      this.brokenBy ??
        new PoolError(PoolErrorCode.TERMINATED, 'the pool was terminated before this task ended'),
    );
    await Promise.all(
      this.workers.map((w) => {
        w.setReferenced(true);
        return w.terminate();
      }),
    );
    this.options.codec.close();
  }

  /** Resolves when every worker has exited. */
  join(): Promise<void> {
    if (this.workers.length === 0) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.afterChange();
    return exited;
  }

  private break(error: PoolError): void {
    if (this.state === 'broken' || this.state === 'terminated') return;
    this.state = 'broken';
    this.brokenBy = error;
    void this.terminate();
  }

  private failEverything(error: PoolError): void {
    const tasks = [...this.queue];
    this.queue = [];
    for (const w of this.workers) tasks.push(...w.inFlight.splice(0));
    const sources = this.sources;
    this.sources = [];
    for (const t of tasks) t.settle({ ok: false, remote: false, error });
    for (const s of sources) s.fail(error);
  }
}
