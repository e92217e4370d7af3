/**
 * `show` against CPython: what `print(pickle.loads(data))` prints for every corpus pickle and
 * every Python 2 fixture of built-in types; `reprlib` for the depth and item limits; and the
 * cases Python cannot print (a million nested lists) print without recursion.
 */
/* eslint-disable no-control-regex -- the tests look for ANSI escapes */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  loads,
  dumps,
  PyObject,
  PyGlobal,
  tuple,
  Complex,
  FrozenSet,
  reprSymbol,
} from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { show, showChunks, PersistentId } from '../../src/tools/index.js';
import { fixturePickles, pyPrintMany, pyReprlibMany, pySameValueMany } from './oracle.js';

/** What the `pickle show` command prints for a pickle: `print(pickle.load(f))`. */
const printed = (data: Uint8Array, encoding?: string) =>
  show(loads(data, { exact: true, ...(encoding ? { encoding } : {}) }), {
    exact: true,
    str: true,
  }) + '\n';

/** Whether a loaded value holds an instance of a class pickle-ts does not model. */
function holdsObject(v: unknown, seen = new Set<unknown>()): boolean {
  if (v instanceof PyObject) return true;
  if (typeof v !== 'object' || v === null || seen.has(v)) return false;
  seen.add(v);
  const items =
    v instanceof Map
      ? [...v].flat()
      : Array.isArray(v) || v instanceof Set
        ? [...v]
        : Object.values(v);
  return items.some((x) => holdsObject(x, seen));
}

/** Whether a loaded value holds a set of two or more members (their order is Python's hash order). */
function holdsSet(v: unknown, seen = new Set<unknown>()): boolean {
  if (v instanceof Set && v.size > 1) return true;
  if (typeof v !== 'object' || v === null || seen.has(v)) return false;
  seen.add(v);
  const items =
    v instanceof Map
      ? [...v].flat()
      : Array.isArray(v) || v instanceof Set
        ? [...v]
        : Object.values(v);
  return items.some((x) => holdsSet(x, seen));
}

const sortedChars = (s: string) => [...s].sort().join('');

test('show prints what print(pickle.loads(data)) prints, for the whole corpus', async (t) => {
  if (!needPython(t)) return;
  const corpus = await py.corpus();
  const pickles = corpus.flatMap((c) =>
    c.pickles.map((p, proto) => [`${c.name} p${proto}`, p] as const),
  );
  const expected = await pyPrintMany(pickles.map(([, p]) => p));
  const failures: string[] = [];
  // A set prints in the order of its hash table, which for str and bytes members depends on the
  // hash seed of the process: pickle-ts keeps the pickle's order, and Python, rebuilding the set,
  // may print another. Those differ only in member order: the same characters, and Python
  // evaluates pickle-ts's text to an equal value.
  const reordered: Array<readonly [string, Uint8Array, string]> = [];
  pickles.forEach(([name, p], i) => {
    const want = expected[i]!;
    assert.equal(want.error, undefined, `${name}: python failed: ${want.error}`);
    const got = printed(p);
    if (got === want.text) return;
    if (holdsSet(loads(p)) && sortedChars(got) === sortedChars(want.text!)) {
      reordered.push([name, p, got]);
    } else {
      failures.push(
        `${name}\n  python: ${want.text!.slice(0, 300)}  pickle-ts: ${got.slice(0, 300)}`,
      );
    }
  });
  assert.equal(
    failures.length,
    0,
    `${failures.length} differ:\n${failures.slice(0, 5).join('\n')}`,
  );
  const same = await pySameValueMany(reordered.map(([, p, text]) => [p, text] as const));
  reordered.forEach(([name], i) => assert.ok(same[i], `${name}: Python does not read it back`));
  assert.ok(reordered.length <= 12, `${reordered.length} set orders differ`);
});

test('show prints what Python prints for the Python 2.7 fixtures of built-in types', async (t) => {
  if (!needPython(t)) return;
  const fixtures = fixturePickles().filter((f) => f.name.startsWith('py2/'));
  const expected = await pyPrintMany(
    fixtures.map((f) => f.data),
    'latin1',
  );
  let compared = 0;
  fixtures.forEach(({ name, data }, i) => {
    const want = expected[i]!;
    if (want.error !== undefined) return;
    const value = loads(data, { encoding: 'latin1' });
    if (holdsObject(value)) return; // instances of the fixtures' own classes
    assert.equal(printed(data, 'latin1'), want.text, name);
    compared++;
  });
  assert.ok(compared > 150, `${compared} compared`);
});

