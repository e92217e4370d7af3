/**
 * Bytes out: a growable buffer, and protocol 4 framing exactly as CPython's C pickler does it.
 *
 * Framing: a frame opens (9 reserved header bytes) when framing starts and after each commit.
 * At the start of every `save()` the pickler calls `maybeCommitFrame()`, which closes the frame
 * once it holds 64 KiB or more. A closed frame of fewer than 4 bytes loses its header. Payloads
 * of 64 KiB or more are written outside any frame.
 */
export const FRAME_SIZE_TARGET = 64 * 1024;
const FRAME_SIZE_MIN = 4;
export const FRAME_HEADER_SIZE = 9;
/**
 * `frameEnd` when no frame is open: past any position below 1 GiB, and a small integer for V8
 * (past it, `maybeCommitFrame` merely calls `nextFrame` for nothing).
 */
const NO_FRAME_END = 0x3fffffff;
const FRAME_OPCODE = 0x95;

/**
 * The buffer the last pickle was written into, for the next one: writing into memory already
 * mapped spares the copies of growth and the page faults of fresh buffers, for one copy of the
 * result out of it (dumps of 1M ints: 5.4 -> 4.6 ms). At most one pickler writes into it at a
 * time: `begin()` takes it, `end()` puts it back. Capped, so an idle process holds at most this.
 */
let spare: Uint8Array | undefined;
const SPARE_MAX = 1 << 24;
const NO_BUFFER = new Uint8Array(0);
const NO_VIEW = new DataView(NO_BUFFER.buffer);

export class Writer {
  buf: Uint8Array;
  pos = 0;
  view: DataView;
  /** Offset of the open frame's reserved header, or -1 when no frame is open. */
  private frameStart = -1;
  /**
   * Where the open frame reaches its target size: a save starting at `pos >= frameEnd` must call
   * `maybeCommitFrame()` first. One compare instead of a call lets hot loops test it inline.
   */
  frameEnd = NO_FRAME_END;
  private framing = false;
  /** Between `begin()` and `end()`: the buffer is lent, so `finish` copies the bytes out. */
  private lent = false;

  constructor(initialSize = 256) {
    this.buf = initialSize > 0 ? new Uint8Array(initialSize) : NO_BUFFER;
    this.view = initialSize > 0 ? new DataView(this.buf.buffer) : NO_VIEW;
  }

  /** Starts a pickle in the spare buffer, if there is one. */
  begin(): void {
    if (spare !== undefined) {
      this.buf = spare;
      this.view = new DataView(spare.buffer);
      spare = undefined;
    }
    this.pos = 0;
    this.lent = true;
  }

  /** Ends a pickle, finished (and copied out) or failed: the buffer becomes the spare. */
  end(): void {
    const buf = this.buf;
    if (buf.length <= SPARE_MAX && (spare === undefined || spare.length < buf.length)) {
      spare = buf;
    }
    this.buf = NO_BUFFER;
    this.view = NO_VIEW;
    this.pos = 0;
    this.lent = false;
    // After an error, framing may still be on.
    this.framing = false;
    this.frameStart = -1;
    this.frameEnd = NO_FRAME_END;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    // x4 while small (fewer copies for big outputs), x2 past 16 MiB (less waste).
    let size = Math.max(this.buf.length, 256);
    while (size < this.pos + n) size *= size < 1 << 24 ? 4 : 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /** An opcode byte followed by a one-byte argument. */
  byte2(a: number, b: number): void {
    if (this.pos + 2 > this.buf.length) this.grow(2);
    this.buf[this.pos++] = a;
    this.buf[this.pos++] = b;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = v & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
  }

  i32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.pos++] = v & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 24) & 0xff;
  }

  u64(v: number | bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
  }

  /** Big-endian double (BINFLOAT's byte order). */
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, false);
    this.pos += 8;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** ASCII text (text-opcode arguments built from numbers and names). */
  ascii(text: string): void {
    this.ensure(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.pos++] = text.charCodeAt(i);
  }

  /** Turns framing on (protocol 4+, right after PROTO) and opens the first frame. */
  startFraming(): void {
    this.framing = true;
    this.openFrame();
  }

  private openFrame(): void {
    this.ensure(FRAME_HEADER_SIZE);
    this.frameStart = this.pos;
    this.pos += FRAME_HEADER_SIZE;
    this.frameEnd = this.pos + FRAME_SIZE_TARGET;
  }

  /** At a `save()` boundary: closes the open frame if it has reached the target size. */
  maybeCommitFrame(): void {
    if (this.pos >= this.frameEnd) this.nextFrame();
  }

  /** Commits the open frame and opens the next one, if the open frame is full. */
  nextFrame(): void {
    if (
      this.frameStart >= 0 &&
      this.pos - this.frameStart - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET
    ) {
      this.commitFrame();
      this.openFrame();
    }
  }

  private commitFrame(): void {
    const start = this.frameStart;
    if (start < 0) return;
    const len = this.pos - start - FRAME_HEADER_SIZE;
    if (len >= FRAME_SIZE_MIN) {
      this.buf[start] = FRAME_OPCODE;
      this.view.setBigUint64(start + 1, BigInt(len), true);
    } else {
      this.buf.copyWithin(start, start + FRAME_HEADER_SIZE, this.pos);
      this.pos -= FRAME_HEADER_SIZE;
    }
    this.frameStart = -1;
    this.frameEnd = NO_FRAME_END;
  }

  /**
   * Writes an opcode header and a payload; a payload of 64 KiB or more goes outside any frame,
   * as CPython writes it (so a reader can read it straight into place).
   */
  headerAndPayload(writeHeader: () => void, payload: Uint8Array): void {
    if (payload.length >= FRAME_SIZE_TARGET && this.framing) {
      this.commitFrame();
      writeHeader();
      this.bytes(payload);
      this.openFrame();
    } else {
      writeHeader();
      this.bytes(payload);
    }
  }

  /**
   * Closes framing after STOP and returns the pickle's bytes from `start`. A buffer that is at
   * least half full is handed over as it is (no copy) and the writer starts a new one.
   */
  finish(start: number): Uint8Array {
    if (this.framing) {
      this.commitFrame();
      this.framing = false;
    }
    if (start === 0 && !this.lent && this.pos >= this.buf.length / 2) {
      const out = this.buf.subarray(0, this.pos);
      this.buf = new Uint8Array(256);
      this.view = new DataView(this.buf.buffer);
      this.pos = 0;
      return out;
    }
    return this.buf.slice(start, this.pos);
  }
}
