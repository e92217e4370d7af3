/**
 * `npm run bench`: pickle-ts against CPython's C pickle and JS peers, in one run on one machine.
 *
 * For each data set (made by bench/make_data.py), CPython times `pickle.loads`/`pickle.dumps` of
 * the same bytes in a python3 subprocess (bench/cpython_bench.py); then a fresh Node process
 * (bench/worker.mjs) times pickle-ts (default mode, exact mode, protocols 4, 2 and 5),
 * pickleparser's `Parser.parse` of the same bytes, and `JSON.parse`/`JSON.stringify` of the same
 * data as JSON text. Every figure is the median of several repetitions after warm-up runs; every
 * ratio is pickle-ts's time over the peer's, so below 1 means pickle-ts is faster. A second
 * table gives the memory one `loads` takes, each measured in a fresh process.
 *
 * pickle-ts is timed compiled (dist/src/index.js, from `tsc -p tsconfig.build.json`), in plain
 * Node: under tsx, esbuild turns namespace imports into getter calls, which distorts the timings.
 * `npm run bench` (scripts/bench.mjs) runs this file, which is also a command of its own:
 *   node bench/bench.mjs [--quick] [--only dicts,records] [--no-memory]
 *                        [--engines pickle-ts,cpython] [--reps 9]
 * It first builds the library (tsc -p tsconfig.build.json) and makes the data sets when missing
 * (python3 bench/make_data.py), then runs itself again with gc exposed (`--prepared` skips that).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BENCH_DIR, DATA_DIR, ENGINES, PROTOCOLS, ROOT, median, readManifest } from './common.mjs';

const WORKER = fileURLToPath(new URL('worker.mjs', import.meta.url));

const USAGE = `usage: npm run bench [-- options]
  --quick            3 repetitions after 1 warm-up, no memory table (default: 7 after 2)
  --reps N           N repetitions
  --only A,B         only these data sets (ints, floats, strings, dicts, records)
  --engines A,B      only these engines (pickle-ts, cpython, pickleparser, json)
  --no-memory        skip the memory table`;

function usageError(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { reps: 7, warmup: 2, only: [], engines: new Set(ENGINES), memory: true };
  const list = (i) => {
    const v = argv[i];
    if (v === undefined) usageError(`${argv[i - 1]} needs a value`);
    return v.split(',').filter(Boolean);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') {
      opts.reps = 3;
      opts.warmup = 1;
      opts.memory = false;
    } else if (a === '--reps') {
      opts.reps = Number(list(++i)[0]);
      if (!(opts.reps >= 1)) usageError('--reps needs a positive number');
    } else if (a === '--only') opts.only.push(...list(++i));
    else if (a === '--engines') {
      const names = list(++i);
      for (const n of names) if (!ENGINES.includes(n)) usageError(`unknown engine ${n}`);
      opts.engines = new Set(names);
    } else if (a === '--no-memory') opts.memory = false;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else usageError(`unknown argument ${JSON.stringify(a)}`);
  }
  return opts;
}

// --- the measuring processes -------------------------------------------------------------------

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${args[0]} failed: ${why}`);
  }
  return r.stdout;
}

const python = (args) => run('python3', [`${BENCH_DIR}cpython_bench.py`, ...args]);

/** Plain Node with gc exposed, without any --cpu-prof this process was started with. */
const worker = (args) => run(process.execPath, ['--expose-gc', WORKER, ...args]);

// --- the time table ----------------------------------------------------------------------------

const COLUMNS = [
  ['data set', 8],
  ['operation', 17],
  ['check', 5],
  ['pickle-ts ms', 12],
  ['CPython ms', 10],
  ['pt/py', 6],
  ['pickleparser ms', 15],
  ['pt/pp', 6],
  ['JSON ms', 8],
  ['pt/JSON', 7],
];

/** The first `left` columns are text (left-aligned), the rest numbers. */
function line(cells, columns = COLUMNS, left = 2) {
  return cells
    .map((c, i) => (i < left ? c.padEnd(columns[i][1]) : c.padStart(columns[i][1])))
    .join('  ');
}

