/** The tour's numpy part (examples/tour/30-numpy.ts) runs and shows what it says it shows. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { hasPython } from '../helpers/python.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the tour’s numpy part loads numpy’s arrays, writes arrays numpy reads, copies nothing', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), `${root}examples/tour.ts`, 'numpy'],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /== numpy arrays from Python/);
  assert.match(
    r.stdout,
    /weights: dtype <f4, shape \(2, 3\), data a Float32Array, weights.get\(1, 2\) = 1.25/,
  );
  assert.match(r.stdout, /labels: <U4 \["cat","dog","émeu"\]/);
  assert.match(r.stdout, /as Dates: 2024-03-10T01:30:00.000Z, NaT/);
  assert.match(r.stdout, /a numpy float64 scalar loads as a plain number: 0.625/);
  assert.match(
    r.stdout,
    /the 8 MB of data went out-of-band, as a view of the array's own memory: true/,
  );
  assert.match(r.stdout, /the array views that same memory \(nothing copied\): true/);
  if (hasPython()) {
    assert.match(
      r.stdout,
      /numpy reads a Fortran-order grid: array\(\[\[ {2}0., {3}9., {2}36., {2}81.\],[\s\S]*\]\]\) True/,
    );
  }
});
