import { ErrorCode, UnpicklingError } from './errors.js';
import { opcodeName } from './opcodes.js';

/** The largest FRAME a streaming reader buffers whole before running its opcodes. */
export const STREAM_FRAME_LIMIT = 16 * 1024 * 1024;

/**
 * Thrown (never escaping the stream driver) when a streaming read needs bytes that have not
 * arrived yet. Not an `Error`: no stack trace to capture, since it is thrown once per chunk.
 */
export class NeedMoreInput {
  /** Input offset the failed read needed to reach (for a line: one byte past what is there). */
  wantEnd = 0;
}

/**
 * Bytes in. A cursor over one buffer with bounds-checked reads; every length is checked against
 * the bytes that remain before anything is allocated, so a pickle cannot claim more memory than
 * it has bytes.
 *
 * A streaming reader (`StreamUnpickler`) holds a window of the input instead: `data[0]` is input
 * byte `base`, and a read past `end` throws `NeedMoreInput` until the input has ended, so the
 * driver can rewind to the opcode's start, wait for more bytes and run the opcode again.
 * Handlers do all their reads before they change the machine's state, which makes that safe.
 */
export class Reader {
  data: Uint8Array;
  view: DataView;
  /** Reads stop here: the end of the bytes held, or the `maxInputBytes` limit if that is nearer. */
  end: number;
  /** The end of the bytes held (`data[0, filled)`). */
  filled: number;
  /** Input offset past which nothing may be read (the `maxInputBytes` limit). */
  inputLimit = Infinity;
  pos: number;
  /** Offset of the opcode being decoded, for error messages. */
  opStart: number;
  /** Input offset of `data[0]`: 0 for a whole buffer; grows as a stream window moves on. */
  base = 0;
  /** Whether more input may still arrive (a stream that has not ended). */
  private waiting = false;
  /** The one signal a streaming read throws; `wantEnd` says how far it needed to read. */
  readonly needMore = new NeedMoreInput();

  constructor(data: Uint8Array, pos = 0) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.end = this.filled = data.length;
    this.pos = pos;
    this.opStart = pos;
  }

  /** Replaces the window: `data[0, filled)` holds input from offset `base`. */
  setWindow(data: Uint8Array, filled: number, base: number, waiting: boolean): void {
    if (data !== this.data) {
      this.data = data;
      this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    }
    this.filled = filled;
    this.end = Math.min(filled, this.inputLimit - base);
    this.base = base;
    this.waiting = waiting;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** An `UnpicklingError` located at the current opcode. */
  error(code: ErrorCode, message: string, cause?: unknown): UnpicklingError {
    return new UnpicklingError(code, message, {
      offset: this.base + this.opStart,
      opcode: opcodeName(this.data[this.opStart]),
      cause,
    });
  }

  /**
   * A read ran past the input: TRUNCATED, or, when a read passes `wantEnd` (the window offset it
   * needed to reach) on a stream that may still deliver bytes, a request for more. Without
   * `wantEnd` the input is bad whatever follows (an empty line where one is required).
   */
  truncated(wantEnd?: number): never {
    if (wantEnd !== undefined && this.base + wantEnd > this.inputLimit) {
      throw this.error(
        ErrorCode.LIMIT_EXCEEDED,
        `reading ${this.base + wantEnd - this.inputLimit} bytes past the maxInputBytes limit of ` +
          `${this.inputLimit.toLocaleString('en-US')}; raise it with the option ` +
          `limits: { maxInputBytes: ... } if you trust this input`,
      );
    }
    if (this.waiting && wantEnd !== undefined) {
      this.needMore.wantEnd = this.base + wantEnd;
      throw this.needMore;
    }
    throw this.error(ErrorCode.TRUNCATED, 'pickle data was truncated');
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.pos) this.truncated(this.pos + n);
  }

  /**
   * FRAME: a whole buffer must hold the frame's `n` bytes, as in CPython's C unpickler. A
   * stream waits for frames of up to `STREAM_FRAME_LIMIT` (CPython writes ~64 KiB ones); a larger
   * claimed frame is not buffered ahead but noted in `bigFrames`, and the stream checks at STOP
   * (or on an error) that the input holds it, failing at the FRAME as CPython would.
   */
  frame(n: number): void {
    if (n > this.end - this.pos) {
      if (!(this.waiting && n > STREAM_FRAME_LIMIT)) this.truncated(this.pos + n);
      this.bigFrames.push(this.base + this.opStart, this.base + this.pos + n);
    }
  }

  /** Large frames a stream has not buffered: input offset of each FRAME, then its end. */
  readonly bigFrames: number[] = [];

  u8(): number {
    if (this.pos >= this.end) this.truncated(this.pos + 1);
    return this.data[this.pos++]!;
  }

  u16(): number {
    if (this.end - this.pos < 2) this.truncated(this.pos + 2);
    const d = this.data;
    const p = this.pos;
    this.pos = p + 2;
    return d[p]! | (d[p + 1]! << 8);
  }

  i32(): number {
    if (this.end - this.pos < 4) this.truncated(this.pos + 4);
    const d = this.data;
    const p = this.pos;
    this.pos = p + 4;
    return d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24);
  }

  u32(): number {
    return this.i32() >>> 0;
  }

  /** An unsigned 64-bit size. Sizes past 2**53 come back inexact, but no input is that long. */
  u64(): number {
    if (this.end - this.pos < 8) this.truncated(this.pos + 8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  /** An unsigned 64-bit integer, exactly. */
  u64big(): bigint {
    if (this.end - this.pos < 8) this.truncated(this.pos + 8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A big-endian IEEE 754 double (BINFLOAT). */
  f64(): number {
    if (this.end - this.pos < 8) this.truncated(this.pos + 8);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** Skips `n` bytes and returns where they start. */
  skip(n: number): number {
    if (n > this.end - this.pos) this.truncated(this.pos + n);
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  /** Whether `bytes()` returns views of the input instead of copies (the `zeroCopy` option). */
  shareInput = false;

  /** The next `n` bytes: a copy, or a view of the input when `shareInput` is set. */
  bytes(n: number): Uint8Array {
    const p = this.skip(n);
    return this.shareInput ? this.data.subarray(p, p + n) : this.data.slice(p, p + n);
  }

  /**
   * Input offsets `[a, b)` already searched for a newline in vain: a stream runs a line opcode
   * again as each chunk arrives, and searches only the new bytes, so a line split over many
   * chunks costs its length once, not its length times the chunks (a 1 MiB line in 1 KiB chunks:
   * 220 ms before, ~2 ms now).
   */
  private noNewlineFrom = 0;
  private noNewlineTo = 0;

  /**
   * Reads a newline-terminated line and returns the offset where its `\n` is; the line is
   * `data[start, returned)`, with `start` the position before the call.
   */
  line(): number {
    const data = this.data;
    const end = this.end;
    let from = this.pos;
    let nl: number;
    if (end === data.length) {
      // A whole buffer (loads): search it as it is.
      nl = data.indexOf(0x0a, from);
    } else {
      const at = this.base + from;
      if (at >= this.noNewlineFrom && at < this.noNewlineTo) from = this.noNewlineTo - this.base;
      const i = from < end ? data.subarray(from, end).indexOf(0x0a) : -1;
      nl = i < 0 ? -1 : from + i;
      if (nl < 0) {
        if (!(at >= this.noNewlineFrom && at <= this.noNewlineTo)) this.noNewlineFrom = at;
        this.noNewlineTo = this.base + end;
      }
    }
    if (nl < 0 || nl >= end) this.truncated(end + 1);
    this.pos = nl + 1;
    return nl;
  }
}