const ms = (xs) => (xs ? median(xs).toFixed(1) : '');
const ratio = (a, b) => (a && b ? (median(a) / median(b)).toFixed(2) : '');
const opName = (r) => `${r.op} p${r.protocol}${r.exact ? ' exact' : ''}${r.mixed ? ' mixed' : ''}`;

function formatRow(r) {
  return line([
    r.set,
    opName(r),
    r.check === undefined ? '' : r.check ? '✓' : '✗',
    ms(r.pt),
    ms(r.py),
    ratio(r.pt, r.py),
    ms(r.pp),
    ratio(r.pt, r.pp),
    ms(r.json),
    ratio(r.pt, r.json),
  ]);
}

const problems = [];
const notes = [];

function benchSet(set, count, opts) {
  let py;
  if (opts.engines.has('cpython')) {
    const reps = ['--reps', String(opts.reps), '--warmup', String(opts.warmup)];
    const out = JSON.parse(python(['--sets', set, '--protocols', PROTOCOLS.join(','), ...reps]));
    if (!out.accelerated || !out.gcEnabled) problems.push('CPython ran without _pickle or gc');
    py = out.results[set];
    for (const [p, r] of Object.entries(py ?? {})) {
      if (r.length !== count) problems.push(`${set}: CPython loads ${p} gave length ${r.length}`);
      if (!r.roundtrip) problems.push(`${set}: CPython's dumps(loads(${p})) differs from its file`);
    }
  }
  const js = [...opts.engines].filter((e) => e !== 'cpython');
  let rows = PROTOCOLS.flatMap((protocol) =>
    ['loads', 'dumps'].map((op) => ({ op, protocol, exact: false })),
  );
  if (js.length) {
    const args = ['time', set, '--reps', String(opts.reps), '--warmup', String(opts.warmup)];
    const report = JSON.parse(worker([...args, '--engines', js.join(',')]));
    problems.push(...report.problems);
    rows = report.rows;
  }
  const dumpsCheck = (exact) =>
    rows.find((r) => r.op === 'dumps' && r.protocol === 4 && r.exact === exact)?.check;
  if (dumpsCheck(false) === false && dumpsCheck(true) === true) {
    notes.push(
      `${set}: default-mode dumps differs from CPython, exact mode matches: a float with an ` +
        'integral value (2.0) loads as the JS number 2, which default mode writes as an int',
    );
  }
  return rows.map((r) => ({ ...r, set, py: py?.[`p${r.protocol}`]?.[r.op] }));
}

// --- the memory table --------------------------------------------------------------------------

function measureMemory(set, count, engine) {
  try {
    const out = engine === 'cpython' ? python(['--memory', set]) : worker(['memory', set, engine]);
    const result = JSON.parse(out);
    if (result.length !== count) {
      problems.push(`${set}: memory run of ${engine} returned length ${result.length}`);
    }
    return result;
  } catch (e) {
    problems.push(`${set}: memory of ${engine}: ${e.message}`);
    return undefined;
  }
}

const MEMORY_COLUMNS = [
  ['data set', 8],
  ['p4 size', 7],
  ['pt result', 9],
  ['pt heap peak', 12],
  ['peak/result', 11],
  ['pt RSS peak', 11],
  ['JSON result', 11],
  ['JSON heap peak', 14],
  ['pp heap peak', 12],
  ['py RSS peak', 11],
];

