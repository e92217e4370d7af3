/**
 * A pool worker: runs the initializer, then tasks in the order they arrive, one at a time (a
 * task that returns a promise is awaited before the next starts, as each Python worker process
 * runs one task at a time). Results are sent in batches: when the tasks received so far are done,
 * or every few milliseconds while a long batch runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PoolCodec, type Packed } from './codec.js';
import {
  DONE,
  RUNNING,
  TaskMode,
  packBatch,
  unpackBatch,
  type FromWorker,
  type PackedBatch,
  type TasksMessage,
  type ToWorker,
  type WorkerStart,
} from './protocol.js';

/** Results wait at most this long before they are sent, while later tasks run. */
const FLUSH_MS = 2;

type Callable = (...args: unknown[]) => unknown;

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

function asCallable(fn: unknown): Callable {
  if (typeof fn !== 'function') {
    throw new TypeError(`the task's function arrived as ${typeof fn}, which is not callable`);
  }
  return fn as Callable;
}

class WorkerLoop {
  private readonly codec = new PoolCodec();
  private readonly progress: Int32Array;
  private readonly pending: TasksMessage[] = [];
  private running = false;
  private retiring = false;
  // Results not sent yet.
  private out: Packed[] = [];
  private failed: number[] = [];
  private outFirstSeq = 0;
  private outSince = 0;
  private durations: number[] = [];

  constructor(
    private readonly port: NonNullable<typeof parentPort>,
    start: WorkerStart,
  ) {
    this.progress = new Int32Array(start.progress);
    port.on('message', (m: ToWorker) => this.receive(m));
    // A task that calls process.exit (or a timer that throws) ends the thread: the results of the
    // tasks finished before it still go out.
    process.on('exit', () => this.flush());
    void this.initialize(start.init);
  }

  private post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(message, transfer);
  }

  private async initialize(init: PackedBatch | null): Promise<void> {
    if (init) {
      try {
        await this.codec.importModules(init.modules);
        const [only] = unpackBatch(init);
        const [fn, args] = this.codec.load(only!.bytes, only!.buffers) as [unknown, unknown[]];
        const r = asCallable(fn)(...args);
        if (isThenable(r)) await r;
      } catch (e) {
        const transfer = new Set<ArrayBuffer>();
        const packed = packBatch([this.packError(e)], transfer, true);
        this.post({ type: 'initFailed', ...packed }, [...transfer]);
        return;
      }
    }
    this.post({ type: 'ready' });
  }

  private receive(m: ToWorker): void {
    if (m.type === 'retire') {
      this.retiring = true;
      if (!this.running) this.retire();
      return;
    }
    this.pending.push(m);
    if (!this.running) void this.run();
  }

  private retire(): void {
    this.flush();
    this.post({ type: 'retired' });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.pending.length > 0) {
      const batch = this.pending.shift()!;
      if (!this.codec.hasModules(batch.modules)) {
        try {
          await this.codec.importModules(batch.modules);
        } catch {
          // Each task will fail to resolve its function and report why.
        }
      }
      let seq = batch.firstSeq;
      for (const task of unpackBatch(batch)) {
        // Only a task that returns a promise, or whose result needs a module import, waits.
        const done = this.runTask(seq++, task.bytes, task.buffers);
        if (done) await done;
        if (performance.now() - this.outSince >= FLUSH_MS) this.flush();
      }
    }
    this.flush();
    this.running = false;
    if (this.retiring) this.retire();
  }

  private runTask(
    seq: number,
    bytes: Uint8Array,
    buffers: ArrayBufferView[],
  ): Promise<void> | void {
    Atomics.store(this.progress, RUNNING, seq + 1);
    const started = performance.now();
    let result: unknown;
    try {
      const [mode, fn, args] = this.codec.load(bytes, buffers) as [TaskMode, unknown, unknown[]];
      result = execute(mode, asCallable(fn), args);
    } catch (e) {
      return this.finishTask(seq, started, false, e);
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (value) => this.finishTask(seq, started, true, value),
        (e: unknown) => this.finishTask(seq, started, false, e),
      );
    }
    return this.finishTask(seq, started, true, result);
  }

  private finishTask(
    seq: number,
    started: number,
    ok: boolean,
    result: unknown,
  ): Promise<void> | void {
    Atomics.store(this.progress, RUNNING, 0);
    Atomics.store(this.progress, DONE, seq + 1);
    const ms = performance.now() - started;
    try {
      this.queueResult(seq, ms, ok, this.codec.dump(result));
    } catch (e) {
      this.queueResult(seq, ms, false, this.unsendable(ok, e));
    }
  }

  /** The error sent when a task's result (or error) cannot be pickled. */
  private unsendable(ok: boolean, e: unknown): Packed {
    return this.packError(
      new TypeError(
        `the task's ${ok ? 'result' : 'error'} cannot be sent back: ${(e as Error).message}`,
        { cause: e },
      ),
    );
  }

  private queueResult(seq: number, ms: number, ok: boolean, packed: Packed): void {
    if (this.out.length === 0) {
      this.outFirstSeq = seq;
      this.outSince = performance.now();
    }
    if (!ok) this.failed.push(this.out.length);
    this.out.push(packed);
    this.durations.push(ms);
  }

  /** An error as a pickle; one that cannot be pickled whole goes as its class, message, stack. */
  private packError(e: unknown): Packed {
    try {
      return this.codec.dump(e);
    } catch {
      const err = e instanceof Error ? e : new Error(String(e));
      const plain = new Error(err.message);
      plain.name = err.name;
      plain.stack = err.stack ?? '';
      return this.codec.dump(plain);
    }
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const transfer = new Set<ArrayBuffer>();
    const packed = packBatch(this.out, transfer, true);
    const message: FromWorker = {
      type: 'results',
      firstSeq: this.outFirstSeq,
      failed: this.failed,
      durations: this.durations,
      ...packed,
    };
    this.out = [];
    this.failed = [];
    this.durations = [];
    this.post(message, [...transfer]);
  }
}

/** Runs one task; a promise only when the function returned one. */
function execute(mode: TaskMode, fn: Callable, args: unknown[]): unknown {
  if (mode === TaskMode.APPLY) return fn(...args);
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) {
    const r = mode === TaskMode.MAP ? fn(args[i]) : fn(...(args[i] as unknown[]));
    if (isThenable(r)) return finishChunk(mode, fn, args, out, i, r);
    out[i] = r;
  }
  return out;
}

/** The rest of a chunk once one item returned a promise: each item awaited before the next. */
async function finishChunk(
  mode: TaskMode,
  fn: Callable,
  args: unknown[],
  out: unknown[],
  from: number,
  first: PromiseLike<unknown>,
): Promise<unknown[]> {
  out[from] = await first;
  for (let i = from + 1; i < args.length; i++) {
    const r = mode === TaskMode.MAP ? fn(args[i]) : fn(...(args[i] as unknown[]));
    out[i] = isThenable(r) ? await r : r;
  }
  return out;
}

if (parentPort) new WorkerLoop(parentPort, workerData as WorkerStart);
