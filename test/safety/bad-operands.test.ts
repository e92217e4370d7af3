/**
 * Hand-made hostile pickles: each fails with an `UnpicklingError` of a specific code, and live
 * python3 rejects the same bytes. Truncation at every byte of CPython's corpus pickles, stack and
 * MARK abuse, memo misses, lengths that claim 2**62 bytes (fast, and without allocating), bad
 * UTF-8 and quoting, unknown opcodes and protocols, operands of the wrong type, unhashable keys,
 * hooks that were not given; and dict keys like `__proto__` that must load as plain data without
 * touching `Object.prototype`.
 *
 * Where CPython accepts bytes that look bad (a MARK left open under a value, BUILD of None on an
 * int, ...), the test asserts what CPython does.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, test } from 'node:test';
import {
  ErrorCode,
  OPCODE_BY_CODE,
  PyObject,
  StreamUnpickler,
  UnpicklingError,
  loads,
  type UnpicklerOptions,
} from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { fromTagged } from '../helpers/tagged.js';
import { assertSameValue } from '../helpers/equal.js';

// --- a small pickle builder -------------------------------------------------------------------

type Part = string | number | Uint8Array | Part[];

/** Bytes from parts: a string is its latin-1 bytes (opcodes by their letter), a number one byte. */
function b(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  const add = (p: Part): void => {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const ch of p) out.push(ch.charCodeAt(0) & 0xff);
    else if (p instanceof Uint8Array) out.push(...p);
    else p.forEach(add);
  };
  parts.forEach(add);
  return Uint8Array.from(out);
}
const u32 = (n: number) => {
  const a = new Uint8Array(4);
  new DataView(a.buffer).setUint32(0, n >>> 0, true);
  return a;
};
const u64 = (n: bigint) => {
  const a = new Uint8Array(8);
  new DataView(a.buffer).setBigUint64(0, n, true);
  return a;
};
const utf8 = (s: string) => new TextEncoder().encode(s);
/** PROTO n. */
const proto = (n: number) => b('\x80', n);
/** SHORT_BINUNICODE (protocol 4+). */
const sbu = (s: string) => b('\x8c', utf8(s).length, utf8(s));
/** BINUNICODE (protocol 1+). */
const bu = (s: string) => b('X', u32(utf8(s).length), utf8(s));
/** GLOBAL module\nname\n. */
const glob = (module: string, name: string) => b('c', module, '\n', name, '\n');
/** BYTEARRAY8 of `n` zero bytes (protocol 5). */
const bytearray8 = (n: number) => b('\x96', u64(BigInt(n)), new Uint8Array(n));
const hex = (d: Uint8Array) => Buffer.from(d).toString('hex');

// --- tables -------------------------------------------------------------------------------------

interface Bad {
  name: string;
  bytes: Uint8Array;
  code: ErrorCode;
  /** pickle-ts options for this case. */
  options?: UnpicklerOptions;
  /** Python keyword arguments for pickle.loads, as source text. */
  pyKwargs?: string;
}
const bad = (name: string, bytes: Uint8Array, code: ErrorCode, extra: Partial<Bad> = {}): Bad => ({
  name,
  bytes,
  code,
  ...extra,
});
const { TRUNCATED } = ErrorCode;
const { STACK_UNDERFLOW, NO_MARK, MEMO_MISSING, BAD_ARGUMENT, BAD_ENCODING } = ErrorCode;
const { BAD_OPERAND, UNKNOWN_OPCODE, UNSUPPORTED_PROTOCOL, EXTENSION_MISSING } = ErrorCode;
const { PERSISTENT_LOAD, BUFFERS } = ErrorCode;

const huge = 2n ** 62n;

