/**
 * The decode loop's fast path for the bulk of most pickles: a list's items, written by every
 * pickler as `MARK item... APPENDS` batches of 1000. When MARK finds a plain list on top of the
 * stack, `appendRun` decodes the atoms that follow (ints, floats, strings with their MEMOIZE or
 * PUT, None, bools, GETs of atoms, FRAME) straight into the list in one tight loop, without the
 * stack or the dispatch table. Anything it does not know ends the run, and the general path takes over with
 * the machine in exactly the state the general path would have left it in.
 */
import type { Machine } from './machine.js';
import { CHECKPOINT_BYTES, HEAP_COST_BY_CODE } from './limits.js';
import { decodeLong } from './args.js';
import { OPCODE_BY_NAME } from './opcodes.js';
import { TextError, decodeUtf8 } from './text.js';

const {
  APPENDS: { code: C_APPENDS },
  BINFLOAT: { code: C_BINFLOAT },
  BINGET: { code: C_BINGET },
  BINPUT: { code: C_BINPUT },
  BINUNICODE: { code: C_BINUNICODE },
  LONG1: { code: C_LONG1 },
  LONG_BINPUT: { code: C_LONG_BINPUT },
  BININT: { code: C_BININT },
  BININT1: { code: C_BININT1 },
  BININT2: { code: C_BININT2 },
  FRAME: { code: C_FRAME },
  MARK: { code: C_MARK },
  MEMOIZE: { code: C_MEMOIZE },
  NEWFALSE: { code: C_NEWFALSE },
  NEWTRUE: { code: C_NEWTRUE },
  NONE: { code: C_NONE },
  SHORT_BINUNICODE: { code: C_SHORT_BINUNICODE },
} = OPCODE_BY_NAME;

const COST = HEAP_COST_BY_CODE;
const COST_INT = COST[C_BININT]!;
const COST_INT1 = COST[C_BININT1]!;
const COST_INT2 = COST[C_BININT2]!;
const COST_FLOAT = COST[C_BINFLOAT]!;
const COST_STR = COST[C_SHORT_BINUNICODE]!;
const COST_MEMOIZE = COST[C_MEMOIZE]!;
const COST_GET = COST[C_BINGET]!;

/** A batch this long suggests more batches follow: worth counting them (see `presize`). */
const FULL_BATCH = 512;
/** V8 keeps an array's elements fast (not a dictionary) up to this length when it is set. */
const MAX_PRESIZE = 32 * 1024 * 1024;

/**
 * MARK with a plain list on top of the stack: runs the atoms that follow into the list. Returns
 * false, having done nothing, when the top of the stack is not a plain list.
 *
 * If APPENDS ends the run, the batch is done. If anything else does (a nested container, a GET of
 * a missing key, bad or missing bytes, 64 KiB of atoms), the items move back onto the stack above the
 * MARK, exactly where the general path would have put them, and the decode loop goes on from
 * that opcode. The heap estimate is charged per opcode, as the decode loop charges it.
 *
 * Loads of 1M ints: 31 -> 23 ms (no stack, no dispatch); the rest is the list's growth, which
 * `presize` removes.
 */
