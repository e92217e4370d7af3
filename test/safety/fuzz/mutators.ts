/**
 * Mutators: each takes a pickle and returns a new input. Byte-level ones (bit flips, interesting
 * bytes, insert/delete/duplicate ranges, splices, truncation) know nothing of pickle; the
 * structure-aware ones walk the opcodes (`genops`) to hit length fields, memo indices and text
 * arguments, insert opcodes from the table with random arguments, and play MARK, memo and
 * nesting games.
 */
import { ArgSize, type ArgumentDescriptor } from '../../../src/core/args.js';
import { OP, OPCODES, type OpcodeInfo } from '../../../src/index.js';
import { genops } from '../../../src/tools/index.js';
import type { Rng } from './rng.js';

/** Where each opcode is: its offset, byte, argument descriptor, and where the next one starts. */
export interface OpSpan {
  readonly pos: number;
  readonly end: number;
  readonly op: OpcodeInfo;
}

/** The opcodes of every pickle in `data`, up to the first one genops cannot read. */
export function opSpans(data: Uint8Array, max = 100_000): OpSpan[] {
  const spans: OpSpan[] = [];
  let start = 0;
  try {
    while (start < data.length && spans.length < max) {
      let last: { pos: number; op: OpcodeInfo } | undefined;
      for (const ev of genops(data, start, { args: false })) {
        if (last) spans.push({ pos: last.pos, end: ev.pos, op: last.op });
        last = { pos: ev.pos, op: ev.opcode };
        if (spans.length >= max) return spans;
      }
      if (!last) break;
      spans.push({ pos: last.pos, end: last.pos + 1, op: last.op });
      start = last.pos + 1;
    }
  } catch {
    // keep the opcodes read so far
  }
  return spans;
}