const GROUPS: Record<string, Bad[]> = {
  'stack underflow': [
    bad('POP on an empty stack (protocol 2)', b(proto(2), '0.'), STACK_UNDERFLOW),
    bad('TUPLE2 with one item above the MARK', b('N(N\x86.'), STACK_UNDERFLOW),
    bad('SETITEM with a key and no value', b('}N', 's.'), STACK_UNDERFLOW),
    bad('REDUCE with a callable but no args', b(glob('builtins', 'list'), 'R.'), STACK_UNDERFLOW),
    bad('BUILD with nothing to build', b(proto(2), '}b.'), STACK_UNDERFLOW),
    bad('STACK_GLOBAL with one string', b(proto(4), sbu('math'), '\x93.'), STACK_UNDERFLOW),
    bad('BINPERSID on an empty stack', b(proto(1), 'Q.'), STACK_UNDERFLOW),
    // The first POP takes the MARK away (as CPython's load_pop does); the second finds nothing.
    bad('POP after POP removed the MARK', b('(00.'), STACK_UNDERFLOW),
  ],
  'missing MARK': [
    bad('APPENDS without a MARK', b(']N', 'e.'), NO_MARK),
    bad('TUPLE without a MARK', b('NN', 't.'), NO_MARK),
    bad('LIST without a MARK', b('N', 'l.'), NO_MARK),
    bad('DICT without a MARK', b('NN', 'd.'), NO_MARK),
    bad('SETITEMS without a MARK', b('}NN', 'u.'), NO_MARK),
    bad('FROZENSET without a MARK', b(proto(4), 'N\x91.'), NO_MARK),
    bad('ADDITEMS without a MARK', b(proto(4), '\x8fN\x90.'), NO_MARK),
    bad('POP_MARK without a MARK', b('N1.'), NO_MARK),
    bad('OBJ without a MARK', b(glob('builtins', 'list'), 'o.'), NO_MARK),
    bad('INST without a MARK', b('ibuiltins\nlist\n.'), NO_MARK),
  ],
  // STOP pops above the innermost MARK, as CPython's does: nothing there is an underflow (a MARK
  // left open below the result is fine: see PYTHON_ACCEPTS).
  'MARK left open at STOP': [
    bad('a MARK on top at STOP', b('N(.'), STACK_UNDERFLOW),
    bad('a MARK on top at STOP (protocol 4)', b(proto(4), ']((.'), STACK_UNDERFLOW),
    bad('an empty pickle that is only a MARK', b('(.'), STACK_UNDERFLOW),
  ],
  'memo key missing': [
    bad('GET of an empty memo', b('g0\n.'), MEMO_MISSING),
    bad('BINGET of a slot never put', b(']q\x01h\x02.'), MEMO_MISSING),
    bad(
      'LONG_BINGET of a slot never put',
      b(proto(2), ']r', u32(7), 'j', u32(8), '.'),
      MEMO_MISSING,
    ),
    // CPython: "Memo value not found at index -1".
    bad('GET -1', b('Va\np0\ng-1\n.'), MEMO_MISSING),
    bad('GET 99999999999', b('Va\np0\ng99999999999\n.'), MEMO_MISSING),
    bad('BINGET before MEMOIZE filled it', b(proto(4), ']\x94h\x01.'), MEMO_MISSING),
    // CPython: OverflowError, the index does not fit a C ssize_t.
    bad('GET 2**70', b('g1180591620717411303424\n.'), BAD_ARGUMENT),
  ],
  'negative and huge lengths': [
    bad('BINSTRING with a negative length', b('T', u32(-1), 'abc.'), BAD_ARGUMENT),
    bad('BINSTRING with -2**31', b('T', u32(-(2 ** 31)), '.'), BAD_ARGUMENT),
    bad('LONG4 with a negative length', b(proto(2), '\x8b', u32(-1), '.'), BAD_ARGUMENT),
    bad('BINUNICODE claiming 2**32-1 bytes', b('X', u32(0xffffffff), 'abc.'), TRUNCATED),
    bad('BINBYTES claiming 2**32-1 bytes', b(proto(3), 'B', u32(0xffffffff), 'abc.'), TRUNCATED),
    bad('BINUNICODE8 claiming 2**62 bytes', b(proto(4), '\x8d', u64(huge), 'abc.'), TRUNCATED),
    bad('BINBYTES8 claiming 2**62 bytes', b(proto(4), '\x8e', u64(huge), 'abc.'), TRUNCATED),
    bad('BYTEARRAY8 claiming 2**62 bytes', b(proto(5), '\x96', u64(huge), 'abc.'), TRUNCATED),
    bad(
      'BINBYTES8 claiming 2**64-1 bytes',
      b(proto(4), '\x8e', u64(2n ** 64n - 1n), '.'),
      TRUNCATED,
    ),
    bad('FRAME claiming 2**62 bytes', b(proto(4), '\x95', u64(huge), 'N.'), TRUNCATED),
    bad('LONG4 claiming 2**31-1 bytes', b(proto(2), '\x8b', u32(0x7fffffff), '.'), TRUNCATED),
  ],
  'bad UTF-8 and bad escapes in text': [
    bad('BINUNICODE with a lone continuation byte', b('X', u32(1), 0x80, '.'), BAD_ENCODING),
    bad('BINUNICODE cut inside a sequence', b('X', u32(2), 0xe2, 0x82, '.'), BAD_ENCODING),
    bad('BINUNICODE with 0xff', b('X', u32(1), 0xff, '.'), BAD_ENCODING),
    bad(
      'SHORT_BINUNICODE with an overlong NUL',
      b(proto(4), '\x8c', 2, 0xc0, 0x80, '.'),
      BAD_ENCODING,
    ),
    bad(
      'SHORT_BINUNICODE past U+10FFFF',
      b(proto(4), '\x8c', 4, 0xf4, 0x90, 0x80, 0x80, '.'),
      BAD_ENCODING,
    ),
    bad('BINUNICODE8 with a bad start byte', b(proto(4), '\x8d', u64(1n), 0xfe, '.'), BAD_ENCODING),
    // UNICODE is raw-unicode-escape, not UTF-8: its bad text is a bad escape (UnicodeDecodeError).
    bad('UNICODE with a cut \\u escape', b('V\\u12\n.'), BAD_ENCODING),
    bad('UNICODE with \\U past U+10FFFF', b('V\\U00110000\n.'), BAD_ENCODING),
    bad('GLOBAL with a bad UTF-8 module', b('c', 0xff, 'x\nlog\n.'), BAD_ENCODING),
    bad('GLOBAL with a bad UTF-8 name', b(proto(3), 'cmath\n', 0xc3, '\n.'), BAD_ENCODING),
    bad('INST with a non-ASCII name', b('(i', 0xc3, 0xa9, '\nx\n.'), BAD_ENCODING),
    bad(
      'STACK_GLOBAL from a bad UTF-8 string',
      b(proto(4), '\x8c', 1, 0xff, sbu('x'), '\x93.'),
      BAD_ENCODING,
    ),
  ],
  'bad quoting in STRING': [
    bad('mismatched quotes', b('S\'abc"\n.'), BAD_ARGUMENT),
    bad('no closing quote', b("S'abc\n."), BAD_ARGUMENT),
    bad('no quotes at all', b('Sabc\n.'), BAD_ARGUMENT),
    bad('a lone quote', b('S"\n.'), BAD_ARGUMENT),
    bad('text after the closing quote', b("S'a'b\n."), BAD_ARGUMENT),
    bad('a bad \\x escape', b("S'\\x4'\n."), BAD_ARGUMENT),
    bad('a trailing backslash', b("S'ab\\'\n."), BAD_ARGUMENT),
  ],
  'bad protocol numbers': [
    bad('PROTO 6', b('\x80\x06N.'), UNSUPPORTED_PROTOCOL),
    bad('PROTO 255', b('\x80\xffN.'), UNSUPPORTED_PROTOCOL),
    bad('PROTO 6 after a valid PROTO 5', b(proto(5), '\x80\x06N.'), UNSUPPORTED_PROTOCOL),
  ],
  'FRAME larger than the data': [
    bad('FRAME of 16 bytes, 2 there', b(proto(4), '\x95', u64(16n), 'N.'), TRUNCATED),
    bad('FRAME of 3 bytes, 2 there', b(proto(4), '\x95', u64(3n), 'N.'), TRUNCATED),
    bad(
      'a second FRAME past the end',
      b(proto(4), '\x95', u64(1n), 'N', '\x95', u64(9n), '.'),
      TRUNCATED,
    ),
  ],
  'APPEND and APPENDS to a non-list': [
    bad('APPEND to an int', b('K\x01K\x02a.'), BAD_OPERAND),
    bad('APPEND to a tuple', b(')K\x02a.'), BAD_OPERAND),
    bad('APPEND to a dict', b('}K\x02a.'), BAD_OPERAND),
    bad('APPEND to a str', b('Vabc\nK\x02a.'), BAD_OPERAND),
    bad('APPENDS to an int', b('K\x01(K\x02e.'), BAD_OPERAND),
    bad('APPENDS to a tuple', b(')(K\x02e.'), BAD_OPERAND),
    bad('APPENDS to a dict', b('}(K\x02e.'), BAD_OPERAND),
    bad('APPENDS to a str', b('Vabc\n(K\x02e.'), BAD_OPERAND),
    bad('APPENDS to None', b('N(K\x02e.'), BAD_OPERAND),
  ],
  'SETITEM and SETITEMS on a non-dict': [
    bad('SETITEM on an empty list (index 0 out of range)', b(']K\x00K\x05s.'), BAD_OPERAND),
    bad('SETITEM on a list with a None key', b(']K\x07aNK\x05s.'), BAD_OPERAND),
    bad('SETITEM on a tuple', b(')K\x00K\x05s.'), BAD_OPERAND),
    bad('SETITEM on an int', b('K\x01K\x00K\x05s.'), BAD_OPERAND),
    bad('SETITEMS on a list', b('](K\x00K\x05u.'), BAD_OPERAND),
    bad('SETITEMS on a tuple', b(')(K\x00K\x05u.'), BAD_OPERAND),
    bad('SETITEMS on an int', b('K\x01(K\x00K\x05u.'), BAD_OPERAND),
  ],
  'ADDITEMS on a non-set': [
    bad('ADDITEMS on a frozenset', b(proto(4), '(\x91(K\x01\x90.'), BAD_OPERAND),
    bad('ADDITEMS on a list', b(proto(4), '](K\x01\x90.'), BAD_OPERAND),
    bad('ADDITEMS on a dict', b(proto(4), '}(K\x01\x90.'), BAD_OPERAND),
    bad('ADDITEMS on an int', b(proto(4), 'K\x01(K\x01\x90.'), BAD_OPERAND),
  ],
  'BUILD on a non-object': [
    bad('BUILD of a dict state on an int', b('K\x01}', bu('a'), 'K\x01sb.'), BAD_OPERAND),
    bad('BUILD of an empty dict state on an int', b('K\x01}b.'), BAD_OPERAND),
    bad('BUILD of a dict state on a list', b(']}', bu('a'), 'K\x01sb.'), BAD_OPERAND),
    bad('BUILD of a dict state on a str', b('Vabc\n}', bu('a'), 'K\x01sb.'), BAD_OPERAND),
    bad('BUILD of (None, slots) on an int', b('K\x01N}', bu('a'), 'K\x01s\x86b.'), BAD_OPERAND),
  ],
  'REDUCE with bad operands': [
    bad('REDUCE of a list as args', b(glob('builtins', 'int'), ']R.'), BAD_OPERAND),
    bad('REDUCE of a dict as args', b(glob('builtins', 'int'), '}R.'), BAD_OPERAND),
    bad('REDUCE of an int', b('K\x01)R.'), BAD_OPERAND),
    bad('REDUCE of a str', b('Vabc\n)R.'), BAD_OPERAND),
    bad('REDUCE of a list', b('])R.'), BAD_OPERAND),
  ],
  'NEWOBJ and NEWOBJ_EX with bad operands': [
    bad(
      'NEWOBJ with a list as args',
      b(proto(2), glob('builtins', 'object'), ']\x81.'),
      BAD_OPERAND,
    ),
    bad('NEWOBJ of an int', b(proto(2), 'K\x01)\x81.'), BAD_OPERAND),
    bad('NEWOBJ of None', b(proto(2), 'N)\x81.'), BAD_OPERAND),
    bad(
      'NEWOBJ_EX with a list as args',
      b(proto(4), glob('builtins', 'object'), ']}\x92.'),
      BAD_OPERAND,
    ),
    bad(
      'NEWOBJ_EX with a list as kwargs',
      b(proto(4), glob('builtins', 'object'), ')]\x92.'),
      BAD_OPERAND,
    ),
    bad(
      'NEWOBJ_EX with a tuple as kwargs',
      b(proto(4), glob('builtins', 'object'), '))\x92.'),
      BAD_OPERAND,
    ),
    bad('NEWOBJ_EX of an int', b(proto(4), 'K\x01)}\x92.'), BAD_OPERAND),
    bad('NEWOBJ_EX of None', b(proto(4), 'N)}\x92.'), BAD_OPERAND),
  ],
  'STACK_GLOBAL with non-strings': [
    bad('two ints', b(proto(4), 'K\x01K\x02\x93.'), BAD_OPERAND),
    bad('a str and an int', b(proto(4), sbu('math'), 'K\x01\x93.'), BAD_OPERAND),
    bad('an int and a str', b(proto(4), 'K\x01', sbu('log'), '\x93.'), BAD_OPERAND),
    bad('two bytes', b(proto(4), 'C\x04mathC\x03log\x93.'), BAD_OPERAND),
    bad('None and None', b(proto(4), 'NN\x93.'), BAD_OPERAND),
  ],
  'unhashable dict keys and set members': [
    bad('SETITEM with a list key', b('}]K\x01s.'), BAD_OPERAND),
    bad('SETITEM with a dict key', b('}}K\x01s.'), BAD_OPERAND),
    bad('SETITEM with a set key', b(proto(4), '}\x8fK\x01s.'), BAD_OPERAND),
    bad('SETITEM with a bytearray key', b(proto(5), '}', bytearray8(1), 'K\x01s.'), BAD_OPERAND),
    bad('SETITEMS with a list key after a str key', b('}(', bu('a'), 'K\x01]K\x02u.'), BAD_OPERAND),
    bad('DICT with a list key', b('(]K\x01d.'), BAD_OPERAND),
    bad('DICT with a dict key', b('(}K\x01d.'), BAD_OPERAND),
    bad('SETITEM with a tuple holding a list', b('}]\x85K\x01s.'), BAD_OPERAND),
    bad('ADDITEMS of a list', b(proto(4), '\x8f(]\x90.'), BAD_OPERAND),
    bad('ADDITEMS of a dict', b(proto(4), '\x8f(}\x90.'), BAD_OPERAND),
    bad('ADDITEMS of a set', b(proto(4), '\x8f(\x8f\x90.'), BAD_OPERAND),
    bad('ADDITEMS of a tuple holding a list', b(proto(4), '\x8f(]\x85\x90.'), BAD_OPERAND),
    bad('FROZENSET of a list', b(proto(4), '(]\x91.'), BAD_OPERAND),
    bad('FROZENSET of a dict', b(proto(4), '(}\x91.'), BAD_OPERAND),
    bad('FROZENSET of a tuple holding a dict', b(proto(4), '(}\x85\x91.'), BAD_OPERAND),
  ],
  'OBJ without a class': [
    bad('OBJ with nothing above the MARK', b('(o.'), STACK_UNDERFLOW),
    bad('OBJ of an int', b('(K\x01o.'), BAD_OPERAND),
    bad('OBJ of None with args', b('(NK\x01o.'), BAD_OPERAND),
  ],
  'EXT codes 0 and unregistered': [
    bad('EXT1 0', b(proto(2), '\x82\x00.'), BAD_ARGUMENT),
    bad('EXT2 0', b(proto(2), '\x83\x00\x00.'), BAD_ARGUMENT),
    bad('EXT4 -1', b(proto(2), '\x84', u32(-1), '.'), BAD_ARGUMENT),
    bad('EXT1 7, unregistered', b(proto(2), '\x82\x07.'), EXTENSION_MISSING),
    bad('EXT2 0x1234, unregistered', b(proto(2), '\x83\x34\x12.'), EXTENSION_MISSING),
    bad('EXT4 2**30, unregistered', b(proto(2), '\x84', u32(2 ** 30), '.'), EXTENSION_MISSING),
  ],
  'PERSID without persistentLoad': [
    bad('PERSID', b('Pabc\n.'), PERSISTENT_LOAD),
    bad('BINPERSID', b(proto(1), 'K\x01Q.'), PERSISTENT_LOAD),
    bad('BINPERSID of a str', b(proto(2), bu('id'), 'Q.'), PERSISTENT_LOAD),
  ],
  'NEXT_BUFFER without buffers': [
    bad('NEXT_BUFFER without the option', b(proto(5), '\x97.'), BUFFERS),
    bad('NEXT_BUFFER with no buffers left', b(proto(5), '\x97.'), BUFFERS, {
      options: { buffers: [] },
      pyKwargs: 'buffers=[]',
    }),
    bad('a second NEXT_BUFFER with one buffer', b(proto(5), '\x97\x97\x86.'), BUFFERS, {
      options: { buffers: [new Uint8Array([1])] },
      pyKwargs: 'buffers=[b"\\x01"]',
    }),
  ],
  'READONLY_BUFFER on a non-buffer': [
    bad('READONLY_BUFFER of an int', b(proto(5), 'K\x01\x98.'), BAD_OPERAND),
    bad('READONLY_BUFFER of a list', b(proto(5), ']\x98.'), BAD_OPERAND),
    bad('READONLY_BUFFER of a str', b(proto(5), sbu('abc'), '\x98.'), BAD_OPERAND),
    bad('READONLY_BUFFER of None', b(proto(5), 'N\x98.'), BAD_OPERAND),
    bad('READONLY_BUFFER on an empty stack', b(proto(5), '\x98.'), STACK_UNDERFLOW),
  ],
};

