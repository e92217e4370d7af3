/**
 * One handler per opcode, each a few lines next to its name, as in CPython's `pickle.py`. The
 * `satisfies Record<OpName, Handler>` makes a missing handler a compile error; the dispatch
 * array is built from the opcode table. Semantics follow CPython's C unpickler (`_pickle.c`).
 */
import {
  bytes1,
  bytes4,
  bytes8,
  float8,
  int4,
  long1,
  long4,
  uint1,
  uint2,
  unicodestringnl,
} from './args.js';
import { ErrorCode } from './errors.js';
import type { Handler, Machine } from './machine.js';
import { typeName } from './machine.js';
import { OPCODE_BY_NAME, OPCODES, type OpName } from './opcodes.js';
import type { Reader } from './reader.js';
import { ByteArray, PickleBuffer } from './python/bytes.js';
import { FrozenSet } from './python/frozenset.js';
import { Tuple } from './python/tuple.js';
import { appendRun } from './runs.js';
import {
  TextError,
  decode8bit,
  decodeAscii,
  decodeLatin1,
  decodeUtf8,
  escapeDecode,
  normalizeEncoding,
  parsePyFloat,
  parsePyInt,
  strtol0,
} from './text.js';

const { STOP } = OPCODE_BY_NAME;

/** Runs a text parser on the current opcode's argument, locating its errors. */
function parse<T>(m: Machine, code: ErrorCode, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TextError) throw m.error(code, e.message, e);
    throw e;
  }
}

/** The current line's text (latin-1: every byte kept), without its newline. */
function lineText(m: Machine): string {
  const r = m.r;
  const start = r.pos;
  const nl = r.line();
  if (nl === start) r.truncated(); // CPython's bad_readline(): an empty line
  return decodeLatin1(r.data.subarray(start, nl));
}

/** The line as C sees it: CPython parses number lines as C strings, which end at a NUL byte. */
function cString(text: string): string {
  const nul = text.indexOf('\0');
  return nul < 0 ? text : text.slice(0, nul);
}

/** Numbers in the default mode: safe integers as `number`, the rest as `bigint`. */
function narrow(v: bigint): number | bigint {
  return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v;
}

/**
 * CPython's limit on converting decimal text to an int (`sys.set_int_max_str_digits`): the
 * conversion is quadratic. Bases 2, 8 and 16 are linear and not limited.
 */
function checkIntDigits(m: Machine, text: string): void {
  const max = m.limits.maxIntDigits;
  if (text.length <= max) return;
  const t = text.trim().replace(/^[+-]/, '');
  if (/^0[xXoObB]/.test(t)) return;
  const digits = t.replace(/_/g, '').length;
  if (digits > max) {
    throw m.overLimit(
      'maxIntDigits',
      `an int of ${digits} decimal digits (Python's limit is 4300)`,
    );
  }
}

/** INT: C's `strtol(s, 0)` first (so "010" is octal 8), then `int(s, 0)`; "00"/"01" are bools. */
/**
 * The INT line's value when it is a plain decimal of 1-15 digits (the common case, which the
 * general path parses through strings and a bigint: protocol-0 loads of 1M ints were ~7x
 * slower than CPython), else NaN without moving: octal, booleans ("01"), signs other than one
 * '-', "-0", spaces, long or malformed lines take the general path.
 */
function shortDecimalLine(r: Reader): number {
  const d = r.data;
  const end = r.end;
  let p = r.pos;
  const neg = p < end && d[p] === 0x2d;
  if (neg) p++;
  const first = p;
  let v = 0;
  while (p < end) {
    const c = d[p]!;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    p++;
  }
  const n = p - first;
  if (n === 0 || n > 15 || p >= end || d[p] !== 0x0a) return NaN;
  if (d[first] === 0x30 && (n > 1 || neg)) return NaN;
  r.pos = p + 1;
  return neg ? -v : v;
}