const enc = new TextEncoder();
const ascii = (s: string) => enc.encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function le(value: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let v = BigInt.asUintN(width * 8, value);
  for (let i = 0; i < width; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Bytes interesting on their own: limits of signed and unsigned widths, and opcodes. */
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, ...OPCODES.map((o) => o.code)];

/** Values a length field is set to: empty, negative, the 31/32/62/63/64-bit edges. */
const LENGTHS = [
  0n,
  1n,
  -1n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 53n,
  2n ** 62n,
  2n ** 63n,
  2n ** 64n - 1n,
  0x10000n,
  0x7fn,
  0x80n,
  0xffn,
];

/** Text arguments to try, per descriptor. */
const TEXT_ARGS: Record<string, readonly string[]> = {
  decimalnl_short: [
    '',
    '0',
    '00',
    '01',
    '02',
    '-1',
    '-0',
    '+7',
    ' 1',
    '1 ',
    '1_000',
    '0x10',
    '0o17',
    '2147483648',
    '9007199254740993',
    '18446744073709551616',
    '99999999999999999999999999',
    '1'.repeat(4300),
    '1'.repeat(4301),
    '9'.repeat(20000),
    'nan',
    '1e3',
    '\u0663',
  ],
  decimalnl_long: [
    'L',
    '0L',
    '-L',
    '1LL',
    '-0L',
    '12345678901234567890L',
    '1'.repeat(4300) + 'L',
    '1'.repeat(4301) + 'L',
    '7'.repeat(30000) + 'L',
    '0x10L',
    ' 5L',
  ],
  floatnl: [
    '',
    '.',
    'nan',
    '-nan',
    'inf',
    '-inf',
    'infinity',
    'NaN',
    '1e309',
    '-1e309',
    '1e-400',
    '0x1p3',
    '1_0.5',
    ' 1.5',
    '1.5 ',
    '1.7976931348623157e308',
    '4.9e-324',
    '1'.repeat(5000),
    '0.' + '1'.repeat(5000),
  ],
  stringnl: [
    "'abc'",
    '"abc"',
    "'",
    "''",
    '""',
    "'a",
    '"a\'',
    "'\\x'",
    "'\\x4'",
    "'\\777'",
    "'\\u1234'",
    "'\\'",
    "'\\\\'",
    "'\\n\\t\\0'",
    "'\u00e9'",
  ],
  stringnl_noescape: ['', 'x', '0', '\u00e9', 'a b'],
  unicodestringnl: [
    '',
    '\\',
    '\\u',
    '\\u12',
    '\\U0011ffff',
    '\\U0010ffff',
    '\\ud800',
    '\\uD800\\uDC00',
    '\\x41',
    '\\n',
    '\u00e9',
    '\\u0000',
  ],
};

/** Globals for GLOBAL/INST/STACK_GLOBAL: those pickle-ts binds, numpy's, and some it must not run. */
export const GLOBALS: ReadonlyArray<readonly [string, string]> = [
  ['builtins', 'list'],
  ['builtins', 'dict'],
  ['builtins', 'set'],
  ['builtins', 'frozenset'],
  ['builtins', 'tuple'],
  ['builtins', 'bytes'],
  ['builtins', 'bytearray'],
  ['builtins', 'complex'],
  ['builtins', 'object'],
  ['builtins', 'getattr'],
  ['builtins', 'slice'],
  ['builtins', 'range'],
  ['builtins', 'int'],
  ['builtins', 'eval'],
  ['__builtin__', 'set'],
  ['__builtin__', 'object'],
  ['copy_reg', '_reconstructor'],
  ['copyreg', '_reconstructor'],
  ['copyreg', '__newobj__'],
  ['copyreg', '__newobj_ex__'],
  ['_codecs', 'encode'],
  ['collections', 'OrderedDict'],
  ['collections', 'defaultdict'],
  ['collections', 'deque'],
  ['collections', 'Counter'],
  ['collections', 'namedtuple'],
  ['datetime', 'date'],
  ['datetime', 'time'],
  ['datetime', 'datetime'],
  ['datetime', 'timedelta'],
  ['datetime', 'timezone'],
  ['decimal', 'Decimal'],
  ['fractions', 'Fraction'],
  ['functools', 'partial'],
  ['uuid', 'UUID'],
  ['zoneinfo', 'ZoneInfo'],
  ['zoneinfo', 'ZoneInfo._unpickle'],
  ['numpy', 'dtype'],
  ['numpy', 'ndarray'],
  ['numpy.core.multiarray', '_reconstruct'],
  ['numpy.core.multiarray', 'scalar'],
  ['numpy._core.numeric', '_frombuffer'],
  ['os', 'system'],
  ['posix', 'system'],
  ['pickle', 'loads'],
  ['torch._utils', '_rebuild_tensor_v2'],
  ['', ''],
  ['__proto__', 'constructor'],
  ['builtins', '__proto__'],
  ['builtins', 'object.__new__'],
  ['a', 'b.c.d'],
];

/** A short random value as opcodes (protocol-2 forms the unpickler accepts everywhere). */
function randomValueOps(rng: Rng): Uint8Array {
  switch (rng.below(12)) {
    case 0:
      return Uint8Array.of(OP.NONE);
    case 1:
      return Uint8Array.of(OP.BININT1, rng.below(256));
    case 2:
      return concat(Uint8Array.of(OP.BININT), le(BigInt(rng.int(-(2 ** 31), 2 ** 31 - 1)), 4));
    case 3:
      return concat(Uint8Array.of(OP.BINFLOAT), rng.bytes(8));
    case 4: {
      const s = rng.pick([
        '',
        'a',
        'utf-8',
        'latin1',
        'UTC',
        'Europe/Paris',
        '1.5',
        'nan',
        'x'.repeat(300),
      ]);
      const b = ascii(s);
      return b.length < 256
        ? concat(Uint8Array.of(OP.SHORT_BINUNICODE, b.length), b)
        : concat(Uint8Array.of(OP.BINUNICODE), le(BigInt(b.length), 4), b);
    }
    case 5: {
      const n = rng.pick([0, 1, 4, 7, 10, 16]);
      return concat(Uint8Array.of(OP.SHORT_BINBYTES, n), rng.bytes(n));
    }
    case 6:
      return Uint8Array.of(OP.EMPTY_TUPLE);
    case 7:
      return Uint8Array.of(OP.EMPTY_LIST);
    case 8:
      return Uint8Array.of(OP.EMPTY_DICT);
    case 9:
      return Uint8Array.of(rng.chance(0.5) ? OP.NEWTRUE : OP.NEWFALSE);
    case 10: {
      const n = rng.pick([1, 2, 8, 9, 16, 17, 64]);
      return concat(Uint8Array.of(OP.LONG1, n), rng.bytes(n));
    }
    default:
      return concat(Uint8Array.of(OP.BININT2), rng.bytes(2));
  }
}

/** The bytes of a random argument for `arg` (well formed or slightly off). */
function randomArg(arg: ArgumentDescriptor, rng: Rng): Uint8Array {
  const text = TEXT_ARGS[arg.name];
  if (text) return concat(ascii(rng.pick(text)), Uint8Array.of(0x0a));
  if (arg.name === 'stringnl_noescape_pair') {
    const [m, n] = rng.pick(GLOBALS);
    return ascii(`${m}\n${n}\n`);
  }
  const payload = () => rng.bytes(rng.pick([0, 1, 2, 5, 16, 255, 256, 300]));
  const sized = (width: number, n: number) => le(BigInt(n), width);
  switch (arg.n) {
    case ArgSize.TAKEN_FROM_ARGUMENT1: {
      const p = payload().subarray(0, 255);
      return concat(sized(1, rng.chance(0.9) ? p.length : rng.below(256)), p);
    }
    case ArgSize.TAKEN_FROM_ARGUMENT4:
    case ArgSize.TAKEN_FROM_ARGUMENT4U: {
      const p = payload();
      return concat(rng.chance(0.9) ? sized(4, p.length) : le(rng.pick(LENGTHS), 4), p);
    }
    case ArgSize.TAKEN_FROM_ARGUMENT8U: {
      const p = payload();
      return concat(rng.chance(0.9) ? sized(8, p.length) : le(rng.pick(LENGTHS), 8), p);
    }
    default:
      if (arg.n === 1 && rng.chance(0.5))
        return Uint8Array.of(rng.pick([0, 1, 2, 3, 4, 5, 6, 0xff]));
      return rng.chance(0.5) ? le(rng.pick(LENGTHS), arg.n) : rng.bytes(arg.n);
  }
}

/** An opcode from the table with a random argument. */
export function randomOpcode(rng: Rng): Uint8Array {
  const op = rng.pick(OPCODES);
  return op.arg ? concat(Uint8Array.of(op.code), randomArg(op.arg, rng)) : Uint8Array.of(op.code);
}

/** A boundary between opcodes (or any offset when the walk found nothing). */
function boundary(data: Uint8Array, spans: OpSpan[], rng: Rng): number {
  if (spans.length === 0 || rng.chance(0.1)) return rng.below(data.length + 1);
  return rng.pick(spans).pos;
}

function insertAt(data: Uint8Array, at: number, bytes: Uint8Array): Uint8Array {
  return concat(data.subarray(0, at), bytes, data.subarray(at));
}

function replaceRange(data: Uint8Array, from: number, to: number, bytes: Uint8Array): Uint8Array {
  return concat(data.subarray(0, from), bytes, data.subarray(to));
}

export interface MutationContext {
  rng: Rng;
  /** Another input to splice with. */
  other: () => Uint8Array;
}

export type Mutator = (data: Uint8Array, ctx: MutationContext) => Uint8Array;

// --- byte level -------------------------------------------------------------------------------

const bitFlip: Mutator = (data, { rng }) => {
  if (data.length === 0) return Uint8Array.of(rng.below(256));
  const out = data.slice();
  for (let n = 1 + rng.below(4); n > 0; n--) out[rng.below(out.length)]! ^= 1 << rng.below(8);
  return out;
};

const interestingByte: Mutator = (data, { rng }) => {
  if (data.length === 0) return Uint8Array.of(rng.pick(INTERESTING_BYTES));
  const out = data.slice();
  out[rng.below(out.length)] = rng.pick(INTERESTING_BYTES);
  return out;
};

const interestingWord: Mutator = (data, { rng }) => {
  const width = rng.pick([2, 4, 8]);
  if (data.length < width) return data;
  const at = rng.below(data.length - width + 1);
  const out = data.slice();
  out.set(le(rng.pick(LENGTHS), width), at);
  return out;
};

const insertBytes: Mutator = (data, { rng }) => {
  const n = rng.smallLength(64);
  const bytes =
    rng.chance(0.5) || data.length === 0
      ? rng.bytes(n)
      : data.slice(rng.below(data.length), rng.below(data.length) + n);
  return insertAt(data, rng.below(data.length + 1), bytes);
};

const deleteRange: Mutator = (data, { rng }) => {
  if (data.length === 0) return data;
  const from = rng.below(data.length);
  return replaceRange(data, from, from + rng.smallLength(data.length), new Uint8Array(0));
};

const duplicateRange: Mutator = (data, { rng }) => {
  if (data.length === 0) return data;
  const from = rng.below(data.length);
  const piece = data.slice(from, from + rng.smallLength(256));
  const times = rng.chance(0.8) ? 1 : rng.int(2, 64);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < times; i++) parts.push(piece);
  return insertAt(data, rng.below(data.length + 1), concat(...parts));
};

