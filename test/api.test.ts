/**
 * The public API surface: protocol option, accepted input types, trailing bytes, exact and
 * default number modes, and the value classes (Tuple, FrozenSet, ByteArray, Complex), each
 * checked against live CPython.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ByteArray,
  Complex,
  ErrorCode,
  FrozenSet,
  PickleError,
  PicklingError,
  Tuple,
  dumps,
  loads,
  tuple,
} from './helpers/pickle.js';
import { assertSameValue } from './helpers/equal.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, toTagged, type Tagged } from './helpers/tagged.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** `assert.equal` on hex, so a failure shows both pickles. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  assert.equal(hex(actual), hex(expected), message);
}

async function pyTagged(code: string): Promise<Tagged> {
  const r = await py.eval(code);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  return r.tagged!;
}

/** A JS value and the Python expression that means the same, for byte comparisons. */
const SAMPLES: Array<[string, () => unknown]> = [
  ['1', () => 1],
  [
    "{'a': [1, 2.5, None, True], 'b': (b'x', 'y')}",
    () => ({
      a: [1, 2.5, null, true],
      b: tuple<unknown>(new Uint8Array([0x78]), 'y'),
    }),
  ],
  [
    '[frozenset(), bytearray(b"ab"), 1j]',
    () => [new FrozenSet(), ByteArray.copyOf(new Uint8Array([0x61, 0x62])), new Complex(0, 1)],
  ],
];

describe('api: protocol option', () => {
  test('the default protocol is 4: output starts 0x80 0x04 and equals pickle.dumps(v, 4)', async (t) => {
    if (!needPython(t)) return;
    for (const [expr, make] of SAMPLES) {
      const got = dumps(make());
      assert.equal(got[0], 0x80);
      assert.equal(got[1], 0x04);
      assertSameBytes(got, await py.bytes(`result = pickle.dumps(${expr}, 4)`), expr);
      assertSameBytes(got, dumps(make(), { protocol: 4 }), expr);
    }
  });

  test('protocol -1 means the highest, 5, as pickle.HIGHEST_PROTOCOL', async (t) => {
    if (!needPython(t)) return;
    const highest = await pyTagged('result = pickle.HIGHEST_PROTOCOL');
    assert.deepEqual(highest, { t: 'int', v: '5' });
    for (const [expr, make] of SAMPLES) {
      const got = dumps(make(), { protocol: -1 });
      assert.equal(got[1], 5);
      assertSameBytes(got, await py.bytes(`result = pickle.dumps(${expr}, -1)`), expr);
      assertSameBytes(got, dumps(make(), { protocol: 5 }), expr);
    }
  });

  test('every protocol 0-5 gives pickle.dumps bytes for the samples', async (t) => {
    if (!needPython(t)) return;
    for (const [expr, make] of SAMPLES) {
      for (let p = 0; p <= 5; p++) {
        assertSameBytes(
          dumps(make(), { protocol: p }),
          await py.bytes(`result = pickle.dumps(${expr}, ${p})`),
          `${expr} @${p}`,
        );
      }
    }
  });

  test('protocol 6, 1.5 and NaN are refused with PicklingError BAD_OPTION', async (t) => {
    for (const protocol of [6, 1.5, NaN, 100]) {
      assert.throws(
        () => dumps(1, { protocol }),
        (e: unknown) =>
          e instanceof PicklingError && e instanceof PickleError && e.code === ErrorCode.BAD_OPTION,
        `protocol ${protocol}`,
      );
    }
    if (!needPython(t)) return;
    // Python refuses protocol 6 as well.
    const r = await py.eval('result = pickle.dumps(1, 6)');
    assert.equal(r.error?.type, 'ValueError');
  });
});

