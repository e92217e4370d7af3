/**
 * numpy 2 arrays of every dtype the issue names (bool, all ints, float16/32/64, complex,
 * big-endian variants, datetime64/timedelta64 in several units, 'U', 'S', 'V', records nested,
 * aligned, titled and gapped, objects, records with objects), in 0-d, empty, 1-d, 2-d and 3-d
 * shapes, C and Fortran order, at protocols 0-5 (test/python/numpy_cases.py makes them):
 *
 * - pickle-ts decodes numpy's pickle to the same dtype, shape, order and values;
 * - what pickle-ts writes back numpy loads to an equal array (dtype, shape, order, bytes,
 *   `array_equal`), and for the numeric dtypes it is numpy's own pickle byte for byte;
 * - exact mode on either side changes nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Complex, dumps, loads, tuple } from '../helpers/pickle.js';
import { needPython } from '../helpers/python.js';
import { DType, NDArray, numpyRegistry } from '../../src/numpy/index.js';
import { canonArray, fromHex, fromPython, pyJson, toHex } from './canon.js';

interface Case {
  name: string;
  dtypeName: string;
  shape: number[];
  values: unknown;
  numeric: boolean;
  /** By protocol: numpy's pickle, and the dtype and order numpy's own loads gives. */
  pickles: Record<string, { hex: string; dtype: string; order: 'C' | 'F' }>;
}

interface Checked {
  problems: string[];
  identical: string[];
  different: string[];
}

const registry = numpyRegistry();

test('numpy 2 pickles of every dtype and shape decode, and pickle back as numpy writes them', async (t) => {
  if (!needPython(t)) return;
  const cases = await pyJson<Case[]>('result = c.decode_cases(range(6))');
  assert.ok(cases.length > 300, `only ${cases.length} cases`);
  const written: Record<string, Record<string, string>> = {};
  let decoded = 0;
  for (const c of cases) {
    for (const [p, expected] of Object.entries(c.pickles)) {
      const where = `${c.name} at protocol ${p}`;
      const bytes = fromHex(expected.hex);
      const a = loads(bytes, { registry });
      assert.ok(a instanceof NDArray, `${where}: loaded ${String(a)}`);
      assert.equal(a.dtype, expected.dtype, where);
      assert.deepEqual(a.shape, c.shape, where);
      assert.equal(a.order, expected.order, where);
      assert.deepEqual(canonArray(a), fromPython(c.values), where);
      const out = dumps(a, { registry, protocol: Number(p) });
      (written[c.name] ??= {})[p] = toHex(out);

      // Exact mode: ints arrive as bigints, and numbers would be written as floats.
      const exact = loads(bytes, { registry, exact: true }) as NDArray;
      assert.deepEqual(canonArray(exact), canonArray(a), `${where} (exact)`);
      assert.deepEqual(
        dumps(exact, { registry, protocol: Number(p), exact: true }),
        out,
        `${where} (exact dumps)`,
      );
      decoded++;
    }
  }
  assert.equal(decoded, cases.length * 6);

  const checked = await pyJson<Checked>('result = c.check_written(data.decode())', written);
  assert.deepEqual(checked.problems, [], 'numpy loads what pickle-ts wrote to the same array');
  const numericNames = new Set(cases.filter((c) => c.numeric).map((c) => c.name));
  const numericDifferent = checked.different.filter((n) =>
    numericNames.has(n.slice(0, n.lastIndexOf(' p'))),
  );
  assert.deepEqual(numericDifferent, [], 'numeric dtypes: byte-identical to numpy');
  // Every other dtype is byte-identical too, for single arrays.
  assert.deepEqual(checked.different, [], 'all dtypes: byte-identical to numpy');
  assert.equal(checked.identical.length, decoded);
});