const splice: Mutator = (data, { rng, other }) => {
  const b = other();
  const cutA = rng.below(data.length + 1);
  const cutB = rng.below(b.length + 1);
  return rng.chance(0.3)
    ? concat(data, b) // two pickles back to back (loadAll, streams)
    : concat(data.subarray(0, cutA), b.subarray(cutB));
};

const truncate: Mutator = (data, { rng }) => data.slice(0, rng.below(data.length + 1));

// --- structure aware --------------------------------------------------------------------------

/** The width of an opcode's length field, and whether it is signed. */
function lengthField(op: OpcodeInfo): number {
  if (op.code === OP.FRAME) return 8;
  switch (op.arg?.n) {
    case ArgSize.TAKEN_FROM_ARGUMENT1:
      return 1;
    case ArgSize.TAKEN_FROM_ARGUMENT4:
    case ArgSize.TAKEN_FROM_ARGUMENT4U:
      return 4;
    case ArgSize.TAKEN_FROM_ARGUMENT8U:
      return 8;
    default:
      return 0;
  }
}

/** Sets a length field (or FRAME size) to 0, -1, 2**31-1, 2**32-1, 2**62, len±1, ... */
const lengthMutation: Mutator = (data, { rng }) => {
  const spans = opSpans(data).filter((s) => lengthField(s.op) > 0);
  if (spans.length === 0) return data;
  const s = rng.pick(spans);
  const width = lengthField(s.op);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let current = 0n;
  if (s.pos + 1 + width <= data.length) {
    current =
      width === 1
        ? BigInt(data[s.pos + 1]!)
        : width === 4
          ? BigInt(view.getUint32(s.pos + 1, true))
          : view.getBigUint64(s.pos + 1, true);
  }
  const value = rng.chance(0.4) ? current + BigInt(rng.pick([-1, 1, -2, 2])) : rng.pick(LENGTHS);
  const out = data.slice();
  out.set(le(value, width).subarray(0, Math.max(0, out.length - s.pos - 1)), s.pos + 1);
  return out;
};

