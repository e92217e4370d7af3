/**
 * Errors: every malformed input gives an `UnpicklingError` with the right code, byte offset and
 * opcode name, and CPython refuses the same input; every value `dumps` cannot write gives a
 * `PicklingError` that names where in the value the problem is.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ErrorCode,
  FrozenSet,
  PickleError,
  Pickler,
  PicklingError,
  Unpickler,
  UnpicklingError,
  dumps,
  loads,
  tuple,
} from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';

const bytes = (hex: string): Uint8Array =>
  new Uint8Array(Buffer.from(hex.replace(/ /g, ''), 'hex'));

/** The error `f` throws (fails if it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error, got none');
}

function unpicklingError(data: Uint8Array): UnpicklingError {
  const e = thrown(() => loads(data));
  assert.ok(e instanceof UnpicklingError, `not an UnpicklingError: ${String(e)}`);
  assert.ok(e instanceof PickleError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'UnpicklingError');
  return e;
}

interface Invalid {
  name: string;
  /** The pickle, in hex. */
  input: string;
  code: ErrorCode;
  offset: number;
  /** The opcode named in the error, or undefined when none is (unknown byte, end of input). */
  opcode: string | undefined;
  /** CPython's exception type for the same input. */
  pyType: string;
  /** When pickle-ts's reason is CPython's message word for word. */
  pyMessage?: string;
}