/** Arrays made in JS, each with the numpy expression that makes the same array. */
function builtInJs(): Array<{ name: string; value: unknown; expr: string; identical?: false }> {
  const f64 = Float64Array.of(0.5, -1, 2.25, NaN, Infinity, -0);
  return [
    {
      name: 'float64 2-d',
      value: NDArray.from(f64, [2, 3]),
      expr: 'np.array([0.5, -1, 2.25, np.nan, np.inf, -0.0]).reshape(2, 3)',
    },
    {
      name: 'float64 Fortran',
      value: NDArray.from(f64, [2, 3], 'F'),
      expr: 'np.asfortranarray(np.array([0.5, -1, 2.25, np.nan, np.inf, -0.0]).reshape(3, 2).T)',
    },
    {
      name: 'int32 3-d',
      value: NDArray.from(
        Int32Array.from({ length: 24 }, (_, i) => i * 1000 - 7),
        [2, 3, 4],
      ),
      expr: 'np.arange(24, dtype="<i4").reshape(2, 3, 4) * 1000 - 7',
    },
    {
      name: 'int64 and uint64',
      value: [
        NDArray.from(BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n)),
        NDArray.from(BigUint64Array.of(2n ** 64n - 1n, 5n)),
      ],
      expr: '[np.array([-2**63, 2**63 - 1, 0], "<i8"), np.array([2**64 - 1, 5], "<u8")]',
    },
    {
      name: 'small ints and float32',
      value: [
        NDArray.from(Int8Array.of(-128, 127)),
        NDArray.from(Uint8Array.of(0, 255)),
        NDArray.from(Int16Array.of(-32768, 1)),
        NDArray.from(Uint16Array.of(65535)),
        NDArray.from(Uint32Array.of(4294967295)),
        NDArray.from(Float32Array.of(0.1, -3.5)),
      ],
      expr:
        '[np.array([-128, 127], "i1"), np.array([0, 255], "u1"), np.array([-32768, 1], "<i2"),' +
        ' np.array([65535], "<u2"), np.array([4294967295], "<u4"), np.array([0.1, -3.5], "<f4")]',
    },
    {
      name: 'two float64 arrays share numpy’s dtype object',
      value: [NDArray.from(Float64Array.of(1, 2)), NDArray.from(Float64Array.of(3))],
      expr: '[np.array([1.0, 2.0]), np.array([3.0])]',
    },
    {
      name: 'bool',
      value: NDArray.fromArray(
        [
          [true, false],
          [false, true],
        ],
        'bool',
      ),
      expr: 'np.array([[True, False], [False, True]])',
    },
    {
      name: 'complex128 and complex64',
      value: [
        NDArray.fromArray([new Complex(1, -2), new Complex(NaN, 0), 3], 'complex128'),
        NDArray.fromArray([new Complex(0.5, 0.25)], '<c8'),
      ],
      expr: '[np.array([1-2j, complex(np.nan, 0), 3], "<c16"), np.array([0.5+0.25j], "<c8")]',
    },
    {
      name: 'float16',
      value: NDArray.fromArray([0.1, 1.5, 65504, -0, NaN, -Infinity, 1e-7, 70000], 'float16'),
      expr: 'np.array([0.1, 1.5, 65504, -0.0, np.nan, -np.inf, 1e-7, 70000], "<f2")',
    },
    {
      name: 'big-endian',
      value: [
        NDArray.fromArray([1, -2, 300], '>i4'),
        NDArray.fromArray([1.5, -0.25], '>f8'),
        NDArray.fromArray([new Complex(1, 2)], '>c8'),
        NDArray.fromArray(['ab', 'é'], '>U2'),
      ],
      expr:
        '[np.array([1, -2, 300], ">i4"), np.array([1.5, -0.25], ">f8"), np.array([1+2j], ">c8"),' +
        ' np.array(["ab", "é"], ">U2")]',
    },
    {
      name: 'unicode',
      value: NDArray.fromArray(
        [
          ['a', 'été'],
          ['😀!', ''],
        ],
        '<U4',
      ),
      expr: 'np.array([["a", "été"], ["😀!", ""]], "<U4")',
    },
    {
      name: 'bytes',
      value: NDArray.fromArray([Uint8Array.of(97, 0, 98), 'xyz', ''], 'S3'),
      expr: 'np.array([b"a\\x00b", b"xyz", b""], "S3")',
    },
    {
      name: 'datetime64',
      value: NDArray.fromArray([0n, 1700000000000n, -(2n ** 63n)], '<M8[ms]'),
      expr: 'np.array([0, 1700000000000, -2**63], "<i8").view("<M8[ms]")',
    },
    {
      name: 'timedelta64',
      value: NDArray.fromArray([90n, -1n], '<m8[s]'),
      expr: 'np.array([90, -1], "<m8[s]")',
    },
    {
      name: 'datetime64 10us',
      value: NDArray.fromArray([7n], '<M8[10us]'),
      expr: 'np.array([7], "<i8").view("<M8[10us]")',
    },
    {
      // CPython writes each dtype's type string ('M8') afresh; pickle-ts memoizes equal strings,
      // so the second 'M8' is a BINGET. numpy loads both to the same arrays.
      name: 'two datetime64 dtypes in one pickle',
      value: [NDArray.fromArray([1n], '<M8[D]'), NDArray.fromArray([2n], '<M8[s]')],
      expr: '[np.array([1], "<M8[D]"), np.array([2], "<M8[s]")]',
      identical: false,
    },
    {
      name: 'record',
      value: NDArray.fromArray(
        [
          { x: 1.5, n: 2, tag: 'ab' },
          { x: -1, n: -7, tag: 'wxyz' },
        ],
        DType.structured([
          ['x', '<f8'],
          ['n', '<i4'],
          ['tag', 'S4'],
        ]),
      ),
      expr: 'np.array([(1.5, 2, b"ab"), (-1, -7, b"wxyz")], dtype=[("x", "<f8"), ("n", "<i4"), ("tag", "S4")])',
    },
    {
      name: 'aligned record with a sub-array, records as tuples',
      value: NDArray.fromArray(
        [tuple<unknown>(1, [0.5, 2]), tuple<unknown>(255, [-1, 3])],
        DType.structured(
          [
            ['id', 'u1'],
            ['vec', '<f4', [2]],
          ],
          { align: true },
        ),
      ),
      // Built from zeros: np.array leaves the padding bytes uninitialized.
      expr:
        '(lambda a: (a.__setitem__("id", [1, 255]), a.__setitem__("vec", [[0.5, 2], [-1, 3]]), a)[2])' +
        '(np.zeros(2, np.dtype([("id", "u1"), ("vec", "<f4", (2,))], align=True)))',
    },
    {
      name: 'titled and nested record',
      value: NDArray.fromArray(
        [{ a: 3, p: { u: 'hi' } }],
        DType.structured([
          { name: 'a', dtype: '<i2', title: 'Alpha' },
          ['p', DType.structured([['u', '<U2']])],
        ]),
      ),
      expr:
        'np.array([(3, ("hi",))], dtype=np.dtype({"names": ["a", "p"], "formats": ["<i2", [("u", "<U2")]],' +
        ' "titles": ["Alpha", None]}))',
    },
    {
      name: 'object',
      value: NDArray.fromArray([1, 'two', null, [3, 'x'], 2.5], 'object'),
      expr: 'objects(1, "two", None, [3, "x"], 2.5)',
    },
    {
      name: '0-d and empty',
      value: [new NDArray('<f8', [], Float64Array.of(2.5)), new NDArray('<i4', [0, 3])],
      expr: '[np.array(2.5), np.zeros((0, 3), "<i4")]',
    },
    {
      name: 'read-only',
      value: new NDArray('<f8', [2], Float64Array.of(1, 2), { readonly: true }),
      expr: '(lambda a: (a.setflags(write=False), a)[1])(np.array([1.0, 2.0]))',
    },
  ];
}