const MEMO_OPS = new Set<number>([OP.BINGET, OP.LONG_BINGET, OP.BINPUT, OP.LONG_BINPUT]);

/** Memo games: unknown GETs, huge PUTs, LONG_BINPUT 0xffffffff, MEMOIZE in odd places. */
const memoGame: Mutator = (data, { rng }) => {
  const spans = opSpans(data);
  const memoSpans = spans.filter((s) => MEMO_OPS.has(s.op.code));
  if (memoSpans.length > 0 && rng.chance(0.4)) {
    const s = rng.pick(memoSpans);
    const width = s.op.code === OP.BINGET || s.op.code === OP.BINPUT ? 1 : 4;
    const out = data.slice();
    const v = rng.pick([0n, 1n, 0xffn, 0x100n, 0x7fffffffn, 0xffffffffn, BigInt(rng.below(64))]);
    out.set(le(v, width).subarray(0, Math.max(0, out.length - s.pos - 1)), s.pos + 1);
    return out;
  }
  const gadget = rng.pick([
    () => ascii(`g${rng.pick(['999', '0', '-1', '4294967296', '99999999999999999999'])}\n`),
    () => ascii(`p${rng.pick(['0', '-1', '2147483648', '4294967295', '99999999999999999999'])}\n`),
    () => Uint8Array.of(OP.BINGET, rng.below(256)),
    () => Uint8Array.of(OP.BINPUT, rng.below(256)),
    () => concat(Uint8Array.of(OP.LONG_BINGET), le(0xffffffffn, 4)),
    () => concat(Uint8Array.of(OP.LONG_BINPUT), le(0xffffffffn, 4)),
    () => concat(Uint8Array.of(OP.LONG_BINPUT), le(BigInt(rng.u32()), 4)),
    () => Uint8Array.of(OP.MEMOIZE),
    () => Uint8Array.of(OP.MEMOIZE, OP.MEMOIZE, OP.BINGET, 0),
  ])();
  return insertAt(data, boundary(data, spans, rng), gadget);
};

