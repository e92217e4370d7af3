/**
 * Malformed numpy pickles fail as numpy fails on them, with an UnpicklingError (BAD_OPERAND,
 * located at the opcode) and before allocating anything a length field claims; pickles of
 * numpy classes pickle-ts does not model stay inert and round-trip.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, PyObject, UnpicklingError, dumps, loads } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { NDArray, numpyRegistry } from '../../src/numpy/index.js';
import { fromHex, pyJson } from './canon.js';

const registry = numpyRegistry();

test('malformed numpy pickles raise UnpicklingError where numpy raises', async (t) => {
  if (!needPython(t)) return;
  const cases =
    await pyJson<Record<string, { pickles: Record<string, string>; numpyError: string | null }>>(
      'result = c.bad_cases()',
    );
  // numpy accepts these (a short object list leaves the rest unset, any endian character is
  // kept, sizes and offsets are trusted, which lets later reads run outside the element):
  // pickle-ts refuses them.
  const stricter = new Set([
    'object list too short',
    'dtype bad endian',
    'unicode size not a multiple of 4',
    'field outside the record',
  ]);
  for (const [name, c] of Object.entries(cases)) {
    assert.equal(c.numpyError === null, stricter.has(name), `${name}: numpy: ${c.numpyError}`);
    for (const [p, hex] of Object.entries(c.pickles)) {
      assert.throws(
        () => loads(fromHex(hex), { registry }),
        (e: unknown) =>
          e instanceof UnpicklingError &&
          e.code === ErrorCode.BAD_OPERAND &&
          typeof e.offset === 'number' &&
          (e.opcode === 'REDUCE' || e.opcode === 'BUILD'),
        `${name} at protocol ${p} (numpy: ${c.numpyError})`,
      );
    }
  }
});

test('subclasses of ndarray and masked arrays stay inert and pickle back unchanged', async (t) => {
  if (!needPython(t)) return;
  for (const expr of [
    'np.matrix([[1, 2], [3, 4]])',
    'np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])',
  ]) {
    const bytes = await py.bytes(`import numpy as np\nresult = pickle.dumps(${expr}, 4)`);
    const v = loads(bytes, { registry });
    assert.ok(v instanceof PyObject, expr);
    assert.deepEqual(dumps(v, { registry, protocol: 4 }), bytes, expr);
  }
});

test('without the numpy bindings, numpy pickles load inert and round-trip', async (t) => {
  if (!needPython(t)) return;
  for (let p = 0; p <= 5; p++) {
    const bytes = await py.bytes(
      `import numpy as np\nresult = pickle.dumps(np.arange(6.0).reshape(2, 3), ${p})`,
    );
    const v = loads(bytes);
    assert.ok(!(v instanceof NDArray) && v instanceof PyObject);
    assert.deepEqual(dumps(v, { protocol: p }), bytes);
  }
});
