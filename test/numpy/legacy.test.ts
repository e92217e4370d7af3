/**
 * Pickles written by numpy 1.26 (`numpy.core.multiarray._reconstruct`,
 * `numpy.core.numeric._frombuffer`, `numpy.core.multiarray.scalar`), committed as fixtures by
 * test/fixtures/numpy/make_numpy126.py (numpy 1.26 in a virtual environment): they decode to the
 * values numpy 1.26 pickled, and with `legacyNames` pickle-ts writes numpy 1.26's bytes back.
 * These run without python3: the fixtures hold numpy's answers. Python 2-format pickles (made
 * by the live oracle, as Python 2's cPickle wrote them) load with `encoding` 'latin1' or 'bytes'.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { dumps, loads } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { NDArray, NumpyScalar, numpyRegistry } from '../../src/numpy/index.js';
import { canonArray, canonValue, fromHex, fromPython, pyJson, toHex } from './canon.js';

interface Fixture {
  numpy: string;
  arrays: Array<{
    name: string;
    shape: number[];
    values: unknown;
    numeric: boolean;
    pickles: Record<string, { pickle: string; dtype: string; order: 'C' | 'F' }>;
  }>;
  outOfBand: Array<{ name: string; pickle: string; buffers: string[]; values: unknown }>;
  scalars: Array<{ name: string; dtype: string; values: unknown; pickles: Record<string, string> }>;
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/numpy/numpy126.json', import.meta.url), 'utf8'),
) as Fixture;
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const legacy = numpyRegistry({ legacyNames: true });
const typedLegacy = numpyRegistry({ legacyNames: true, scalars: 'typed' });

test('numpy 1.26 pickles of every dtype decode, and legacyNames writes numpy 1.26’s bytes', () => {
  assert.match(fixture.numpy, /^1\.26\./);
  let count = 0;
  const different: string[] = [];
  for (const c of fixture.arrays) {
    for (const [p, expected] of Object.entries(c.pickles)) {
      const where = `${c.name} at protocol ${p}`;
      const bytes = b64(expected.pickle);
      assert.ok(new TextDecoder('latin1').decode(bytes).includes('numpy.core'), where);
      const a = loads(bytes, { registry: legacy });
      assert.ok(a instanceof NDArray, where);
      assert.equal(a.dtype, expected.dtype, where);
      assert.deepEqual(a.shape, c.shape, where);
      assert.equal(a.order, expected.order, where);
      assert.deepEqual(canonArray(a), fromPython(c.values), where);
      // Pickles loading leaves unchanged (numpy turns other byte orders native) are written
      // back as numpy 1.26 wrote them.
      if (expected.dtype === a.dtype && !c.name.startsWith('>')) {
        const ours = toHex(dumps(a, { registry: legacy, protocol: Number(p) }));
        if (ours !== toHex(bytes)) different.push(where);
      }
      count++;
    }
  }
  assert.ok(count > 300, `${count} pickles`);
  // The exceptions are records with a field named 'b' at protocols 0-2: numpy 1.26's pickle
  // writes that name afresh, while pickle-ts memoizes strings by value and refers back to the
  // 'b' of `_codecs.encode('b', 'latin1')` (numpy 2 shares it too). numpy loads both alike.
  assert.deepEqual(
    different.filter((w) => !/^(record|titled record|gapped record) .* at protocol [0-2]$/.test(w)),
    [],
  );
});

test('numpy 1.26 out-of-band buffers and scalars decode', () => {
  for (const c of fixture.outOfBand) {
    const buffers = c.buffers.map(b64);
    const a = loads(b64(c.pickle), { registry: legacy, buffers }) as NDArray;
    assert.deepEqual(canonArray(a), fromPython(c.values), c.name);
  }
  for (const c of fixture.scalars) {
    for (const [p, data] of Object.entries(c.pickles)) {
      const s = loads(b64(data), { registry: typedLegacy });
      assert.ok(s instanceof NumpyScalar, c.name);
      assert.equal(s.dtype, c.dtype);
      assert.deepEqual(canonValue(s.descr, s.value), fromPython(c.values), `${c.name} p${p}`);
      assert.deepEqual(
        dumps(s, { registry: typedLegacy, protocol: Number(p) }),
        b64(data),
        `${c.name} p${p}`,
      );
    }
  }
});

test('numpy 2 loads the numpy.core names pickle-ts writes with legacyNames', async (t) => {
  if (!needPython(t)) return;
  const a = NDArray.from(Float64Array.of(1, 2, 3, 4), [2, 2], 'F');
  for (let p = 0; p <= 5; p++) {
    const bytes = dumps(a, { registry: legacy, protocol: p });
    assert.ok(new TextDecoder('latin1').decode(bytes).includes('numpy.core'));
    const r = await py.eval(
      'import warnings, numpy as np\nwith warnings.catch_warnings():\n' +
        '    warnings.simplefilter("ignore")\n    x = pickle.loads(data)\n' +
        'result = bool(np.array_equal(x, np.asfortranarray([[1.0, 3.0], [2.0, 4.0]])) and x.flags.f_contiguous)',
      bytes,
    );
    assert.deepEqual(r.tagged, { t: 'bool', v: true }, `protocol ${p}`);
  }
});

test('Python 2-format numpy pickles (str opcodes, numpy.core) load with latin1 or bytes', async (t) => {
  if (!needPython(t)) return;
  // Written as Python 2's cPickle wrote numpy arrays (test/python/numpy_cases.py,
  // _Python2Pickler); numpy itself loads each with encoding='latin1'.
  const cases = await pyJson<
    Array<{ name: string; pickle: string; dtype: string; order: 'C' | 'F'; values: unknown }>
  >('result = c.python2_cases()');
  for (const c of cases) {
    for (const encoding of ['latin1', 'bytes']) {
      const where = `${c.name} (${encoding})`;
      const a = loads(fromHex(c.pickle), { registry: legacy, encoding });
      assert.ok(a instanceof NDArray, where);
      assert.equal(a.dtype, c.dtype, where);
      assert.equal(a.order, c.order, where);
      assert.deepEqual(canonArray(a), fromPython(c.values), where);
    }
  }
});
