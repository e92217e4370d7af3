/**
 * zstd frames, found in a stream of chunks by walking their headers (RFC 8878), so that each
 * frame goes to the best decoder and a file cut inside a frame is caught here, whatever a decoder
 * would make of it. Python's `zstandard` writes one frame per `compress()` call and per
 * `stream_writer`/`open()` (plus one per `flush(FLUSH_FRAME)`); appending adds frames.
 *
 * A frame whose compressed bytes fit in `WHOLE_FRAME_LIMIT` is decoded in one call (libzstd when
 * available: fastest); a larger one is decoded as it streams in (fzstd), so memory stays bounded.
 */

import { concat } from './concat.js';

const FRAME_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F, then a 4-byte size, then that many bytes. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** Frames up to this many compressed bytes are buffered and decoded in one call. */
export const WHOLE_FRAME_LIMIT = 32 * 1024 * 1024;

/** A zstd input that is not valid: cut short, or not zstd at all. */
export class ZstdFrameError extends Error {
  override name = 'ZstdFrameError';
  readonly truncated: boolean;
  constructor(message: string, truncated = false) {
    super(message);
    this.truncated = truncated;
  }
}

const u32 = (b: Uint8Array, p: number): number =>
  (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;

/** What the scanner is reading: the fixed-size fields it collects, or bytes it skips. */
const Step = { Magic: 0, SkippableSize: 1, Descriptor: 2, BlockHeader: 3 } as const;
type Step = (typeof Step)[keyof typeof Step];

/**
 * Finds frame boundaries in a byte stream fed in arbitrary pieces. `feed` returns where in the
 * piece the current frame ends (just past its last byte), or -1 when the frame goes on.
 */
export class FrameScanner {
  private step: Step = Step.Magic;
  private readonly field = new Uint8Array(8);
  private fieldLength = 0;
  /** Bytes to skip before the next field (header rest, block content, checksum). */
  private skip = 0;
  /** After the skip, the frame ends (last block's content and checksum skipped). */
  private endsAfterSkip = false;
  private checksum = 0;
  /** Whether the frame being scanned is a skippable one. */
  skippable = false;
  /** Whether the scanner is between frames (no frame started). */
  get idle(): boolean {
    return this.step === Step.Magic && this.fieldLength === 0 && this.skip === 0;
  }

  private fieldSize(): number {
    return this.step === Step.Magic || this.step === Step.SkippableSize
      ? 4
      : this.step === Step.Descriptor
        ? 1
        : 3;
  }

  feed(piece: Uint8Array, start: number): number {
    let p = start;
    while (p < piece.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, piece.length - p);
        this.skip -= n;
        p += n;
        if (this.skip > 0) return -1;
        if (this.endsAfterSkip) {
          this.endsAfterSkip = false;
          this.step = Step.Magic;
          return p;
        }
        continue;
      }
      const size = this.fieldSize();
      while (this.fieldLength < size && p < piece.length)
        this.field[this.fieldLength++] = piece[p++]!;
      if (this.fieldLength < size) return -1;
      this.fieldLength = 0;
      const f = this.field;
      switch (this.step) {
        case Step.Magic: {
          const magic = u32(f, 0);
          if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
            this.skippable = true;
            this.step = Step.SkippableSize;
          } else if (magic === FRAME_MAGIC) {
            this.skippable = false;
            this.step = Step.Descriptor;
          } else {
            throw new ZstdFrameError('zstd: bad frame magic (not zstd data, or corrupt)');
          }
          break;
        }
        case Step.SkippableSize:
          this.skip = u32(f, 0);
          this.endsAfterSkip = true;
          if (this.skip === 0) {
            this.endsAfterSkip = false;
            this.step = Step.Magic;
            return p;
          }
          break;
        case Step.Descriptor: {
          const fhd = f[0]!;
          if (fhd & 0x08)
            throw new ZstdFrameError('zstd: reserved frame header bit set (corrupt data)');
          const singleSegment = (fhd >> 5) & 1;
          const fcsFlag = fhd >> 6;
          this.checksum = ((fhd >> 2) & 1) * 4;
          this.skip =
            (singleSegment ? 0 : 1) +
            [0, 1, 2, 4][fhd & 3]! +
            (fcsFlag === 0 ? singleSegment : 1 << fcsFlag);
          this.step = Step.BlockHeader;
          break;
        }
        case Step.BlockHeader: {
          const header = f[0]! | (f[1]! << 8) | (f[2]! << 16);
          const type = (header >> 1) & 3;
          if (type === 3) throw new ZstdFrameError('zstd: reserved block type (corrupt data)');
          this.skip = (type === 1 ? 1 : header >>> 3) + (header & 1 ? this.checksum : 0);
          if (header & 1) {
            this.endsAfterSkip = true;
            if (this.skip === 0) {
              this.endsAfterSkip = false;
              this.step = Step.Magic;
              return p;
            }
          }
          break;
        }
      }
    }
    return -1;
  }
}

