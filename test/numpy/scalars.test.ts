/**
 * numpy scalars and dtype objects on their own, at protocols 0-5: scalars load as plain JS values
 * where those are exact (else as `NumpyScalar`), or all as `NumpyScalar` with `scalars: 'typed'`,
 * which pickle back to numpy's bytes; dtypes load as `DType` and pickle back to numpy's bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Complex, dumps, loads } from '../helpers/pickle.js';
import { needPython } from '../helpers/python.js';
import { DType, NumpyScalar, numpyRegistry } from '../../src/numpy/index.js';
import { canonValue, fromHex, fromPython, pyJson, toHex } from './canon.js';

interface ScalarCase {
  name: string;
  dtype: string;
  values: unknown;
  pickles: Record<string, string>;
}

const plain = numpyRegistry();
const typed = numpyRegistry({ scalars: 'typed' });

/** Kinds whose scalars have an exact plain JS value. */
const PLAIN = /^[<>|]([biuUS]|f[248]$|c(8|16)$)/;

test('numpy scalars load as plain values where exact, and typed ones pickle back as numpy', async (t) => {
  if (!needPython(t)) return;
  const cases = await pyJson<ScalarCase[]>('result = c.scalar_cases()');
  const written: Record<string, Record<string, { ours: string; theirs: string }>> = {};
  for (const c of cases) {
    const d = DType.of(c.dtype);
    for (const [p, hex] of Object.entries(c.pickles)) {
      const where = `${c.name} at protocol ${p}`;
      const v = loads(fromHex(hex), { registry: plain });
      if (PLAIN.test(c.dtype)) {
        assert.ok(!(v instanceof NumpyScalar), `${where}: plain`);
        assert.deepEqual(canonValue(d, v), fromPython(c.values), where);
      } else {
        assert.ok(v instanceof NumpyScalar, `${where}: a NumpyScalar`);
        assert.equal(v.dtype, c.dtype, where);
        assert.deepEqual(canonValue(v.descr, v.value), fromPython(c.values), where);
      }
      const s = loads(fromHex(hex), { registry: typed });
      assert.ok(s instanceof NumpyScalar, `${where}: typed`);
      assert.equal(s.dtype, c.dtype, where);
      assert.deepEqual(canonValue(s.descr, s.value), fromPython(c.values), where);
      const ours = toHex(dumps(s, { registry: typed, protocol: Number(p) }));
      (written[c.name] ??= {})[p] = { ours, theirs: hex };
    }
  }
  // Where exact, the JS types are the natural ones.
  const byName = (name: string) =>
    loads(fromHex(cases.find((c) => c.name === name)!.pickles['4']!), { registry: plain });
  assert.equal(byName('int64 small'), 7);
  assert.equal(byName('int64 big'), 2n ** 62n + 1n);
  assert.equal(byName('bool'), true);
  assert.ok(byName('complex64') instanceof Complex);
  assert.equal(byName('str'), 'hé😀');
  const problems = await pyJson<string[]>('result = c.check_scalars(data.decode())', written);
  assert.deepEqual(problems, []);
});

test('NumpyScalar.of builds scalars numpy loads', async (t) => {
  if (!needPython(t)) return;
  const made = {
    datetime64: NumpyScalar.of('<M8[D]', 18262n),
    float32: NumpyScalar.of('<f4', 0.1),
    complex128: NumpyScalar.of('complex128', new Complex(-0.5, 0)),
    record: NumpyScalar.of(
      DType.structured([
        ['a', '<i4'],
        ['b', '<f8'],
      ]),
      { a: 1, b: 2.5 },
    ),
  };
  const written = Object.fromEntries(
    Object.entries(made).map(([name, s]) => [
      `made in JS ${name}`,
      Object.fromEntries(
        [0, 2, 4, 5].map((p) => [p, { ours: toHex(dumps(s, { registry: typed, protocol: p })) }]),
      ),
    ]),
  );
  assert.deepEqual(await pyJson<string[]>('result = c.check_scalars(data.decode())', written), []);
  assert.equal(String(made.datetime64), 'datetime64(18262[D])');
});

interface DTypeCase {
  name: string;
  str: string;
  itemsize: number;
  names: string[] | null;
  pickles: Record<string, string>;
}

