/**
 * The tour, part 5: the `pickle` command on the tour's own files. `pickle show` prints what
 * Python's print(pickle.load(f)) prints, `pickle dis` what `python -m pickletools` prints, and
 * `pickle convert` and `pickle optimize` rewrite a pickle. Nothing in a pickle is ever run.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dumps } from '../../src/index.js';
import { runCli } from '../../src/cli/cli.js';
import { dis } from '../../src/tools/index.js';
import { processIO } from '../../src/cli/io.js';
import { heading, python } from './helpers.js';

// The core part writes `dogs` in the current directory; run alone, this part writes it too.
const dogs_dict = { Ozzy: 3, Filou: 8, Luna: 5, Skippy: 10, Barco: 12, Balou: 9, Laika: 16 };
if (!existsSync('dogs')) writeFileSync('dogs', dumps(dogs_dict));

/** Runs `pickle ARGS...` in this process, as the installed command would. */
async function pickle(...args: string[]): Promise<void> {
  console.log(`$ pickle ${args.join(' ')}`);
  const status = await runCli(args, processIO());
  if (status !== 0) console.log(`(exit status ${status})`);
}

heading('pickle show dogs');
await pickle('show', 'dogs');
const printed = python("import pickle; print(pickle.load(open('dogs', 'rb')))");
if (printed !== undefined) console.log(`Python's print(pickle.load(f)): ${printed}`);

heading('pickle dis dogs');
await pickle('dis', '--annotate', 'dogs');
const pythonDis = python("import pickletools; pickletools.dis(open('dogs', 'rb'), annotate=30)");
if (pythonDis !== undefined) {
  const same = pythonDis === dis(readFileSync('dogs'), { annotate: true }).trim();
  console.log(`python -m pickletools --annotate dogs prints the same text: ${same}`);
}

heading('pickle convert and pickle optimize');
const made = ['dogs.json', 'dogs-p0.pkl', 'dogs-optimized.pkl', 'dogs-truncated.pkl'];
await pickle('convert', 'dogs', 'dogs.json');
console.log(readFileSync('dogs.json', 'utf8').trim());
await pickle('convert', 'dogs.json', 'dogs-p0.pkl', '--protocol', '0');
await pickle('show', 'dogs-p0.pkl');
await pickle('optimize', 'dogs', 'dogs-optimized.pkl');
console.log(
  `dogs: ${statSync('dogs').size} bytes; optimized: ${statSync('dogs-optimized.pkl').size} bytes (the memo entries nothing reads are gone)`,
);

heading('A damaged pickle');
writeFileSync('dogs-truncated.pkl', readFileSync('dogs').subarray(0, 40));
await pickle('show', 'dogs-truncated.pkl');
await pickle('dis', 'dogs-truncated.pkl');
for (const f of made) rmSync(f, { force: true });