export function appendRun(m: Machine): boolean {
  const sp = m.sp;
  if (sp <= m.fence) return false;
  const top = m.stack[sp - 1];
  if (!Array.isArray(top) || top.constructor !== Array) return false;
  let list: unknown[] = top;
  const r = m.r;
  const data = r.data;
  const view = r.view;
  const exact = m.exact;
  // A presized list (see `presize`) is filled up to its length; any other grows at its end.
  const sized = list === m.sizedList;
  const first = sized ? m.sizedFill : list.length;
  if (first === 0 && list === m.freshList) {
    // A new list whose first batch is its whole content: made at exactly that size, not grown
    // from empty room for 16 (see `Machine.replaceFreshList`), so no garbage array either
    // (loads after a gc, medians of 9: dicts 45-47 -> 37-39 ms, records 60-62 -> 55-57).
    const q = scanBatch(data, view, r.pos, r.end);
    const n = scanned.items;
    if (q >= 0 && n > 0 && n < FULL_BATCH) {
      list = new Array<unknown>(n);
      m.replaceFreshList(list, sp - 1);
    }
  }
  const limit = Math.min(r.end, r.pos + CHECKPOINT_BYTES);
  let fill = first;
  let p = r.pos;
  let heap = 0;
  try {
    while (p < limit) {
      const c = data[p]!;
      if (c === C_BININT1) {
        if (p + 2 > limit) break;
        const v = data[p + 1]!;
        list[fill++] = exact ? BigInt(v) : v;
        p += 2;
        heap += COST_INT1;
      } else if (c === C_BINFLOAT) {
        if (p + 9 > limit) break;
        list[fill++] = view.getFloat64(p + 1, false);
        p += 9;
        heap += COST_FLOAT;
      } else if (c === C_BININT) {
        if (p + 5 > limit) break;
        const v = data[p + 1]! | (data[p + 2]! << 8) | (data[p + 3]! << 16) | (data[p + 4]! << 24);
        list[fill++] = exact ? BigInt(v) : v;
        p += 5;
        heap += COST_INT;
      } else if (c === C_BININT2) {
        if (p + 3 > limit) break;
        const v = data[p + 1]! | (data[p + 2]! << 8);
        list[fill++] = exact ? BigInt(v) : v;
        p += 3;
        heap += COST_INT2;
      } else if (c === C_SHORT_BINUNICODE) {
        if (p + 2 > limit) break;
        const n = data[p + 1]!;
        if (p + 2 + n > limit) break;
        list[fill++] = decodeUtf8(data, p + 2, p + 2 + n);
        heap += COST_STR + n;
        p += 2 + n;
      } else if (c === C_BINUNICODE) {
        // Protocols 1-3 write every str this way.
        if (p + 5 > limit) break;
        const n = view.getUint32(p + 1, true);
        if (n > limit - p - 5) break;
        list[fill++] = decodeUtf8(data, p + 5, p + 5 + n);
        heap += COST[c]! + n;
        p += 5 + n;
      } else if (c === C_BINPUT || c === C_LONG_BINPUT) {
        // Protocols 1-3 memoize with an index: the general path's PUT.
        const size = c === C_BINPUT ? 2 : 5;
        if (fill === first || p + size > limit) break;
        const i = c === C_BINPUT ? data[p + 1]! : view.getUint32(p + 1, true);
        r.opStart = p;
        m.memoPut(i, list[fill - 1]);
        p += size;
        heap += COST[c]!;
      } else if (c === C_MEMOIZE) {
        if (fill === first) break;
        r.opStart = p; // where a maxMemo error points
        m.memoPut(m.memoCount, list[fill - 1]);
        p += 1;
        heap += COST_MEMOIZE;
      } else if (c === C_BINGET) {
        if (p + 2 > limit) break;
        const v = m.memoAt(data[p + 1]!);
        if (v === undefined) break; // MEMO_MISSING, from the general path
        list[fill++] = typeof v === 'object' && v !== null ? m.shared(v) : v;
        p += 2;
        heap += COST_GET;
      } else if (c === C_LONG1) {
        // Up to 48 bits: a number, as the handler makes it.
        if (p + 2 > limit) break;
        const n = data[p + 1]!;
        if (n > 6 || p + 2 + n > limit) break;
        const v = decodeLong(data, p + 2, p + 2 + n);
        list[fill++] = exact ? BigInt(v) : v;
        p += 2 + n;
        heap += COST[c]!;
      } else if (c === C_NONE) {
        list[fill++] = null;
        p += 1;
        heap += COST[c]!;
      } else if (c === C_NEWTRUE || c === C_NEWFALSE) {
        list[fill++] = c === C_NEWTRUE;
        p += 1;
        heap += COST[c]!;
      } else if (c === C_FRAME) {
        // A frame boundary between two items: its bytes must all be there, as in the handler.
        if (p + 9 > limit) break;
        const n = view.getUint32(p + 1, true) + view.getUint32(p + 5, true) * 0x100000000;
        if (n > r.end - p - 9) break;
        p += 9;
      } else break;
    }
  } catch (e) {
    // A bad string: the general path reports it at its opcode. Anything else fails the load,
    // and the list must not keep a presized tail.
    if (!(e instanceof TextError)) {
      m.unsize();
      throw e;
    }
  }
  m.heap += heap;
  if (p < r.end && data[p] === C_APPENDS) {
    r.pos = p + 1;
    m.heap += COST[C_APPENDS]!;
    if (sized) {
      m.sizedFill = fill;
      if (fill === m.sizedEnd) m.sizedList = null;
    } else {
      if (fill > m.limits.maxItems) {
        r.opStart = p;
        m.checkItems(fill, 'list');
      }
      if (first === 0) {
        if (fill >= FULL_BATCH) presize(m, list, fill, p + 1);
        else if (list === m.freshList) m.replaceFreshList(list.slice(0, fill), sp - 1);
      }
    }
    return true;
  }
  // Not a whole batch: back to the stack, above a MARK, as the general path leaves them.
  r.pos = p;
  const stack = m.stack;
  m.marks.push(sp);
  m.fence = sp;
  const count = fill - first;
  for (let i = 0; i < count; i++) stack[sp + i] = list[first + i];
  m.sp = sp + count;
  list.length = first;
  if (sized) m.sizedList = null;
  return true;
}