/** Every byte that is not an opcode, alone and after PROTO 5. */
const UNKNOWN: Bad[] = [];
for (let code = 0; code < 256; code++) {
  if (OPCODE_BY_CODE[code] !== undefined) continue;
  const byte = `0x${code.toString(16).padStart(2, '0')}`;
  UNKNOWN.push(bad(`${byte} alone`, b(code, '.'), UNKNOWN_OPCODE));
  UNKNOWN.push(bad(`${byte} after PROTO 5`, b(proto(5), 'N', code, '.'), UNKNOWN_OPCODE));
}
GROUPS['unknown opcodes'] = UNKNOWN;

/** Bytes that look bad but that CPython loads: pickle-ts gives the same value. */
const PYTHON_ACCEPTS: Array<{ name: string; bytes: Uint8Array }> = [
  // load_stop pops the top of the stack; a MARK below it, or more values, do not matter.
  { name: 'a MARK left open below the result', bytes: b('(N.') },
  { name: 'two values on the stack at STOP', bytes: b('K\x01K\x02.') },
  // load_build ignores a None state (and an empty slot state) whatever the object.
  { name: 'BUILD of None on an int', bytes: b('K\x01Nb.') },
  { name: 'BUILD of None on a list', bytes: b(']Nb.') },
  // SETITEM is obj[key] = value for any object: a list with that index takes it.
  { name: 'SETITEM on a list at an existing index', bytes: b(']K\x07aK\x00K\x05s.') },
  // An empty APPENDS/SETITEMS/ADDITEMS returns before looking at the target.
  { name: 'APPENDS of nothing to an int', bytes: b('K\x01(e.') },
  { name: 'SETITEMS of nothing on an int', bytes: b('K\x01(u.') },
  { name: 'ADDITEMS of nothing on a list', bytes: b(proto(4), '](\x90.') },
];

