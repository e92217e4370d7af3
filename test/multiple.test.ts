/**
 * Several pickles in one buffer: a file written by repeated `pickle.dump`, and by one Python
 * Pickler whose memo is shared across dumps (later pickles refer to objects of earlier ones),
 * read with `loadAll` and `Unpickler`; and the reverse, one pickle-ts `Pickler` writing several
 * pickles that Python's `pickle.Unpickler` reads one by one with the same sharing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ErrorCode,
  Pickler,
  Unpickler,
  UnpicklingError,
  dumps,
  loadAll,
  loads,
  tuple,
} from './helpers/pickle.js';
import { assertSameValue } from './helpers/equal.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, toTagged, type Tagged } from './helpers/tagged.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function pyResult(code: string, data?: Uint8Array): Promise<Tagged> {
  const r = await py.eval(code, data);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  return r.tagged!;
}

/** A Python expression that rebuilds `value` (sharing and all) from tagged JSON. */
function pyValue(value: unknown): string {
  return `from_tagged(__import__('json').loads(${JSON.stringify(JSON.stringify(toTagged(value)))}))`;
}

/**
 * Python code that writes `values` (a Python expression giving a list) with `write`, where `f`
 * is an io.BytesIO; binds result to [all bytes, [f.tell() after each dump]].
 */
function pyWriter(values: string, write: string): string {
  return [
    'import io',
    `values = ${values}`,
    'f = io.BytesIO()',
    'ends = []',
    'for i, v in enumerate(values):',
    `    ${write}`,
    '    ends.append(f.tell())',
    'result = [f.getvalue(), ends]',
  ].join('\n');
}

async function pyStream(values: string, write: string): Promise<[Uint8Array, number[]]> {
  const [data, ends] = fromTagged(await pyResult(pyWriter(values, write))) as [
    Uint8Array,
    number[],
  ];
  return [data, ends];
}

