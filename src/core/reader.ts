import { ErrorCode, UnpicklingError } from './errors.js';
import { opcodeName } from './opcodes.js';

/**
 * Bytes in. A cursor over one buffer with bounds-checked reads; every length is checked against
 * the bytes that remain before anything is allocated, so a pickle cannot claim more memory than
 * it has bytes.
 */
export class Reader {
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly end: number;
  pos: number;
  /** Offset of the opcode being decoded, for error messages. */
  opStart: number;

  constructor(data: Uint8Array, pos = 0) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.end = data.length;
    this.pos = pos;
    this.opStart = pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** An `UnpicklingError` located at the current opcode. */
  error(code: ErrorCode, message: string, cause?: unknown): UnpicklingError {
    return new UnpicklingError(code, message, {
      offset: this.opStart,
      opcode: opcodeName(this.data[this.opStart]),
      cause,
    });
  }

  truncated(): never {
    throw this.error(ErrorCode.TRUNCATED, 'pickle data was truncated');
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.pos) this.truncated();
  }

  u8(): number {
    if (this.pos >= this.end) this.truncated();
    return this.data[this.pos++]!;
  }

  u16(): number {
    if (this.end - this.pos < 2) this.truncated();
    const d = this.data;
    const p = this.pos;
    this.pos = p + 2;
    return d[p]! | (d[p + 1]! << 8);
  }

  i32(): number {
    if (this.end - this.pos < 4) this.truncated();
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
    if (this.end - this.pos < 8) this.truncated();
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  /** An unsigned 64-bit integer, exactly. */
  u64big(): bigint {
    if (this.end - this.pos < 8) this.truncated();
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A big-endian IEEE 754 double (BINFLOAT). */
  f64(): number {
    if (this.end - this.pos < 8) this.truncated();
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** Skips `n` bytes and returns where they start. */
  skip(n: number): number {
    if (n > this.end - this.pos) this.truncated();
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number): Uint8Array {
    const p = this.skip(n);
    return this.data.slice(p, p + n);
  }

  /**
   * Reads a newline-terminated line and returns the offset where its `\n` is; the line is
   * `data[start, returned)`, with `start` the position before the call.
   */
  line(): number {
    const nl = this.data.indexOf(0x0a, this.pos);
    if (nl < 0 || nl >= this.end) this.truncated();
    this.pos = nl + 1;
    return nl;
  }
}