// --- helpers ------------------------------------------------------------------------------------

function outcome(data: Uint8Array, options?: UnpicklerOptions): UnpicklingError | string {
  let value: unknown;
  try {
    value = loads(data, options);
  } catch (e) {
    if (e instanceof UnpicklingError) return e;
    return `threw ${(e as Error)?.constructor?.name ?? typeof e}: ${String(e)}`;
  }
  return `returned ${typeof value === 'object' && value ? value.constructor?.name : typeof value} instead of throwing`;
}

/** The problem with pickle-ts's handling of `c`, if any. */
function check(c: Bad): string | undefined {
  const e = outcome(c.bytes, c.options);
  if (typeof e === 'string') return `${c.name} [${hex(c.bytes)}]: ${e}`;
  if (e.code !== c.code || typeof e.offset !== 'number') {
    return `${c.name} [${hex(c.bytes)}]: ${e.code} at ${e.offset} (${e.message}), expected ${c.code}`;
  }
  return undefined;
}

const PY_BATCH = [
  'import json, sys',
  'out = []',
  'for h, kw in json.loads(data):',
  '    try:',
  '        v = eval("pickle.loads(d, %s)" % kw, {"pickle": pickle, "d": bytes.fromhex(h)})',
  '        out.append(None)',
  '    except BaseException as e:',
  '        out.append([type(e).__name__, str(e)[:200]])',
  'result = out',
].join('\n');

