/**
 * The README's examples run as written (TypeScript transpiled, the package import pointed at
 * the source), and what their comments claim holds, in JS and in Python.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import ts from 'typescript';
import * as lib from './helpers/pickle.js';
import { assertSameValue } from './helpers/equal.js';
import { needPython, py } from './helpers/python.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const synopsis = /## Synopsis\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const classes = /### Your own classes\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

/** Runs a README block with `pickle-ts` bound to the library; returns the named locals. */
function run(code: string, results: string[]): Record<string, unknown> {
  const body = code.replace(/^import .* from 'pickle-ts(\/\w+)?';$/gm, '');
  const js = ts.transpileModule(`${body}\nreturn { ${results.join(', ')} };`, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None },
  }).outputText;
  const names = Object.keys(lib).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k));
  const f = new Function(...names, js) as (...args: unknown[]) => Record<string, unknown>;
  return f(...names.map((k) => (lib as Record<string, unknown>)[k]));
}

test('README: every TypeScript example imports only what the package exports', () => {
  assert.ok(blocks.length >= 2);
  for (const block of blocks) {
    for (const m of block.matchAll(/import \{([^}]*)\} from 'pickle-ts'/g)) {
      for (const name of m[1]!.split(',').map((s) => s.trim().replace(/^type /, ''))) {
        assert.ok(name in lib, `pickle-ts exports ${name}`);
      }
    }
  }
});

test('README synopsis: loads gives the value its comment shows', () => {
  const { value } = run(synopsis, ['value']);
  assertSameValue(value, {
    name: 'Rex',
    age: 3,
    tags: ['good', 'dog'],
    home: lib.tuple(51.5, -0.1),
  });
});

test('README synopsis: Python loads the bytes to the dict its comment shows', async (t) => {
  if (!needPython(t)) return;
  const { bytes } = run(synopsis, ['bytes']);
  const r = await py.eval(
    "result = pickle.loads(data) == {'name': 'Rex', 'age': 3, 'tags': ['good', 'dog'], 'home': (51.5, -0.1)}",
    bytes as Uint8Array,
  );
  assert.deepEqual(r.tagged, { t: 'bool', v: true });
});

test('README "Your own classes": the instance comes back as itself', () => {
  const body = classes.replace(/^loads\((.*)\);.*$/m, 'const back = loads($1);');
  const { back, Point } = run(body, ['back', 'Point']);
  assert.ok(back instanceof (Point as new () => object));
  assert.deepEqual({ ...(back as object) }, { x: 1, y: 2 });
});
