/**
 * How Python dicts look in JS: a plain object when every key is a string a plain object keeps
 * as it is, a Map otherwise; key order, sharing and prototype safety, against live CPython.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Tuple, dumps, loads, tuple } from './helpers/pickle.js';
import { assertSameValue } from './helpers/equal.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, type Tagged } from './helpers/tagged.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  assert.equal(hex(actual), hex(expected), message);
}

async function pyResult(code: string, data?: Uint8Array): Promise<Tagged> {
  const r = await py.eval(code, data);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  return r.tagged!;
}

/** Python's pickles of `expr` at every protocol. */
async function pyPickles(expr: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const p of PROTOCOLS) out.push(await py.bytes(`result = pickle.dumps(${expr}, ${p})`));
  return out;
}

/** Python's key list of the dict pickle-ts wrote. */
async function pyKeys(data: Uint8Array): Promise<unknown> {
  return fromTagged(await pyResult('result = list(pickle.loads(data).keys())', data));
}

describe('dicts: which JS form', () => {
  test('string keys give a plain object whose prototype is Object.prototype', async (t) => {
    if (!needPython(t)) return;
    const expr = "{'b': 1, 'a': [2], '': None, 'é': 'x', 'key with spaces': {'in': 1}}";
    const expected = fromTagged(await pyResult(`result = ${expr}`));
    const pickles = await pyPickles(expr);
    for (const p of PROTOCOLS) {
      const v = loads(pickles[p]!) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(v), Object.prototype, `@${p}`);
      assert.equal(Object.getPrototypeOf(v['key with spaces']), Object.prototype);
      assert.deepEqual(Object.keys(v), ['b', 'a', '', 'é', 'key with spaces']);
      assertSameValue(v, expected, `@${p}`);
      assertSameBytes(dumps(v, { protocol: p }), pickles[p]!, `@${p}`);
    }
  });

  test('int, float, tuple, None and bool keys give a Map, in Python order', async (t) => {
    if (!needPython(t)) return;
    const expr = "{7: 'int', 2.5: 'float', (1, 'a'): 'tuple', None: 'none', True: 'bool', 'k': 0}";
    const expected = fromTagged(await pyResult(`result = ${expr}`));
    const pickles = await pyPickles(expr);
    for (const p of PROTOCOLS) {
      const v = loads(pickles[p]!);
      assert.ok(v instanceof Map, `@${p}`);
      const keys = [...v.keys()];
      assert.deepEqual(keys.slice(0, 2), [7, 2.5]);
      assert.ok(keys[2] instanceof Tuple);
      assert.deepEqual([...(keys[2] as Tuple)], [1, 'a']);
      assert.deepEqual(keys.slice(3), [null, true, 'k']);
      assertSameValue(v, expected, `@${p}`);
      assertSameBytes(dumps(v, { protocol: p }), pickles[p]!, `@${p}`);
    }
  });

  test("index-like string keys ('0', '10') give a Map that keeps Python's order", async (t) => {
    if (!needPython(t)) return;
    const expr = "{'b': 1, '10': 2, '0': 3, 'a': 4, '01': 5, '4294967295': 6, '-1': 7}";
    const expected = fromTagged(await pyResult(`result = ${expr}`));
    const pickles = await pyPickles(expr);
    for (const p of PROTOCOLS) {
      const v = loads(pickles[p]!);
      assert.ok(v instanceof Map, `@${p}`);
      assert.deepEqual([...v.keys()], ['b', '10', '0', 'a', '01', '4294967295', '-1']);
      assertSameValue(v, expected, `@${p}`);
      assertSameBytes(dumps(v, { protocol: p }), pickles[p]!, `@${p}`);
    }
    // Keys that only look like numbers stay in a plain object.
    const plain = loads(await py.bytes("result = pickle.dumps({'01': 1, '-1': 2, '1.5': 3})"));
    assert.equal(Object.getPrototypeOf(plain), Object.prototype);
    assert.deepEqual(Object.keys(plain as object), ['01', '-1', '1.5']);
  });

  test("a '__proto__' key gives a Map and never touches a prototype", async (t) => {
    if (!needPython(t)) return;
    for (const expr of [
      "{'__proto__': {'polluted': 1}}",
      "{'a': 1, '__proto__': {'polluted': 1}, 'z': 2}",
      "[{'x': {'__proto__': {'polluted': 1}}}]",
      "{'a': {}, 'b': {'__proto__': {'toString': 'oops', 'polluted': 1}}}",
    ]) {
      const expected = fromTagged(await pyResult(`result = ${expr}`));
      const pickles = await pyPickles(expr);
      for (const p of PROTOCOLS) {
        const v = loads(pickles[p]!);
        assertSameValue(v, expected, `${expr} @${p}`);
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
        assert.equal(Object.prototype.toString, Object.prototype.toString);
        assert.equal(typeof ({} as { toString: unknown }).toString, 'function');
        const walk = (x: unknown): void => {
          if (x instanceof Map) {
            for (const y of x.values()) walk(y);
          } else if (Array.isArray(x)) {
            x.forEach(walk);
          } else if (typeof x === 'object' && x !== null) {
            assert.equal(Object.getPrototypeOf(x), Object.prototype, `${expr} @${p}`);
            assert.ok(!Object.hasOwn(x, '__proto__'));
            Object.values(x).forEach(walk);
          }
        };
        walk(v);
        assertSameBytes(dumps(v, { protocol: p }), pickles[p]!, `${expr} @${p}`);
      }
    }
  });

  test("'constructor', 'toString', 'hasOwnProperty' and 'valueOf' stay own properties of a plain object", async (t) => {
    if (!needPython(t)) return;
    const expr =
      "{'constructor': 'c', 'toString': [1], 'hasOwnProperty': None, 'valueOf': {'x': 1}, 'prototype': 2}";
    const expected = fromTagged(await pyResult(`result = ${expr}`));
    const pickles = await pyPickles(expr);
    for (const p of PROTOCOLS) {
      const v = loads(pickles[p]!) as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(v), Object.prototype);
      for (const k of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']) {
        assert.ok(Object.hasOwn(v, k), `${k} @${p}`);
      }
      assert.equal(v['constructor'], 'c');
      assertSameValue(v, expected, `@${p}`);
      assertSameBytes(dumps(v, { protocol: p }), pickles[p]!, `@${p}`);
    }
    assert.equal(({} as { constructor: unknown }).constructor, Object);
  });

  test('a string-keyed dict that gets an int key after it was shared becomes one Map everywhere', async (t) => {
    if (!needPython(t)) return;
    const setup = "d = {'a': 1}\nd['me'] = [d]\nd['t'] = (d, 0)\nd[1] = 2\n";
    for (const p of PROTOCOLS) {
      const data = await py.bytes(`${setup}result = pickle.dumps([d, {'x': d}, d], ${p})`);
      const expected = fromTagged(await pyResult(`${setup}result = [d, {'x': d}, d]`));
      const v = loads(data) as [Map<unknown, unknown>, Record<string, unknown>, unknown];
      assertSameValue(v, expected, `@${p}`);
      const d = v[0];
      assert.ok(d instanceof Map, `@${p}`);
      assert.deepEqual([...d.keys()], ['a', 'me', 't', 1]);
      assert.equal((d.get('me') as unknown[])[0], d, `@${p}: d['me'][0] is d`);
      assert.equal((d.get('t') as Tuple)[0], d, `@${p}: d['t'][0] is d`);
      assert.equal(v[1]['x'], d, `@${p}`);
      assert.equal(v[2], d, `@${p}`);
      assertSameBytes(dumps(v, { protocol: p }), data, `@${p}`);
    }
  });

  test('a dict promoted in its second SETITEMS batch (1500 string keys, then an int key)', async (t) => {
    if (!needPython(t)) return;
    const setup = "d = {'k%d' % i: i for i in range(1500)}\nd['self'] = [d]\nd[0] = 'zero'\n";
    const expected = fromTagged(await pyResult(`${setup}result = d`));
    for (const p of [1, 2, 4, 5]) {
      const data = await py.bytes(`${setup}result = pickle.dumps(d, ${p})`);
      const v = loads(data);
      assert.ok(v instanceof Map);
      assert.equal(v.size, 1502);
      assert.equal((v.get('self') as unknown[])[0], v);
      assertSameValue(v, expected, `@${p}`);
      assertSameBytes(dumps(v, { protocol: p }), data, `@${p}`);
    }
  });
});

