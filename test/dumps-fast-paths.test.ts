/**
 * The pickler's fast paths (number runs, small containers written without a frame, the string
 * memo, the reused output buffer) write what CPython writes, and their results are independent
 * of each other: a dumps inside a reducer, results that outlive later dumps, strings repeated
 * by value, containers that switch from atoms to other values mid-way.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Pickler, PyGlobal, dumps, loads, tuple } from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged } from './helpers/tagged.js';
import { assertSameValue } from './helpers/equal.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Values that exercise each fast path, as Python code and as the JS value pickle-ts loads. */
const CASES: Record<string, string> = {
  'small containers of atoms':
    "value = [[1, 'a', None, True, 2.5, 2**40], (1, 'b'), {'k': 1, 'j': 'x'}]",
  'a small list that meets a container mid-way':
    "value = [1, 'a', [2, [3, (4, 5)]], 'a', {'d': [6]}]",
  'a small dict that meets a container mid-way':
    "value = {'a': 1, 'b': [1, 2], 'c': {'d': (1, [2])}, 'e': 'x'}",
  'tuples of 1-3 and 33 atoms': 'value = [(1,), (1, 2), (1, 2, 3), tuple(range(33))]',
  'lists around the batch size': 'value = [list(range(n)) for n in (31, 32, 33, 999, 1000, 1001)]',
  'numbers that cross frames': 'value = [i * 1.5 if i % 3 else i * 70001 for i in range(30000)]',
  'ints past 32 bits':
    'value = [2**31, -2**31 - 1, 2**32, -2**32, 2**47 - 1, -2**47, 2**53 - 1, -2**53 + 1]',
  'repeated strings': "value = [s for s in ('a', 'bb', 'é€', '') for _ in range(3)] * 400",
  records:
    "value = [{'id': i, 'name': 'user%d' % i, 'score': i * 0.5, 'tags': ['a', 'b'],\n" +
    "          'loc': (i * 0.25, -i * 0.25), 'flags': 2**40 + i} for i in range(2000)]",
};

describe('dumps fast paths', () => {
  for (const [name, code] of Object.entries(CASES)) {
    test(`${name}: CPython's bytes at protocols 2-5, and back`, async (t) => {
      if (!needPython(t)) return;
      const r = await py.eval(`${code}\nresult = value`);
      assert.equal(r.error, undefined, r.error?.message);
      const value = fromTagged(r.tagged!, { exact: true });
      for (let protocol = 2; protocol <= 5; protocol++) {
        // Equal strings in `value` are one object in Python only when they are literals; the
        // pickle CPython writes for the value it loaded back memoizes them by identity, as
        // pickle-ts does by value.
        const expected = await py.bytes(
          `${code}\nvalue = pickle.loads(pickle.dumps(value, ${protocol}))\n` +
            `result = pickle.dumps(value, ${protocol})`,
        );
        const got = dumps(value, { protocol, exact: true });
        assert.equal(hex(got), hex(expected), `protocol ${protocol}`);
        assertSameValue(loads(got, { exact: true }), value);
      }
    });
  }

  test('a result stays as it was after later dumps (the output buffer is reused)', () => {
    const a = dumps(Array.from({ length: 5000 }, (_, i) => i));
    const copy = a.slice();
    for (let i = 0; i < 5; i++) dumps(Array.from({ length: 8000 }, (_, j) => `s${j + i}`));
    assert.deepEqual(a, copy);
    assert.equal(a.byteLength, a.buffer.byteLength, 'the result owns its buffer');
  });

  test('a dumps inside a reducer, during another dumps, gives both pickles whole', async (t) => {
    if (!needPython(t)) return;
    class Wrapped {
      constructor(readonly items: unknown[]) {}
    }
    const inner = Array.from({ length: 3000 }, (_, i) => [i, `x${i}`]);
    let innerBytes: Uint8Array | undefined;
    const outer = dumps([Array.from({ length: 3000 }, (_, i) => i), new Wrapped(inner), 'end'], {
      reducerOverride: (v) => {
        if (!(v instanceof Wrapped)) return undefined;
        innerBytes = dumps(v.items);
        return [new PyGlobal('builtins', 'bytes'), tuple(innerBytes)];
      },
    });
    assert.ok(innerBytes);
    assertSameValue(loads(innerBytes), inner);
    const r = await py.eval(
      'v = pickle.loads(data)\nresult = [v[0], pickle.loads(v[1]), v[2]]',
      outer,
    );
    assert.equal(r.error, undefined, r.error?.message);
    assertSameValue(fromTagged(r.tagged!), [
      Array.from({ length: 3000 }, (_, i) => i),
      inner,
      'end',
    ]);
  });

  test('a failed dumps leaves the next one whole', () => {
    assert.throws(() => dumps([1, 'a', { b: [2, () => 3] }]));
    const value = { a: [1, 2, 3], b: 'text', c: Array.from({ length: 2000 }, (_, i) => i * 0.5) };
    assertSameValue(loads(dumps(value)), value);
  });
});

/** Python code whose `result` is CPython's pickle of `value` with `Pickler.fast` set. */
const fastDump = (protocol: number): string =>
  'import io\n' +
  'f = io.BytesIO()\n' +
  `p = pickle.Pickler(f, ${protocol})\n` +
  'p.fast = True\n' +
  'p.dump(value)\n' +
  'result = f.getvalue()';

describe("fast mode (Python's Pickler.fast: no memo)", () => {
  const FAST: Record<string, string> = {
    'records with shared keys and strings': CASES.records!,
    'an object reached twice': "shared = [1, 'x']\nvalue = [shared, {'a': shared}, (shared,)]",
    'sets, frozensets, bytes, globals':
      "value = [{1, 2}, frozenset({3}), b'ab', bytearray(b'c'), len, len]",
    'a chain 120 deep': 'value = []\nfor i in range(120): value = [value, {"k": i}]',
  };
  for (const [name, code] of Object.entries(FAST)) {
    test(`${name}: CPython's bytes at protocols 0-5`, async (t) => {
      if (!needPython(t)) return;
      const r = await py.eval(`${code}\nresult = value`);
      assert.equal(r.error, undefined, r.error?.message);
      const value = fromTagged(r.tagged!, { exact: true });
      for (let protocol = 0; protocol <= 5; protocol++) {
        const expected = await py.bytes(`${code}\n${fastDump(protocol)}`);
        const got = dumps(value, { protocol, exact: true, fast: true });
        assert.equal(hex(got), hex(expected), `protocol ${protocol}`);
      }
    });
  }

  test('a cycle fails, as in CPython, and the pickler can go on', async (t) => {
    if (!needPython(t)) return;
    const r = await py.eval(
      `value = [1]\nvalue.append([value])\ntry:\n${fastDump(4)
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n')}\nexcept ValueError as e:\n    result = str(e)`,
    );
    assert.match(String(fromTagged(r.tagged!)), /^fast mode: can't pickle cyclic objects/);
    const cyclic: unknown[] = [1];
    cyclic.push([cyclic]);
    assert.throws(
      () => dumps(cyclic, { fast: true }),
      /fast mode: can't pickle cyclic objects including object type Array/,
    );
    const pickler = new Pickler({ fast: true });
    assert.throws(() => pickler.dump(cyclic));
    assertSameValue(loads(pickler.dump([1, [2]])), [1, [2]]);
  });
});
