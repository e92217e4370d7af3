/**
 * A bzip2 decoder of our own, written from the format (no npm package decodes multi-stream
 * files correctly at a useful speed, see docs/files.md). It reads every stream of a
 * multi-stream file (what Python's `bz2.open(..., 'a')` writes), checks every block CRC and
 * stream CRC, and throws on a truncated or corrupt file instead of returning partial data.
 *
 * Streaming: compressed input is buffered until one whole block can be decoded (a block is at
 * most ~910 KB compressed at level 9), so memory stays near one compressed block plus its output.
 */

/** A bz2 input that is not valid: corrupt, truncated, or not bzip2 at all. */
export class Bz2Error extends Error {
  override name = 'Bz2Error';
  /** True when the input ended before its end-of-stream marker. */
  readonly truncated: boolean;
  constructor(message: string, truncated = false) {
    super(message);
    this.truncated = truncated;
  }
}

/** Thrown inside a block decode that ran past the buffered input. */
const NEED_MORE: unique symbol = Symbol('bz2 needs more input');

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const END_MAGIC_HI = 0x177245;
const END_MAGIC_LO = 0x385090;
const GROUP_SIZE = 50;
const MAX_CODE_LENGTH = 20;
/** Codes up to this length decode by one table lookup; longer ones by canonical search. */
const LOOKUP_BITS = 12;

/** CRC-32 as bzip2 computes it: polynomial 0x04c11db7, most significant bit first. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c;
  }
  return t;
})();

/** Huffman decoding tables of one coding group. */
interface Group {
  /** `(symbol << 5) | length` for each LOOKUP_BITS-bit prefix; 0 when the code is longer. */
  lookup: Uint32Array;
  minLen: number;
  maxLen: number;
  /** Per length: the last canonical code of that length (-1 if none), its first code, and where its symbols start in `perm`. */
  limit: Int32Array;
  base: Int32Array;
  offset: Int32Array;
  perm: Uint16Array;
}

function makeGroup(lengths: Uint8Array, alphaSize: number): Group {
  let minLen = 32;
  let maxLen = 0;
  for (let i = 0; i < alphaSize; i++) {
    const l = lengths[i]!;
    if (l > maxLen) maxLen = l;
    if (l < minLen) minLen = l;
  }
  const limit = new Int32Array(MAX_CODE_LENGTH + 2).fill(-1);
  const base = new Int32Array(MAX_CODE_LENGTH + 2);
  const offset = new Int32Array(MAX_CODE_LENGTH + 2);
  const perm = new Uint16Array(alphaSize);
  const lookup = new Uint32Array(1 << LOOKUP_BITS);
  let p = 0;
  let code = 0;
  for (let len = minLen; len <= maxLen; len++) {
    base[len] = code;
    offset[len] = p;
    for (let s = 0; s < alphaSize; s++) {
      if (lengths[s] !== len) continue;
      perm[p++] = s;
      if (len <= LOOKUP_BITS) {
        const shift = LOOKUP_BITS - len;
        lookup.fill((s << 5) | len, code << shift, (code + 1) << shift);
      }
      code++;
    }
    if (code > 1 << len) throw new Bz2Error('bz2: invalid Huffman code lengths');
    limit[len] = code - 1;
    code <<= 1;
  }
  return { lookup, minLen, maxLen, limit, base, offset, perm };
}

/**
 * Decodes bzip2 data pushed in chunks. `push` and `end` return the output decoded so far.
 *
 * @example
 * ```ts
 * const d = new Bz2Decoder();
 * const out = [...d.push(compressed), ...d.end()];
 * ```
 */
export class Bz2Decoder {
  private buf = new Uint8Array(0);
  private bufEnd = 0;
  /** Bit position of the next unread bit in `buf`. */
  private bitPos = 0;
  /** Where the stream state is: before a stream header, or inside a stream. */
  private inStream = false;
  private blockSize = 0;
  private streamCrc = 0;
  private streams = 0;
  /** Bytes to wait for before trying a block: a whole block at the stream's level. */
  private wantBytes = 0;
  private tt = new Uint32Array(0);

  // The bit reader's registers, valid inside a decode call.
  private bits = 0;
  private bitCount = 0;
  private pos = 0;