describe('dicts with many string keys (built from a template)', () => {
  // Dicts of 17 or more string keys are built by cloning a template (machine.ts,
  // fillFromTemplate), which replaces the empty dict on the stack and in the memo: each case
  // checks values, key order and sharing against Python at every protocol.
  const cases: Array<[string, string]> = [
    ['30 records of 21 keys', "[{('k%d' % j): (i, j) for j in range(21)} for i in range(30)]"],
    [
      'a dict that holds itself',
      "(lambda d: (d.update({('k%d' % j): d for j in range(20)}), d)[1])({})",
    ],
    ['one dict shared twice', "(lambda d: [d, d, {'x': d}])({('k%d' % j): j for j in range(25)})"],
    [
      'a dict of dicts, each of 18 keys',
      "{('o%d' % i): {('k%d' % j): [j] for j in range(18)} for i in range(20)}",
    ],
    [
      "keys '__proto__' and '0' among 20 others",
      "{**{('k%d' % j): j for j in range(20)}, '__proto__': 1, '0': 2}",
    ],
    [
      'the same 17 keys in another order',
      "[{('k%d' % j): j for j in range(17)}, {('k%d' % j): j for j in reversed(range(17))}]",
    ],
    ['1500 keys (two SETITEMS batches)', "{('k%d' % j): j for j in range(1500)}"],
  ];
  for (const [name, expr] of cases) {
    test(`${name}: loads as Python has it, at every protocol`, async (t) => {
      if (!needPython(t)) return;
      const pickles = await pyPickles(expr);
      for (const [p, data] of pickles.entries()) {
        const expected = fromTagged(await pyResult('result = pickle.loads(data)', data));
        assertSameValue(loads(data), expected, `${name} @${p}`);
      }
    });
  }

  test('a hand-made SETITEMS with a repeated key keeps the last value, in first-seen order', async (t) => {
    if (!needPython(t)) return;
    // EMPTY_DICT MEMOIZE MARK ('k0', 0) ... ('k17', 17) ('k0', 99) SETITEMS STOP
    const parts: number[] = [0x80, 0x04, 0x7d, 0x94, 0x28];
    const key = (k: string) => [0x8c, k.length, ...Buffer.from(k)];
    for (let j = 0; j < 18; j++) parts.push(...key(`k${j}`), 0x4b, j);
    parts.push(...key('k0'), 0x4b, 99, 0x75, 0x2e);
    const data = new Uint8Array(parts);
    const expected = fromTagged(await pyResult('result = pickle.loads(data)', data));
    assertSameValue(loads(data), expected);
    assert.deepEqual(Object.keys(loads(data) as object).slice(0, 2), ['k0', 'k1']);
  });
});

