/** The examples of docs/tools.md and docs/cli.md are what the code does. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { dumps } from '../helpers/pickle.js';
import { dis, toJson } from '../../src/tools/index.js';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

test('docs/tools.md: the dis example', () => {
  const block = /```ts\ndis\(dumps\(\[1, 2\], \{ protocol: 2 \}\)\);\n((?:\/\/.*\n)+)```/.exec(
    doc('tools.md'),
  );
  assert.ok(block, 'the example is in docs/tools.md');
  const shown = block[1]!.replace(/^\/\/ ?/gm, '');
  assert.equal(dis(dumps([1, 2], { protocol: 2 })), shown);
});

test('docs/cli.md: the sharing example of tagged JSON, and every tag in its table', () => {
  const text = doc('cli.md');
  const list: unknown[] = [1n];
  list.push(list);
  const example = /```json\n(.*"\$ref".*)\n```/.exec(text);
  assert.ok(example, 'the sharing example is in docs/cli.md');
  assert.deepEqual(
    JSON.parse(example[1]!),
    JSON.parse(toJson({ a: list, b: list }, { tagged: true })),
  );
  for (const tag of [
    '$int',
    '$float',
    '$complex',
    '$bytes',
    '$bytearray',
    '$buffer',
    '$list',
    '$tuple',
    '$set',
    '$frozenset',
    '$dict',
    '$global',
    '$object',
    '$persistent',
    '$id',
    '$ref',
  ]) {
    assert.ok(text.includes(`"${tag}"`), `${tag} is documented`);
  }
});