/** Inputs both pickle-ts and CPython refuse. */
const INVALID: Invalid[] = [
  // --- end of input ---
  {
    name: 'empty input',
    input: '',
    code: 'EOF',
    offset: 0,
    opcode: undefined,
    pyType: 'EOFError',
    pyMessage: 'Ran out of input',
  },
  {
    name: 'PROTO without its argument',
    input: '80',
    code: 'TRUNCATED',
    offset: 0,
    opcode: 'PROTO',
    pyType: 'UnpicklingError',
    pyMessage: 'pickle data was truncated',
  },
  {
    name: 'BININT with 2 of its 4 bytes',
    input: '4a 01 02',
    code: 'TRUNCATED',
    offset: 0,
    opcode: 'BININT',
    pyType: 'UnpicklingError',
    pyMessage: 'pickle data was truncated',
  },
  {
    name: 'BINFLOAT cut short after PROTO',
    input: '80 02 47 00 00',
    code: 'TRUNCATED',
    offset: 2,
    opcode: 'BINFLOAT',
    pyType: 'UnpicklingError',
    pyMessage: 'pickle data was truncated',
  },
  {
    name: 'LONG1 with 2 of its 5 bytes',
    input: '80 02 8a 05 01 02',
    code: 'TRUNCATED',
    offset: 2,
    opcode: 'LONG1',
    pyType: 'UnpicklingError',
    pyMessage: 'pickle data was truncated',
  },
  {
    name: 'BINUNICODE with 2 of its 5 bytes',
    input: '5d 58 05 00 00 00 61 62',
    code: 'TRUNCATED',
    offset: 1,
    opcode: 'BINUNICODE',
    pyType: 'UnpicklingError',
    pyMessage: 'pickle data was truncated',
  },
  {
    name: 'SHORT_BINBYTES length past the end',
    input: '80 03 43 09 61 62 63',
    code: 'TRUNCATED',
    offset: 2,
    opcode: 'SHORT_BINBYTES',
    pyType: 'UnpicklingError',
    pyMessage: 'pickle data was truncated',
  },
  {
    name: 'FRAME longer than the input',
    input: '80 04 95 10 00 00 00 00 00 00 00 4b 01 2e',
    code: 'TRUNCATED',
    offset: 2,
    opcode: 'FRAME',
    pyType: 'UnpicklingError',
    pyMessage: 'pickle data was truncated',
  },
  {
    name: 'no STOP after a complete value',
    input: '80 04 4b 01',
    code: 'TRUNCATED',
    offset: 4,
    opcode: undefined,
    pyType: 'EOFError',
  },
  {
    name: 'PROTO alone',
    input: '80 04',
    code: 'TRUNCATED',
    offset: 2,
    opcode: undefined,
    pyType: 'EOFError',
  },
  // --- opcodes ---
  {
    name: 'unknown opcode 0xff',
    input: 'ff',
    code: 'UNKNOWN_OPCODE',
    offset: 0,
    opcode: undefined,
    pyType: 'UnpicklingError',
  },
  {
    name: 'unknown opcode 0xff after a value',
    input: '80 04 4b 01 ff 2e',
    code: 'UNKNOWN_OPCODE',
    offset: 4,
    opcode: undefined,
    pyType: 'UnpicklingError',
  },
  {
    name: 'unknown opcode 0x00',
    input: '80 02 00 2e',
    code: 'UNKNOWN_OPCODE',
    offset: 2,
    opcode: undefined,
    pyType: 'UnpicklingError',
  },
  {
    name: 'PROTO 6',
    input: '80 06 4b 01 2e',
    code: 'UNSUPPORTED_PROTOCOL',
    offset: 0,
    opcode: 'PROTO',
    pyType: 'ValueError',
    pyMessage: 'unsupported pickle protocol: 6',
  },
  // --- stack ---
  {
    name: "POP on an empty stack (b'0.')",
    input: '30 2e',
    code: 'STACK_UNDERFLOW',
    offset: 0,
    opcode: 'POP',
    pyType: 'UnpicklingError',
    pyMessage: 'unpickling stack underflow',
  },
  {
    name: 'APPEND on an empty stack',
    input: '61 2e',
    code: 'STACK_UNDERFLOW',
    offset: 0,
    opcode: 'APPEND',
    pyType: 'UnpicklingError',
    pyMessage: 'unpickling stack underflow',
  },
  {
    name: 'APPEND with only the list',
    input: '80 02 5d 61 2e',
    code: 'STACK_UNDERFLOW',
    offset: 3,
    opcode: 'APPEND',
    pyType: 'UnpicklingError',
    pyMessage: 'unpickling stack underflow',
  },
  {
    name: 'STOP on an empty stack',
    input: '80 02 2e',
    code: 'STACK_UNDERFLOW',
    offset: 2,
    opcode: 'STOP',
    pyType: 'UnpicklingError',
    pyMessage: 'unpickling stack underflow',
  },
  {
    name: 'APPENDS without MARK',
    input: '5d 4b 01 65 2e',
    code: 'NO_MARK',
    offset: 3,
    opcode: 'APPENDS',
    pyType: 'UnpicklingError',
    pyMessage: 'could not find MARK',
  },
  {
    name: 'TUPLE without MARK',
    input: '4b 01 74 2e',
    code: 'NO_MARK',
    offset: 2,
    opcode: 'TUPLE',
    pyType: 'UnpicklingError',
    pyMessage: 'could not find MARK',
  },
  {
    name: 'APPENDS with nothing under its MARK',
    input: '28 4b 01 65 2e',
    code: 'STACK_UNDERFLOW',
    offset: 3,
    opcode: 'APPENDS',
    pyType: 'UnpicklingError',
    pyMessage: 'unpickling stack underflow',
  },
  // --- memo ---
  {
    name: 'BINGET of an empty memo slot',
    input: '68 05 2e',
    code: 'MEMO_MISSING',
    offset: 0,
    opcode: 'BINGET',
    pyType: 'UnpicklingError',
    pyMessage: 'Memo value not found at index 5',
  },
  {
    name: 'LONG_BINGET past the memo',
    input: '80 02 5d 71 00 6a 01 00 00 00 2e',
    code: 'MEMO_MISSING',
    offset: 5,
    opcode: 'LONG_BINGET',
    pyType: 'UnpicklingError',
    pyMessage: 'Memo value not found at index 1',
  },
  {
    name: 'GET of an unknown index',
    input: '67 33 0a 2e',
    code: 'MEMO_MISSING',
    offset: 0,
    opcode: 'GET',
    pyType: 'UnpicklingError',
    pyMessage: 'Memo value not found at index 3',
  },
  // --- operands ---
  {
    name: 'APPEND to an int',
    input: '4b 01 4b 02 61 2e',
    code: 'BAD_OPERAND',
    offset: 4,
    opcode: 'APPEND',
    pyType: 'AttributeError',
  },
  {
    name: 'APPENDS to a tuple',
    input: '29 28 4b 01 65 2e',
    code: 'BAD_OPERAND',
    offset: 4,
    opcode: 'APPENDS',
    pyType: 'AttributeError',
  },
  {
    name: 'SETITEM on an int',
    input: '4b 01 4b 02 4b 03 73 2e',
    code: 'BAD_OPERAND',
    offset: 6,
    opcode: 'SETITEM',
    pyType: 'TypeError',
  },
  {
    name: 'SETITEMS on an empty list',
    input: '5d 28 4b 00 4b 01 75 2e',
    code: 'BAD_OPERAND',
    offset: 6,
    opcode: 'SETITEMS',
    pyType: 'IndexError',
  },
  {
    name: 'ADDITEMS on a list',
    input: '80 04 5d 28 4b 01 90 2e',
    code: 'BAD_OPERAND',
    offset: 6,
    opcode: 'ADDITEMS',
    pyType: 'AttributeError',
  },
  {
    name: 'REDUCE with an int for arguments',
    input: '80 04 8c 08 62 75 69 6c 74 69 6e 73 8c 03 69 6e 74 93 4b 01 52 2e',
    code: 'BAD_OPERAND',
    offset: 20,
    opcode: 'REDUCE',
    pyType: 'TypeError',
  },
  {
    name: 'STACK_GLOBAL with ints',
    input: '80 04 4b 01 4b 02 93 2e',
    code: 'BAD_OPERAND',
    offset: 6,
    opcode: 'STACK_GLOBAL',
    pyType: 'UnpicklingError',
    pyMessage: 'STACK_GLOBAL requires str',
  },
  {
    name: 'BUILD on a list',
    input: '80 02 5d 7d 62 2e',
    code: 'BAD_OPERAND',
    offset: 4,
    opcode: 'BUILD',
    pyType: 'AttributeError',
  },
  {
    name: 'BUILD on a list with a non-empty state',
    input: '80 02 5d 7d 8c 01 61 4b 01 73 62 2e',
    code: 'BAD_OPERAND',
    offset: 10,
    opcode: 'BUILD',
    pyType: 'AttributeError',
  },
  // --- text ---
  {
    name: 'BINUNICODE with bytes 80 ff',
    input: '58 02 00 00 00 80 ff 2e',
    code: 'BAD_ENCODING',
    offset: 0,
    opcode: 'BINUNICODE',
    pyType: 'UnicodeDecodeError',
  },
  {
    name: 'SHORT_BINUNICODE with a bad continuation byte',
    input: '80 04 8c 02 c3 28 2e',
    code: 'BAD_ENCODING',
    offset: 2,
    opcode: 'SHORT_BINUNICODE',
    pyType: 'UnicodeDecodeError',
  },
  {
    name: 'BINUNICODE with an overlong encoding',
    input: '58 02 00 00 00 c0 af 2e',
    code: 'BAD_ENCODING',
    offset: 0,
    opcode: 'BINUNICODE',
    pyType: 'UnicodeDecodeError',
  },
];

