/**
 * The valid corpus the mutation fuzzer starts from: CPython's pickles of every value in
 * test/python/corpus.py at protocols 0-5 (made once per run by the python3 oracle), and every
 * pickle file under test/fixtures (CPython 2 and 3, handmade edge cases, numpy, scanner samples).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasPython, py } from '../../helpers/python.js';

export interface Seed {
  /** Where it came from: `corpus:int 0@3`, `fixture:handmade/ext1.pkl`, `generated`. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** A seed over the size limit keeps its first `maxBytes` (a truncated pickle is a good input too). */
function capped(name: string, bytes: Uint8Array, maxBytes: number): Seed {
  return bytes.length <= maxBytes
    ? { name, bytes }
    : { name: `${name} (first ${maxBytes} bytes)`, bytes: bytes.slice(0, maxBytes) };
}

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const PICKLE_FILE = /\.(pkl|pickle|pt|npy|npz|joblib)$/;

/** Every pickle file under test/fixtures, and the containers the scanner reads (zip, npy, joblib). */
export function fixtureSeeds(maxBytes: number): Seed[] {
  const seeds: Seed[] = [];
  for (const rel of readdirSync(FIXTURES, { recursive: true }).map(String).sort()) {
    if (!PICKLE_FILE.test(rel)) continue;
    const path = join(FIXTURES, rel);
    if (!statSync(path).isFile()) continue;
    seeds.push(capped(`fixture:${rel}`, new Uint8Array(readFileSync(path)), maxBytes));
  }
  return seeds;
}

/** CPython's pickles of test/python/corpus.py at protocols 0-5 (none without python3). */
export async function pythonCorpusSeeds(maxBytes: number): Promise<Seed[]> {
  if (!hasPython()) return [];
  const seeds: Seed[] = [];
  for (const c of await py.corpus()) {
    c.pickles.forEach((bytes, protocol) => {
      seeds.push(capped(`corpus:${c.name}@${protocol}`, bytes, maxBytes));
    });
  }
  return seeds;
}
