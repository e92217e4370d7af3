/** Small helpers the tour's sections share. */
import { spawnSync } from 'node:child_process';

export const heading = (text: string): void => console.log(`\n== ${text}`);

/** Runs python3 code; its standard output as bytes, or undefined without python3. */
export function pythonBytes(code: string, input?: Uint8Array): Uint8Array | undefined {
  const r = spawnSync('python3', ['-c', code], { input });
  if (r.error || r.status !== 0) return undefined;
  return new Uint8Array(r.stdout);
}

/** Runs python3 code; its standard output as text, or undefined without python3. */
export function python(code: string, input?: Uint8Array): string | undefined {
  const out = pythonBytes(code, input);
  return out && Buffer.from(out).toString('utf8').trim();
}
