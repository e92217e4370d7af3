#!/usr/bin/env node
// `npm test`: type-check, lint, run every test file with node's test runner, then print the
// opcode coverage the tests reached (and fail if an opcode was never decoded or emitted).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

const only = process.argv.slice(2);
if (only.length === 0) {
  console.log('> tsc (build dist/, type-check the project, and the browser-safe core on its own)');
  run('npx', ['tsc', '-p', 'tsconfig.build.json']);
  run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
  run('npx', ['tsc', '-p', 'src/core/tsconfig.json', '--noEmit']);
  console.log('> eslint + prettier');
  run('npx', ['eslint', '.']);
  run('npx', ['prettier', '--check', '--log-level', 'warn', '.']);
}

const files = (only.length ? only : readdirSync(join(root, 'test'), { recursive: true }))
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => (f.startsWith('test/') ? f : join('test', f)))
  .sort();

const coverageDir = mkdtempSync(join(tmpdir(), 'pickle-ts-opcodes-'));
console.log(`> node --test (${files.length} files)`);
run('node', ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  PICKLE_TS_OPCODE_COVERAGE_DIR: coverageDir,
});

if (only.length === 0) {
  const decoded = new Set();
  const emitted = new Set();
  for (const f of readdirSync(coverageDir)) {
    const r = JSON.parse(readFileSync(join(coverageDir, f), 'utf8'));
    r.decoded.forEach((n) => decoded.add(n));
    r.emitted.forEach((n) => emitted.add(n));
  }
  rmSync(coverageDir, { recursive: true, force: true });
  const r = spawnSync('npx', ['tsx', 'scripts/opcode-coverage.ts'], {
    cwd: root,
    stdio: ['pipe', 'inherit', 'inherit'],
    input: JSON.stringify({ decoded: [...decoded], emitted: [...emitted] }),
  });
  process.exit(r.status ?? 1);
}
