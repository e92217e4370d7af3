/**
 * `npm start`: a tour of pickle-ts on its own example data. Each file in examples/tour/ whose
 * name starts with a number is one part, run in order; `npm start -- core files` runs only the
 * parts whose names contain one of the words given.
 */
import { readdirSync } from 'node:fs';

const dir = new URL('./tour/', import.meta.url);
const only = process.argv.slice(2);
const parts = readdirSync(dir)
  .filter((f) => /^\d+-.*\.ts$/.test(f))
  .filter((f) => only.length === 0 || only.some((w) => f.includes(w)))
  .sort();
for (const part of parts) await import(new URL(part, dir).href);