/** What python3 raises for each case: `[type, message]`, or null where it loaded a value. */
async function pythonErrors(cases: Bad[]): Promise<Array<[string, string] | null>> {
  const batch = cases.map((c) => [hex(c.bytes), c.pyKwargs ?? '']);
  const r = await py.eval(PY_BATCH, utf8(JSON.stringify(batch)));
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  return fromTagged(r.tagged!) as Array<[string, string] | null>;
}

let allPython: Promise<Array<[string, string] | null>> | undefined;
const allCases = Object.values(GROUPS).flat();
/** One python3 batch for every table case. */
function pythonVerdict(c: Bad): Promise<[string, string] | null> {
  allPython ??= pythonErrors(allCases);
  return allPython.then((v) => v[allCases.indexOf(c)]!);
}

// --- the tables ---------------------------------------------------------------------------------

for (const [group, cases] of Object.entries(GROUPS)) {
  describe(group, () => {
    test(`pickle-ts rejects each with a specific code (${cases.length} cases)`, () => {
      const failures = cases.map(check).filter((f) => f !== undefined);
      console.log(
        `${group}: ${cases.length} cases, ${cases.length - failures.length} rejected as expected`,
      );
      assert.deepEqual(failures, []);
    });
    test('python3 rejects each too', async (t) => {
      if (!needPython(t)) return;
      const failures: string[] = [];
      for (const c of cases) {
        if ((await pythonVerdict(c)) === null)
          failures.push(`${c.name} [${hex(c.bytes)}]: python3 loaded it`);
      }
      assert.deepEqual(failures, []);
    });
  });
}

