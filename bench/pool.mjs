#!/usr/bin/env node
/**
 * `node bench/pool.mjs`: pickle-ts/pool against piscina and raw worker_threads, in one run.
 *
 * 1. Overhead per task: 10,000 tiny tasks (`x + 1`) on 2 workers, as wall time / 10,000.
 *    pickle-ts runs them as 10,000 `applyAsync` calls (one task each, like `piscina.run`), as
 *    `imap` (chunksize 1) and as `map` (Python's default chunksize); piscina as 10,000 `run`
 *    calls; raw worker_threads as one `postMessage` per task with 32 tasks in flight per worker.
 * 2. A CPU-bound `map` (prime counting, ~15 ms an item) on 2 workers against the same calls run
 *    one after another in this thread.
 *
 * Each figure is the median of --reps runs (default 5) after one warm-up run, on pools started
 * beforehand. It times the compiled library (dist/, built here with tsc unless --no-build), in
 * plain Node. Other processes skew the figures: the load average is printed at start and end.
 *
 * This file is also the worker of the piscina and raw rows (its default export is the task).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const TASKS = 10_000;
const IN_FLIGHT = 32;
const THREADS = 2;

/** The tiny task. */
export default function tiny(x) {
  return x + 1;
}

/** The CPU-bound task: how many primes are below `n` (trial division). */
export function countPrimes(n) {
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
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function timeRuns(reps, run) {
  await run(); // warm-up
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Raw worker_threads: a postMessage per task, IN_FLIGHT tasks in flight per worker. */
class RawPool {
  constructor(threads) {
    const self = fileURLToPath(import.meta.url);
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(self, { workerData: { role: 'raw' } });
      w.pending = new Map();
      w.on('message', (m) => {
        const resolve = w.pending.get(m.id);
        w.pending.delete(m.id);
        resolve(m.value);
      });
      return w;
    });
    this.nextId = 0;
  }

  async runAll(inputs) {
    const out = new Array(inputs.length);
    let next = 0;
    const lane = async (w) => {
      while (next < inputs.length) {
        const i = next++;
        const id = this.nextId++;
        out[i] = await new Promise((resolve) => {
          w.pending.set(id, resolve);
          w.postMessage({ id, x: inputs[i] });
        });
      }
    };
    const lanes = [];
    for (const w of this.workers) for (let k = 0; k < IN_FLIGHT; k++) lanes.push(lane(w));
    await Promise.all(lanes);
    return out;
  }

  close() {
    return Promise.all(this.workers.map((w) => w.terminate()));
  }
}

async function main() {
  const args = process.argv.slice(2);
  const reps = Number(args[args.indexOf('--reps') + 1]) || 5;
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (!args.includes('--no-build')) {
    const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  }
  const { Pool, range } = await import(new URL('../dist/src/pool/index.js', import.meta.url).href);
  const { Piscina } = await import('piscina');

  const loadStart = os.loadavg();
  console.log(
    `pickle-ts/pool benchmark: node ${process.version}, ${os.availableParallelism()} CPUs, ` +
      `load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  if (loadStart[0] > 0.5) console.log('warning: the machine is busy; figures will be slower');

  const inputs = [...range(TASKS)];
  const expected = inputs.map(tiny);
  const check = (name, out) => {
    if (out.length !== TASKS || out.some((v, i) => v !== expected[i])) {
      throw new Error(`${name} returned wrong results`);
    }
  };

  const pool = new Pool(THREADS);
  const piscina = new Piscina({
    filename: fileURLToPath(import.meta.url),
    minThreads: THREADS,
    maxThreads: THREADS,
  });
  const raw = new RawPool(THREADS);
  const add = (x) => x + 1;

  const rows = [];
  const perTask = async (name, run) => {
    const ms = await timeRuns(reps, async () => check(name, await run()));
    rows.push({ name, ms, us: (ms * 1000) / TASKS });
  };
  await perTask('pickle-ts applyAsync x 10,000', async () => {
    const handles = inputs.map((x) => pool.applyAsync(add, [x]));
    return Promise.all(handles.map((h) => h.get()));
  });
  await perTask('pickle-ts imap (chunksize 1)', async () => {
    const out = [];
    for await (const y of pool.imap(add, inputs)) out.push(y);
    return out;
  });
  await perTask('pickle-ts map (default chunksize)', () => pool.map(add, inputs));
  await perTask('piscina run x 10,000', () => Promise.all(inputs.map((x) => piscina.run(x))));
  await perTask('raw worker_threads (32 in flight)', () => raw.runAll(inputs));

  console.log(
    `\n1. Overhead per task: ${TASKS} tiny tasks on ${THREADS} workers (median of ${reps})`,
  );
  console.log('   ' + 'runner'.padEnd(38) + 'total ms'.padStart(10) + 'µs/task'.padStart(10));
  for (const r of rows) {
    console.log(
      '   ' + r.name.padEnd(38) + r.ms.toFixed(1).padStart(10) + r.us.toFixed(2).padStart(10),
    );
  }
  const ours = rows[0].us;
  const theirs = rows.find((r) => r.name.startsWith('piscina')).us;
  console.log(
    `   applyAsync vs piscina: ${(ours / theirs).toFixed(2)}x the overhead ` +
      `(target: at most 1.00) ${ours <= theirs ? 'OK' : 'MISSED'}`,
  );

  // 2. CPU-bound.
  const sizes = Array.from({ length: 32 }, (_, i) => 200_000 + (i % 4) * 5000);
  const serialOut = sizes.map(countPrimes);
  const serialMs = await timeRuns(reps, async () => sizes.map(countPrimes));
  const poolMs = await timeRuns(reps, async () => {
    const out = await pool.map(countPrimes, sizes);
    if (out.some((v, i) => v !== serialOut[i])) throw new Error('pool.map returned wrong counts');
  });
  const speedup = serialMs / poolMs;
  console.log(`\n2. CPU-bound map: countPrimes over ${sizes.length} items (median of ${reps})`);
  console.log(`   serial in this thread      ${serialMs.toFixed(1).padStart(8)} ms`);
  console.log(`   pool.map on ${THREADS} workers      ${poolMs.toFixed(1).padStart(8)} ms`);
  console.log(
    `   speedup ${speedup.toFixed(2)}x (target: at least 1.70 on an idle 2-core machine) ` +
      `${speedup >= 1.7 ? 'OK' : 'MISSED'}`,
  );

  await Promise.all([pool.terminate(), piscina.destroy(), raw.close()]);
  const loadEnd = os.loadavg();
  console.log(`\nload average at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`);
}

if (!isMainThread && workerData?.role === 'raw') {
  parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, value: tiny(m.x) }));
} else if (isMainThread) {
  await main();
}
