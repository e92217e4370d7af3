/** `npm start` (examples/tour.ts) runs on its own data and shows what it says it shows. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loads } from './helpers/pickle.js';
import { hasPython } from './helpers/python.js';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the tour writes dogs, reads it back equal, and runs to the end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pickle-ts-tour-'));
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(root, 'examples/tour.ts')],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const dogs = join(dir, 'dogs');
    assert.ok(existsSync(dogs), 'the tour writes a file named dogs');
    assert.deepEqual(loads(readFileSync(dogs)), {
      Ozzy: 3,
      Filou: 8,
      Luna: 5,
      Skippy: 10,
      Barco: 12,
      Balou: 9,
      Laika: 16,
    });
    assert.ok(lines.includes('true'), 'the tour compares the loaded dict and prints true');
    assert.match(r.stdout, /a and b are one list: true \| the list contains itself: true/);
    assert.match(r.stdout, /== Opcodes of a small pickle/);
    if (hasPython()) {
      assert.match(r.stdout, /Python reads the same file: \{'Ozzy': 3, 'Filou': 8/);
      assert.match(r.stdout, /re-dumped bytes identical to CPython: true/);
      assert.match(r.stdout, /Python reads it back as: Fraction\(3, 4\)/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
