/**
 * `loads`, `loadAll` and `Unpickler`: bytes to values. The decode loop is one `for`: read an
 * opcode byte, call its handler from a 256-entry table. No recursion on nesting depth.
 * `StreamUnpickler` runs the same handlers over input that arrives in chunks.
 */
import { ErrorCode, UnpicklingError } from './errors.js';
import { DISPATCH, EXACT_DISPATCH } from './handlers.js';
import { Machine, type UnpicklerOptions } from './machine.js';
import { OP, opcodeName } from './opcodes.js';
import { ByteArray } from './python/bytes.js';
import { NeedMoreInput, Reader } from './reader.js';
import { TextError, decodeUtf8 } from './text.js';

export type { UnpicklerOptions } from './machine.js';

/** Anything that holds bytes. */
export type BytesLike = Uint8Array | ArrayBufferView | ArrayBuffer;

/** Clears what one pickle leaves in the machine; the memo carries over to the next. */
function resetForLoad(m: Machine): void {
  m.stack.length = 0;
  m.marks.length = 0;
  m.fence = 0;
  m.proto = 0;
  m.needsFixup = false;
  m.lastReduced = null;
}

/** Python's `EOFError`: no pickle starts here. */
function ranOutOfInput(r: Reader): UnpicklingError {
  r.opStart = r.pos;
  return new UnpicklingError(ErrorCode.EOF, 'Ran out of input', { offset: r.base + r.pos });
}

/** At STOP: exactly one value and no open MARK, as a well-formed pickle leaves. */
function finishLoad(m: Machine): unknown {
  if (m.marks.length > 0) {
    throw m.error(ErrorCode.BAD_STACK, 'MARK left open at STOP');
  }
  if (m.stack.length !== 1) {
    if (m.stack.length === 0) m.underflow();
    throw m.error(
      ErrorCode.BAD_STACK,
      `${m.stack.length} values left on the stack at STOP, expected 1`,
    );
  }
  const value = m.stack.pop();
  return m.needsFixup ? m.fixup(value) : value;
}

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
    this.reader = new Reader(toUint8Array(data));
    this.reader.shareInput = options.zeroCopy === true;
    this.machine = new Machine(this.reader, options);
    this.dispatch = options.exact ? EXACT_DISPATCH : DISPATCH;
  }

  /** Byte offset of the next pickle (after the last STOP read). */
  get position(): number {
    return this.reader.pos;
  }

  /** Whether every byte has been read. */
  get atEnd(): boolean {
    return this.reader.pos >= this.reader.end;
  }

  /** Reads the next pickle and returns its value. */
  load(): unknown {
    const r = this.reader;
    const m = this.machine;
    const dispatch = this.dispatch;
    const data = r.data;
    resetForLoad(m);
    if (r.pos >= r.end) throw ranOutOfInput(r);
    const stop = OP.STOP;
    for (;;) {
      const start = r.pos;
      if (start >= r.end) {
        throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated: no STOP', {
          offset: start,
        });
      }
      const code = data[start]!;
      r.opStart = start;
      r.pos = start + 1;
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