function memoryTable(sets, manifest, opts) {
  console.log(
    '\nMemory of one loads of the p4 pickle (JSON: JSON.parse of the JSON text), MB, each in a\n' +
      'fresh process. result: JS heap still held by the result after a full gc. heap peak: the\n' +
      'most JS heap in use during the call (before each gc it triggered, or at its end) minus\n' +
      'the heap before it, garbage included. peak/result: pickle-ts heap peak over its result.\n' +
      'RSS peak: highest resident memory during the call minus that before it (Linux /proc,\n' +
      'n/a elsewhere); the only figure comparable with CPython (py). pp: pickleparser.\n',
  );
  console.log(
    line(
      MEMORY_COLUMNS.map(([h]) => h),
      MEMORY_COLUMNS,
      1,
    ),
  );
  const fmt = (n) => (n === undefined ? '' : n === null ? 'n/a' : (n / 1e6).toFixed(1));
  for (const set of sets) {
    const count = manifest.sets[set].count;
    const get = (e) => (opts.engines.has(e) ? measureMemory(set, count, e) : undefined);
    const pt = get('pickle-ts');
    const json = get('json');
    const cells = [
      set,
      fmt(statSync(`${DATA_DIR}${set}.p4.pkl`).size),
      fmt(pt?.retained),
      fmt(pt?.heapPeak),
      pt?.heapPeak && pt.retained ? (pt.heapPeak / pt.retained).toFixed(2) : '',
      fmt(pt?.peakRssDelta),
      fmt(json?.retained),
      fmt(json?.heapPeak),
      fmt(get('pickleparser')?.heapPeak),
      fmt(get('cpython')?.peakRssDelta),
    ];
    console.log(line(cells, MEMORY_COLUMNS, 1));
  }
}

// --- main --------------------------------------------------------------------------------------

/** Repetitions whose spread (without the extremes when there are 5 or more) exceeds 25%. */
function noisy(rows) {
  return rows.flatMap((r) =>
    ['pt', 'py', 'pp', 'json'].flatMap((k) => {
      const xs = [...(r[k] ?? [])].sort((a, b) => a - b);
      if (xs.length < 3) return [];
      const inner = xs.length >= 5 ? xs.slice(1, -1) : xs;
      const spread = (inner.at(-1) - inner[0]) / median(xs);
      return spread > 0.25 ? [`${r.set} ${opName(r)} ${k} ${(spread * 100).toFixed(0)}%`] : [];
    }),
  );
}

/**
 * CPU ticks (USER_HZ) the whole machine spent busy, and this process with its waited-for children
 * (the measuring processes), from /proc (Linux); undefined elsewhere. The difference over the run
 * is what other processes took: they share the cores and the memory bandwidth with the timings.
 */
