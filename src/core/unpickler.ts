/**
 * `loads`, `loadAll` and `Unpickler`: bytes to values. The decode loop is one `for`: read an
 * opcode byte, call its handler from a 256-entry table. No recursion on nesting depth.
 * `StreamUnpickler` runs the same handlers over input that arrives in chunks.
 */
import { ErrorCode, PickleError, UnpicklingError } from './errors.js';
import { DISPATCH, EXACT_DISPATCH } from './handlers.js';
import { Machine, type UnpicklerOptions } from './machine.js';
import { OP, opcodeName } from './opcodes.js';
import { ByteArray } from './python/bytes.js';
import { NeedMoreInput, Reader } from './reader.js';
import { TextError, decodeUtf8 } from './text.js';
import { CHECKPOINT_BYTES, HEAP_COST_BY_CODE } from './limits.js';

export type { UnpicklerOptions } from './machine.js';

/** Anything that holds bytes. */
export type BytesLike = Uint8Array | ArrayBufferView | ArrayBuffer;

/** Clears what one pickle leaves in the machine; the memo carries over to the next. */
function resetForLoad(m: Machine): void {
  m.unsize();
  m.stack.length = 0;
  m.sp = 0;
  m.marks.length = 0;
  m.fence = 0;
  m.proto = 0;
  m.needsFixup = false;
  m.lastReduced = null;
  m.freshList = null;
  m.freshDict = null;
}

/** Python's `EOFError`: no pickle starts here. */
function ranOutOfInput(r: Reader): UnpicklingError {
  r.opStart = r.pos;
  return new UnpicklingError(ErrorCode.EOF, 'Ran out of input', { offset: r.base + r.pos });
}

/**
 * At STOP: the value on top of the stack, as CPython's C unpickler pops it (values below it, or a
 * MARK left open, are ignored as they are there), then the checks that need the whole value.
 */
function finishLoad(m: Machine): unknown {
  m.unsize();
  m.checkpoint();
  let value = m.pop();
  // Drop the stack's stale slots, which would otherwise keep values alive until the next load.
  m.stack.length = 0;
  m.sp = 0;
  if (m.needsFixup) value = m.fixup(value);
  m.checkDepth(value);
  return value;
}

/**
 * What the engine cannot hold (an array, Map or Set past its size limit, a string or bigint too
 * long) surfaces as a RangeError: it becomes a `LIMIT_EXCEEDED` error at the opcode.
 */
function engineLimit(e: unknown, r: Reader): unknown {
  if (!(e instanceof RangeError) || e instanceof PickleError) return e;
  if (!ENGINE_LIMIT.test(e.message)) return e;
  return r.error(
    ErrorCode.LIMIT_EXCEEDED,
    `the JavaScript engine cannot hold this value (${e.message})`,
    e,
  );
}

const ENGINE_LIMIT =
  /invalid (array|string|typed array) length|maximum (bigint )?size|allocation failed|out of memory/i;

function toUint8Array(data: BytesLike): Uint8Array {
  // A plain view even for a Node Buffer, so values sliced from it are plain Uint8Arrays.
  if (data instanceof Uint8Array && data.constructor === Uint8Array) return data;
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`Expected bytes (Uint8Array, ArrayBuffer or a view), got ${typeof data}`);
}

/**
 * Reads pickles from a buffer, one per `load()`, the way Python's `pickle.Unpickler` reads them
 * from a file: the memo carries over from one pickle to the next.
 *
 * @example
 * ```ts
 * const u = new Unpickler(bytes);
 * while (!u.atEnd) console.log(u.load());
 * ```
 */
export class Unpickler {
  private readonly reader: Reader;
  private readonly machine: Machine;
  private readonly dispatch: typeof DISPATCH;

  constructor(data: BytesLike, options: UnpicklerOptions = {}) {
    const bytes = toUint8Array(data);
    this.reader = new Reader(bytes);
    this.reader.shareInput = options.zeroCopy === true;
    this.machine = new Machine(this.reader, options);
    this.reader.inputLimit = this.machine.limits.maxInputBytes;
    this.reader.setWindow(bytes, bytes.length, 0, false);
    this.dispatch = options.exact ? EXACT_DISPATCH : DISPATCH;
  }

  /** Byte offset of the next pickle (after the last STOP read). */
  get position(): number {
    return this.reader.pos;
  }

  /** Whether every byte has been read. */
  get atEnd(): boolean {
    return this.reader.pos >= this.reader.filled;
  }

