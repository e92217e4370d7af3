/**
 * The tour, last part: a pool of workers, as the tutorial ends with multiprocessing.Pool and
 * pathos. Functions, arguments and results cross between threads as pickles, so a lambda
 * travels by its source (as dill sends it), and a bigint or a tuple arrives as itself.
 */
import { Pool, capture, range } from '../../src/pool/index.js';
import { tuple } from '../../src/index.js';
import { heading } from './helpers.js';

await using pool = new Pool(2);

heading('pool.map(Math.cos, range(10))');
console.log(await pool.map(Math.cos, range(10)));

heading('pool.map(x => 2 ** x, range(10)): a lambda, sent by its source');
console.log(await pool.map((x: number) => 2 ** x, range(10)));

heading('A lambda that uses a variable from its scope');
const exponent = 3n;
try {
  await pool.map((x: number) => BigInt(x) ** exponent, range(4));
} catch (e) {
  console.log(`refused before sending: ${(e as Error).message.split('. ')[0]}.`);
}
console.log(
  'with captures:',
  await pool.map(
    capture({ exponent }, (x: number) => BigInt(x) ** exponent),
    range(4),
  ),
);
console.log(
  'a tuple and a set, through a worker:',
  await pool.apply(
    (t: unknown, s: Set<number>) => [t, new Set([...s].map((x) => x * 2))],
    [tuple<unknown>(1, 'a'), new Set([1, 2])],
  ),
);

heading('A longer map, with a progress bar');
const countPrimes = (n: number) => {
  let count = 0;
  for (let i = 2; i < n; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
};
const bar = (done: number, total: number) => {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
  else if (done === total || done % 10 === 0) console.log(line);
};
const counts = await pool.map(countPrimes, range(100_000, 140_000, 1000), {
  chunksize: 1,
  onProgress: bar,
});
if (process.stdout.isTTY) process.stdout.write('\n');
console.log(`primes below 100000, 101000, ...: ${counts.slice(0, 4).join(', ')}, ...`);