/** Decoders for whole frames and for frames too large to buffer. */
export interface FrameDecoders {
  whole(frame: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** A streaming decoder: `push` returns the output so far; `final` marks the frame's last bytes. */
  streaming(): { push(piece: Uint8Array, final: boolean): Uint8Array[] };
}

/**
 * Decompresses zstd chunks as they arrive: every frame, skippable frames dropped.
 *
 * @example
 * ```ts
 * for await (const part of zstdDecompress(chunks, decoders)) use(part);
 * ```
 */
export async function* zstdDecompress(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  decoders: FrameDecoders,
  wholeFrameLimit = WHOLE_FRAME_LIMIT,
): AsyncGenerator<Uint8Array, void, undefined> {
  const scanner = new FrameScanner();
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  let stream: ReturnType<FrameDecoders['streaming']> | null = null;
  let frames = 0;
  let sawInput = false;
  for await (const chunk of chunks) {
    if (chunk.length) sawInput = true;
    let p = 0;
    while (p < chunk.length) {
      const end = scanner.feed(chunk, p);
      const piece = chunk.subarray(p, end < 0 ? chunk.length : end);
      p = end < 0 ? chunk.length : end;
      if (scanner.skippable) {
        // Dropped, with any of its magic bytes held before it was known to be skippable.
        held = [];
        heldBytes = 0;
        if (end >= 0) scanner.skippable = false;
        continue;
      }
      if (stream !== null) {
        yield* stream.push(piece, end >= 0);
      } else {
        held.push(piece);
        heldBytes += piece.length;
        if (end < 0 && heldBytes > wholeFrameLimit) {
          // Too large to buffer: decode the rest of this frame as it arrives.
          stream = decoders.streaming();
          for (const h of held) yield* stream.push(h, false);
          held = [];
          heldBytes = 0;
        }
      }
      if (end >= 0) {
        frames++;
        if (stream !== null) stream = null;
        else {
          yield await decoders.whole(concat(held, heldBytes));
          held = [];
          heldBytes = 0;
        }
      }
    }
  }
  if (!scanner.idle)
    throw new ZstdFrameError('zstd: compressed file ended inside a frame (truncated)', true);
  if (frames === 0)
    throw new ZstdFrameError(sawInput ? 'zstd: no frame in the input' : 'zstd: empty input', true);
}

/** The frames of a whole zstd input (skippable frames dropped); throws if it ends inside one. */
export function splitFrames(data: Uint8Array): Uint8Array[] {
  const scanner = new FrameScanner();
  const frames: Uint8Array[] = [];
  let p = 0;
  while (p < data.length) {
    const end = scanner.feed(data, p);
    if (end < 0) break;
    if (!scanner.skippable) frames.push(data.subarray(p, end));
    scanner.skippable = false;
    p = end;
  }
  if (!scanner.idle)
    throw new ZstdFrameError('zstd: compressed file ended inside a frame (truncated)', true);
  if (frames.length === 0) throw new ZstdFrameError('zstd: no frame in the input', true);
  return frames;
}
