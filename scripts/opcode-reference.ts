/**
 * docs/opcodes.md, generated from the opcode table: `npx tsx scripts/opcode-reference.ts`
 * writes it; test/docs.test.ts checks the committed file is current.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import { OPCODES } from '../src/core/opcodes.js';

/** The reference as Markdown, formatted as Prettier formats the repository. */
export async function opcodeReference(): Promise<string> {
  const rows = OPCODES.map((o) => {
    const byte = `0x${o.code.toString(16).padStart(2, '0')}`;
    const ch =
      o.code >= 0x20 && o.code < 0x7f
        ? ` \`${o.code === 0x60 ? "'`'" : String.fromCharCode(o.code)}\``
        : '';
    const arg = o.arg ? `${o.arg.name}` : '';
    const stack = `${o.stackBefore.join(' ') || '–'} → ${o.stackAfter.join(' ') || '–'}`;
    return `| ${o.name} | ${byte}${ch} | ${o.proto} | ${arg} | ${stack} | ${o.doc.replace(/\|/g, '\\|')} |`;
  });
  const text = [
    '# Opcode reference',
    '',
    'Generated from `src/core/opcodes.ts` by `scripts/opcode-reference.ts`; the table is held against',
    "CPython's `pickletools.opcodes` by `test/opcodes.test.ts`.",
    '',
    '| opcode | byte | protocol | argument | stack before → after | doc |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  return format(text, { parser: 'markdown', printWidth: 100, proseWrap: 'preserve' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = fileURLToPath(new URL('../docs/opcodes.md', import.meta.url));
  writeFileSync(path, await opcodeReference());
  console.log(`wrote ${path}`);
}
