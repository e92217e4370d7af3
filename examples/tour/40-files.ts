/**
 * The tour, part 4: files, streams and compression. As the tutorial does with
 * `bz2.BZ2File('smallerfile', 'w')`, the dogs dictionary goes into a bz2-compressed file named
 * `smallerfile`, and comes back; Python opens the same file with its bz2 module. Then: appending
 * pickles to one compressed file, and reading them back one by one.
 */
import { statSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { dumps } from '../../src/index.js';
import { dump, load, loadAll } from '../../src/node/index.js';
import { heading, python } from './helpers.js';

heading('Compressed files: the dogs in smallerfile (bz2)');
const dogs_dict = { Ozzy: 3, Filou: 8, Luna: 5, Skippy: 10, Barco: 12, Balou: 9, Laika: 16 };
// No extension to go by, so the compression is named, as the tutorial names bz2.BZ2File.
await dump(dogs_dict, 'smallerfile', { compression: 'bz2' });
console.log(
  `smallerfile: ${statSync('smallerfile').size} bytes of bz2 (the pickle alone is ${dumps(dogs_dict).length})`,
);
const fromFile = await load('smallerfile'); // bz2 found by its magic bytes
console.log(fromFile);
console.log('equal to dogs_dict:', isDeepStrictEqual(fromFile, dogs_dict));

const fromPython = python(
  "import bz2, pickle; print(pickle.load(bz2.BZ2File('smallerfile', 'rb')))",
);
console.log(
  fromPython === undefined
    ? '(python3 not found: skipping the Python side)'
    : `Python's bz2.BZ2File reads smallerfile: ${fromPython}`,
);

heading('Appending pickles to one compressed file');
await dump({ day: 1, walks: 2 }, 'walks.gz');
await dump({ day: 2, walks: 3 }, 'walks.gz', { append: true }); // a second gzip member
for await (const record of loadAll('walks.gz')) console.log(record);
const pythonWalks = python(
  "import gzip, pickle\nf = gzip.open('walks.gz')\nprint(pickle.load(f), pickle.load(f))",
);
if (pythonWalks !== undefined) console.log(`Python reads both: ${pythonWalks}`);
