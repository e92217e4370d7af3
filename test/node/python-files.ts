/**
 * Python with each compression module, for the file tests. gzip, bz2 and lzma are in python3's
 * standard library; zstd needs the `zstandard` package: python3's own if it has it, else a venv
 * made once under node_modules/.cache/pickle-ts-venv from the package index pip is set up to use
 * (`python3 -m venv DIR && DIR/bin/pip install zstandard`). Without python3 (or without a way to
 * get zstandard) the tests that need it skip with a message, except under CI=true, where they fail.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { PYTHON, hasPython } from '../helpers/python.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(root, 'test/python/files_codec.py');
export const VENV = join(root, 'node_modules/.cache/pickle-ts-venv');

const hasZstandard = (python: string) =>
  spawnSync(python, ['-c', 'import zstandard'], { stdio: 'ignore' }).status === 0;

let zstdPython: string | undefined | null = null;
let zstdProblem = '';

/** A python that can `import zstandard`, installing it into the cache venv the first time. */
export function findZstdPython(): string | undefined {
  if (zstdPython !== null) return zstdPython;
  zstdPython = undefined;
  if (!hasPython()) {
    zstdProblem = 'python3 not found';
    return undefined;
  }
  if (hasZstandard(PYTHON)) return (zstdPython = PYTHON);
  const venvPython = join(VENV, 'bin', 'python');
  if (!existsSync(venvPython)) {
    mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
    const made = spawnSync(PYTHON, ['-m', 'venv', VENV], { encoding: 'utf8' });
    if (made.status !== 0) {
      zstdProblem = `python3 -m venv failed: ${made.stderr}`;
      return undefined;
    }
  }
  if (!hasZstandard(venvPython)) {
    const pip = spawnSync(
      venvPython,
      ['-m', 'pip', 'install', '--quiet', '--retries', '0', '--timeout', '15', 'zstandard'],
      { encoding: 'utf8', timeout: 300_000 },
    );
    if (pip.status !== 0 || !hasZstandard(venvPython)) {
      zstdProblem = `pip install zstandard into ${VENV} failed: ${pip.stderr ?? pip.error}`;
      return undefined;
    }
  }
  return (zstdPython = venvPython);
}

/** The python for `format`, or undefined after skipping the test (failing under CI=true). */
export function needPythonFor(t: TestContext, format: string): string | undefined {
  const python = format === 'zstd' ? findZstdPython() : hasPython() ? PYTHON : undefined;
  if (python !== undefined) return python;
  const why = format === 'zstd' ? zstdProblem : 'python3 not found';
  if (process.env.CI === 'true') throw new Error(`CI=true needs python for ${format}: ${why}`);
  t.skip(`${why}: this test compares against Python's ${format} module`);
  return undefined;
}

export interface PyCommand {
  op: 'write' | 'read';
  format: string;
  path: string;
  values?: string[];
  expect?: string[];
  protocol?: number;
  mode?: 'wb' | 'ab';
  frames?: 'one' | 'flush';
}

/** Runs test/python/files_codec.py with one command; its JSON answer. */
export function pyFiles(python: string, cmd: PyCommand): { equal?: boolean; count?: number } {
  const r = spawnSync(python, [SCRIPT, JSON.stringify(cmd)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`files_codec.py ${cmd.op} ${cmd.format}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { equal?: boolean; count?: number };
}