/** MARK and stack games: extra or missing MARKs, POP, POP_MARK, DUP, stray STOPs. */
const stackGame: Mutator = (data, { rng }) => {
  const spans = opSpans(data);
  const marks = spans.filter((s) => s.op.code === OP.MARK);
  if (marks.length > 0 && rng.chance(0.3)) {
    const s = rng.pick(marks);
    return replaceRange(data, s.pos, s.end, new Uint8Array(0));
  }
  const one = [OP.MARK, OP.POP, OP.POP_MARK, OP.DUP, OP.STOP, OP.TUPLE, OP.LIST, OP.DICT];
  const n = rng.chance(0.8) ? 1 : rng.int(2, 300);
  const bytes = new Uint8Array(n).fill(rng.pick(one));
  return insertAt(data, boundary(data, spans, rng), bytes);
};

/** Inserts an opcode from the table with a random argument at an opcode boundary. */
const insertOpcode: Mutator = (data, { rng }) => {
  const spans = opSpans(data);
  const parts: Uint8Array[] = [];
  for (let n = rng.chance(0.7) ? 1 : rng.int(2, 6); n > 0; n--) parts.push(randomOpcode(rng));
  return insertAt(data, boundary(data, spans, rng), concat(...parts));
};

/** Replaces one opcode (with its argument) by another. */
const replaceOpcode: Mutator = (data, { rng }) => {
  const spans = opSpans(data);
  if (spans.length === 0) return data;
  const s = rng.pick(spans);
  return replaceRange(data, s.pos, s.end, randomOpcode(rng));
};

/** Rewrites a text argument (INT, LONG, FLOAT, STRING, UNICODE, GET, PUT, GLOBAL, ...). */
const textArgument: Mutator = (data, { rng }) => {
  const spans = opSpans(data).filter((s) => s.op.arg?.n === ArgSize.UP_TO_NEWLINE);
  if (spans.length === 0) return data;
  const s = rng.pick(spans);
  return replaceRange(data, s.pos + 1, s.end, randomArg(s.op.arg!, rng));
};