  /** Reads the next pickle and returns its value. */
  load(): unknown {
    const r = this.reader;
    const m = this.machine;
    const dispatch = this.dispatch;
    const data = r.data;
    const cost = HEAP_COST_BY_CODE;
    resetForLoad(m);
    if (r.pos >= r.filled) throw ranOutOfInput(r);
    const stop = OP.STOP;
    // The loop's one bounds test also stops it every CHECKPOINT_BYTES for the limits.
    let check = Math.min(r.end, r.pos + CHECKPOINT_BYTES);
    try {
      for (;;) {
        const start = r.pos;
        if (start >= check) {
          if (start >= r.end) {
            r.opStart = start;
            if (r.end < r.filled) r.truncated(start + 1); // the maxInputBytes limit
            throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated: no STOP', {
              offset: start,
            });
          }
          m.checkpoint();
          check = Math.min(r.end, start + CHECKPOINT_BYTES);
        }
        const code = data[start]!;
        r.opStart = start;
        r.pos = start + 1;
        m.heap += cost[code]!;
        const handler = dispatch[code];
        if (handler !== undefined) {
          handler(m);
        } else if (code === stop) {
          break;
        } else {
          throw new UnpicklingError(
            ErrorCode.UNKNOWN_OPCODE,
            `invalid load key, '\\x${code.toString(16).padStart(2, '0')}'`,
            { offset: start },
          );
        }
      }
    } catch (e) {
      m.unsize();
      throw engineLimit(e, r);
    }
    return finishLoad(m);
  }

  /** Loads every remaining pickle. */
  *[Symbol.iterator](): Generator<unknown, void, undefined> {
    while (!this.atEnd) yield this.load();
  }
}

/**
 * The value of the pickle at the start of `data` (bytes after its STOP are ignored, as in
 * Python).
 *
 * @example
 * ```ts
 * loads(new Uint8Array([0x80, 0x04, 0x4b, 0x2a, 0x2e])); // 42
 * ```
 */
export function loads(data: BytesLike, options: UnpicklerOptions = {}): unknown {
  return new Unpickler(data, options).load();
}

/** Every pickle in `data`, one after another (a file written by repeated `pickle.dump`). */
export function loadAll(
  data: BytesLike,
  options: UnpicklerOptions = {},
): Generator<unknown, void, undefined> {
  return new Unpickler(data, options)[Symbol.iterator]();
}

/** Something that delivers a pickle's bytes in chunks: an async iterable, an iterable, or a web `ReadableStream`. */
export type ChunkSource =
  | AsyncIterable<BytesLike>
  | Iterable<BytesLike>
  | {
      getReader(): {
        read(): Promise<{ done: boolean; value?: BytesLike | undefined }>;
        releaseLock(): void;
      };
    };

/** Payloads at least this much larger than what is buffered are read straight into their value. */
const LARGE_PAYLOAD = 1 << 20;
/** The first window; it grows to the largest opcode that has to be buffered whole. */
const INITIAL_WINDOW = 1 << 16;
/** Chunks this large are read in place rather than copied into the window. */
const ADOPT_CHUNK = 1 << 20;

/** The opcodes whose large payloads bypass the window: their header size and value. */
const DIRECT_PAYLOADS: ReadonlyMap<
  number,
  { header: number; kind: 'bytes' | 'bytearray' | 'str' }
> = new Map([
  [OP.BINBYTES, { header: 5, kind: 'bytes' }],
  [OP.BINBYTES8, { header: 9, kind: 'bytes' }],
  [OP.BYTEARRAY8, { header: 9, kind: 'bytearray' }],
  [OP.BINUNICODE, { header: 5, kind: 'str' }],
  [OP.BINUNICODE8, { header: 9, kind: 'str' }],
]);

