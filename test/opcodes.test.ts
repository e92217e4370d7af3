/**
 * The opcode table (src/core/opcodes.ts) against CPython's `pickletools.opcodes`, dumped to
 * test/fixtures/opcodes.json by test/fixtures/make_fixtures.py: field by field, in order. With
 * python3 present, the JSON is also regenerated live to check the committed file is current.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { OP, OPCODES, OPCODE_BY_CODE, OPCODE_BY_NAME, opcodeName } from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';

interface OpcodeRecord {
  name: string;
  code: number;
  arg: { name: string; n: number } | null;
  stack_before: string[];
  stack_after: string[];
  proto: number;
  doc: string;
}

const JSON_PATH = new URL('./fixtures/opcodes.json', import.meta.url);
const committed = JSON.parse(readFileSync(JSON_PATH, 'utf8')) as OpcodeRecord[];

/** The TS table in the JSON's shape. */
const ours: OpcodeRecord[] = OPCODES.map((o) => ({
  name: o.name,
  code: o.code,
  arg: o.arg === null ? null : { name: o.arg.name, n: o.arg.n },
  stack_before: [...o.stackBefore],
  stack_after: [...o.stackAfter],
  proto: o.proto,
  doc: o.doc,
}));

describe('opcode table', () => {
  test('pickletools has 68 opcodes with unique names and codes', () => {
    assert.equal(committed.length, 68);
    assert.equal(new Set(committed.map((o) => o.name)).size, 68);
    assert.equal(new Set(committed.map((o) => o.code)).size, 68);
  });

  test('the TS table has exactly 68 opcodes with unique names and codes', () => {
    assert.equal(OPCODES.length, 68);
    assert.equal(new Set(OPCODES.map((o) => o.name)).size, 68);
    assert.equal(new Set(OPCODES.map((o) => o.code)).size, 68);
  });

  test('same opcodes in the same order as pickletools', () => {
    assert.deepEqual(
      ours.map((o) => o.name),
      committed.map((o) => o.name),
    );
  });

  for (const [i, want] of committed.entries()) {
    test(`${want.name} matches pickletools field by field`, () => {
      const got = ours[i];
      assert.ok(got, `no opcode at index ${i}`);
      assert.equal(got.name, want.name, 'name');
      assert.equal(
        got.code,
        want.code,
        `code 0x${got.code.toString(16)} vs 0x${want.code.toString(16)}`,
      );
      assert.equal(got.arg?.name ?? null, want.arg?.name ?? null, 'argument descriptor name');
      assert.equal(got.arg?.n ?? null, want.arg?.n ?? null, 'argument descriptor n');
      assert.deepEqual(got.stack_before, want.stack_before, 'stack before');
      assert.deepEqual(got.stack_after, want.stack_after, 'stack after');
      assert.equal(got.proto, want.proto, 'proto');
      assert.equal(got.doc, want.doc, 'doc (first line)');
    });
  }

  test('the whole table equals opcodes.json', () => {
    assert.deepEqual(ours, committed);
  });

  test('lookups agree with the table', () => {
    for (const o of committed) {
      assert.equal(OP[o.name as keyof typeof OP], o.code, `OP.${o.name}`);
      assert.equal(OPCODE_BY_NAME[o.name as keyof typeof OPCODE_BY_NAME]?.code, o.code);
      assert.equal(OPCODE_BY_CODE[o.code]?.name, o.name);
      assert.equal(opcodeName(o.code), o.name);
    }
    const codes = new Set(committed.map((o) => o.code));
    for (let b = 0; b < 256; b++) {
      if (!codes.has(b)) {
        assert.equal(OPCODE_BY_CODE[b], undefined, `byte 0x${b.toString(16)} is not an opcode`);
        assert.equal(opcodeName(b), undefined);
      }
    }
  });

  test('opcodes.json is current: regenerated live from python3 pickletools', async (t) => {
    if (!needPython(t)) return;
    const r = await py.eval(
      'import json, fixture_opcodes\nresult = json.dumps(fixture_opcodes.opcode_table())',
    );
    assert.equal(r.error, undefined, `python: ${r.error?.type}: ${r.error?.message}`);
    const live = JSON.parse((r.tagged as { v: string }).v) as OpcodeRecord[];
    assert.deepEqual(committed, live, 'run `npm run fixtures` to regenerate opcodes.json');
  });
});