describe('api: input types', () => {
  test('loads accepts Uint8Array, ArrayBuffer, DataView, offset views and Node Buffer', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes(
      "result = pickle.dumps({'b': b'\\x00\\x01\\xff', 'l': [1, 'two', (3.5,)]}, 4)",
    );
    const expected = fromTagged(
      await pyTagged("result = {'b': b'\\x00\\x01\\xff', 'l': [1, 'two', (3.5,)]}"),
    );
    const padded = new Uint8Array(data.length + 7);
    padded.set(data, 3);
    const inputs: Array<[string, Uint8Array | ArrayBuffer | DataView | Buffer]> = [
      ['Uint8Array', new Uint8Array(data)],
      ['ArrayBuffer', new Uint8Array(data).buffer],
      ['DataView', new DataView(new Uint8Array(data).buffer)],
      ['DataView at an offset', new DataView(padded.buffer, 3, data.length)],
      ['Uint8Array at an offset', padded.subarray(3, 3 + data.length)],
      ['Buffer', Buffer.from(data)],
      ['Buffer at an offset', Buffer.concat([Buffer.from([1, 2]), data]).subarray(2)],
    ];
    for (const [name, input] of inputs) {
      assertSameValue(loads(input), expected, name);
    }
  });

  test('bytes loaded from a Node Buffer are plain Uint8Arrays, not Buffers', async (t) => {
    if (!needPython(t)) return;
    const data = Buffer.from(
      await py.bytes("result = pickle.dumps([b'abc', b'x' * 300, bytearray(b'q')], 5)"),
    );
    const value = loads(data) as unknown[];
    assert.equal(value[0]!.constructor, Uint8Array);
    assert.equal(value[1]!.constructor, Uint8Array);
    assert.ok(!Buffer.isBuffer(value[0]));
    assert.equal(value[2]!.constructor, ByteArray);
    // A plain Uint8Array dumps as bytes, just as Python wrote them.
    assertSameBytes(dumps(value, { protocol: 5 }), data);
  });

  test('loads ignores bytes after STOP, as pickle.loads does', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes("result = pickle.dumps(['x', 2], 4)");
    const withTrailer = new Uint8Array([...data, 0xff, 0x00, 0x2e, 0x4b]);
    const r = await py.load(withTrailer);
    assert.equal(r.error, undefined);
    assertSameValue(loads(withTrailer), fromTagged(r.tagged!));
  });
});

describe('api: number modes', () => {
  test('exact mode: every Python int loads as a bigint', async (t) => {
    if (!needPython(t)) return;
    const expr = '[0, 1, -1, 255, 65536, -2**31, 2**53, 10**30, True, 1.0]';
    const data = await py.bytes(`result = pickle.dumps(${expr}, 4)`);
    const value = loads(data, { exact: true });
    assertSameValue(value, fromTagged(await pyTagged(`result = ${expr}`), { exact: true }));
    assert.deepEqual(value, [
      0n,
      1n,
      -1n,
      255n,
      65536n,
      -(2n ** 31n),
      2n ** 53n,
      10n ** 30n,
      true,
      1,
    ]);
  });

  test('exact mode: dumps writes every number as a float and every bigint as an int', async (t) => {
    if (!needPython(t)) return;
    const value = [1, 0, -0, 3, 2 ** 53, 0.5, 7n, -(2n ** 70n)];
    const expr = '[1.0, 0.0, -0.0, 3.0, 2.0**53, 0.5, 7, -2**70]';
    for (let p = 0; p <= 5; p++) {
      assertSameBytes(
        dumps(value, { protocol: p, exact: true }),
        await py.bytes(`result = pickle.dumps(${expr}, ${p})`),
        `@${p}`,
      );
    }
  });

  test('exact mode: load then dump reproduces CPython bytes with ints and floats mixed', async (t) => {
    if (!needPython(t)) return;
    for (let p = 0; p <= 5; p++) {
      const data = await py.bytes(
        `result = pickle.dumps({'i': 3, 'f': 3.0, 'z': -0.0, 'b': 2**64, 'l': [1, 1.0]}, ${p})`,
      );
      assertSameBytes(dumps(loads(data, { exact: true }), { protocol: p, exact: true }), data);
    }
  });

  test('default mode: 3.0 loads as 3 and dumps back as the int 3 (the documented loss)', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes('result = pickle.dumps(3.0, 4)');
    const v = loads(data);
    assert.equal(v, 3);
    const again = dumps(v);
    assertSameBytes(again, await py.bytes('result = pickle.dumps(3, 4)'));
    assert.deepEqual(await py.load(again), { tagged: { t: 'int', v: '3' } });
  });

  test('default mode: -0.0 stays a float both ways', async (t) => {
    if (!needPython(t)) return;
    for (let p = 0; p <= 5; p++) {
      const data = await py.bytes(`result = pickle.dumps(-0.0, ${p})`);
      const v = loads(data);
      assert.ok(Object.is(v, -0), `@${p}: ${String(v)}`);
      assertSameBytes(dumps(v, { protocol: p }), data, `@${p}`);
    }
  });

  test('default mode: 2**53 loads as a bigint, 2**53 - 1 as a number', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes(
      'result = pickle.dumps([2**53 - 1, 2**53, -(2**53 - 1), -(2**53)], 4)',
    );
    assert.deepEqual(loads(data), [2 ** 53 - 1, 2n ** 53n, -(2 ** 53 - 1), -(2n ** 53n)]);
    assertSameBytes(dumps(loads(data)), data);
  });
});