describe('multiple: CPython writes, pickle-ts reads', () => {
  const VALUES = "[1, 'two', [3.0, None], {'k': (4, b'5')}, {6, 7}, 2**100]";

  test('pickle.dump called repeatedly on one file (a new Pickler each time), every protocol', async (t) => {
    if (!needPython(t)) return;
    const expected = fromTagged(await pyResult(`result = ${VALUES}`)) as unknown[];
    for (const p of PROTOCOLS) {
      const [data, ends] = await pyStream(VALUES, `pickle.dump(v, f, ${p})`);
      assertSameValue([...loadAll(data)], expected, `loadAll @${p}`);
      const u = new Unpickler(data);
      assert.equal(u.position, 0);
      for (let i = 0; i < expected.length; i++) {
        assert.equal(u.atEnd, false, `@${p} before ${i}`);
        assertSameValue(u.load(), expected[i], `@${p} value ${i}`);
        assert.equal(u.position, ends[i], `@${p} position after ${i}`);
      }
      assert.equal(u.atEnd, true);
      // loads reads only the first.
      assertSameValue(loads(data), expected[0], `loads @${p}`);
    }
  });

  test('pickles of every protocol, one after another in one file', async (t) => {
    if (!needPython(t)) return;
    const expected = fromTagged(await pyResult(`result = ${VALUES}`)) as unknown[];
    const [data, ends] = await pyStream(VALUES, 'pickle.dump(v, f, i % 6)');
    const u = new Unpickler(data);
    const got: unknown[] = [];
    const positions: number[] = [];
    for (const v of u) {
      got.push(v);
      positions.push(u.position);
    }
    assertSameValue(got, expected);
    assert.deepEqual(positions, ends);
    assert.ok(u.atEnd);
  });

  test('one Python Pickler, memo shared across dumps: later pickles refer to earlier objects', async (t) => {
    if (!needPython(t)) return;
    const setup = [
      "shared = [1, 'x']",
      "d = {'name': 'd', 'list': shared}",
      "values = [shared, {'again': shared, 'd': d}, (shared, d), d, [d, [shared]]]",
    ].join('\n');
    const expected = fromTagged(await pyResult(`${setup}\nresult = values`)) as unknown[];
    for (const p of PROTOCOLS) {
      const code =
        `${setup}\nimport io\nf = io.BytesIO()\np = pickle.Pickler(f, ${p})\nends = []\n` +
        'for v in values:\n    p.dump(v)\n    ends.append(f.tell())\nresult = [f.getvalue(), ends]';
      const [data, ends] = fromTagged(await pyResult(code)) as [Uint8Array, number[]];
      // Python's own Unpickler sees the sharing across pickles.
      const pyGot = fromTagged(
        await pyResult(
          'import io\nu = pickle.Unpickler(io.BytesIO(data))\n' +
            `result = [u.load() for _ in range(${expected.length})]`,
          data,
        ),
      );
      assertSameValue(pyGot, expected, `CPython @${p}`);
      const u = new Unpickler(data);
      const got: unknown[] = [];
      for (let i = 0; i < expected.length; i++) {
        got.push(u.load());
        assert.equal(u.position, ends[i], `@${p} position after ${i}`);
      }
      assert.ok(u.atEnd);
      assertSameValue(got, expected, `@${p}`);
      const [shared, second, third, d] = got as [
        unknown[],
        Record<string, unknown>,
        unknown[],
        Record<string, unknown>,
      ];
      assert.equal(second['again'], shared, `@${p}: same list across pickles`);
      assert.equal(third[0], shared);
      assert.equal(third[1], d);
      assert.equal(d['list'], shared);
      assertSameValue([...loadAll(data)], expected, `loadAll @${p}`);
    }
  });

  test('a later pickle of a shared-memo stream read alone: pickle-ts does what CPython does', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const [data, ends] = fromTagged(
        await pyResult(
          `import io\nf = io.BytesIO()\nP = pickle.Pickler(f, ${p})\nx = [1, 2]\nP.dump(x)\n` +
            'ends = [f.tell()]\nP.dump({"x": x})\nresult = [f.getvalue(), ends]',
        ),
      ) as [Uint8Array, number[]];
      const second = data.subarray(ends[0]!);
      let ours: unknown;
      try {
        ours = loads(second);
      } catch (e) {
        ours = e;
      }
      const theirs = await py.load(second);
      if (p < 4) {
        // Explicit memo indexes (PUT/BINPUT): the reference to the first pickle's list is missing.
        assert.ok(theirs.error, `@${p}: CPython read it alone`);
        assert.ok(ours instanceof UnpicklingError, `@${p}: ${String(ours)}`);
        assert.equal(ours.code, ErrorCode.MEMO_MISSING);
      } else {
        // MEMOIZE numbers slots from 0 again, so the GET silently finds the wrong object; both
        // readers agree on what it finds (the dict itself).
        assert.equal(theirs.error, undefined);
        assertSameValue(ours, fromTagged(theirs.tagged!), `@${p}`);
        assert.equal((ours as Record<string, unknown>)['x'], ours);
      }
      // Read in order, the reference resolves.
      const [x, holder] = [...loadAll(data)] as [unknown[], Record<string, unknown>];
      assert.deepEqual(x, [1, 2]);
      assert.equal(holder['x'], x);
    }
  });
});