/**
 * The one known difference: APPENDS calls extend (or append) on anything that has it, and a
 * bytearray does, so CPython grows it. A pickle-ts `ByteArray` is a `Uint8Array`, whose length is
 * fixed, so pickle-ts refuses (no pickler writes this; see README, Security).
 */
const PYTHON_GROWS_BYTEARRAY: Array<{ name: string; bytes: Uint8Array; py: string }> = [
  {
    name: 'APPENDS to a bytearray',
    bytes: b(proto(5), bytearray8(0), '(K\x01K\x02e.'),
    py: '0102',
  },
  { name: 'APPEND to a bytearray', bytes: b(proto(5), bytearray8(0), 'K\x01a.'), py: '01' },
];

describe('bytes that CPython loads although they look bad', () => {
  test('APPEND to a bytearray: CPython grows it, pickle-ts refuses (BAD_OPERAND)', async (t) => {
    for (const c of PYTHON_GROWS_BYTEARRAY) {
      assert.throws(
        () => loads(c.bytes),
        (e: unknown) => e instanceof UnpicklingError && e.code === 'BAD_OPERAND',
        c.name,
      );
    }
    if (!needPython(t)) return;
    const r = await py.eval(
      'import json\nresult = [pickle.loads(bytes.fromhex(h)).hex() for h in json.loads(data)]',
      utf8(JSON.stringify(PYTHON_GROWS_BYTEARRAY.map((c) => hex(c.bytes)))),
    );
    assert.deepEqual(
      fromTagged(r.tagged!),
      PYTHON_GROWS_BYTEARRAY.map((c) => c.py),
    );
  });

  test('pickle-ts loads them to the value python3 gives', async (t) => {
    if (!needPython(t)) return;
    const code = [
      'import json',
      'result = []',
      'for h in json.loads(data):',
      '    result.append(pickle.loads(bytes.fromhex(h)))',
    ].join('\n');
    const r = await py.eval(code, utf8(JSON.stringify(PYTHON_ACCEPTS.map((c) => hex(c.bytes)))));
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    const expected = fromTagged(r.tagged!) as unknown[];
    const failures: string[] = [];
    PYTHON_ACCEPTS.forEach((c, i) => {
      try {
        assertSameValue(loads(c.bytes), expected[i]);
      } catch (e) {
        failures.push(`${c.name} [${hex(c.bytes)}]: ${(e as Error).message.split('\n')[0]}`);
      }
    });
    console.log(
      `accepted by CPython: ${PYTHON_ACCEPTS.length} cases, ${PYTHON_ACCEPTS.length - failures.length} loaded alike by pickle-ts`,
    );
    assert.deepEqual(failures, []);
  });
});

// --- truncation at every byte -------------------------------------------------------------------

/**
 * Where to cut a pickle: at every byte when it is small (2 KiB or less). A large one (up to
 * 790 KB in the corpus) is cut at its first 64 bytes, its last 8 and 8 points between: a cut near
 * the end costs a whole decode, so every byte of it would take minutes.
 */
function cutsOf(length: number): number[] {
  if (length <= 2048) return Array.from({ length }, (_, i) => i);
  const cuts = new Set<number>();
  for (let i = 0; i < 64; i++) cuts.add(i);
  for (let i = 1; i <= 8; i++) cuts.add(length - i).add(Math.floor((length * i) / 9));
  return [...cuts].sort((x, y) => x - y);
}

const sha1 = (d: Uint8Array) => createHash('sha1').update(d).digest('hex');