/** A call of a known global with random arguments: GLOBAL args REDUCE / NEWOBJ / BUILD. */
const callGadget: Mutator = (data, { rng }) => {
  const spans = opSpans(data);
  const [m, n] = rng.pick(GLOBALS);
  const parts: Uint8Array[] = [
    rng.chance(0.7)
      ? ascii(`c${m}\n${n}\n`)
      : concat(
          Uint8Array.of(OP.SHORT_BINUNICODE, ascii(m).length),
          ascii(m),
          Uint8Array.of(OP.SHORT_BINUNICODE, ascii(n).length),
          ascii(n),
          Uint8Array.of(OP.STACK_GLOBAL),
        ),
  ];
  parts.push(Uint8Array.of(OP.MARK));
  for (let k = rng.below(5); k > 0; k--) {
    if (rng.chance(0.2)) {
      // a nested call as an argument
      const [m2, n2] = rng.pick(GLOBALS);
      parts.push(ascii(`c${m2}\n${n2}\n`), Uint8Array.of(OP.MARK), randomValueOps(rng));
      parts.push(Uint8Array.of(OP.TUPLE, OP.REDUCE));
    } else {
      parts.push(randomValueOps(rng));
    }
  }
  parts.push(Uint8Array.of(OP.TUPLE));
  parts.push(Uint8Array.of(rng.pick([OP.REDUCE, OP.REDUCE, OP.NEWOBJ, OP.BUILD])));
  if (rng.chance(0.3)) parts.push(randomValueOps(rng), Uint8Array.of(OP.BUILD));
  if (rng.chance(0.2))
    parts.push(Uint8Array.of(OP.MARK), randomValueOps(rng), Uint8Array.of(OP.APPENDS));
  if (rng.chance(0.2)) {
    parts.push(Uint8Array.of(OP.MARK), randomValueOps(rng), randomValueOps(rng));
    parts.push(Uint8Array.of(OP.SETITEMS));
  }
  const gadget = concat(...parts);
  // As the whole pickle sometimes, so the value itself is the call's result.
  if (rng.chance(0.3)) return concat(Uint8Array.of(OP.PROTO, 2), gadget, Uint8Array.of(OP.STOP));
  return insertAt(data, boundary(data, spans, rng), gadget);
};

/**
 * Amplifiers: repeated gadgets that build deep nesting (TUPLE1, APPEND into nested lists) or a
 * DAG of exponential size (DUP TUPLE2), to catch recursion and walks without a visited set.
 */
const amplify: Mutator = (data, { rng }) => {
  const n = rng.pick([50, 500, 5000, 50_000]);
  const r = (bytes: number[], times: number) => {
    const out = new Uint8Array(bytes.length * times);
    for (let i = 0; i < times; i++) out.set(bytes, i * bytes.length);
    return out;
  };
  const of = (...bytes: number[]) => Uint8Array.of(...bytes);
  const gadgets: Array<() => Uint8Array> = [
    // ((((None,),),),): nesting n deep
    () => concat(of(OP.NONE), r([OP.TUPLE1], n)),
    // [[[[]]]]: nesting n deep
    () => concat(r([OP.EMPTY_LIST], n), r([OP.APPEND], n - 1)),
    // t = (t, t), 200 times: a DAG with 2**200 paths
    () => concat(of(OP.NONE), r([OP.DUP, OP.TUPLE2], Math.min(n, 200))),
    // n open MARKs closed by n TUPLEs
    () => concat(r([OP.MARK], n), of(OP.NONE), r([OP.TUPLE], n)),
    // a list holding itself n times
    () => concat(of(OP.EMPTY_LIST, OP.MEMOIZE), r([OP.BINGET, 0, OP.APPEND], n)),
    // {0: {0: {0: ...}}}: nested dicts n deep
    () => concat(of(OP.EMPTY_DICT), r([OP.BININT1, 0, OP.EMPTY_DICT], n), r([OP.SETITEM], n)),
    // many frozensets
    () =>
      concat(of(OP.EMPTY_LIST), r([OP.MARK, OP.NONE, OP.FROZENSET, OP.APPEND], Math.min(n, 5000))),
    // a plain dict, shared through a big DAG, then given an int key: it becomes a Map everywhere
    () =>
      concat(
        of(OP.EMPTY_DICT, OP.MEMOIZE, OP.BINGET, 0),
        r([OP.DUP, OP.TUPLE2], Math.min(n, 60)),
        of(OP.BINGET, 0, OP.BININT1, 1, OP.NONE, OP.SETITEM, OP.TUPLE2),
      ),
  ];
  const gadget = rng.pick(gadgets)();
  if (rng.chance(0.5)) return concat(Uint8Array.of(OP.PROTO, 4), gadget, Uint8Array.of(OP.STOP));
  return insertAt(data, boundary(data, opSpans(data), rng), gadget);
};