/**
 * After a list's first full batch: counts the atoms of the batches that follow it for the same
 * list (`MARK atoms APPENDS`, again and again), and sets the list's length to hold them all, so
 * that `appendRun` fills it in place. V8 grows an array by copying it into a 1.5x larger one;
 * past ~16k items each copy is a fresh large-object allocation, and growing 1M items by push
 * took 17 ms where filling a presized array takes 4. Loads, profiled: 1M ints 22.6 -> 15.2 ms,
 * 1M floats 20.2 -> 13.5.
 *
 * The count is an upper bound of what `appendRun` will add: a run that ends early gives the
 * unfilled tail back (`Machine.unsize`). Not done when the items would pass `maxItems` or the
 * heap estimate's limit.
 */
function presize(m: Machine, list: unknown[], fill: number, from: number): void {
  const data = m.r.data;
  const end = m.r.end;
  let total = 0;
  let kinds = 0;
  let p = from;
  while (p < end && data[p] === C_MARK) {
    const q = scanBatch(data, m.r.view, p + 1, end);
    if (q < 0) break;
    total += scanned.items;
    kinds |= scanned.kinds;
    p = q + 1;
  }
  const size = fill + total;
  if (total === 0 || size > Math.min(MAX_PRESIZE, m.limits.maxItems)) return;
  if (m.heap + 8 * total > m.maxHeap) return;
  // The elements kind first (a kind change later would copy the whole array): unboxed doubles
  // for floats (1M floats: 10 -> 6 ms in a micro-benchmark), tagged values for anything else.
  if (kinds & TAGGED) {
    list.push(null);
    list.pop();
  } else if (kinds & FLOATS) {
    list.push(0.5);
    list.pop();
  }
  list.length = size;
  m.sizedList = list;
  m.sizedFill = fill;
  m.sizedEnd = size;
}

/** What `scanBatch` found in its batch: the items, and the kinds of values among them. */
const scanned = { items: 0, kinds: 0 };
const FLOATS = 1;
const TAGGED = 2;

/**
 * Scans the atoms of one batch from `q` (just past its MARK) and returns the offset of the
 * APPENDS that ends it, or -1 if something else does; `scanned` says what it held. One call per
 * batch, not one loop over all of them: V8 optimizes a function called often for good, where a
 * long loop is optimized on the stack (OSR), and a full gc drops that code (the first load after
 * one ran the whole scan unoptimized: 1M ints, 1.5 -> 3 ms).
 */
function scanBatch(data: Uint8Array, view: DataView, q: number, end: number): number {
  let n = 0;
  let kinds = 0;
  // An if-chain, not a table: branch prediction lets the CPU run ahead where a table's
  // load-then-add chain stalls on each item (1M ints: 0.7 ms vs 2.4).
  while (q < end) {
    const c = data[q]!;
    if (c === C_BININT) q += 5;
    else if (c === C_BINFLOAT) {
      q += 9;
      kinds |= FLOATS;
    } else if (c === C_BININT1) q += 2;
    else if (c === C_BININT2) q += 3;
    else if (c === C_SHORT_BINUNICODE) {
      q += q + 1 < end ? 2 + data[q + 1]! : 2;
      kinds |= TAGGED;
    } else if (c === C_BINUNICODE) {
      q += q + 5 <= end ? 5 + view.getUint32(q + 1, true) : 5;
      kinds |= TAGGED;
    } else if (c === C_LONG1) {
      q += q + 1 < end ? 2 + data[q + 1]! : 2;
      kinds |= TAGGED;
    } else if (c === C_MEMOIZE || c === C_BINPUT || c === C_LONG_BINPUT) {
      q += c === C_MEMOIZE ? 1 : c === C_BINPUT ? 2 : 5;
      continue;
    } else if (c === C_BINGET) {
      q += 2;
      kinds |= TAGGED;
    } else if (c === C_FRAME) {
      q += 9;
      continue;
    } else if (c === C_NONE || c === C_NEWTRUE || c === C_NEWFALSE) {
      q += 1;
      kinds |= TAGGED;
    } else break;
    n++;
  }
  scanned.items = n;
  scanned.kinds = kinds;
  return q < end && data[q] === C_APPENDS ? q : -1;
}