async function* chunksOf(source: ChunkSource): AsyncGenerator<Uint8Array, void, undefined> {
  if (Symbol.asyncIterator in source || Symbol.iterator in source) {
    for await (const chunk of source as AsyncIterable<BytesLike>) yield toUint8Array(chunk);
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
  private ended = false;
  /** False while the window is a caller's chunk, which must not be written to. */
  private windowIsOurs = true;
  /** A load is running (loads on one stream must not overlap). */
  private busy = false;

  constructor(source: ChunkSource, options: UnpicklerOptions = {}) {
    this.chunks = chunksOf(source);
    this.machine = new Machine(this.reader, options);
    this.dispatch = options.exact ? EXACT_DISPATCH : DISPATCH;
    this.reader.setWindow(this.reader.data, 0, 0, true);
  }

  /** Input offset of the next pickle (after the last STOP read). */
  get position(): number {
    return this.reader.base + this.reader.pos;
  }

  /** Whether the input has ended with every byte read (waits for input to tell). */
  async atEnd(): Promise<boolean> {
    const r = this.reader;
    if (r.pos < r.end) return false;
    await this.fill(r.base + r.pos + 1);
    return r.pos >= r.end;
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
      while (!this.run()) {
        const wantEnd = r.needMore.wantEnd;
        if (!(await this.readLargePayload(wantEnd))) await this.fill(wantEnd);
      }
      return finishLoad(m);
    } finally {
      this.busy = false;
    }
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
    const stop = OP.STOP;
    try {
      for (;;) {
        const start = r.pos;
        r.opStart = start;
        if (start >= r.end) {
          if (!this.ended) r.truncated(start + 1);
          throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated: no STOP', {
            offset: r.base + start,
          });
        }
        const code = data[start]!;
        r.pos = start + 1;
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
      if (!(e instanceof NeedMoreInput)) throw e;
      r.pos = r.opStart;
      return false;
    }
  }

  /** Reads chunks until the input reaches offset `wantEnd` or ends. */
  private async fill(wantEnd: number): Promise<void> {
    const r = this.reader;
    while (!this.ended && r.base + r.end < wantEnd) {
      const next = await this.chunks.next();
      if (next.done) this.ended = true;
      else this.append(next.value);
    }
    r.setWindow(r.data, r.end, r.base, !this.ended);
  }

  /** Adds a chunk after the buffered bytes, dropping the bytes already decoded. */
  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const r = this.reader;
    const keep = r.pos;
    const live = r.end - keep;
    let data = r.data;
    if (live === 0 && chunk.length >= ADOPT_CHUNK) {
      // A large chunk with nothing left to keep becomes the window as it is: no copy. It is
      // never written to (values are copied out of it), and the next chunk moves to a new window.
      r.pos = r.opStart = 0;
      r.setWindow(chunk, chunk.length, r.base + keep, true);
      this.windowIsOurs = false;
      return;
    }
    if (this.windowIsOurs && r.end + chunk.length <= data.length) {
      data.set(chunk, r.end);
      r.setWindow(data, r.end + chunk.length, r.base, true);
      return;
    }
    const size = live + chunk.length;
    if (!this.windowIsOurs || size > data.length) {
      const grown = new Uint8Array(Math.max(size < ADOPT_CHUNK ? 2 * size : size, INITIAL_WINDOW));
      grown.set(data.subarray(keep, r.end));
      data = grown;
      this.windowIsOurs = true;
    } else {
      data.copyWithin(0, keep, r.end);
    }
    data.set(chunk, live);
    r.pos -= keep;
    r.opStart -= keep;
    r.setWindow(data, size, r.base + keep, true);
  }

  /**
   * BINBYTES, BINBYTES8, BYTEARRAY8, BINUNICODE, BINUNICODE8 with a payload far larger than the
   * buffered bytes: read it from the chunks into a buffer of its own size, instead of growing
   * the window to hold it and then copying it out. Pushes the handler's value, or throws its
   * error. False when the opcode is not one of those (the caller then buffers as usual).
   */
  private async readLargePayload(wantEnd: number): Promise<boolean> {
    const r = this.reader;
    const start = r.opStart;
    const code = r.data[start]!;
    const direct = DIRECT_PAYLOADS.get(code);
    if (direct === undefined || this.ended || wantEnd - (r.base + r.end) < LARGE_PAYLOAD) {
      return false;
    }
    const payloadStart = start + direct.header;
    const size = wantEnd - (r.base + payloadStart);
    const at = { offset: r.base + start, opcode: opcodeName(code) };
    let payload: Uint8Array<ArrayBuffer> | undefined;
    try {
      payload = new Uint8Array(size);
    } catch {
      payload = undefined; // more than this engine can hold: count the bytes for the right error
    }
    let filled = r.end - payloadStart;
    payload?.set(r.data.subarray(payloadStart, r.end));
    // The window is empty now; the next opcode starts right after the payload.
    r.pos = r.opStart = 0;
    r.setWindow(r.data, 0, wantEnd, true);
    while (filled < size) {
      const next = await this.chunks.next();
      if (next.done) {
        this.ended = true;
        r.setWindow(r.data, 0, wantEnd, false);
        throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle data was truncated', at);
      }
      const chunk = next.value;
      const take = Math.min(chunk.length, size - filled);
      payload?.set(take === chunk.length ? chunk : chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.length) this.append(chunk.subarray(take));
    }
    if (payload === undefined) {
      throw new UnpicklingError(
        ErrorCode.LIMIT_EXCEEDED,
        `a payload of ${size} bytes is larger than this JavaScript engine can hold`,
        at,
      );
    }
    this.machine.stack.push(directValue(direct.kind, payload, at));
    return true;
  }
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