/** The chunks of a source as plain `Uint8Array`s (also used by pickle-ts/node for its sources). */
export async function* chunksOf(source: ChunkSource): AsyncGenerator<Uint8Array, void, undefined> {
  if (Symbol.asyncIterator in source || Symbol.iterator in source) {
    for await (const chunk of source as AsyncIterable<BytesLike | string>) {
      if (typeof chunk === 'string') {
        throw new TypeError(
          'Expected a stream of bytes, got a string chunk: open the stream without an encoding',
        );
      }
      yield toUint8Array(chunk);
    }
    return;
  }
  // A web ReadableStream without async iteration (Chromium, Safari).
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value !== undefined) yield toUint8Array(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Reads pickles from input that arrives in chunks (a file or socket stream, a web
 * `ReadableStream`), as Python's `pickle.Unpickler` reads a file: it never needs the whole input
 * in one buffer. Small opcodes are buffered in a window that holds about one chunk; a large
 * `bytes`, `bytearray` or `str` payload is copied from the chunks straight into its value. Values
 * and errors are the same as `loads` gives for the same bytes, and the memo carries over from one
 * pickle to the next.
 *
 * @example
 * ```ts
 * const u = new StreamUnpickler(response.body!);
 * while (!(await u.atEnd())) console.log(await u.load());
 * ```
 */
export class StreamUnpickler {
  private readonly reader = new Reader(new Uint8Array(INITIAL_WINDOW), 0);
  private readonly machine: Machine;
  private readonly dispatch: typeof DISPATCH;
  private readonly chunks: AsyncIterator<Uint8Array, void, undefined>;
  private readonly inputLength: number | undefined;
  private ended = false;
  /** Bytes the source has delivered so far. */
  private received = 0;
  /** False while the window is a caller's chunk, which must not be written to. */
  private windowIsOurs = true;
  /** A load is running (loads on one stream must not overlap). */
  private busy = false;

  constructor(source: ChunkSource, options: StreamUnpicklerOptions = {}) {
    this.chunks = chunksOf(source);
    this.machine = new Machine(this.reader, options);
    this.dispatch = options.exact ? EXACT_DISPATCH : DISPATCH;
    this.inputLength = options.inputLength;
    this.reader.inputLimit = this.machine.limits.maxInputBytes;
    this.reader.setWindow(this.reader.data, 0, 0, true);
  }

  /** Input offset of the next pickle (after the last STOP read). */
  get position(): number {
    return this.reader.base + this.reader.pos;
  }

  /** Whether the input has ended with every byte read (waits for input to tell). */
  async atEnd(): Promise<boolean> {
    const r = this.reader;
    if (r.pos < r.filled) return false;
    await this.fill(r.base + r.pos + 1);
    return r.pos >= r.filled;
  }

  /** Reads the next pickle and returns its value. */
  async load(): Promise<unknown> {
    if (this.busy) throw new Error('StreamUnpickler.load() called before the previous load ended');
    this.busy = true;
    try {
      const r = this.reader;
      const m = this.machine;
      resetForLoad(m);
      if (await this.atEnd()) throw ranOutOfInput(r);
      try {
        while (!this.run()) {
          const wantEnd = r.needMore.wantEnd;
          if (this.inputLength !== undefined && wantEnd > this.inputLength) {
            // The input's length is known: no need to wait for bytes that will never come.
            throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated', {
              offset: r.base + r.opStart,
              opcode: opcodeName(r.data[r.opStart]),
            });
          }
          if (!(await this.readLargePayload(wantEnd))) await this.fill(wantEnd);
        }
      } catch (e) {
        // Inside a large FRAME that was not buffered ahead, CPython (which reads a frame whole)
        // would have failed at the FRAME if the input is shorter than it: so do we.
        if (e instanceof PickleError && r.bigFrames.length > 0) {
          const at = await this.shortFrame(true);
          if (at !== undefined) throw shortFrame(at);
        }
        throw e;
      }
      await this.checkFrameEnd();
      return finishLoad(m);
    } finally {
      this.busy = false;
    }
  }

  /**
   * A FRAME longer than `STREAM_FRAME_LIMIT` is not buffered ahead; CPython reads a frame whole,
   * so a pickle whose frame claims more bytes than the input holds fails there, and here.
   */
  private async checkFrameEnd(): Promise<void> {
    if (this.reader.bigFrames.length === 0) return;
    const at = await this.shortFrame(false);
    if (at !== undefined) throw shortFrame(at);
  }

  /**
   * The offset of the first large FRAME (`reader.bigFrames`) that the input is too short to
   * hold, or undefined when it holds them all. Reads the input up to the furthest frame end:
   * into the window (at STOP: the bytes after STOP still belong to the stream), or, after an
   * error (`discard`), counting bytes without keeping them, so memory stays bounded.
   */
  private async shortFrame(discard: boolean): Promise<number | undefined> {
    const r = this.reader;
    const frames = r.bigFrames;
    let furthest = 0;
    for (let i = 1; i < frames.length; i += 2) furthest = Math.max(furthest, frames[i]!);
    let have: number;
    if (this.inputLength !== undefined) have = this.inputLength;
    else if (furthest > r.inputLimit) have = r.inputLimit;
    else if (!discard) {
      await this.fill(furthest);
      have = this.received;
    } else {
      while (this.received < furthest && (await this.nextChunk()) !== undefined);
      have = this.received;
    }
    for (let i = 0; i < frames.length; i += 2) if (frames[i + 1]! > have) return frames[i];
    frames.length = 0;
    return undefined;
  }

  /** Loads every remaining pickle. */
  async *[Symbol.asyncIterator](): AsyncGenerator<unknown, void, undefined> {
    while (!(await this.atEnd())) yield await this.load();
  }

  /**
   * Runs opcodes over the buffered bytes: true at STOP, false when an opcode needs bytes that
   * have not arrived (the position is then back at that opcode's start).
   */
  private run(): boolean {
    const r = this.reader;
    const m = this.machine;
    const dispatch = this.dispatch;
    const data = r.data;
    const cost = HEAP_COST_BY_CODE;
    const stop = OP.STOP;
    let check = Math.min(r.end, r.pos + CHECKPOINT_BYTES);
    try {
      for (;;) {
        const start = r.pos;
        r.opStart = start;
        if (start >= check) {
          if (start >= r.end) {
            if (!this.ended || r.end < r.filled) r.truncated(start + 1);
            throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated: no STOP', {
              offset: r.base + start,
            });
          }
          m.checkpoint();
          check = Math.min(r.end, start + CHECKPOINT_BYTES);
        }
        const code = data[start]!;
        r.pos = start + 1;
        m.heap += cost[code]!;
        const handler = dispatch[code];
        if (handler !== undefined) {
          handler(m);
        } else if (code === stop) {
          return true;
        } else {
          throw new UnpicklingError(
            ErrorCode.UNKNOWN_OPCODE,
            `invalid load key, '\\x${code.toString(16).padStart(2, '0')}'`,
            { offset: r.base + start },
          );
        }
      }
    } catch (e) {
      if (!(e instanceof NeedMoreInput)) {
        m.unsize();
        throw engineLimit(e, r);
      }
      // The opcode runs again when its bytes are there: take back what it was charged.
      m.heap -= cost[data[r.opStart]!]!;
      r.pos = r.opStart;
      return false;
    }
  }

  /** The source's next chunk (counted in `received`), or undefined once it has ended. */
  private async nextChunk(): Promise<Uint8Array | undefined> {
    if (this.ended) return undefined;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return undefined;
    }
    this.received += next.value.length;
    return next.value;
  }

  /** Reads chunks until the input reaches offset `wantEnd` or ends. */
  private async fill(wantEnd: number): Promise<void> {
    const r = this.reader;
    while (r.base + r.filled < wantEnd) {
      const chunk = await this.nextChunk();
      if (chunk === undefined) break;
      this.append(chunk);
    }
    r.setWindow(r.data, r.filled, r.base, !this.ended);
  }

  /** Adds a chunk after the buffered bytes, dropping the bytes already decoded. */
  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const r = this.reader;
    const keep = r.pos;
    const live = r.filled - keep;
    let data = r.data;
    if (live === 0 && chunk.length >= ADOPT_CHUNK) {
      // A large chunk with nothing left to keep becomes the window as it is: no copy. It is
      // never written to (values are copied out of it), and the next chunk moves to a new window.
      r.pos = r.opStart = 0;
      r.setWindow(chunk, chunk.length, r.base + keep, true);
      this.windowIsOurs = false;
      return;
    }
    if (this.windowIsOurs && r.filled + chunk.length <= data.length) {
      data.set(chunk, r.filled);
      r.setWindow(data, r.filled + chunk.length, r.base, true);
      return;
    }
    const size = live + chunk.length;
    if (!this.windowIsOurs || size > data.length) {
      // Geometric growth (1.5x past 1 MiB), so that a long text line arriving in small chunks
      // is copied O(1) times per byte, not once per chunk.
      const grown = new Uint8Array(
        Math.max(size < ADOPT_CHUNK ? 2 * size : size + (size >> 1), INITIAL_WINDOW),
      );
      grown.set(data.subarray(keep, r.filled));
      data = grown;
      this.windowIsOurs = true;
    } else {
      data.copyWithin(0, keep, r.filled);
    }
    data.set(chunk, live);
    r.pos -= keep;
    r.opStart -= keep;
    r.setWindow(data, size, r.base + keep, true);
  }

  /**
   * BINBYTES, BINBYTES8, BYTEARRAY8, BINUNICODE, BINUNICODE8 with a payload far larger than the
   * buffered bytes: read it from the chunks into a buffer of its own, instead of growing the
   * window to hold it and then copying it out. Pushes the handler's value, or throws its error.
   * False when the opcode is not one of those (the caller then buffers as usual).
   *
   * The buffer is allocated for the bytes that have arrived, not for what the length field
   * claims: it starts at 1 MiB and doubles as the payload comes in, so a short input that claims
   * a huge payload costs no more than its own size. When the input's length is known
   * (`inputLength`), a claim that fits it is allocated at once, exactly.
   */
  private async readLargePayload(wantEnd: number): Promise<boolean> {
    const r = this.reader;
    const start = r.opStart;
    const code = r.data[start]!;
    const direct = DIRECT_PAYLOADS.get(code);
    if (direct === undefined || this.ended || wantEnd - (r.base + r.filled) < LARGE_PAYLOAD) {
      return false;
    }
    const payloadStart = start + direct.header;
    const size = wantEnd - (r.base + payloadStart);
    const at = { offset: r.base + start, opcode: opcodeName(code) };
    const m = this.machine;
    let filled = r.filled - payloadStart;
    let payload = this.allocate(
      this.inputLength !== undefined ? size : Math.min(size, Math.max(LARGE_PAYLOAD, 2 * filled)),
      size,
      at,
    );
    payload.set(r.data.subarray(payloadStart, r.filled));
    // The window is empty now; the next opcode starts right after the payload.
    r.pos = r.opStart = 0;
    r.setWindow(r.data, 0, wantEnd, true);
    while (filled < size) {
      const chunk = await this.nextChunk();
      if (chunk === undefined) {
        r.setWindow(r.data, 0, wantEnd, false);
        throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated', at);
      }
      const take = Math.min(chunk.length, size - filled);
      if (filled + take > payload.length) {
        const grown = this.allocate(
          Math.min(size, Math.max(2 * payload.length, filled + take)),
          size,
          at,
        );
        grown.set(payload.subarray(0, filled));
        payload = grown;
      }
      payload.set(take === chunk.length ? chunk : chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.length) this.append(chunk.subarray(take));
    }
    m.heap += HEAP_COST_BY_CODE[code]!;
    if (direct.kind === 'str') m.charge(size);
    m.push(directValue(direct.kind, payload, at));
    return true;
  }

  private allocate(
    n: number,
    size: number,
    at: { offset: number; opcode: string | undefined },
  ): Uint8Array<ArrayBuffer> {
    try {
      return new Uint8Array(n);
    } catch (e) {
      throw new UnpicklingError(
        ErrorCode.LIMIT_EXCEEDED,
        `a payload of ${size} bytes is larger than this JavaScript engine can hold`,
        { ...at, cause: e },
      );
    }
  }
}

