/**
 * The pickler's memo of strings (by value), apart from the one of objects (by identity).
 *
 * An open-addressing hash table of our own instead of a `Map<string, number>`: the hash comes
 * from the loop that encodes the string into the output anyway (V8 would compute its own, in a
 * second pass), a probe touches one slot pair of an `Int32Array` before it compares strings,
 * and the strings sit in chunks by memo index, never moved. A V8 Map of a few hundred thousand
 * entries costs ~60 ns an insertion, most of it in growing. `dumps` of 200k distinct short
 * strings: 28 -> 13 ms (with `reserve()`); CPython's C pickler takes 14 ms.
 *
 * Use: `encode()` (or `hashOf()`), then `find()`; after a miss, `add()` before anything else
 * touches the memo.
 */
import { encodeUtf8From, encodeUtf8Into } from './text.js';

/** Strings longer than this are encoded by `encodeUtf8Into` (TextEncoder), and hashed apart. */
const LOOP_MAX = 64;
const EMPTY = 0;
/** FNV-1a's offset basis, as an int32 (what the table stores). */
const FNV_OFFSET = 0x811c9dc5 | 0;
const CHUNK_BITS = 10;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
/**
 * Linear probing at most half full rarely looks past a few slots; a probe this long means
 * strings made to collide, and the table gives way to a Map (no quadratic worst case).
 */
const MAX_PROBE = 128;
const RECENT = 64;
const RESERVE_MAX = 1 << 22;

export class StringMemo {
  /** `maxProbe`: the longest probe before the Map takes over (tests make it short). */
  constructor(private readonly maxProbe = MAX_PROBE) {}

  /** Pairs of (hash, memo index + 1); the second is 0 (`EMPTY`) in a free slot. */
  private slots = new Int32Array(2 * 64);
  /**
   * One bit per slot, set when the slot is taken: 1/64 of the table's size, so it stays in the
   * CPU's cache where the table (MBs for 200k strings) does not, and most misses, the common case
   * (every new string), are answered without reading the table (strings dumps after a gc,
   * medians of 9 in two A/B rounds: 12.6-15.8 -> 12.1-12.5 ms; `find` 6.7 -> 3.1 ms of self
   * time).
   */
  private used = new Int32Array(2);
  private mask = 63;
  /** A slot's index is the top bits of the hash: 32 - log2(slot count). */
  private shift = 26;
  /**
   * The strings by memo index, in chunks of `CHUNK`: appended, never moved when the table grows
   * (200k strings: 2 ms of copying saved).
   */
  private readonly chunks: Array<string[] | undefined> = [];
  private count = 0;
  /** After a probe past `maxProbe` slots (hash flooding): a Map takes over. */
  private map: Map<string, number> | undefined = undefined;
  /**
   * The strings found again lately, by length and first code unit (direct-mapped): a string
   * written once more (a dict's recurring values) is found without being encoded and hashed.
   * Strings written once never enter it.
   */
  private readonly recent = new Array<string | undefined>(RECENT).fill(undefined);
  private readonly recentIndex = new Int32Array(RECENT);
  /** The hash `encode()` or `hashOf()` computed last. */
  private hash = 0;
  /** Where the last `find()` stopped: the free slot a miss leaves for `add()`. */
  private slot = 0;