function cpuTicks() {
  try {
    const total = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const busy = [1, 2, 3, 6, 7, 8].reduce((sum, i) => sum + Number(total[i] ?? 0), 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    const fields = self.slice(self.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of /proc/PID/stat (utime stime cutime cstime), counted from after the name.
    const mine = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return { busy, mine };
  } catch {
    return undefined;
  }
}

const gb = (n) => `${(n / 2 ** 30).toFixed(1)} GiB`;
const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
const loadAverage = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function printMachine(manifest, opts, loadAvg) {
  const cpus = os.cpus();
  const pyVersion = spawnSync('python3', ['-c', 'import sys; print(sys.version.split()[0])'], {
    encoding: 'utf8',
  }).stdout?.trim();
  const ppUrl = new URL('../node_modules/pickleparser/package.json', import.meta.url);
  const ppVersion = JSON.parse(readFileSync(ppUrl, 'utf8')).version;
  console.log('pickle-ts benchmark');
  console.log(`  cpu       ${cpus[0]?.model ?? '?'} (${cpus.length} logical cpus)`);
  console.log(`  system    ${os.type()} ${os.release()} ${os.arch()}, ${gb(os.totalmem())} RAM`);
  console.log(`  node      ${process.version} (V8 ${process.versions.v8})`);
  console.log(`  python    ${pyVersion || 'not found'}; data pickled by ${manifest.python}`);
  console.log('  library   dist/src/index.js, compiled by tsc, in plain node');
  console.log(`  peers     pickleparser ${ppVersion}, JSON (built in)`);
  console.log(`  runs      median of ${opts.reps} after ${opts.warmup} warm-up`);
  console.log(`  load avg  ${loadAvg} at start (1, 5, 15 min)`);
}

function main(argv) {
  const loadAtStart = loadAverage();
  const ticksAtStart = cpuTicks();
  const started = performance.now();
  const opts = parseArgs(argv);
  const manifest = readManifest();
  const all = Object.keys(manifest.sets);
  for (const name of opts.only) {
    if (!all.includes(name)) usageError(`unknown data set ${JSON.stringify(name)}`);
  }
  const sets = opts.only.length ? all.filter((s) => opts.only.includes(s)) : all;

  printMachine(manifest, opts, loadAtStart);
  console.log('\nData sets');
  for (const set of sets) {
    const size = (f) => mb(statSync(`${DATA_DIR}${f}`).size);
    const sizes = `p4 ${size(`${set}.p4.pkl`)}, p2 ${size(`${set}.p2.pkl`)}`;
    console.log(`  ${set.padEnd(9)}${manifest.sets[set].doc}`);
    console.log(`  ${''.padEnd(9)}${sizes}, JSON ${size(`${set}.json`)}`);
  }

  console.log(
    '\nTimes: median ms. Ratios: pickle-ts / peer (below 1: pickle-ts is faster). pt: pickle-ts,\n' +
      'py: CPython (the C pickle module, gc enabled), pp: pickleparser. check: on dumps rows, ✓\n' +
      'when pickle-ts wrote the same bytes as CPython; on loads rows, ✓ when every JS engine\n' +
      'returned the right value (length, then the whole value against the JSON file). JSON:\n' +
      'JSON.parse of the JSON text (a string) and JSON.stringify of the parsed value. exact:\n' +
      'pickle-ts {exact: true} on loads and dumps (ints as bigint, numbers written as floats).\n' +
      'mixed: the same loads again after the process has loaded every other data set once.\n',
  );
  console.log(line(COLUMNS.map(([h]) => h)));
  console.log(line(COLUMNS.map(([, w]) => '-'.repeat(w))));
  const rows = [];
  for (const set of sets) {
    for (const r of benchSet(set, manifest.sets[set].count, opts)) {
      console.log(formatRow(r));
      rows.push(r);
    }
  }

  if (opts.memory) memoryTable(sets, manifest, opts);

  const seconds = (performance.now() - started) / 1e3;
  console.log(`\n  load avg  ${loadAverage()} at end; took ${seconds.toFixed(0)} s`);
  const ticksAtEnd = cpuTicks();
  if (ticksAtStart && ticksAtEnd) {
    const others = ticksAtEnd.busy - ticksAtStart.busy - (ticksAtEnd.mine - ticksAtStart.mine);
    const cores = Math.max(0, others / 100 / seconds);
    console.log(`  others    other processes kept ${cores.toFixed(2)} cores busy on average`);
    if (cores > 0.25) {
      console.log(
        `  WARNING   other processes used ${cores.toFixed(2)} of ${os.cpus().length} cores ` +
          'during the run: the timings are disturbed; run again on a quiet machine',
      );
    }
  }
  const spread = noisy(rows);
  if (spread.length) console.log(`  noisy     (spread > 25% of median) ${spread.join(', ')}`);
  for (const n of notes) console.log(`  note      ${n}`);
  for (const p of problems) console.log(`  PROBLEM   ${p}`);
  if (problems.length) process.exitCode = 1;
}

/** Builds dist/ and makes the data, then runs this file again with gc exposed; its exit code. */
function prepareAndRun(argv) {
  const spawn = (cmd, args) => spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const built = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json']);
  if (built.status !== 0) {
    console.error('bench: tsc -p tsconfig.build.json failed');
    return built.status ?? 1;
  }
  const made = spawn('python3', [`${BENCH_DIR}make_data.py`]);
  if (made.error) {
    console.error('bench: needs python3 (CPython 3.11) on the PATH: it is the reference');
    return 1;
  }
  if (made.status !== 0) return made.status ?? 1;
  const self = fileURLToPath(import.meta.url);
  const bench = spawn(process.execPath, ['--expose-gc', self, '--prepared', ...argv]);
  return bench.status ?? 1;
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) parseArgs(argv);
else if (argv[0] === '--prepared') main(argv.slice(1));
else process.exitCode = prepareAndRun(argv);
