/** The tour's part 5 (examples/tour/50-tools.ts) runs on its own files and shows the command. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { hasPython } from '../helpers/python.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test("npm start -- tools: pickle show and pickle dis on the tour's dogs, as Python prints them", () => {
  const dir = mkdtempSync(join(tmpdir(), 'pickle-ts-tour-tools-'));
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(root, 'examples/tour.ts'), 'tools'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const dogs =
      "{'Ozzy': 3, 'Filou': 8, 'Luna': 5, 'Skippy': 10, 'Barco': 12, 'Balou': 9, 'Laika': 16}";
    assert.ok(r.stdout.includes(`$ pickle show dogs\n${dogs}\n`), r.stdout);
    assert.match(
      r.stdout,
      /\$ pickle dis --annotate dogs\n {4}0: \\x80 PROTO {6}4 {14}Protocol version indicator\.\n/,
    );
    assert.match(r.stdout, /highest protocol among opcodes = 4\n/);
    assert.match(r.stdout, /\$ pickle convert dogs dogs\.json\n\{"Ozzy":3,"Filou":8,/);
    assert.match(r.stdout, /\$ pickle show dogs-p0\.pkl\n\{'Ozzy': 3,/);
    assert.match(r.stdout, /dogs: 85 bytes; optimized: \d+ bytes/);
    assert.match(
      r.stderr,
      /pickle show: UnpicklingError: at byte \d+ \(FRAME\): pickle data was truncated/,
    );
    assert.match(
      r.stderr,
      /pickle dis: UnpicklingError: at byte 40: pickle exhausted before seeing STOP/,
    );
    if (hasPython()) {
      assert.ok(r.stdout.includes(`Python's print(pickle.load(f)): ${dogs}`));
      assert.match(r.stdout, /python -m pickletools --annotate dogs prints the same text: true/);
    }
    // The part cleans up what it made, and keeps the core part's `dogs`.
    assert.ok(existsSync(join(dir, 'dogs')) && !existsSync(join(dir, 'dogs.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