// (reprlib also sorts dict keys and set items where it can: these values are already in order.)
test('depth and max-items cut values as reprlib does', async (t) => {
  if (!needPython(t)) return;
  const values = [
    [1, [2, [3, [4, [5]]]], 'x'],
    { a: [1, 2, 3, 4, 5], b: { c: { d: 'e' } }, f: tuple<unknown>(1, tuple(2, 3)) },
    tuple<unknown>(tuple(), [], {}, [[]], tuple(1)),
    Array.from({ length: 20 }, (_, i) => [i, i * 1.5]),
    new Map<unknown, unknown>([
      [1, [1, 2, 3]],
      [tuple(1, 2), { x: [1] }],
    ]),
  ];
  const pickles = values.map((v) => dumps(v, { protocol: 4 }));
  for (const [depth, maxItems] of [
    [0, 10],
    [1, 10],
    [2, 2],
    [3, 0],
    [6, 1],
  ] as const) {
    const expected = await pyReprlibMany(pickles, depth, maxItems);
    pickles.forEach((p, i) => {
      const got = show(loads(p, { exact: true }), { exact: true, depth, maxItems });
      assert.equal(got, expected[i], `depth ${depth}, max-items ${maxItems}`);
    });
  }
});

test('a million nested lists print without recursion, and cycles as Python prints them', () => {
  const depth = 1_000_000;
  // EMPTY_LIST * n, then APPEND * (n - 1): each list goes into the one below it.
  const bytes = new Uint8Array(2 * depth + 2);
  bytes.fill(0x5d, 0, depth);
  bytes.fill(0x61, depth, 2 * depth - 1);
  bytes[2 * depth - 1] = 0x2e;
  const value = loads(bytes.subarray(0, 2 * depth));
  const text = show(value);
  assert.equal(text.length, 2 * depth);
  assert.ok(text.startsWith('[[[[') && text.endsWith(']]]]'));
  assert.equal(show(value, { depth: 3 }), '[[[[...]]]]');

  const loop: unknown[] = [1];
  loop.push(loop);
  const d: Record<string, unknown> = { name: 'd' };
  d.self = d;
  assert.equal(show(loop), '[1, [...]]');
  assert.equal(show(d), "{'name': 'd', 'self': {...}}");
  assert.equal(show(tuple(loop, loop)), '([1, [...]], [1, [...]])');
});

test('the types Python prints its own way', () => {
  assert.equal(show(new Complex(1, NaN)), '(1+nanj)');
  assert.equal(show(new Complex(-0, 2)), '(-0+2j)');
  assert.equal(show(new FrozenSet()), 'frozenset()');
  assert.equal(show(new Set()), 'set()');
  assert.equal(
    show(new PyGlobal('collections', 'OrderedDict')),
    "<class 'collections.OrderedDict'>",
  );
  assert.equal(show("it's", { str: true }), "it's");
  assert.equal(show("it's"), '"it\'s"');
  assert.equal(show(3, { exact: true }), '3.0');
  assert.equal(show(3n, { exact: true }), '3');
  assert.equal(show(new PersistentId('abc')), "<persistent id 'abc'>");
});

test('objects of unknown classes show what the pickle gave them', () => {
  const obj = new PyObject(new PyGlobal('shop', 'Order'), tuple(), 'newobj');
  obj.state = { id: 7, items: ['apple'] };
  assert.equal(show(obj), "<shop.Order object: state={'id': 7, 'items': ['apple']}>");
  const reduced = new PyObject(new PyGlobal('fractions', 'Fraction'), tuple('3/4'));
  assert.equal(show([reduced]), "[<fractions.Fraction object: args=('3/4',)>]");
  assert.equal(show(obj, { depth: 0 }), '<shop.Order object: ...>');
  obj.state = { me: obj };
  assert.equal(show(obj), "<shop.Order object: state={'me': <shop.Order object ...>}>");
});

test('classes with [reprSymbol] print through it, cycles included', () => {
  class Point {
    constructor(
      public x: unknown,
      public y: unknown,
    ) {}
    [reprSymbol](repr: (v: unknown) => string) {
      return `Point(${repr(this.x)}, ${repr(this.y)})`;
    }
  }
  assert.equal(show([new Point(1, 'a')]), "[Point(1, 'a')]");
  const p = new Point(null, null);
  p.x = [p];
  assert.equal(show(p), 'Point([...], None)');
});

test('colors: ANSI styles around tokens, the same text without them', () => {
  const value = { a: [1, 'x', null, new Uint8Array([1])], b: 2.5 };
  const plain = show(value);
  const colored = show(value, { color: true });
  assert.notEqual(colored, plain);
  assert.match(colored, /\x1b\[32m'x'\x1b\[0m/);
  assert.equal(colored.replace(/\x1b\[[0-9;]*m/g, ''), plain);
});

test('showChunks yields pieces of about 64 KiB', () => {
  const value = Array.from({ length: 100_000 }, (_, i) => `item number ${i}`);
  const pieces = [...showChunks(value)];
  assert.ok(pieces.length > 10);
  assert.equal(pieces.join(''), show(value));
});

test("values of Python's standard library print as Python prints them (through [reprSymbol])", async (t) => {
  if (!needPython(t)) return;
  const bytes = await py.bytes(`
import datetime, decimal, collections
result = pickle.dumps([datetime.datetime(2024, 3, 10, 1, 30), datetime.date(2020, 1, 2),
    decimal.Decimal('19.90'), collections.OrderedDict(b=2), collections.deque([1, 2]),
    collections.Counter('aab'), collections.defaultdict(list, {1: [2]}), list, int], 4)`);
  const [expected] = await pyPrintMany([bytes]);
  assert.equal(printed(bytes), expected!.text);
});