/** TRUNCATED at a FRAME (at input offset `at`) whose bytes the input does not hold. */
function shortFrame(at: number): UnpicklingError {
  return new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated', {
    offset: at,
    opcode: 'FRAME',
  });
}

/** Options for `StreamUnpickler`: those of `loads`, and the input's length if it is known. */
export interface StreamUnpicklerOptions extends UnpicklerOptions {
  /**
   * How many bytes the source delivers, if known (a file's size): a length field that claims
   * more fails at once, and large payloads are read into buffers of their exact size.
   */
  inputLength?: number;
}

/** The value a BINBYTES*, BYTEARRAY8 or BINUNICODE* handler would push for `payload`. */
function directValue(
  kind: 'bytes' | 'bytearray' | 'str',
  payload: Uint8Array<ArrayBuffer>,
  at: { offset: number; opcode: string | undefined },
): unknown {
  if (kind === 'bytes') return payload;
  if (kind === 'bytearray') return new ByteArray(payload.buffer);
  try {
    return decodeUtf8(payload, 0, payload.length);
  } catch (e) {
    if (e instanceof TextError) {
      throw new UnpicklingError(ErrorCode.BAD_ENCODING, e.message, { ...at, cause: e });
    }
    throw e;
  }
}

/**
 * Instances kept for the module's life, never used again. V8 ties optimized code to the hidden
 * classes (maps) of the objects it ran on, and a map lives only while some object has it: a full
 * gc between two loads, with no unpickler alive, threw the decode loop's optimized code away
 * (`reason: weak objects` in `--trace-deopt`), and the next load ran unoptimized while V8
 * optimized it again. Loads after a full gc, medians of 9, before -> after: 1M ints 12.4-13.6
 * -> 8.0-8.8 ms, dicts 63-67 -> 48-49, records 92-100 -> 64-77. A kept Unpickler that had loaded
 * a small pickle removed only part of the slowdown, a kept StreamUnpickler all of it; which of
 * the objects it holds makes the difference was not pinned down.
 */
export const KEEP_MAPS: readonly object[] = [
  new StreamUnpickler([]),
  new Unpickler(new Uint8Array([0x80, 0x04, 0x5d, 0x94, 0x28, 0x4b, 0x01, 0x65, 0x2e])),
];