/** PROTO and FRAME games: another protocol number, FRAMEs with wrong sizes, FRAMEs removed. */
const protoFrame: Mutator = (data, { rng }) => {
  const spans = opSpans(data);
  const frames = spans.filter((s) => s.op.code === OP.FRAME);
  const k = rng.below(3);
  if (k === 0 && frames.length > 0) {
    const s = rng.pick(frames);
    return replaceRange(data, s.pos, s.end, new Uint8Array(0));
  }
  if (k === 1) {
    const v = rng.pick([0, 1, 2, 3, 4, 5, 6, 0x7f, 0xff]);
    return concat(Uint8Array.of(OP.PROTO, v), data);
  }
  const at = boundary(data, spans, rng);
  const size = rng.chance(0.5) ? BigInt(rng.below(data.length - at + 16)) : rng.pick(LENGTHS);
  return insertAt(data, at, concat(Uint8Array.of(OP.FRAME), le(size, 8)));
};

export const MUTATORS: ReadonlyArray<readonly [string, Mutator, number]> = [
  // name, mutator, weight
  ['bit flip', bitFlip, 6],
  ['interesting byte', interestingByte, 6],
  ['interesting word', interestingWord, 3],
  ['insert bytes', insertBytes, 3],
  ['delete range', deleteRange, 4],
  ['duplicate range', duplicateRange, 3],
  ['splice', splice, 3],
  ['truncate', truncate, 2],
  ['length field', lengthMutation, 6],
  ['memo game', memoGame, 4],
  ['stack game', stackGame, 4],
  ['insert opcode', insertOpcode, 6],
  ['replace opcode', replaceOpcode, 4],
  ['text argument', textArgument, 4],
  ['call gadget', callGadget, 5],
  ['amplify', amplify, 1],
  ['proto/frame', protoFrame, 2],
];

const TOTAL_WEIGHT = MUTATORS.reduce((n, [, , w]) => n + w, 0);

function pickMutator(rng: Rng): readonly [string, Mutator, number] {
  let r = rng.below(TOTAL_WEIGHT);
  for (const m of MUTATORS) {
    r -= m[2];
    if (r < 0) return m;
  }
  return MUTATORS[0]!;
}

/** Applies 1 to 5 stacked mutations; returns the input and the mutators used. */
export function mutate(
  seed: Uint8Array,
  ctx: MutationContext,
  maxBytes: number,
): { bytes: Uint8Array; used: string[] } {
  let data = seed;
  const used: string[] = [];
  const n = ctx.rng.chance(0.5) ? 1 : ctx.rng.int(2, 5);
  for (let i = 0; i < n; i++) {
    const [name, m] = pickMutator(ctx.rng);
    data = m(data, ctx);
    used.push(name);
    if (data.length > maxBytes) data = data.subarray(0, maxBytes);
  }
  return { bytes: data === seed ? seed.slice() : data, used };
}
