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

test('the tour (core and object parts) writes dogs, reads it back equal, and runs to the end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pickle-ts-tour-'));
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(root, 'examples/tour.ts'), 'core', 'objects'],
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
      assert.match(r.stdout, /Python reads it back as: IPv4Address\('10.0.0.1'\)/);
      assert.match(
        r.stdout,
        /'price': Decimal\('19.90'\), 'order': OrderedDict\(\[\('b', 2\), \('a', 1\)\]\)/,
      );
      assert.match(
        r.stdout,
        /a JS Date in Python: datetime.datetime\(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc\)/,
      );
    }
    assert.match(r.stdout, /a registered class comes back as itself: true, norm 5/);
    assert.match(r.stdout, /'when': datetime.datetime\(2001, 2, 3, 0, 0\), 'text': 'été'\}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
