/** Generated documentation stays in step with the code it describes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { opcodeReference } from '../scripts/opcode-reference.js';

test('docs/opcodes.md is generated from the opcode table (npx tsx scripts/opcode-reference.ts)', async () => {
  const committed = readFileSync(new URL('../docs/opcodes.md', import.meta.url), 'utf8');
  const fresh = await opcodeReference();
  assert.equal(committed, fresh);
  assert.equal(committed.split('\n').filter((l) => /^\| [A-Z_0-9]+ +\| 0x/.test(l)).length, 68);
});