describe('multiple: pickle-ts writes, CPython reads', () => {
  function sample(): unknown[] {
    const shared: unknown[] = [1, 'x', tuple(2, 3)];
    const d: Record<string, unknown> = { name: 'd', list: shared };
    const m = new Map<unknown, unknown>([[1, d]]);
    return [shared, { again: shared, d }, tuple<unknown>(shared, d), m, [m, [shared]], 'x'];
  }

  test('one Pickler, memo shared across dumps: Python reads the pickles one by one with the same sharing', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const values = sample();
      const pickler = new Pickler({ protocol: p });
      const parts = values.map((v) => pickler.dump(v));
      const data = new Uint8Array(Buffer.concat(parts));
      const pyGot = fromTagged(
        await pyResult(
          'import io\nf = io.BytesIO(data)\nu = pickle.Unpickler(f)\n' +
            `result = [u.load() for _ in range(${values.length})]\nassert f.read() == b''`,
          data,
        ),
      );
      assertSameValue(pyGot, values, `CPython reads @${p}`);
      // The same stream comes back in pickle-ts, sharing included.
      const u = new Unpickler(data);
      const got: unknown[] = [];
      let end = 0;
      for (const part of parts) {
        got.push(u.load());
        end += part.length;
        assert.equal(u.position, end);
      }
      assertSameValue(got, values, `pickle-ts reads @${p}`);
    }
  });

  test('byte-identical with one Python Pickler dumping the same values', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const values = sample();
      const pickler = new Pickler({ protocol: p });
      const parts = values.map((v) => pickler.dump(v));
      const code =
        `values = ${pyValue(values)}\nimport io\nf = io.BytesIO()\np = pickle.Pickler(f, ${p})\n` +
        'outs = []\nfor v in values:\n    start = f.tell()\n    p.dump(v)\n' +
        '    outs.append(f.getvalue()[start:])\nresult = outs';
      const want = fromTagged(await pyResult(code)) as Uint8Array[];
      assert.equal(want.length, parts.length);
      for (let i = 0; i < parts.length; i++) {
        assert.equal(hex(parts[i]!), hex(want[i]!), `@${p} pickle ${i}`);
      }
    }
  });

  test('clearMemo(): the next pickle stands alone, as Pickler.clear_memo()', async (t) => {
    if (!needPython(t)) return;
    for (const p of PROTOCOLS) {
      const x = [1, 2];
      const pickler = new Pickler({ protocol: p });
      const first = pickler.dump(x);
      const linked = pickler.dump({ x });
      pickler.clearMemo();
      const alone = pickler.dump({ x });
      assert.deepEqual(loads(alone), { x: [1, 2] });
      assert.equal(hex(alone), hex(dumps({ x }, { protocol: p })));
      const want = fromTagged(
        await pyResult(
          `import io\nf = io.BytesIO()\nP = pickle.Pickler(f, ${p})\nx = [1, 2]\nP.dump(x)\n` +
            "a = f.tell()\nP.dump({'x': x})\nb = f.tell()\nP.clear_memo()\nP.dump({'x': x})\n" +
            'v = f.getvalue()\nresult = [v[:a], v[a:b], v[b:]]',
        ),
      ) as Uint8Array[];
      assert.equal(hex(first), hex(want[0]!), `@${p} first`);
      assert.equal(hex(linked), hex(want[1]!), `@${p} linked`);
      assert.equal(hex(alone), hex(want[2]!), `@${p} after clear`);
      assert.equal(await py.check(alone, toTagged({ x: [1, 2] })), undefined);
    }
  });

  test('exact mode through loadAll and a shared-memo Pickler', async (t) => {
    if (!needPython(t)) return;
    const pickler = new Pickler({ protocol: 2, exact: true });
    const shared = [1n, 1.0];
    const data = new Uint8Array(Buffer.concat([pickler.dump(shared), pickler.dump([shared, 2.5])]));
    const got = [...loadAll(data, { exact: true })] as [unknown[], unknown[]];
    assert.deepEqual(got[0], [1n, 1]);
    assert.equal(got[1][0], got[0]);
    const pyGot = await pyResult(
      'import io\nu = pickle.Unpickler(io.BytesIO(data))\na = u.load()\nb = u.load()\n' +
        'result = [type(a[0]).__name__, type(a[1]).__name__, b[0] is a]',
      data,
    );
    assertSameValue(fromTagged(pyGot), ['int', 'float', true]);
  });
});
