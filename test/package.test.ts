/**
 * The package as users import it: `pickle-ts` and `pickle-ts/tools` resolve through package.json
 * "exports" to the built files (npm test builds dist/ first; npm ci builds it in "prepare").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as source from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function runModule(code: string): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test("import 'pickle-ts' gives the same API as the source, and works", () => {
  const out = runModule(`
    import * as m from 'pickle-ts';
    const b = m.dumps({ a: [1, m.tuple(2, 3n ** 50n)] }, { protocol: 2 });
    console.log(JSON.stringify({ names: Object.keys(m).sort(), back: String(m.loads(b).a[1][1]) }));
  `);
  const { names, back } = JSON.parse(out) as { names: string[]; back: string };
  assert.deepEqual(names, Object.keys(source).sort());
  assert.equal(back, String(3n ** 50n));
});

test("import 'pickle-ts/tools' gives genops", () => {
  const out = runModule(`
    import { dumps } from 'pickle-ts';
    import { genops } from 'pickle-ts/tools';
    console.log([...genops(dumps([1], { protocol: 2 }))].map((o) => o.opcode.name).join(' '));
  `);
  assert.equal(out, 'PROTO EMPTY_LIST BINPUT BININT1 APPEND STOP');
});
