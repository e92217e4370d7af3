/**
 * The messages between the pool and a worker. Tasks and results travel in batches: one
 * `postMessage` carries many pickles, concatenated into one transferred buffer, with their
 * out-of-band buffers beside it. A worker runs its tasks in the order received and answers in
 * that order, so a batch of results names only the sequence number of its first task.
 */
import type { Packed } from './codec.js';

/** What a task asks the worker to do with its function and arguments. */
export const TaskMode = {
  /** `fn(...args)`. */
  APPLY: 0,
  /** `items.map(fn)`: one chunk of `map`/`imap`. */
  MAP: 1,
  /** `items.map((args) => fn(...args))`: one chunk of `starmap`. */
  STARMAP: 2,
} as const;
export type TaskMode = (typeof TaskMode)[keyof typeof TaskMode];

/** Pickles packed together for one message. */
export interface PackedBatch {
  /** The pickles, one after another. */
  data: Uint8Array;
  /** Where each pickle ends in `data`. */
  ends: number[];
  /** Every out-of-band buffer, in order; `bufferCounts[i]` of them belong to pickle `i`. */
  buffers: ArrayBufferView[];
  bufferCounts: number[];
  /** Modules the receiver must import before unpickling. */
  modules: string[];
}

export interface TasksMessage extends PackedBatch {
  type: 'tasks';
  /** Sequence number (per worker) of the first task; the others follow on. */
  firstSeq: number;
}

export interface ResultsMessage extends PackedBatch {
  type: 'results';
  firstSeq: number;
  /** Indexes (in this batch) of results that are errors thrown by the task. */
  failed: number[];
  /** Milliseconds the worker spent running each task. */
  durations: number[];
}

export type ToWorker = TasksMessage | { type: 'retire' };

export type FromWorker =
  ResultsMessage | { type: 'ready' } | ({ type: 'initFailed' } & PackedBatch) | { type: 'retired' };

/** What the worker is given when it starts. */
export interface WorkerStart {
  /** Pickle of `[initializer, initargs]`, or null. */
  init: PackedBatch | null;
  /** Slot [RUNNING] holds the running task's sequence number + 1 (0 when idle); slot [DONE] the
   * number of tasks finished. Read by the pool when the worker dies. */
  progress: SharedArrayBuffer;
}

export const RUNNING = 0;
export const DONE = 1;

/** Packs pickles into one batch. `transfer` collects what the message can move, not copy. */
export function packBatch(
  items: readonly Packed[],
  transfer: Set<ArrayBuffer>,
  moveBuffers: boolean,
): PackedBatch {
  let total = 0;
  for (const p of items) total += p.bytes.byteLength;
  const data = new Uint8Array(total);
  const ends: number[] = [];
  const buffers: ArrayBufferView[] = [];
  const bufferCounts: number[] = [];
  const modules = new Set<string>();
  let pos = 0;
  for (const p of items) {
    data.set(p.bytes, pos);
    pos += p.bytes.byteLength;
    ends.push(pos);
    bufferCounts.push(p.buffers.length);
    for (const b of p.buffers) buffers.push(outgoing(b, transfer, moveBuffers));
    for (const m of p.modules) modules.add(m);
  }
  transfer.add(data.buffer);
  return { data, ends, buffers, bufferCounts, modules: [...modules] };
}

/**
 * An out-of-band buffer as it goes into a message: shared memory as it is (the receiver sees
 * the same memory), else moved (`moveBuffers`) or copied once into a buffer of its own size,
 * which is then moved. (Posting a view without moving it would copy its whole ArrayBuffer,
 * however small the view.)
 */
function outgoing(
  view: ArrayBufferView,
  transfer: Set<ArrayBuffer>,
  moveBuffers: boolean,
): ArrayBufferView {
  const buffer = view.buffer;
  if (!(buffer instanceof ArrayBuffer)) return view;
  if (moveBuffers) {
    transfer.add(buffer);
    return view;
  }
  const copy = new Uint8Array(view.byteLength);
  copy.set(new Uint8Array(buffer, view.byteOffset, view.byteLength));
  transfer.add(copy.buffer);
  return copy;
}

/** The pickles of a batch, each with its bytes and out-of-band buffers. */
export function* unpackBatch(
  batch: PackedBatch,
): Generator<{ bytes: Uint8Array; buffers: ArrayBufferView[] }> {
  let start = 0;
  let b = 0;
  for (let i = 0; i < batch.ends.length; i++) {
    const end = batch.ends[i]!;
    const count = batch.bufferCounts[i]!;
    yield {
      bytes: batch.data.subarray(start, end),
      buffers: batch.buffers.slice(b, b + count),
    };
    start = end;
    b += count;
  }
}