describe('api: value classes', () => {
  test('a Python tuple loads as a Tuple that behaves as an array', async (t) => {
    if (!needPython(t)) return;
    const data = await py.bytes("result = pickle.dumps((1, 'a', (2, 3)), 4)");
    const v = loads(data);
    assert.ok(v instanceof Tuple);
    assert.ok(Array.isArray(v));
    assert.equal(v.length, 3);
    assert.equal(JSON.stringify(v), '[1,"a",[2,3]]');
    const mapped = v.map((x) => x);
    assert.equal(Object.getPrototypeOf(mapped), Array.prototype);
    assert.ok(!(mapped instanceof Tuple));
    assert.equal(v.filter(() => true).constructor, Array);
    assert.equal(v.slice(1).constructor, Array);
    assert.deepEqual([...v.entries()].length, 3);
    // The mapped copy pickles as a list, the tuple itself as a tuple.
    assertSameBytes(dumps(mapped), await py.bytes("result = pickle.dumps([1, 'a', (2, 3)], 4)"));
    assertSameBytes(dumps(v), data);
  });

  test('tuple() builds a Tuple that pickles as a Python tuple', async (t) => {
    if (!needPython(t)) return;
    const a = tuple(1, 2);
    assert.ok(a instanceof Tuple && Array.isArray(a));
    assertSameBytes(dumps(a, { protocol: 2 }), await py.bytes('result = pickle.dumps((1, 2), 2)'));
    assertSameBytes(
      dumps(tuple(), { protocol: 0 }),
      await py.bytes('result = pickle.dumps((), 0)'),
    );
  });

  test('FrozenSet, ByteArray and Complex round-trip both ways at every protocol', async (t) => {
    if (!needPython(t)) return;
    const expr =
      "[frozenset({1, 'a', (2, 3)}), frozenset(), bytearray(b'\\x00ab'), bytearray(), complex(1.5, -2), 1j, complex(-0.0, 0.0)]";
    const tagged = await pyTagged(`result = ${expr}`);
    const expected = fromTagged(tagged);
    const list = expected as unknown[];
    assert.ok(list[0] instanceof FrozenSet && list[0] instanceof Set);
    assert.ok(list[2] instanceof ByteArray && list[2] instanceof Uint8Array);
    assert.ok(list[4] instanceof Complex);
    assert.equal((list[4] as Complex).re, 1.5);
    assert.equal((list[4] as Complex).im, -2);
    for (let p = 0; p <= 5; p++) {
      const data = await py.bytes(`result = pickle.dumps(${expr}, ${p})`);
      const v = loads(data);
      assertSameValue(v, expected, `load @${p}`);
      assert.equal(await py.check(dumps(v, { protocol: p }), toTagged(v)), undefined, `@${p}`);
      assert.equal(await py.check(dumps(v, { protocol: p }), tagged), undefined, `@${p}`);
    }
  });
});
