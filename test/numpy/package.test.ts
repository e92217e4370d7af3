/**
 * `import 'pickle-ts/numpy'` resolves through package.json "exports" to the built files (npm test
 * builds dist/ first) and gives the same API as the source.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as source from '../../src/numpy/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test("import 'pickle-ts/numpy' gives the numpy API, which works with 'pickle-ts'", () => {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
      import { dumps, loads } from 'pickle-ts';
      import * as np from 'pickle-ts/numpy';
      const registry = np.numpyRegistry();
      const a = np.NDArray.from(Float64Array.of(1, 2, 3, 4), [2, 2], 'F');
      const back = loads(dumps(a, { registry, protocol: 5 }), { registry });
      console.log(JSON.stringify({ names: Object.keys(np).sort(), back: back.toArray(), order: back.order }));
      `,
    ],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { names: string[]; back: unknown; order: string };
  assert.deepEqual(out.names, Object.keys(source).sort());
  assert.deepEqual(out.back, [
    [1, 3],
    [2, 4],
  ]);
  assert.equal(out.order, 'F');
});