function readInt(m: Machine): boolean | bigint {
  const line = lineText(m);
  const text = cString(line);
  const { value, rest } = strtol0(text);
  if (value === undefined || rest !== '') {
    checkIntDigits(m, text);
    m.charge(text.length >> 1);
    return parse(m, ErrorCode.BAD_ARGUMENT, () => {
      try {
        return parsePyInt(text, 0);
      } catch {
        throw new TextError(`could not convert string to int: ${JSON.stringify(text)}`);
      }
    });
  }
  // C checks the length of the whole line: two characters and 0 or 1 mean False or True.
  if (line.length === 2 && (value === 0n || value === 1n)) return value === 1n;
  return value;
}

/** LONG: `int(s, 0)` after dropping one trailing 'L'. */
function readLong(m: Machine): bigint {
  let text = lineText(m);
  if (text.endsWith('L')) text = text.slice(0, -1);
  const digits = cString(text);
  checkIntDigits(m, digits);
  m.charge(digits.length >> 1);
  return parse(m, ErrorCode.BAD_ARGUMENT, () => parsePyInt(digits, 0));
}

/** LONG4, its size checked against `maxLongBytes` before it is read. */
function readLong4(m: Machine, exact: boolean): number | bigint {
  const r = m.r;
  // A length past the input is truncation (as in CPython), found by the read below.
  if (r.remaining >= 4) {
    const n = r.view.getInt32(r.pos, true);
    if (n > 0 && n <= r.remaining - 4) {
      if (n > m.limits.maxLongBytes) throw m.overLimit('maxLongBytes', `an int of ${n} bytes`);
      m.charge(n);
    }
  }
  const v = long4.read(r);
  return exact ? BigInt(v) : v;
}

/** GET/PUT index: `int(s)` in base 10. */
function readMemoIndex(m: Machine, op: string): number {
  const v = parse(m, ErrorCode.BAD_ARGUMENT, () => parsePyInt(cString(lineText(m)), 10));
  if (v < 0n) {
    // CPython looks a negative GET up (and finds nothing); it refuses a negative PUT.
    if (op === 'GET') throw m.error(ErrorCode.MEMO_MISSING, `Memo value not found at index ${v}`);
    throw m.error(ErrorCode.BAD_ARGUMENT, `negative ${op} argument`);
  }
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw m.error(ErrorCode.BAD_ARGUMENT, `${op} index too large: ${v}`);
  }
  return Number(v);
}

/** A Python 2 `str`, decoded with the `encoding` and `errors` options. */
function python2String(m: Machine, bytes: Uint8Array): string | Uint8Array {
  if (normalizeEncoding(m.encoding) === 'bytes') return bytes;
  m.charge(bytes.length);
  return parse(m, ErrorCode.BAD_ENCODING, () => decode8bit(bytes, m.encoding, m.errors));
}

function utf8(m: Machine, size: number): string {
  const r = m.r;
  const p = r.skip(size);
  m.charge(size);
  // try/catch inline rather than through parse(): no closure per string (GC time).
  try {
    return decodeUtf8(r.data, p, p + size);
  } catch (e) {
    if (e instanceof TextError) throw m.error(ErrorCode.BAD_ENCODING, e.message, e);
    throw e;
  }
}

/**
 * An array literal made a Tuple by its prototype: V8 builds an Array subclass through the
 * derived-constructor path, ~170 ns for `new Tuple()` and two items against ~50 ns this way
 * (records loads after a gc, 60k short tuples, medians of 9 in two A/B rounds: 61-70 ->
 * 60-65 ms). The result is a Tuple in every respect
 * (`instanceof`, `constructor`, `Symbol.species`), with exactly the room its items need.
 */
function asTuple(items: unknown[]): Tuple {
  return Object.setPrototypeOf(items, Tuple.prototype) as Tuple;
}

function tupleFrom(m: Machine, from: number): Tuple {
  return asTuple(m.stack.slice(from, m.sp));
}

function globalLine(m: Machine, ascii: boolean): string {
  const r = m.r;
  const start = r.pos;
  const nl = r.line();
  if (nl === start) r.truncated();
  return parse(m, ErrorCode.BAD_ENCODING, () =>
    ascii ? decodeAscii(r.data, start, nl) : decodeUtf8(r.data, start, nl),
  );
}

function pushGet(m: Machine, i: number): void {
  m.push(m.memoGet(i));
}

function put(m: Machine, i: number): void {
  m.memoPut(i, m.top());
}

