/** What bench/bench.mjs (the table), bench/worker.mjs (the measuring) and bench/profile.mjs share. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const DATA_DIR = `${BENCH_DIR}data/`;
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The compiled library (tsc -p tsconfig.build.json), never src/ through tsx: see bench.mjs. */
const LIBRARY = new URL('../dist/src/index.js', import.meta.url);

export const ENGINES = ['pickle-ts', 'cpython', 'pickleparser', 'json'];

/** Protocol 4 first: it is the main row; 2 and 5 are extra rows. */
export const PROTOCOLS = [4, 2, 5];

/** @returns {Promise<typeof import('../dist/src/index.js')>} */
export async function importLibrary() {
  if (!existsSync(LIBRARY)) {
    throw new Error('dist/src/index.js is missing: run `npx tsc -p tsconfig.build.json` first');
  }
  return import(LIBRARY.href);
}

/**
 * bench/data/manifest.json, written by bench/make_data.py.
 * @returns {{ python: string, sets: Record<string, { count: number, doc: string }> }}
 */
export function readManifest() {
  return JSON.parse(readFileSync(`${DATA_DIR}manifest.json`, 'utf8'));
}

/** @param {string} set @param {number} protocol */
export const readPickle = (set, protocol) =>
  new Uint8Array(readFileSync(`${DATA_DIR}${set}.p${protocol}.pkl`));

/** @param {readonly number[]} xs */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