  push(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    return this.decode(false);
  }

  end(): Uint8Array[] {
    const out = this.decode(true);
    if (this.inStream || this.streams === 0) {
      throw new Bz2Error(
        this.streams === 0 && this.bufEnd === 0
          ? 'bz2: empty input'
          : 'bz2: compressed file ended before the end-of-stream marker was reached',
        true,
      );
    }
    return out;
  }

  private append(chunk: Uint8Array): void {
    const keep = this.bitPos >>> 3;
    const live = this.bufEnd - keep;
    if (live + chunk.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(2 * (live + chunk.length), 1 << 16));
      grown.set(this.buf.subarray(keep, this.bufEnd));
      this.buf = grown;
    } else {
      this.buf.copyWithin(0, keep, this.bufEnd);
    }
    this.buf.set(chunk, live);
    this.bufEnd = live + chunk.length;
    this.bitPos -= keep * 8;
  }

  private decode(final: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      const available = this.bufEnd - (this.bitPos >>> 3);
      if (!final && available < this.wantBytes) return out;
      if (available === 0 && !this.inStream) return out;
      let saved = this.bitPos;
      try {
        if (!this.inStream) {
          this.streamHeader();
          saved = this.bitPos;
        }
        const block = this.block();
        if (block !== null) out.push(block);
      } catch (e) {
        if (e !== NEED_MORE) throw e;
        this.bitPos = saved;
        if (final) {
          throw new Bz2Error(
            'bz2: compressed file ended before the end-of-stream marker was reached',
            true,
          );
        }
        this.wantBytes = Math.max(2 * available, this.wantBytes);
        return out;
      }
    }
  }

  // --- bits --------------------------------------------------------------------------------

  private load(): void {
    this.pos = this.bitPos >>> 3;
    this.bitCount = 0;
    this.bits = 0;
    const skip = this.bitPos & 7;
    if (skip) this.take(skip);
  }

  private save(): void {
    this.bitPos = this.pos * 8 - this.bitCount;
  }

  /** `n` bits (at most 24). */
  private take(n: number): number {
    while (this.bitCount < n) {
      if (this.pos >= this.bufEnd) throw NEED_MORE;
      this.bits = (this.bits << 8) | this.buf[this.pos++]!;
      this.bitCount += 8;
    }
    this.bitCount -= n;
    return (this.bits >>> this.bitCount) & ((1 << n) - 1);
  }

  // --- structure ---------------------------------------------------------------------------

  private streamHeader(): void {
    this.load();
    const b = this.take(8);
    const z = this.take(8);
    const h = this.take(8);
    const level = this.take(8) - 0x30;
    if (b !== 0x42 || z !== 0x5a || h !== 0x68 || level < 1 || level > 9) {
      throw new Bz2Error(
        this.streams === 0
          ? 'bz2: not a bzip2 file (no BZh header)'
          : `bz2: bytes after stream ${this.streams} are not a bzip2 stream`,
      );
    }
    this.save();
    this.inStream = true;
    this.blockSize = level * 100000;
    this.streamCrc = 0;
    // A block compresses to at most ~1.01 of its size plus a few hundred bytes.
    this.wantBytes = Math.ceil(this.blockSize * 1.01) + 1024;
  }

  /** Decodes one block; null at the end-of-stream marker. */
  private block(): Uint8Array | null {
    this.load();
    const hi = this.take(24);
    const lo = this.take(24);
    if (hi === END_MAGIC_HI && lo === END_MAGIC_LO) {
      const crc = (this.take(16) * 0x10000 + this.take(16)) | 0;
      if (crc !== this.streamCrc) throw new Bz2Error('bz2: stream CRC mismatch (corrupt data)');
      // Streams end on a byte boundary.
      this.bitCount -= this.bitCount & 7;
      this.save();
      this.inStream = false;
      this.streams++;
      this.wantBytes = 0;
      return null;
    }
    if (hi !== BLOCK_MAGIC_HI || lo !== BLOCK_MAGIC_LO) {
      throw new Bz2Error('bz2: bad block header (corrupt data)');
    }
    const blockCrc = (this.take(16) * 0x10000 + this.take(16)) | 0;
    if (this.take(1))
      throw new Bz2Error('bz2: randomised blocks (bzip2 before 0.9.5) are not supported');
    const origPtr = this.take(24);

    // The symbol map: which byte values occur.
    const seqToUnseq = new Uint8Array(256);
    let numInUse = 0;
    const used16 = this.take(16);
    for (let i = 0; i < 16; i++) {
      if (!(used16 & (0x8000 >>> i))) continue;
      const used = this.take(16);
      for (let j = 0; j < 16; j++) if (used & (0x8000 >>> j)) seqToUnseq[numInUse++] = i * 16 + j;
    }
    if (numInUse === 0) throw new Bz2Error('bz2: block uses no symbols (corrupt data)');
    const alphaSize = numInUse + 2;

    const nGroups = this.take(3);
    const nSelectors = this.take(15);
    if (nGroups < 2 || nGroups > 6 || nSelectors < 1) {
      throw new Bz2Error('bz2: bad Huffman group count (corrupt data)');
    }
    const groupMtf = [0, 1, 2, 3, 4, 5];
    const selectors = new Uint8Array(nSelectors);
    for (let i = 0; i < nSelectors; i++) {
      let j = 0;
      while (this.take(1))
        if (++j >= nGroups) throw new Bz2Error('bz2: bad selector (corrupt data)');
      const v = groupMtf[j]!;
      for (; j > 0; j--) groupMtf[j] = groupMtf[j - 1]!;
      selectors[i] = groupMtf[0] = v;
    }

    const groups: Group[] = [];
    const lengths = new Uint8Array(alphaSize);
    for (let g = 0; g < nGroups; g++) {
      let len = this.take(5);
      for (let s = 0; s < alphaSize; s++) {
        for (;;) {
          if (len < 1 || len > MAX_CODE_LENGTH)
            throw new Bz2Error('bz2: bad code length (corrupt data)');
          if (!this.take(1)) break;
          len += this.take(1) ? -1 : 1;
        }
        lengths[s] = len;
      }
      groups.push(makeGroup(lengths, alphaSize));
    }

    const n = this.symbols(groups, selectors, seqToUnseq, numInUse);
    if (origPtr >= n) throw new Bz2Error('bz2: bad block origin pointer (corrupt data)');
    this.save();
    const out = this.inverse(n, origPtr);
    const crc = crc32(out);
    if (crc !== blockCrc) throw new Bz2Error('bz2: block CRC mismatch (corrupt data)');
    this.streamCrc = (((this.streamCrc << 1) | (this.streamCrc >>> 31)) ^ crc) | 0;
    return out;
  }

  /** Huffman + RUNA/RUNB + move-to-front: fills `tt` with the block's BWT bytes; returns the count. */
  private symbols(
    groups: Group[],
    selectors: Uint8Array,
    seqToUnseq: Uint8Array,
    numInUse: number,
  ): number {
    const limitN = this.blockSize;
    if (this.tt.length < limitN) this.tt = new Uint32Array(limitN);
    const tt = this.tt;
    const counts = new Int32Array(256);
    const mtf = new Uint8Array(256);
    for (let i = 0; i < 256; i++) mtf[i] = i;
    const eob = numInUse + 1;
    const buf = this.buf;
    const bufEnd = this.bufEnd;
    let bits = this.bits;
    let bitCount = this.bitCount;
    let pos = this.pos;
    let n = 0;
    let run = 0;
    let runWeight = 1;
    let selector = 0;
    let left = 0;
    let group = groups[0]!;
    let lookup = group.lookup;
    for (;;) {
      if (left === 0) {
        if (selector >= selectors.length)
          throw new Bz2Error('bz2: ran out of selectors (corrupt data)');
        group = groups[selectors[selector++]!]!;
        lookup = group.lookup;
        left = GROUP_SIZE;
      }
      left--;
      // Have at least MAX_CODE_LENGTH bits buffered (fewer only at the very end of the input).
      while (bitCount < 24) {
        if (pos >= bufEnd) break;
        bits = (bits << 8) | buf[pos++]!;
        bitCount += 8;
      }
      let sym = -1;
      let len: number;
      const peek =
        bitCount >= LOOKUP_BITS
          ? (bits >>> (bitCount - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1)
          : (bits << (LOOKUP_BITS - bitCount)) & ((1 << LOOKUP_BITS) - 1);
      const hit = lookup[peek]!;
      if (hit !== 0) {
        len = hit & 31;
        sym = hit >>> 5;
      } else {
        len = Math.max(group.minLen, LOOKUP_BITS + 1);
        for (;;) {
          if (len > group.maxLen) throw new Bz2Error('bz2: bad Huffman code (corrupt data)');
          if (len > bitCount) break;
          const code = (bits >>> (bitCount - len)) & ((1 << len) - 1);
          if (code <= group.limit[len]!) {
            sym = group.perm[group.offset[len]! + code - group.base[len]!]!;
            break;
          }
          len++;
        }
      }
      if (len > bitCount) {
        this.pos = pos;
        throw NEED_MORE;
      }
      bitCount -= len;

      if (sym <= 1) {
        // RUNA (0) and RUNB (1): a run of the byte at the front, its length in bijective base 2.
        if (runWeight > limitN) throw new Bz2Error('bz2: run too long (corrupt data)');
        run += (sym + 1) * runWeight;
        runWeight <<= 1;
        continue;
      }
      if (run > 0) {
        if (n + run > limitN) throw new Bz2Error('bz2: block longer than its size (corrupt data)');
        const b = seqToUnseq[mtf[0]!]!;
        counts[b] = counts[b]! + run;
        tt.fill(b, n, n + run);
        n += run;
        run = 0;
        runWeight = 1;
      }
      if (sym === eob) break;
      if (n >= limitN) throw new Bz2Error('bz2: block longer than its size (corrupt data)');
      // Move-to-front: symbol k is the k-1th most recent byte.
      const k = sym - 1;
      const v = mtf[k]!;
      if (k < 24) {
        for (let j = k; j > 0; j--) mtf[j] = mtf[j - 1]!;
      } else {
        mtf.copyWithin(1, 0, k);
      }
      mtf[0] = v;
      const b = seqToUnseq[v]!;
      counts[b] = counts[b]! + 1;
      tt[n++] = b;
    }
    this.bits = bits;
    this.bitCount = bitCount;
    this.pos = pos;
    // Cumulative counts, then the inverse-BWT links in the high 24 bits of tt.
    const cftab = new Int32Array(256);
    for (let i = 0, sum = 0; i < 256; i++) {
      cftab[i] = sum;
      sum += counts[i]!;
    }
    for (let i = 0; i < n; i++) {
      const b = tt[i]! & 0xff;
      const at = cftab[b]!;
      cftab[b] = at + 1;
      tt[at] = tt[at]! | (i << 8);
    }
    return n;
  }

  /** Walks the inverse BWT and undoes the initial run-length encoding (4 bytes + count). */
  private inverse(n: number, origPtr: number): Uint8Array {
    const tt = this.tt;
    let out: Uint8Array = new Uint8Array(n + (n >>> 2) + 64);
    let o = 0;
    let t = tt[origPtr]! >>> 8;
    let last = -1;
    let same = 0;
    for (let i = 0; i < n; i++) {
      t = tt[t]!;
      const b = t & 0xff;
      t >>>= 8;
      if (same === 4) {
        // The byte after four equal ones is a repeat count.
        if (o + b > out.length) out = grow(out, o + b);
        out.fill(last, o, o + b);
        o += b;
        same = 0;
        last = -1;
        continue;
      }
      if (b === last) same++;
      else {
        last = b;
        same = 1;
      }
      if (o >= out.length) out = grow(out, o + 1);
      out[o++] = b;
    }
    return out.subarray(0, o);
  }
}

function grow(a: Uint8Array, need: number): Uint8Array {
  const b = new Uint8Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

function crc32(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = (c << 8) ^ CRC_TABLE[((c >>> 24) ^ data[i]!) & 0xff]!;
  return ~c;
}

/**
 * Decompresses a bzip2 stream of chunks as they arrive, every stream of a multi-stream file.
 *
 * @example
 * ```ts
 * for await (const part of bz2Decompress(createReadStream('smallerfile'))) use(part);
 * ```
 */
export async function* bz2Decompress(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  const d = new Bz2Decoder();
  for await (const chunk of chunks) yield* d.push(chunk);
  yield* d.end();
}