describe('errors: malformed pickles', () => {
  for (const c of INVALID) {
    test(`${c.name}: ${c.code}, and CPython refuses it too`, async (t) => {
      const data = bytes(c.input);
      const e = unpicklingError(data);
      assert.equal(e.code, c.code, e.message);
      assert.equal(e.offset, c.offset, e.message);
      assert.equal(e.opcode, c.opcode, e.message);
      const prefix = `at byte ${c.offset}${c.opcode ? ` (${c.opcode})` : ''}: `;
      assert.ok(e.message.startsWith(prefix), `${JSON.stringify(e.message)} lacks ${prefix}`);
      assert.equal(e.message, prefix + e.reason);
      if (!needPython(t)) return;
      const r = await py.load(data);
      assert.ok(r.error, `CPython loaded it: ${JSON.stringify(r.tagged)}`);
      assert.equal(r.error.type, c.pyType, r.error.message);
      if (c.pyMessage !== undefined) {
        assert.equal(r.error.message, c.pyMessage);
        assert.equal(e.reason, c.pyMessage);
      }
    });
  }

  test('unknown opcode: "invalid load key" as CPython words it', async (t) => {
    if (!needPython(t)) return;
    for (const code of [0xff, 0x00, 0x01, 0x7f, 0x9a, 0xc8]) {
      const data = new Uint8Array([0x80, 0x04, code, 0x2e]);
      const e = unpicklingError(data);
      assert.equal(e.code, ErrorCode.UNKNOWN_OPCODE);
      assert.equal(e.offset, 2);
      const r = await py.load(data);
      assert.equal(r.error?.type, 'UnpicklingError');
      // CPython: "invalid load key, '\xff'." (with a final period).
      assert.equal(`${e.reason}.`, r.error.message);
    }
  });

  test('truncated: every proper prefix of a CPython pickle fails as EOF or TRUNCATED, as in CPython', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes(
      "result = pickle.dumps([1, 300, 70000, 2**40, 1.5, 'abc', b'xy', (None, True), {'k': -1}], 4)",
    );
    for (let n = 0; n < data.length; n++) {
      const cut = data.subarray(0, n);
      const e = unpicklingError(cut);
      assert.ok(
        n === 0 ? e.code === ErrorCode.EOF : e.code === ErrorCode.TRUNCATED,
        `prefix of ${n}: ${e.code} ${e.message}`,
      );
      assert.ok(e.offset !== undefined && e.offset <= n, `prefix of ${n}: offset ${e.offset}`);
      const r = await py.load(cut);
      assert.ok(r.error, `CPython loaded a prefix of ${n} bytes`);
    }
  });

  test('Unpickler.load() at the end of its input: EOF at that position', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes('result = pickle.dumps(1, 2)');
    const u = new Unpickler(data);
    assert.equal(u.load(), 1);
    assert.ok(u.atEnd);
    const e = thrown(() => u.load());
    assert.ok(e instanceof UnpicklingError);
    assert.equal(e.code, ErrorCode.EOF);
    assert.equal(e.offset, data.length);
  });
});

