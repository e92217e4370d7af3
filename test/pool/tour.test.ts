/** The tour's pool part (examples/tour/70-pool.ts) runs and shows what it says it shows. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));

test("the tour's pool part: the tutorial's two maps, captures, and a progress bar", () => {
  const r = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), 'examples/tour.ts', 'pool'],
    { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
  );
  assert.equal(r.status, 0, r.stderr);
  const cosines = [...Array(10).keys()].map((x) => Math.cos(x));
  for (const c of cosines) assert.ok(r.stdout.includes(String(c)), `cos value ${c}`);
  assert.match(r.stdout, /1,\s+2,\s+4,\s+8,\s+16,\s+32,\s+64,\s+128,\s+256,\s+512/);
  assert.match(r.stdout, /refused before sending: .*uses `exponent`/);
  assert.match(r.stdout, /with captures: \[ 0n, 1n, 8n, 27n \]/);
  assert.match(r.stdout, /\[#{30}\] 40\/40/);
  assert.match(r.stdout, /primes below 100000, 101000, \.\.\.: 9592, 9673/);
});
