/**
 * The README's synopsis runs as written (with the package import pointed at the source), and
 * what its comments claim holds, in JS and in Python.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as lib from './helpers/pickle.js';
import { assertSameValue } from './helpers/equal.js';
import { needPython, py } from './helpers/python.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const synopsis = /## Synopsis\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

/** Runs the synopsis with `pickle-ts` bound to the library; returns its `bytes` and `value`. */
function runSynopsis(): { bytes: Uint8Array; value: unknown } {
  const body =
    synopsis.replace(/^import .* from 'pickle-ts';$/m, '') + '\nreturn { bytes, value };';
  const names = Object.keys(lib).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
  const f = new Function(...names, body) as (...args: unknown[]) => {
    bytes: Uint8Array;
    value: unknown;
  };
  return f(...names.map((k) => (lib as Record<string, unknown>)[k]));
}

test('README synopsis: imports only what the package exports', () => {
  const imported = /import \{([^}]*)\} from 'pickle-ts'/.exec(synopsis)?.[1] ?? '';
  assert.ok(imported.trim().length > 0, 'the synopsis imports from pickle-ts');
  for (const name of imported.split(',').map((s) => s.trim())) {
    assert.ok(name in lib, `pickle-ts exports ${name}`);
  }
});

test('README synopsis: loads gives the value its comment shows', () => {
  const { value } = runSynopsis();
  assertSameValue(value, {
    name: 'Rex',
    age: 3,
    tags: ['good', 'dog'],
    home: lib.tuple(51.5, -0.1),
  });
});

test('README synopsis: Python loads the bytes to the dict its comment shows', async (t) => {
  if (!needPython(t)) return;
  const { bytes } = runSynopsis();
  const r = await py.eval(
    "result = pickle.loads(data) == {'name': 'Rex', 'age': 3, 'tags': ['good', 'dog'], 'home': (51.5, -0.1)}",
    bytes,
  );
  assert.deepEqual(r.tagged, { t: 'bool', v: true });
});