/**
 * Lists are made by `slice()` of this, not by a `[]` literal: V8 tracks a literal's allocation
 * site and, once many lists from it survive (100k small lists in a dicts pickle), allocates the
 * site's arrays in old space. A big list then grows in old space, and each growth can trigger a
 * full collection: loading 1M floats after a dicts pickle took 76 ms instead of 31 (2.5x, all
 * of it GC). `slice()` has no allocation site.
 */
const NO_ITEMS: unknown[] = [];

export const HANDLERS = {
  // --- integers -----------------------------------------------------------------------------
  INT: (m) => {
    const n = shortDecimalLine(m.r);
    if (n === n) {
      m.push(n);
      return;
    }
    const v = readInt(m);
    m.push(typeof v === 'boolean' ? v : narrow(v));
  },
  BININT: (m) => m.push(int4.read(m.r)),
  BININT1: (m) => m.push(uint1.read(m.r)),
  BININT2: (m) => m.push(uint2.read(m.r)),
  LONG: (m) => m.push(narrow(readLong(m))),
  LONG1: (m) => m.push(long1.read(m.r)),
  LONG4: (m) => m.push(readLong4(m, false)),

  // --- Python 2 str, bytes, bytearray, buffers ----------------------------------------------
  STRING: (m) => {
    const r = m.r;
    const start = r.pos;
    const nl = r.line();
    const q = r.data[start];
    if (nl - start < 2 || (q !== 0x22 && q !== 0x27) || r.data[nl - 1] !== q) {
      throw m.error(ErrorCode.BAD_ARGUMENT, 'the STRING opcode argument must be quoted');
    }
    const bytes = parse(m, ErrorCode.BAD_ARGUMENT, () => escapeDecode(r.data, start + 1, nl - 1));
    m.push(python2String(m, bytes));
  },
  BINSTRING: (m) => {
    const n = m.r.i32();
    if (n < 0) throw m.error(ErrorCode.BAD_ARGUMENT, 'BINSTRING pickle has negative byte count');
    m.push(python2String(m, m.r.bytes(n)));
  },
  SHORT_BINSTRING: (m) => m.push(python2String(m, m.r.bytes(m.r.u8()))),
  BINBYTES: (m) => m.push(bytes4.read(m.r)),
  SHORT_BINBYTES: (m) => m.push(bytes1.read(m.r)),
  BINBYTES8: (m) => m.push(bytes8.read(m.r)),
  BYTEARRAY8: (m) => {
    const n = m.r.u64();
    const p = m.r.skip(n);
    const d = m.r.data;
    m.push(
      m.r.shareInput
        ? new ByteArray(d.buffer as ArrayBuffer, d.byteOffset + p, n)
        : ByteArray.copyOf(d.subarray(p, p + n)),
    );
  },
  NEXT_BUFFER: (m) => m.push(m.nextBuffer()),
  READONLY_BUFFER: (m) => {
    const v = m.top();
    const i = m.sp - 1;
    if (v instanceof PickleBuffer) m.stack[i] = v.toReadonly();
    else if (v instanceof ByteArray) m.stack[i] = new PickleBuffer(v, true);
    else if (!(v instanceof Uint8Array)) {
      throw m.error(ErrorCode.BAD_OPERAND, `READONLY_BUFFER needs a buffer, not ${typeName(v)}`);
    }
  },

  // --- constants ----------------------------------------------------------------------------
  NONE: (m) => m.push(null),
  NEWTRUE: (m) => m.push(true),
  NEWFALSE: (m) => m.push(false),

  // --- str ----------------------------------------------------------------------------------
  UNICODE: (m) => {
    const v = unicodestringnl.read(m.r);
    m.charge(v.length);
    m.push(v);
  },
  SHORT_BINUNICODE: (m) => m.push(utf8(m, m.r.u8())),
  BINUNICODE: (m) => m.push(utf8(m, m.r.u32())),
  BINUNICODE8: (m) => m.push(utf8(m, m.r.u64())),

  // --- float --------------------------------------------------------------------------------
  FLOAT: (m) => {
    const text = cString(lineText(m));
    m.push(parse(m, ErrorCode.BAD_ARGUMENT, () => parsePyFloat(text)));
  },
  BINFLOAT: (m) => m.push(float8.read(m.r)),

  // --- list, tuple, dict, set ---------------------------------------------------------------
  EMPTY_LIST: (m) => {
    const list = NO_ITEMS.slice();
    m.freshList = list;
    m.freshListMemo = -1;
    m.push(list);
  },
  APPEND: (m) => {
    m.need(2);
    m.appendItems(m.stack[m.sp - 2], m.sp - 1);
  },
  APPENDS: (m) => {
    const t = m.popMarkTarget();
    if (m.sp > t + 1) m.appendItems(m.stack[t], t + 1);
  },
  LIST: (m) => {
    const items = m.popMarkItems();
    m.push(items);
  },
  EMPTY_TUPLE: (m) => m.push(new Tuple()),
  TUPLE: (m) => {
    const k = m.popMark();
    m.checkItems(m.sp - k, 'tuple');
    const t = tupleFrom(m, k);
    m.sp = k;
    m.push(t);
  },
  TUPLE1: (m) => {
    m.need(1);
    const s = m.stack;
    s[m.sp - 1] = asTuple([s[m.sp - 1]]);
  },
  TUPLE2: (m) => {
    m.need(2);
    const s = m.stack;
    const sp = --m.sp;
    s[sp - 1] = asTuple([s[sp - 1], s[sp]]);
  },
  TUPLE3: (m) => {
    m.need(3);
    const s = m.stack;
    const sp = (m.sp -= 2);
    s[sp - 1] = asTuple([s[sp - 1], s[sp], s[sp + 1]]);
  },
  EMPTY_DICT: (m) => {
    const d = {};
    m.freshDict = d;
    m.freshDictMemo = -1;
    m.push(d);
  },
  DICT: (m) => m.push(m.makeDict(m.popMarkItems())),
  SETITEM: (m) => {
    m.need(3);
    m.setItems(m.sp - 3, m.sp - 2);
  },
  SETITEMS: (m) => {
    const t = m.popMarkTarget();
    if (m.sp > t + 1) m.setItems(t, t + 1);
  },
  EMPTY_SET: (m) => m.push(new Set()),
  ADDITEMS: (m) => {
    const t = m.popMarkTarget();
    if (m.sp > t + 1) m.addItems(m.stack[t], t + 1);
  },
  FROZENSET: (m) => {
    const items = m.popMarkItems();
    for (const v of items) m.checkHashable(v);
    m.push(new FrozenSet(items));
  },

  // --- stack --------------------------------------------------------------------------------
  POP: (m) => {
    const marks = m.marks;
    if (marks.length > 0 && marks[marks.length - 1] === m.sp) m.popMark();
    else m.popped(m.pop());
  },
  DUP: (m) => {
    const v = m.top();
    m.push(typeof v === 'object' && v !== null ? m.shared(v) : v);
  },
  MARK: (m) => {
    if (appendRun(m)) return;
    m.marks.push(m.sp);
    m.fence = m.sp;
  },
  POP_MARK: (m) => {
    m.sp = m.popMark();
  },

  // --- memo ---------------------------------------------------------------------------------
  GET: (m) => pushGet(m, readMemoIndex(m, 'GET')),
  BINGET: (m) => pushGet(m, m.r.u8()),
  LONG_BINGET: (m) => pushGet(m, m.r.u32()),
  PUT: (m) => put(m, readMemoIndex(m, 'PUT')),
  BINPUT: (m) => put(m, m.r.u8()),
  LONG_BINPUT: (m) => put(m, m.r.u32()),
  MEMOIZE: (m) => put(m, m.memoCount),

  // --- globals and objects ------------------------------------------------------------------
  EXT1: (m) => m.push(m.extension(m.r.u8())),
  EXT2: (m) => m.push(m.extension(m.r.u16())),
  EXT4: (m) => m.push(m.extension(m.r.i32())),
  GLOBAL: (m) => {
    const module = globalLine(m, false);
    const name = globalLine(m, false);
    m.push(m.findClass(module, name));
  },
  STACK_GLOBAL: (m) => {
    m.need(2);
    const name = m.stack[--m.sp];
    const module = m.stack[--m.sp];
    if (typeof name !== 'string' || typeof module !== 'string') {
      throw m.error(ErrorCode.BAD_OPERAND, 'STACK_GLOBAL requires str');
    }
    m.push(m.findClass(module, name));
  },
  REDUCE: (m) => {
    m.need(2);
    const args = m.stack[--m.sp];
    const s = m.stack;
    s[m.sp - 1] = m.reduce(s[m.sp - 1], args);
  },
  BUILD: (m) => {
    m.need(2);
    const state = m.stack[--m.sp];
    m.build(m.stack[m.sp - 1], state);
  },
  INST: (m) => {
    const module = globalLine(m, true);
    const name = globalLine(m, true);
    const k = m.popMark();
    m.checkItems(m.sp - k, 'tuple');
    const args = tupleFrom(m, k);
    m.sp = k;
    m.push(m.instantiate(m.findClass(module, name), args, 'inst'));
  },
  OBJ: (m) => {
    const k = m.popMark();
    if (m.sp - k < 1) m.underflow();
    const cls = m.stack[k];
    m.checkItems(m.sp - k - 1, 'tuple');
    const args = tupleFrom(m, k + 1);
    m.sp = k;
    m.push(m.instantiate(cls, args, 'obj'));
  },
  NEWOBJ: (m) => {
    m.need(2);
    const args = m.stack[--m.sp];
    const s = m.stack;
    s[m.sp - 1] = m.newObject(s[m.sp - 1], args, undefined, 'newobj');
  },
  NEWOBJ_EX: (m) => {
    m.need(3);
    const kwargs = m.stack[--m.sp];
    const args = m.stack[--m.sp];
    const s = m.stack;
    s[m.sp - 1] = m.newObject(s[m.sp - 1], args, kwargs, 'newobj_ex');
  },

  // --- framing and control ------------------------------------------------------------------
  PROTO: (m) => {
    const p = m.r.u8();
    if (p > 5) throw m.error(ErrorCode.UNSUPPORTED_PROTOCOL, `unsupported pickle protocol: ${p}`);
    m.proto = p;
  },
  // As CPython's C unpickler: the frame's bytes must all be there; opcodes may then run on.
  FRAME: (m) => m.r.frame(m.r.u64()),
  STOP: () => {
    throw new Error('STOP is handled by the decode loop');
  },
  PERSID: (m) => {
    const r = m.r;
    const start = r.pos;
    const nl = r.line();
    const pid = parse(m, ErrorCode.BAD_ARGUMENT, () => {
      try {
        return decodeAscii(r.data, start, nl);
      } catch {
        throw new TextError('persistent IDs in protocol 0 must be ASCII strings');
      }
    });
    m.push(m.persistentLoad(pid));
  },
  BINPERSID: (m) => {
    const pid = m.pop();
    m.push(m.persistentLoad(pid));
  },
} satisfies Record<OpName, Handler>;

