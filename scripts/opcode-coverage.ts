/**
 * Prints which opcodes the test run decoded and emitted (read from stdin as JSON by
 * scripts/test.mjs) and fails if any opcode was never decoded, or any opcode the encoder can
 * emit was never emitted.
 */
import { readFileSync } from 'node:fs';
import { OPCODES, type OpName } from '../src/core/opcodes.js';

/** Opcodes pickle-ts never writes, and why. */
export const NEVER_EMITTED: Partial<Record<OpName, string>> = {
  DUP: 'CPython never writes it either',
  STRING: 'Python 2 str: pickle-ts writes str as UNICODE, as Python 3 does',
  BINSTRING: 'Python 2 str: pickle-ts writes str as BINUNICODE, as Python 3 does',
  SHORT_BINSTRING: 'Python 2 str: pickle-ts writes str as (SHORT_)BINUNICODE, as Python 3 does',
  BINBYTES8: 'needs bytes of 4 GiB or more: the whole pickle would exceed the largest Uint8Array',
  BINUNICODE8: 'needs a string of more than 4 GiB of UTF-8: longer than any JS string',
};

const { decoded, emitted } = JSON.parse(readFileSync(0, 'utf8')) as {
  decoded: string[];
  emitted: string[];
};
const d = new Set(decoded);
const e = new Set(emitted);
const missingDecoded = OPCODES.filter((o) => !d.has(o.name)).map((o) => o.name);
const emittable = OPCODES.filter((o) => !(o.name in NEVER_EMITTED));
const missingEmitted = emittable.filter((o) => !e.has(o.name)).map((o) => o.name);

console.log('\nOpcode coverage of this test run:');
console.log(
  `  decoded by some test: ${OPCODES.length - missingDecoded.length} of ${OPCODES.length}`,
);
console.log(
  `  emitted by some test: ${emittable.length - missingEmitted.length} of ${emittable.length} the encoder can emit`,
);
for (const [name, why] of Object.entries(NEVER_EMITTED))
  console.log(`    never emitted: ${name} (${why})`);
if (missingDecoded.length) console.log(`  NOT decoded: ${missingDecoded.join(', ')}`);
if (missingEmitted.length) console.log(`  NOT emitted: ${missingEmitted.join(', ')}`);
const stray = [...e].filter((n) => n in NEVER_EMITTED);
if (stray.length) console.log(`  emitted although listed as never emitted: ${stray.join(', ')}`);
process.exit(missingDecoded.length || missingEmitted.length || stray.length ? 1 : 0);
