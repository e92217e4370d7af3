/**
 * One worker thread of a pool, seen from the pool: its tasks in flight (in the order sent, which
 * is the order the worker answers), how it ended, and which of its tasks were running, finished
 * or never started when it died (read from a small shared array the worker updates).
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Packed } from './codec.js';
import { PoolError, PoolErrorCode } from './errors.js';
import {
  DONE,
  RUNNING,
  packBatch,
  type FromWorker,
  type PackedBatch,
  type ResultsMessage,
  type ToWorker,
  type WorkerStart,
} from './protocol.js';

/** Moving average of the time tasks of one function take, in ms; undefined until known. */
export interface TaskStats {
  averageMs: number | undefined;
}

/** A task as the pool tracks it. */
export interface Task {
  /** The pickle of `[mode, fn, args]`. */
  packed: Packed;
  /** Items it covers (1 for `apply`, the chunk's length for `map`), for progress. */
  items: number;
  /** How long tasks of its kind (its function) take, shared by them, for scheduling. */
  stats: TaskStats;
  /** Called once with the task's outcome: the result's pickle, or a failure. */
  settle(outcome: Outcome): void;
}

/** A result or error pickled by the worker that ran the task. */
interface RemoteOutcome {
  bytes: Uint8Array;
  buffers: ArrayBufferView[];
  modules: string[];
  worker: number;
}

export type Outcome =
  | ({ ok: true } & RemoteOutcome)
  | ({ ok: false; remote: true } & RemoteOutcome)
  | { ok: false; remote: false; error: Error };

export interface WorkerEvents {
  ready(w: PoolWorker): void;
  initFailed(w: PoolWorker, error: PackedBatch): void;
  results(w: PoolWorker, message: ResultsMessage, tasks: Task[]): void;
  /** The worker ended. `unexpected`: it was not asked to; `affected`: tasks it had. */
  exited(
    w: PoolWorker,
    unexpected: boolean,
    description: string,
    exitCode: number,
    affected: number,
  ): void;
}

/** How the worker thread is created: its entry, and what it must run before the entry. */
export interface WorkerEntry {
  url: URL;
  options: { execArgv?: string[] };
}

export type WorkerState = 'starting' | 'ready' | 'retiring' | 'exited';

export class PoolWorker {
  readonly id: number;
  state: WorkerState = 'starting';
  /** Whether it finished starting (ran its initializer). */
  everReady = false;
  /** Tasks sent and not answered yet, oldest first; `firstSeq` is the oldest's number. */
  readonly inFlight: Task[] = [];
  private firstSeq = 0;
  private nextSeq = 0;
  /** Tasks sent over the worker's life, for `maxTasksPerChild`. */
  sent = 0;
  private readonly progress = new SharedArrayBuffer(8);
  private readonly worker: Worker;
  private crash: Error | undefined;
  private referenced = true;

  constructor(
    id: number,
    entry: WorkerEntry,
    init: PackedBatch | null,
    resourceLimits: ResourceLimits | undefined,
    private readonly events: WorkerEvents,
  ) {
    this.id = id;
    const start: WorkerStart = { init, progress: this.progress };
    // The initializer's pickle is copied to each worker, not moved: every worker needs it.
    this.worker = new Worker(entry.url, {
      ...entry.options,
      workerData: start,
      ...(resourceLimits ? { resourceLimits } : {}),
      name: `pickle-ts pool worker ${id}`,
    });
    this.worker.on('message', (m: FromWorker) => this.receive(m));
    this.worker.on('error', (e: Error) => {
      this.crash = e;
    });
    this.worker.on('exit', (code) => this.onExit(code));
  }

  /** Sends tasks; they are answered in this order. */
  send(tasks: Task[], moveBuffers: boolean): void {
    const transfer = new Set<ArrayBuffer>();
    const batch = packBatch(
      tasks.map((t) => t.packed),
      transfer,
      moveBuffers,
    );
    const message: ToWorker = { type: 'tasks', firstSeq: this.nextSeq, ...batch };
    this.worker.postMessage(message, [...transfer]);
    this.nextSeq += tasks.length;
    this.sent += tasks.length;
    for (const t of tasks) this.inFlight.push(t);
  }

  /** Asks the worker to finish its tasks and exit. */
  retire(): void {
    if (this.state === 'exited' || this.state === 'retiring') return;
    this.state = 'retiring';
    this.worker.postMessage({ type: 'retire' } satisfies ToWorker);
  }

  /** Ends the thread now. */
  terminate(): Promise<number> {
    if (this.state !== 'exited') this.state = 'retiring';
    return this.worker.terminate();
  }

  /** Whether this worker keeps the process alive (only while the pool has work). */
  setReferenced(on: boolean): void {
    if (on === this.referenced) return;
    this.referenced = on;
    if (on) this.worker.ref();
    else this.worker.unref();
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        if (this.state === 'starting') this.state = 'ready';
        this.everReady = true;
        this.events.ready(this);
        return;
      case 'initFailed':
        this.events.initFailed(this, m);
        return;
      case 'retired':
        void this.worker.terminate();
        return;
      case 'results': {
        const count = m.ends.length;
        if (m.firstSeq !== this.firstSeq || count > this.inFlight.length) {
          throw new Error(`pool worker ${this.id}: results out of order`);
        }
        const tasks = this.inFlight.splice(0, count);
        this.firstSeq += count;
        this.events.results(this, m, tasks);
      }
    }
  }

  private onExit(code: number): void {
    const unexpected = this.state !== 'retiring';
    this.state = 'exited';
    const description = this.describeExit(code);
    const lost = this.inFlight.splice(0);
    if (lost.length > 0) this.failLost(lost, description, code);
    this.events.exited(this, unexpected, description, code, lost.length);
  }

  private describeExit(code: number): string {
    const e = this.crash;
    if (e) {
      const oom = (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      return oom
        ? `ran out of memory (${e.message})`
        : `crashed with an uncaught ${e.name}: ${e.message}`;
    }
    return `exited with code ${code}`;
  }

  /**
   * Fails the tasks a dead worker had: the one running when it died, the ones it finished but
   * whose results it had not sent, and the ones it never started (sent back to the queue by the
   * pool through `requeue`).
   */
  private failLost(lost: Task[], description: string, exitCode: number): void {
    const running = Atomics.load(new Int32Array(this.progress), RUNNING) - 1;
    const done = Atomics.load(new Int32Array(this.progress), DONE);
    let seq = this.firstSeq;
    const never: Task[] = [];
    for (const task of lost) {
      const prefix = `pool worker ${this.id} ${description}`;
      if (seq === running) {
        task.settle({
          ok: false,
          remote: false,
          error: workerExited(`${prefix} while running this task`, this.crash, exitCode),
        });
      } else if (seq < done) {
        task.settle({
          ok: false,
          remote: false,
          error: workerExited(
            `${prefix} after running this task but before sending its result`,
            this.crash,
            exitCode,
          ),
        });
      } else {
        never.push(task);
      }
      seq++;
    }
    this.neverStarted = never;
  }

  /** Tasks the worker had been sent but never started when it died: safe to run elsewhere. */
  neverStarted: Task[] = [];
}

function workerExited(message: string, cause: unknown, exitCode: number): Error {
  return new PoolError(PoolErrorCode.WORKER_EXITED, message, {
    ...(cause === undefined ? {} : { cause }),
    exitCode,
  });
}