/** Exact mode: every int is a `bigint`, so it pickles back as an int. */
const EXACT_HANDLERS: Partial<Record<OpName, Handler>> = {
  INT: (m) => {
    const n = shortDecimalLine(m.r);
    m.push(n === n ? BigInt(n) : readInt(m));
  },
  BININT: (m) => m.push(BigInt(int4.read(m.r))),
  BININT1: (m) => m.push(BigInt(uint1.read(m.r))),
  BININT2: (m) => m.push(BigInt(uint2.read(m.r))),
  LONG: (m) => m.push(readLong(m)),
  LONG1: (m) => m.push(BigInt(long1.read(m.r))),
  LONG4: (m) => m.push(readLong4(m, true)),
};

function buildDispatch(
  overrides: Partial<Record<OpName, Handler>>,
): ReadonlyArray<Handler | undefined> {
  const table = new Array<Handler | undefined>(256).fill(undefined);
  for (const o of OPCODES) {
    if (o.code !== STOP.code) table[o.code] = overrides[o.name] ?? HANDLERS[o.name];
  }
  return table;
}

/** Handlers by opcode byte; STOP and unknown bytes are `undefined`. */
export const DISPATCH = buildDispatch({});
export const EXACT_DISPATCH = buildDispatch(EXACT_HANDLERS);
