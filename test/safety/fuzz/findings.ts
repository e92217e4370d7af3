/**
 * Findings on disk: each one is saved in the findings directory (fuzz-findings/ by default,
 * ignored by git) as `KIND-HASH.pickle` (the input, minimized when it could be) and
 * `KIND-HASH.txt` (what went wrong, the input in hex, and the command that replays it). The hash
 * is the signature's, so the same bug found again overwrites its own files.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoredFinding } from './engine.js';

/** fuzz-findings/ at the root of the repository. */
export const FINDINGS_DIR = fileURLToPath(new URL('../../../fuzz-findings', import.meta.url));

export function hex(b: Uint8Array | undefined): string {
  return b === undefined ? '' : Buffer.from(b).toString('hex');
}

/** The files' path without the extension: `DIR/KIND-HASH`. */
export function findingBase(f: StoredFinding, dir = FINDINGS_DIR): string {
  const hash = createHash('sha1').update(f.signature).digest('hex').slice(0, 10);
  return join(dir, `${f.kind}-${hash}`);
}

/** Writes the finding's `.pickle` (when it has an input) and `.txt`; returns their base path. */
export function saveFinding(f: StoredFinding, seed: number, dir = FINDINGS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const base = findingBase(f, dir);
  if (f.input) writeFileSync(`${base}.pickle`, f.input);
  writeFileSync(
    `${base}.txt`,
    [
      `kind: ${f.kind}`,
      `target: ${f.target}`,
      `signature: ${f.signature}`,
      `seen: ${f.count} time(s)`,
      `run seed: ${seed}`,
      `message: ${f.message}`,
      f.input ? `input (${f.input.length} bytes): ${hex(f.input).slice(0, 20_000)}` : 'input: none',
      f.detail ? `detail:\n${f.detail}` : '',
      f.input ? `replay: npm run fuzz -- --replay ${base}.pickle` : '',
    ].join('\n') + '\n',
  );
  return base;
}

/** A few lines for a console or an assertion message. */
export function describeFinding(f: StoredFinding, base?: string): string {
  const lines = [
    `[${f.kind}] ${f.signature} (seen ${f.count} times)`,
    `    ${f.message.slice(0, 400)}`,
  ];
  if (f.input) {
    lines.push(
      `    input (${f.input.length} bytes): ${hex(f.input).slice(0, 200)}${f.input.length > 100 ? '…' : ''}`,
    );
  }
  if (base) lines.push(`    saved: ${base}.txt`);
  return lines.join('\n');
}
