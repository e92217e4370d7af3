/**
 * The NDArray API: float16 conversion (all 65,536 patterns against numpy, and rounding of
 * float64 values to float16 against numpy's), element access in C and Fortran order, negative
 * and out-of-range indices, nested arrays, construction checks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Complex, dumps, loads, tuple } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { pyJson } from './canon.js';
import {
  DType,
  NAT,
  NDArray,
  datetime64ToDate,
  float16ToNumber,
  numberToFloat16,
  numpyRegistry,
} from '../../src/numpy/index.js';

const registry = numpyRegistry();

test('float16: every bit pattern converts as numpy converts it', async (t) => {
  if (!needPython(t)) return;
  const bytes = await py.bytes(
    'import numpy as np\nresult = np.arange(65536, dtype="<u2").view("<f2").astype("<f8").tobytes()',
  );
  const expected = new Float64Array(bytes.buffer, bytes.byteOffset, 65536);
  for (let bits = 0; bits < 65536; bits++) {
    assert.ok(Object.is(float16ToNumber(bits), expected[bits]), `0x${bits.toString(16)}`);
  }
});

test('float16: numbers round to float16 as numpy rounds them', async (t) => {
  if (!needPython(t)) return;
  // Random doubles across the float16 range, every float16's neighbours and midpoints, edges.
  const values: number[] = [
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    65504,
    65519.99,
    65520,
    1e-8,
    2 ** -25,
    3 * 2 ** -26,
  ];
  for (let bits = 0; bits < 0x7c00; bits += 7) {
    const x = float16ToNumber(bits);
    const next = float16ToNumber(bits + 1);
    values.push(x, (x + next) / 2, -(x + next) / 2, x * (1 + 2 ** -20));
  }
  let seed = 12345;
  for (let i = 0; i < 20000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    values.push(((seed / 2 ** 31) * 2 - 1) * 2 ** ((seed % 40) - 25));
  }
  const input = new Float64Array(values);
  const out = await py.bytes(
    'import numpy as np\nresult = np.frombuffer(data, "<f8").astype("<f2").view("<u2").tobytes()',
    new Uint8Array(input.buffer),
  );
  const expected = new Uint16Array(out.buffer, out.byteOffset, values.length);
  values.forEach((v, i) => {
    const mine = numberToFloat16(v);
    // NaN payloads may differ; both must be NaN.
    if (Number.isNaN(v)) assert.ok(Number.isNaN(float16ToNumber(expected[i]!)));
    else
      assert.equal(
        mine,
        expected[i],
        `${v}: 0x${mine.toString(16)} vs 0x${expected[i]!.toString(16)}`,
      );
  });
});

test('elements by index in C and Fortran order, with negative indices', () => {
  const c = NDArray.from(
    Int32Array.from({ length: 24 }, (_, i) => i),
    [2, 3, 4],
  );
  const f = NDArray.from(
    Int32Array.from({ length: 24 }, (_, i) => i),
    [2, 3, 4],
    'F',
  );
  assert.equal(c.get(1, 2, 3), 23);
  assert.equal(c.get(-1, -1, -1), 23);
  assert.equal(f.get(1, 2, 3), 1 + 2 * 2 + 3 * 6);
  assert.deepEqual(c.strides, [12, 4, 1]);
  assert.deepEqual(f.strides, [1, 2, 6]);
  assert.deepEqual((f.toArray() as number[][][])[1]![0], [1, 7, 13, 19]);
  assert.throws(() => c.get(2, 0, 0), /out of bounds for axis 0 with size 2/);
  assert.throws(() => c.get(0, 0), /2 indices for an array of 3 dimensions/);
  c.set([0, 0, 0], -5);
  assert.equal(c.data[0], -5);
  assert.throws(() => c.set([0, 0, 1], 2 ** 31), /out of bounds for <i4/);
  const zero = new NDArray('<f8', [], Float64Array.of(2.5));
  assert.equal(zero.get(), 2.5);
  assert.equal(zero.toArray(), 2.5);
  assert.deepEqual(new NDArray('<f8', [0, 3]).toArray(), []);
  assert.deepEqual([...NDArray.from(Float64Array.of(1, 2))], [1, 2]);
});

test('elements of every kind read and write through get and set', () => {
  const u = NDArray.fromArray(['a', 'été', '😀x'], '<U2');
  assert.deepEqual(u.toArray(), ['a', 'ét', '😀x']);
  const s = NDArray.fromArray([Uint8Array.of(1, 0), 'ab'], 'S3');
  assert.deepEqual(s.toArray(), [Uint8Array.of(1), Uint8Array.of(97, 98)]);
  const c = NDArray.fromArray([new Complex(1, -1), 2], '<c8');
  assert.deepEqual(c.get(0), new Complex(1, -1));
  assert.deepEqual([...c.data], [1, -1, 2, 0]);
  const h = NDArray.fromArray([1.5, 65504], 'float16');
  assert.deepEqual([...h.data], [0x3e00, 0x7bff]);
  assert.equal(h.get(1), 65504);
  const r = NDArray.fromArray(
    [{ x: 1, y: [1, 2] }, tuple<unknown>(2, [3, 4])],
    DType.structured([
      ['x', '>i2'],
      ['y', '<f4', [2]],
    ]),
  );
  assert.deepEqual(r.get(1), { x: 2, y: [3, 4] });
  assert.deepEqual([...(r.data as Uint8Array).subarray(0, 2)], [0, 1], 'big-endian field bytes');
  const be = NDArray.fromArray([1, 256], '>i2');
  assert.deepEqual([...be.data], [1, 256], 'data is in this machine’s order');
  assert.deepEqual([...be.tobytes()], [0, 1, 1, 0], 'tobytes is in the dtype’s order');
  const dt = NDArray.fromArray([1n, -(2n ** 63n)], '<M8[s]');
  assert.deepEqual(dt.toArray(), [1n, -(2n ** 63n)]);
  const o = NDArray.fromArray(
    [
      [1, 'a'],
      [null, [2]],
    ],
    'O',
    'F',
  );
  assert.deepEqual(o.data, [1, null, 'a', [2]]);
  assert.deepEqual(o.toArray(), [
    [1, 'a'],
    [null, [2]],
  ]);
});

test('construction checks the data against the dtype and shape', () => {
  assert.throws(
    () => new NDArray('<f8', [2], new Float32Array(2) as never),
    /Float64Array, not Float32Array/,
  );
  assert.throws(
    () => new NDArray('<f8', [2, 2], new Float64Array(3)),
    /3 Float64Array items for 4 elements/,
  );
  assert.throws(() => new NDArray('<c16', [2], new Float64Array(2)), /\(2 each\)/);
  assert.throws(() => new NDArray('O', [2], new Float64Array(2) as never), /JS array/);
  assert.throws(() => new NDArray('<f8', [-1]), /bad array dimension -1/);
  assert.throws(() => NDArray.fromArray([[1, 2], [3]], '<i4'), /nested array of shape \(2, 2\)/);
  assert.equal(new NDArray('<U3', [2]).get(1), '');
  assert.equal(new NDArray('O', [1]).get(0), null);
});

test('an NDArray survives a round trip through pickle-ts alone at every protocol', () => {
  const a = NDArray.fromArray(
    [
      [1.5, 2],
      [3, NaN],
    ],
    '>f4',
    'F',
  );
  for (let protocol = 0; protocol <= 5; protocol++) {
    const b = loads(dumps(a, { registry, protocol }), { registry }) as NDArray;
    assert.deepEqual(b.toArray(), a.toArray());
    // numpy turns a non-native byte order native when it rebuilds through BUILD (protocols 0-4).
    assert.equal(b.dtype, protocol === 5 ? '>f4' : '<f4');
    assert.equal(b.order, 'F');
  }
});

test('datetime64 counts become the Dates numpy gives, in every unit', async (t) => {
  if (!needPython(t)) return;
  const units = ['Y', 'M', 'W', 'D', 'h', 'm', 's', 'ms', 'us', 'ns', '10ms', '3D'];
  const counts = [0n, 1n, -1n, 7n, -13n, 600n, 123456789n, -987654321n];
  const cases = units.flatMap((u) =>
    counts
      .filter((c) => !/^([YMWD]|3D)$/.test(u) || (c < 100000n && c > -100000n))
      .map((c) => ({ u, c })),
  );
  const ms = await pyJson<number[]>(
    'cases = json.loads(data.decode())\n' +
      'result = json.dumps([int(np.array([int(x["c"])], "<M8[%s]" % x["u"]).astype("<M8[ms]").astype("<i8")[0]) for x in cases])',
    cases.map(({ u, c }) => ({ u, c: String(c) })),
  );
  cases.forEach(({ u, c }, i) => {
    assert.equal(datetime64ToDate(c, `<M8[${u}]`)?.getTime(), ms[i], `${c} ${u}`);
  });
  assert.equal(datetime64ToDate(NAT, '<M8[s]'), null);
  assert.throws(() => datetime64ToDate(2n ** 62n, '<M8[s]'), RangeError);
});