test('dtype objects load as DType and pickle back as numpy writes them', async (t) => {
  if (!needPython(t)) return;
  const cases = await pyJson<DTypeCase[]>('result = c.dtype_cases()');
  const payload = [];
  for (const c of cases) {
    for (const [p, hex] of Object.entries(c.pickles)) {
      const d = loads(fromHex(hex), { registry: plain });
      assert.ok(d instanceof DType, c.name);
      assert.equal(d.str, c.str, c.name);
      assert.equal(d.itemsize, c.itemsize, c.name);
      assert.deepEqual(d.names ?? null, c.names, c.name);
      const out = dumps(d, { registry: plain, protocol: Number(p) });
      payload.push({ name: c.name, protocol: Number(p), hex: toHex(out), theirs: hex });
    }
  }
  assert.deepEqual(await pyJson<string[]>('result = c.check_dtypes(data.decode())', payload), []);
});

test('dtypes made in JS are the dtypes numpy makes from the same description', async (t) => {
  if (!needPython(t)) return;
  const specs = [
    'float64',
    'int32',
    'bool',
    '>i2',
    'u8',
    'S5',
    '<U3',
    'M8[ms]',
    '>m8[10s]',
    'O',
    'complex64',
    'V7',
    'float16',
  ];
  const made: Array<[string, DType, string]> = specs.map((s) => [
    s,
    DType.of(s),
    `np.dtype(${JSON.stringify(s)})`,
  ]);
  made.push(
    [
      'record',
      DType.structured([
        ['x', '<f8'],
        ['tag', 'S4'],
        ['m', '<i2', [2, 2]],
      ]),
      'np.dtype([("x", "<f8"), ("tag", "S4"), ("m", "<i2", (2, 2))])',
    ],
    [
      'aligned',
      DType.structured(
        [
          ['c', 'u1'],
          ['d', '<f8'],
          ['e', '<U1'],
        ],
        { align: true },
      ),
      'np.dtype([("c", "u1"), ("d", "<f8"), ("e", "<U1")], align=True)',
    ],
    [
      'titled',
      DType.structured([{ name: 'a', dtype: '<i4', title: 'Alpha' }]),
      'np.dtype({"names": ["a"], "formats": ["<i4"], "titles": ["Alpha"]})',
    ],
    [
      'offsets',
      DType.structured(
        [
          { name: 'a', dtype: 'u1', offset: 2 },
          { name: 'b', dtype: '<i2', offset: 4 },
        ],
        { itemsize: 8 },
      ),
      'np.dtype({"names": ["a", "b"], "formats": ["u1", "<i2"], "offsets": [2, 4], "itemsize": 8})',
    ],
    [
      'with object',
      DType.structured([
        ['o', 'O'],
        ['n', '<i4'],
      ]),
      'np.dtype([("o", "O"), ("n", "<i4")])',
    ],
    [
      'nested',
      DType.structured([
        [
          'p',
          DType.structured([
            ['u', '<U2'],
            ['v', '>f4'],
          ]),
        ],
        ['q', '?'],
      ]),
      'np.dtype([("p", [("u", "<U2"), ("v", ">f4")]), ("q", "?")])',
    ],
  );
  const payload = made.flatMap(([name, d, expr]) =>
    [0, 2, 4, 5].map((protocol) => ({
      name,
      expr,
      protocol,
      hex: toHex(dumps(d, { registry: plain, protocol })),
    })),
  );
  const problems = await pyJson<string[]>(
    'problems = []\n' +
      'for case in json.loads(data.decode()):\n' +
      '    dt = eval(case["expr"], {"np": np})\n' +
      '    ours = bytes.fromhex(case["hex"])\n' +
      '    x = pickle.loads(ours)\n' +
      '    if x != dt or x.str != dt.str or x.descr != dt.descr or x.alignment != dt.alignment or x.flags != dt.flags:\n' +
      '        problems.append("%s: loaded %r, expected %r" % (case["name"], x, dt))\n' +
      '    if ours != pickle.dumps(dt, case["protocol"]):\n' +
      '        problems.append("%s p%d: not numpy\'s bytes" % (case["name"], case["protocol"]))\n' +
      'result = json.dumps(problems)',
    payload,
  );
  assert.deepEqual(problems, []);
  assert.equal(DType.of('float64').str, '<f8');
  assert.throws(() => DType.of('float65'), /not understood/);
});