test('truncated at every byte, every corpus pickle at every protocol fails as TRUNCATED (EOF when empty), in python3 too', async (t) => {
  if (!needPython(t)) return;
  const corpus = await py.corpus();
  const pickles = corpus.flatMap((c) =>
    c.pickles.map((p, protocol) => ({ name: c.name, protocol, p })),
  );
  const failures: string[] = [];
  let cutsTried = 0;
  for (const { name, protocol, p } of pickles) {
    for (const k of cutsOf(p.length)) {
      cutsTried++;
      const e = outcome(p.subarray(0, k));
      const want = k === 0 ? ErrorCode.EOF : ErrorCode.TRUNCATED;
      if (typeof e === 'string') failures.push(`${name} p${protocol} cut at ${k}: ${e}`);
      else if (e.code !== want || typeof e.offset !== 'number') {
        failures.push(
          `${name} p${protocol} cut at ${k}: ${e.code} (${e.message}), expected ${want}`,
        );
      }
    }
  }
  // Python rebuilds the same pickles (same process as py.corpus(), so the same bytes, which the
  // hashes confirm) and loads the same cuts.
  const code = [
    'import corpus, hashlib, json',
    'from tagged import from_tagged, to_tagged',
    'req = json.loads(data)',
    'pickles = [pickle.dumps(from_tagged(to_tagged(v)), p) for _, v in corpus.CASES for p in range(6)]',
    'hashes = [hashlib.sha1(p).hexdigest() for p in pickles]',
    'loaded = []',
    'types = set()',
    'for i, cuts in enumerate(req):',
    '    for k in cuts:',
    '        try:',
    '            pickle.loads(pickles[i][:k])',
    '            loaded.append([i, k])',
    '        except BaseException as e:',
    '            types.add(type(e).__name__)',
    'result = [hashes, loaded, sorted(types)]',
  ].join('\n');
  const req = pickles.map(({ p }) => cutsOf(p.length));
  const r = await py.eval(code, utf8(JSON.stringify(req)));
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  const [hashes, loaded, types] = fromTagged(r.tagged!) as [string[], number[][], string[]];
  assert.deepEqual(
    hashes,
    pickles.map(({ p }) => sha1(p)),
    'python3 rebuilt different pickles',
  );
  for (const [i, k] of loaded) {
    const { name, protocol } = pickles[i!]!;
    failures.push(`${name} p${protocol} cut at ${k}: python3 loaded it`);
  }
  console.log(
    `truncation: ${pickles.length} pickles, ${cutsTried} cuts, ${cutsTried - failures.length} rejected ` +
      `by both (python3 raised ${types.join(', ')})`,
  );
  assert.deepEqual(failures, []);
});

// --- lengths that claim 2**62 bytes: fast and without allocating -----------------------------------

/** `gc()` for this file only: the flag is set at run time and the function read from a context. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('a length of 2**62 fails at once, without allocating', () => {
  const claims = GROUPS['negative and huge lengths']!.filter((c) => c.name.includes('2**62'));

  test('each call takes < 10 ms, and 100 calls grow the heap by < 1 MB', () => {
    assert.equal(claims.length, 4);
    const gc = exposeGc();
    for (const c of claims) {
      outcome(c.bytes); // warm up: the first call compiles the code paths
      gc();
      const before = process.memoryUsage();
      let slowest = 0;
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        const e = outcome(c.bytes);
        slowest = Math.max(slowest, performance.now() - t0);
        assert.ok(
          e instanceof UnpicklingError && e.code === ErrorCode.TRUNCATED,
          `${c.name}: ${String(e)}`,
        );
      }
      gc();
      const after = process.memoryUsage();
      const heap = after.heapUsed - before.heapUsed;
      const buffers = after.arrayBuffers - before.arrayBuffers;
      console.log(
        `${c.name}: slowest of 100 ${slowest.toFixed(3)} ms, heap ${heap} B, array buffers ${buffers} B`,
      );
      assert.ok(slowest < 10, `${c.name}: ${slowest} ms`);
      assert.ok(heap < 2 ** 20, `${c.name}: heap grew ${heap} bytes over 100 calls`);
      assert.ok(buffers < 2 ** 20, `${c.name}: array buffers grew ${buffers} bytes over 100 calls`);
    }
  });

  test('StreamUnpickler fails the same way, fast (in one chunk and byte by byte)', async () => {
    const failures: string[] = [];
    for (const c of claims) {
      for (const chunks of [[c.bytes], Array.from(c.bytes, (x) => Uint8Array.of(x))]) {
        const where = `${c.name} [${hex(c.bytes)}] in ${chunks.length} chunks`;
        const t0 = performance.now();
        let err: unknown;
        let value: unknown;
        try {
          value = await new StreamUnpickler(chunks).load();
        } catch (e) {
          err = e;
        }
        const ms = performance.now() - t0;
        if (!(err instanceof UnpicklingError)) {
          failures.push(`${where}: ${err ? String(err) : `loaded ${String(value)}`}`);
        } else if (err.code !== ErrorCode.TRUNCATED) {
          failures.push(`${where}: ${err.code} (${err.message}), expected TRUNCATED`);
        }
        if (ms >= 10) failures.push(`${where}: ${ms} ms`);
      }
    }
    assert.deepEqual(failures, []);
  });
});

// --- prototype pollution ------------------------------------------------------------------------

type Val = number | string | Entries;
type Entries = Array<[string, Val]>;

const POLLUTED: Entries = [['polluted', 'yes']];
const WITH_PROTO: Entries = [
  ['__proto__', POLLUTED],
  ['constructor', [['prototype', POLLUTED]]],
  ['prototype', POLLUTED],
  ['__defineGetter__', 'polluted'],
];
const WITHOUT_PROTO: Entries = WITH_PROTO.slice(1);

type Method = 'DICT' | 'SETITEM' | 'SETITEMS';

/** A pickle of `entries` as a dict at `protocol` (0, 2 or 5), built with `method`. */
function encodeDict(entries: Entries, protocol: number, method: Method): Uint8Array {
  const str = (s: string) => (protocol === 0 ? b('V', s, '\n') : protocol < 4 ? bu(s) : sbu(s));
  const val = (v: Val): Uint8Array =>
    typeof v === 'number'
      ? b('K', v)
      : typeof v === 'string'
        ? str(v)
        : encodeDict(v, protocol, method).subarray(protocol >= 2 ? 2 : 0, -1);
  const pairs = entries.map(([k, v]) => b(str(k), val(v)));
  const empty = protocol === 0 ? '(d' : '}';
  const body =
    method === 'DICT'
      ? b('(', pairs, 'd')
      : method === 'SETITEM'
        ? b(
            empty,
            pairs.map((p) => b(p, 's')),
          )
        : b(empty, '(', pairs, 'u');
  return b(protocol >= 2 ? proto(protocol) : [], body, '.');
}