describe('dicts: JS to Python', () => {
  test('a Map and a plain object with the same entries dump to the same bytes as CPython', async (t) => {
    if (!needPython(t)) return;
    const pickles = await pyPickles("{'name': 'Rex', 'tags': ['good', 'dog'], 'age': 3}");
    const obj = { name: 'Rex', tags: ['good', 'dog'], age: 3 };
    const map = new Map<string, unknown>([
      ['name', 'Rex'],
      ['tags', ['good', 'dog']],
      ['age', 3],
    ]);
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, obj);
    for (const p of PROTOCOLS) {
      assertSameBytes(dumps(obj, { protocol: p }), pickles[p]!, `object @${p}`);
      assertSameBytes(dumps(map, { protocol: p }), pickles[p]!, `Map @${p}`);
      assertSameBytes(dumps(nullProto, { protocol: p }), pickles[p]!, `null prototype @${p}`);
    }
  });

  test('key order is kept from JS to Python', async (t) => {
    if (!needPython(t)) return;
    const map = new Map<unknown, unknown>([
      [3, 'c'],
      ['z', 1],
      [1, 'a'],
      [tuple<unknown>(2, 'x'), null],
      [null, 0],
      [-0.5, 'f'],
      ['a', 2],
    ]);
    const obj = { zebra: 1, apple: 2, mango: 3, banana: 4 };
    for (const p of PROTOCOLS) {
      assertSameValue(
        await pyKeys(dumps(map, { protocol: p })),
        [3, 'z', 1, tuple<unknown>(2, 'x'), null, -0.5, 'a'],
        `Map @${p}`,
      );
      assertSameValue(
        await pyKeys(dumps(obj, { protocol: p })),
        ['zebra', 'apple', 'mango', 'banana'],
        `object @${p}`,
      );
    }
  });

  test("a Map with keys 1 and '1' pickles as a dict of two keys", async (t) => {
    if (!needPython(t)) return;
    const map = new Map<unknown, unknown>([
      [1, 'int'],
      ['1', 'str'],
    ]);
    for (const p of PROTOCOLS) {
      const data = dumps(map, { protocol: p });
      assertSameBytes(data, await py.bytes(`result = pickle.dumps({1: 'int', '1': 'str'}, ${p})`));
      assert.equal(
        await py.check(data, {
          t: 'dict',
          id: 1,
          v: [
            [
              { t: 'int', v: '1' },
              { t: 'str', v: 'int' },
            ],
            [
              { t: 'str', v: '1' },
              { t: 'str', v: 'str' },
            ],
          ],
        }),
        undefined,
      );
      assertSameValue(loads(data), map, `@${p}`);
    }
  });

  test('a dict of exactly 1000 and 2000 items is batched as CPython batches it', async (t) => {
    if (!needPython(t)) return;
    for (const n of [999, 1000, 1001, 2000]) {
      const obj: Record<string, number> = {};
      for (let i = 0; i < n; i++) obj[`k${i}`] = i;
      for (const p of [1, 4]) {
        assertSameBytes(
          dumps(obj, { protocol: p }),
          await py.bytes(`result = pickle.dumps({'k%d' % i: i for i in range(${n})}, ${p})`),
          `${n} items @${p}`,
        );
      }
    }
  });
});