test('arrays made in JS pickle as numpy pickles the same arrays, at every protocol', async (t) => {
  if (!needPython(t)) return;
  const payload = [];
  for (const c of builtInJs()) {
    for (let protocol = 0; protocol <= 5; protocol++) {
      const hex = toHex(dumps(c.value, { registry, protocol }));
      payload.push({ name: c.name, expr: c.expr, protocol, hex });
    }
  }
  const checked = await pyJson<Checked>('result = c.check_built(data.decode())', payload);
  assert.deepEqual(checked.problems, [], 'numpy loads each to the array it describes');
  const mayDiffer = new Set(
    builtInJs()
      .filter((c) => c.identical === false)
      .map((c) => c.name),
  );
  const different = checked.different.filter(
    (w) => !mayDiffer.has(w.slice(0, w.lastIndexOf(' p'))),
  );
  assert.deepEqual(different, [], 'byte-identical to numpy');
  assert.ok(checked.identical.length >= payload.length - mayDiffer.size * 6);
});

test('large arrays (payloads outside frames) pickle as numpy pickles them', async (t) => {
  if (!needPython(t)) return;
  const sizes = [8191, 8192, 100_000, 1 << 17];
  const payload = [];
  for (const n of sizes) {
    const a = NDArray.from(
      Float64Array.from({ length: n }, (_, i) => i * 0.5),
      [n],
    );
    for (const protocol of [2, 3, 4, 5]) {
      payload.push({
        name: `float64 x ${n}`,
        expr: `np.arange(${n}) * 0.5`,
        protocol,
        hex: toHex(dumps([a, 'after'], { registry, protocol })),
      });
    }
  }
  for (const p of payload) p.expr = `[${p.expr}, "after"]`;
  const checked = await pyJson<Checked>('result = c.check_built(data.decode())', payload);
  assert.deepEqual(checked.problems, []);
  assert.deepEqual(checked.different, []);
});
