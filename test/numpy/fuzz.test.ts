/**
 * Mutated numpy pickles: whatever the bytes, loading fails only with a PickleError, and what
 * does load as an NDArray can be read whole (`toArray`) and pickled again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PickleError, dumps, loads } from '../helpers/pickle.js';
import { needPython } from '../helpers/python.js';
import { genops } from '../../src/tools/genops.js';
import { NDArray, NumpyScalar, numpyRegistry } from '../../src/numpy/index.js';
import { fromHex, pyJson } from './canon.js';

const registry = numpyRegistry();

test('mutated numpy pickles fail only with PickleError', async (t) => {
  if (!needPython(t)) return;
  const seeds = await pyJson<string[]>(
    'arrays = [c.make(c.DTYPES[k], (2, 3), "F") for k in ["float64", ">i4", "U5", "record", "nested record", "object", "M8[ns]", "float16", "titled record"]]\n' +
      'result = json.dumps([pickle.dumps(a, p).hex() for a in arrays for p in (0, 2, 4, 5)])',
  );
  // mulberry32: a small deterministic generator.
  let state = 20240601;
  const random = (n: number) => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) % n;
  };
  let loaded = 0;
  let refused = 0;
  for (const hex of seeds) {
    const original = fromHex(hex);
    // Bytes inside opcode arguments (ints, strings, bytes): mutating those keeps the pickle
    // well-formed and reaches the numpy bindings with odd shapes, sizes, names and flags.
    const ops = [...genops(original)];
    const inArgs: number[] = [];
    ops.forEach((op, i) => {
      const end = ops[i + 1]?.pos ?? original.length;
      for (let b = op.pos + 1; b < end; b++) inArgs.push(b);
    });
    for (let k = 0; k < 150; k++) {
      const bytes = original.slice(0, random(8) === 0 ? random(original.length) : original.length);
      for (let m = 1 + random(3); m > 0; m--) {
        const at = random(3) === 0 ? random(bytes.length) : inArgs[random(inArgs.length)]!;
        if (at < bytes.length)
          bytes[at] = random(4) === 0 ? random(256) : bytes[at]! ^ (1 << random(8));
      }
      let v: unknown;
      try {
        v = loads(bytes, { registry });
      } catch (e) {
        assert.ok(
          e instanceof PickleError,
          `${String(e)} from ${Buffer.from(bytes).toString('hex')}`,
        );
        refused++;
        continue;
      }
      loaded++;
      if (v instanceof NDArray) {
        v.toArray();
        dumps(v, { registry, protocol: 5 });
        dumps(v, { registry, protocol: 2 });
      } else if (v instanceof NumpyScalar) {
        void v.value;
      }
    }
  }
  assert.ok(loaded > 0 && refused > 0, `${loaded} loaded, ${refused} refused`);
});
