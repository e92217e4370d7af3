/** The tour's safety part (examples/tour/60-safety.ts) runs and shows what it says it shows. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('tour part 6: the payload is dangerous, loads as an inert object, and pickle scan exits 0 then 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pickle-ts-tour-safety-'));
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(root, 'examples/tour.ts'), 'safety'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /verdict: dangerous/);
    assert.match(r.stdout, /REDUCE: call (posix|os)\.system \(dangerous\)/);
    assert.match(
      r.stdout,
      /loads\(evil\) is a PyObject of <global (posix|os)\.system> with args \["echo pwned"\]/,
    );
    assert.match(r.stdout, /dogs-safe\.pkl: safe \(pickle, 1 pickle\)\n.*\n\(exit status 0\)/);
    assert.match(r.stdout, /evil\.pkl: dangerous[^]*\(exit status 2\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