describe('errors: what CPython accepts at STOP', () => {
  // CPython's STOP pops the top of the stack (above the innermost MARK) and ignores the rest: a
  // MARK left open or values below the result do not fail the load, here either.
  const AT_STOP: Array<{ name: string; input: string; value: number; py: string }> = [
    { name: 'MARK left open at STOP', input: '28 4b 01 2e', value: 1, py: '1' },
    { name: 'two values at STOP', input: '4b 01 4b 02 2e', value: 2, py: '2' },
    { name: 'a list and an int at STOP', input: '80 02 5d 4b 07 2e', value: 7, py: '7' },
  ];
  for (const c of AT_STOP) {
    test(`${c.name}: the top value, as CPython returns`, async (t) => {
      const data = bytes(c.input);
      assert.equal(loads(data), c.value);
      if (!needPython(t)) return;
      assert.deepEqual(await py.load(data), { tagged: { t: 'int', v: c.py } });
    });
  }

  test('a MARK right under STOP: stack underflow, as in CPython', async (t) => {
    const data = bytes('4b 01 28 2e');
    const e = unpicklingError(data);
    assert.equal(e.code, ErrorCode.STACK_UNDERFLOW);
    assert.equal(e.offset, 3);
    assert.equal(e.opcode, 'STOP');
    if (!needPython(t)) return;
    const r = await py.load(data);
    assert.equal(r.error?.type, 'UnpicklingError');
  });
});