  /**
   * Writes `s` as UTF-8 (surrogatepass) into `out` at `pos`, which must have room for
   * `3 * s.length` bytes, and hashes it for `find()`. Returns the number of bytes written.
   */
  encode(s: string, out: Uint8Array, pos: number): number {
    const n = s.length;
    let h = FNV_OFFSET;
    let i = 0;
    if (n <= LOOP_MAX) {
      // ASCII: one loop copies and hashes (FNV-1a over UTF-16 code units).
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        out[pos + i] = c;
        h = Math.imul(h ^ c, 0x01000193);
      }
      if (i === n) {
        this.hash = mix(h);
        return n;
      }
      this.hash = mix(hashFrom(s, i, h));
      return encodeUtf8From(s, i, out, pos);
    }
    this.hash = mix(hashFrom(s, 0, h));
    return encodeUtf8Into(s, out, pos);
  }

  /** Hashes `s` for `find()` without encoding it. */
  hashOf(s: string): void {
    this.hash = mix(hashFrom(s, 0, FNV_OFFSET));
  }

  /** The memo index of `s` if it was found again lately (before encoding it), or -1. */
  findRecent(s: string): number {
    const k = recentSlot(s);
    return this.recent[k] === s ? this.recentIndex[k]! : -1;
  }

  /** The memo index of `s` (hashed last), or -1. */
  find(s: string): number {
    if (this.map !== undefined) return this.map.get(s) ?? -1;
    const h = this.hash;
    const slots = this.slots;
    const mask = this.mask;
    let i = h >>> this.shift;
    const used = this.used;
    for (let probes = 0; ; probes++) {
      if ((used[i >>> 5]! & (1 << (i & 31))) === 0) break;
      const e = slots[2 * i + 1]!;
      if (slots[2 * i] === h && this.chunks[(e - 1) >>> CHUNK_BITS]![(e - 1) & CHUNK_MASK] === s) {
        const k = recentSlot(s);
        this.recent[k] = s;
        this.recentIndex[k] = e - 1;
        return e - 1;
      }
      if (probes === this.maxProbe) {
        this.toMap();
        return this.find(s);
      }
      i = (i + 1) & mask;
    }
    this.slot = i;
    return -1;
  }

  /** Records `s` under memo index `idx`, right after `find(s)` missed. */
  add(s: string, idx: number): void {
    this.count++;
    if (this.map !== undefined) {
      this.map.set(s, idx);
      return;
    }
    const chunk = (this.chunks[idx >>> CHUNK_BITS] ??= new Array<string>(CHUNK));
    chunk[idx & CHUNK_MASK] = s;
    const i = this.slot;
    this.slots[2 * i] = this.hash;
    this.slots[2 * i + 1] = idx + 1;
    this.used[i >>> 5]! |= 1 << (i & 31);
    // At most half full, so probes stay short.
    if (2 * this.count > this.mask) this.grow();
  }

  /**
   * Makes room for `n` more strings at once (a long list of strings: 200k strings, no
   * rehashing on the way: 15 -> 13 ms).
   */
  reserve(n: number): void {
    if (this.map !== undefined) return;
    let bits = 0;
    // Up to RESERVE_MAX slots (32 MiB); past that, the table grows as strings come.
    const want = Math.min(2 * (this.count + n), RESERVE_MAX);
    while (want > ((this.mask + 1) << bits) - 1) bits++;
    if (bits > 0) this.grow(bits);
  }

  /**
   * Grows the table 2 ** bits times. Slots are indexed by the top bits of the hash, so old slot
   * i moves to new slots from i << bits on: the copy writes in order, not all over the table.
   */
  private grow(bits = this.mask < 1 << 20 ? 2 : 1): void {
    // By default x4 up to a million slots (fewer rehashes: 200k strings 17 -> 15 ms), then x2.
    const old = this.slots;
    const mask = ((this.mask + 1) << bits) - 1;
    const shift = this.shift - bits;
    const slots = new Int32Array(2 * (mask + 1));
    const used = new Int32Array(Math.max(1, (mask + 1) >>> 5));
    for (let j = 0; j < old.length; j += 2) {
      const e = old[j + 1]!;
      if (e === EMPTY) continue;
      const h = old[j]!;
      let i = h >>> shift;
      while (slots[2 * i + 1] !== EMPTY) i = (i + 1) & mask;
      slots[2 * i] = h;
      slots[2 * i + 1] = e;
      used[i >>> 5]! |= 1 << (i & 31);
    }
    this.slots = slots;
    this.used = used;
    this.mask = mask;
    this.shift = shift;
  }

  /** Moves every entry to a Map, whose hash is seeded: the fallback for colliding strings. */
  private toMap(): void {
    const map = new Map<string, number>();
    const slots = this.slots;
    for (let j = 1; j < slots.length; j += 2) {
      const e = slots[j]!;
      if (e !== EMPTY) map.set(this.chunks[(e - 1) >>> CHUNK_BITS]![(e - 1) & CHUNK_MASK]!, e - 1);
    }
    this.map = map;
  }
}

/** `recent`'s slot for `s` (charCodeAt(0) of '' is NaN, and NaN & mask is 0). */
function recentSlot(s: string): number {
  return (s.length * 31 + s.charCodeAt(0)) & (RECENT - 1);
}

/** Spreads FNV's bits into the top ones, which index the table (murmur3's finalizer, in part). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/** Continues the FNV-1a hash `h` over the code units of `s` from `i`. */
function hashFrom(s: string, i: number, h: number): number {
  for (; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}