/** The same dict as the state of an argparse.Namespace, set by BUILD. */
function encodeBuild(entries: Entries, protocol: number, method: Method): Uint8Array {
  const state = encodeDict(entries, protocol, method).subarray(protocol >= 2 ? 2 : 0, -1);
  const obj =
    protocol === 0 ? b('(iargparse\nNamespace\n') : b(glob('argparse', 'Namespace'), ')\x81');
  return b(protocol >= 2 ? proto(protocol) : [], obj, state, 'b.');
}

/** The JS value of `entries` as pickle-ts should give it (a Map when a key needs one). */
function jsValue(v: Val): unknown {
  if (!Array.isArray(v)) return v;
  if (v.some(([k]) => k === '__proto__')) return new Map(v.map(([k, x]) => [k, jsValue(x)]));
  const o: Record<string, unknown> = {};
  for (const [k, x] of v)
    Object.defineProperty(o, k, {
      value: jsValue(x),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return o;
}

/** `key` of a loaded dict, read as data: `Map.get`, or an own property of a plain object. */
function readKey(dict: unknown, key: string): unknown {
  if (dict instanceof Map) return dict.get(key);
  assert.ok(typeof dict === 'object' && dict !== null, `not a dict: ${String(dict)}`);
  assert.equal(
    Object.getPrototypeOf(dict),
    Object.prototype,
    'a dict object has a changed prototype',
  );
  const d = Object.getOwnPropertyDescriptor(dict, key);
  assert.ok(d && 'value' in d, `${key} is not an own data property`);
  return d.value;
}

describe('prototype pollution: __proto__, constructor, prototype, __defineGetter__ load as data', () => {
  const cases: Array<{ name: string; bytes: Uint8Array; entries: Entries; build: boolean }> = [];
  for (const protocol of [0, 2, 5]) {
    for (const method of ['DICT', 'SETITEM', 'SETITEMS'] as const) {
      for (const [label, entries] of [
        ['with __proto__', WITH_PROTO],
        ['without __proto__', WITHOUT_PROTO],
      ] as const) {
        cases.push({
          name: `protocol ${protocol}, ${method}, ${label}`,
          bytes: encodeDict(entries, protocol, method),
          entries,
          build: false,
        });
        cases.push({
          name: `protocol ${protocol}, ${method} as BUILD state, ${label}`,
          bytes: encodeBuild(entries, protocol, method),
          entries,
          build: true,
        });
      }
    }
  }

  test(`pickle-ts loads every case as data and Object.prototype is untouched (${cases.length} cases)`, () => {
    const names = Object.getOwnPropertyNames(Object.prototype).sort();
    const descriptors = Object.getOwnPropertyDescriptors(Object.prototype);
    for (const c of cases) {
      const v = loads(c.bytes);
      const dict = c.build
        ? (assert.ok(v instanceof PyObject, `${c.name}: ${String(v)}`), v.state)
        : v;
      for (const [k, x] of c.entries) {
        assertSameValue(readKey(dict, k), jsValue(x), `${c.name}: key ${k}`);
      }
      assertSameValue(dict, jsValue(c.entries), c.name);
      assert.equal(({} as Record<string, unknown>).polluted, undefined, c.name);
      assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined, c.name);
    }
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), names);
    assert.deepEqual(Object.getOwnPropertyDescriptors(Object.prototype), descriptors);
    console.log(
      `prototype pollution: ${cases.length} cases loaded as data, Object.prototype unchanged`,
    );
  });

  test('python3 loads the same bytes to a dict with those string keys, equal to what pickle-ts gives', async (t) => {
    if (!needPython(t)) return;
    const code = [
      'import json',
      'result = []',
      'for h in json.loads(data):',
      '    v = pickle.loads(bytes.fromhex(h))',
      '    result.append(v if isinstance(v, dict) else vars(v))',
    ].join('\n');
    const r = await py.eval(code, utf8(JSON.stringify(cases.map((c) => hex(c.bytes)))));
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    const fromPython = fromTagged(r.tagged!) as unknown[];
    cases.forEach((c, i) => {
      const v = loads(c.bytes);
      const dict = v instanceof PyObject ? v.state : v;
      assertSameValue(dict, fromPython[i], c.name);
      assertSameValue(fromPython[i], jsValue(c.entries), `${c.name}: python3`);
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