describe('errors: values dumps cannot write', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const CASES: Array<{ name: string; value: () => unknown; path: string }> = [
    { name: 'a function', value: () => () => 1, path: 'value' },
    { name: 'undefined', value: () => undefined, path: 'value' },
    { name: 'a Symbol', value: () => Symbol('s'), path: 'value' },
    { name: 'a class instance without reducer', value: () => new Point(1, 2), path: 'value' },
    { name: 'a RegExp', value: () => /x/, path: 'value' },
    {
      name: 'a function deep in objects and lists',
      value: () => ({ items: [1, 2, 3, { when: () => 1 }] }),
      path: 'value.items[3].when',
    },
    {
      name: 'undefined in a list in a dict',
      value: () => ({ a: { b: [null, undefined] } }),
      path: 'value.a.b[1]',
    },
    {
      name: 'a key that is not an identifier',
      value: () => ({ 'two words': [Symbol('x')] }),
      path: 'value["two words"][0]',
    },
    {
      name: 'a value under a Map key',
      value: () => new Map<unknown, unknown>([[1, { x: /x/ }]]),
      path: 'value[1].x',
    },
    {
      name: 'a value under a string Map key',
      value: () => new Map([['k', [() => 0]]]),
      path: 'value.k[0]',
    },
    {
      name: 'an unpicklable Map key',
      value: () => new Map([[Symbol('key'), 1]]),
      path: 'value[<key>]',
    },
    {
      name: 'a tuple index',
      value: () => tuple<unknown>(0, tuple<unknown>(1, 2, new Point(0, 0))),
      path: 'value[1][2]',
    },
    { name: 'a long tuple index', value: () => tuple(0, 1, 2, 3, 4, undefined), path: 'value[5]' },
    { name: 'a set member', value: () => new Set([1, 2, () => 3]), path: 'value{2}' },
    {
      name: 'a frozenset member',
      value: () => new FrozenSet(['a', undefined]),
      path: 'value{1}',
    },
    {
      name: 'a set inside a list inside a tuple',
      value: () => tuple([new Set([Symbol('s')])]),
      path: 'value[0][0]{0}',
    },
  ];
  for (const c of CASES) {
    test(`${c.name}: UNPICKLABLE at ${c.path}, at every protocol`, () => {
      const wrongPaths: string[] = [];
      for (const protocol of [0, 1, 2, 3, 4, 5]) {
        const e = thrown(() => dumps(c.value(), { protocol }));
        assert.ok(e instanceof PicklingError, `not a PicklingError: ${String(e)}`);
        assert.ok(e instanceof PickleError);
        assert.equal(e.name, 'PicklingError');
        assert.equal(e.code, ErrorCode.UNPICKLABLE);
        assert.ok(e.message.startsWith(`${e.path}: `), e.message);
        if (e.path !== c.path) wrongPaths.push(`protocol ${protocol}: ${e.path}`);
      }
      assert.deepEqual(wrongPaths, [], `path should be ${c.path}`);
    });
  }

  test('CPython also refuses a lambda', async (t) => {
    if (!needPython(t)) return;
    const r = await py.eval('result = pickle.dumps({"items": [1, 2, 3, {"when": lambda: 1}]})');
    assert.ok(r.error, 'CPython pickled a lambda');
    const e = thrown(() => dumps({ items: [1, 2, 3, { when: () => 1 }] }));
    assert.ok(e instanceof PicklingError && e.path === 'value.items[3].when');
  });

  for (const [name, make] of [
    ['lists', (inner: unknown) => [inner]],
    ['objects', (inner: unknown) => ({ a: inner })],
    ['Maps', (inner: unknown) => new Map([[1, inner]])],
    ['tuples', (inner: unknown) => tuple(inner)],
  ] as const) {
    test(`a value nested 100,000 deep in ${name} pickles without recursion and loads back as deep`, () => {
      let v: unknown = 1;
      for (let i = 0; i < 100_000; i++) v = make(v);
      const p = new Pickler();
      let back = loads(p.dump(v));
      let depth = 0;
      while (back !== 1) {
        back =
          back instanceof Map
            ? back.get(1)
            : Array.isArray(back)
              ? back[0]
              : (back as { a: unknown }).a;
        depth++;
      }
      assert.equal(depth, 100_000);
      // A bad value deep inside still names its path, and the same Pickler works afterwards.
      const e = thrown(() => p.dump(make(make(undefined))));
      assert.ok(e instanceof PicklingError && e.code === ErrorCode.UNPICKLABLE);
      assert.deepEqual(loads(p.dump([1, 2])), [1, 2]);
    });
  }

  test('a Pickler with a bad option fails at construction with BAD_OPTION', () => {
    const e = thrown(() => new Pickler({ protocol: 7 }));
    assert.ok(e instanceof PicklingError);
    assert.equal(e.code, ErrorCode.BAD_OPTION);
  });
});
