/**
 * The measuring half of `npm run bench`, run by bench/bench.mjs in a fresh Node process for each
 * data set, so that one set's figures don't depend on which sets ran before it in the process.
 * Prints one JSON object on stdout.
 *
 *   node --expose-gc bench/worker.mjs time SET --reps 7 --warmup 2
 *        [--engines pickle-ts,pickleparser,json]
 *   node --expose-gc bench/worker.mjs memory SET ENGINE
 *
 * It times the compiled library, dist/src/index.js (scripts/bench.mjs builds it first).
 */
import { Buffer } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import pickleparser from 'pickleparser';
import { DATA_DIR, PROTOCOLS, importLibrary, readManifest, readPickle } from './common.mjs';

const gc = globalThis.gc;
const argv = process.argv.slice(2);
const { dumps, loads } = await importLibrary();

/** @param {string} name @param {string} fallback */
function flag(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
}

/** @param {unknown} v */
const lengthOf = (v) => (Array.isArray(v) ? v.length : -1);

/** @param {Uint8Array} a @param {Uint8Array} b */
const sameBytes = (a, b) => a.length === b.length && Buffer.compare(a, b) === 0;

/** JSON text of a loaded value; exact mode's bigints as numbers (every int here is safe). */
const canonical = (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x));

/** @param {Uint8Array} data */
const parse = (data) => new pickleparser.Parser().parse(data);

/**
 * Milliseconds of `fn`, once per repetition, after warm-up runs. The previous result is collected
 * outside the timed region (CPython frees it by reference counting, also outside); collections
 * that `fn` itself triggers are counted.
 * @param {() => unknown} fn @param {number} reps @param {number} warmup
 */
function time(fn, reps, warmup) {
  for (let i = 0; i < warmup; i++) fn();
  const out = [];
  for (let i = 0; i < reps; i++) {
    gc?.();
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Rows for one data set. A row is one operation at one protocol (and mode): `pt`, `pp`, `json`
 * hold the milliseconds of each repetition; `check` is, on dumps rows, whether pickle-ts wrote
 * CPython's bytes, and on loads rows whether every JS engine returned the right value (length,
 * then the whole value compared with JSON.parse of the JSON file, as JSON text).
 * @param {string} set
 */
function timeSet(set) {
  const reps = Number(flag('--reps', '7'));
  const warmup = Number(flag('--warmup', '2'));
  const engines = new Set(flag('--engines', 'pickle-ts,pickleparser,json').split(','));
  const manifest = readManifest();
  const count = manifest.sets[set].count;
  const jsonText = readFileSync(`${DATA_DIR}${set}.json`, 'utf8');
  const expected = canonical(JSON.parse(jsonText));
  /** @type {string[]} */
  const problems = [];
  /** @param {string} who @param {unknown} v */
  const expectValue = (who, v) => {
    const n = lengthOf(v);
    if (n !== count) {
      problems.push(`${set}: ${who} returned length ${n}, expected ${count}`);
      return false;
    }
    if (canonical(v) !== expected) {
      problems.push(`${set}: ${who} returned a value that differs from the JSON file`);
      return false;
    }
    return true;
  };
  const rows = [];

  for (const protocol of PROTOCOLS) {
    const data = readPickle(set, protocol);
    for (const exact of protocol === 4 ? [false, true] : [false]) {
      const load = { op: 'loads', protocol, exact };
      const dump = { op: 'dumps', protocol, exact };
      let ok = true;
      if (engines.has('pickle-ts')) {
        const value = loads(data, { exact });
        ok = expectValue(`pickle-ts loads p${protocol}${exact ? ' exact' : ''}`, value) && ok;
        load.pt = time(() => loads(data, { exact }), reps, warmup);
        dump.pt = time(() => dumps(value, { protocol, exact }), reps, warmup);
        dump.check = sameBytes(dumps(value, { protocol, exact }), data);
      }
      if (engines.has('pickleparser') && !exact) {
        ok = expectValue(`pickleparser p${protocol}`, parse(data)) && ok;
        load.pp = time(() => parse(data), reps, warmup);
      }
      if (engines.has('json') && protocol === 4 && !exact) {
        const value = JSON.parse(jsonText);
        ok = expectValue('JSON.parse', value) && ok;
        load.json = time(() => JSON.parse(jsonText), reps, warmup);
        dump.json = time(() => JSON.stringify(value), reps, warmup);
      }
      load.check = ok;
      rows.push(load, dump);
    }
  }

  // The same loads again, after every other data set has been loaded once in this process: what
  // a long-lived program sees, where V8's feedback no longer starts a list as a list of doubles.
  const data = readPickle(set, 4);
  const mixed = { op: 'loads', protocol: 4, exact: false, mixed: true };
  for (const name of Object.keys(manifest.sets).filter((s) => s !== set)) {
    const other = readPickle(name, 4);
    if (engines.has('pickle-ts')) loads(other);
    if (engines.has('pickleparser')) parse(other);
  }
  if (engines.has('pickle-ts')) mixed.pt = time(() => loads(data), reps, warmup);
  if (engines.has('pickleparser')) mixed.pp = time(() => parse(data), reps, warmup);
  if (mixed.pt || mixed.pp) rows.push(mixed);
  return { rows, problems };
}

/** A field of /proc/self/status in bytes (Linux), or undefined. @param {string} field */
function procStatus(field) {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resets VmHWM, the peak RSS, to the current RSS (Linux 4.0+). `resourceUsage().maxRSS` can't
 * be used instead: a spawned process starts with its parent's peak, larger than one loads here.
 */
function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return procStatus('VmHWM') !== undefined;
  } catch {
    return false;
  }
}

/**
 * Memory of one loads of the p4 pickle (of the JSON text for `json`), in this fresh process:
 * `retained` is the JS heap the result holds after a full collection; `heapPeak` the most JS heap
 * in use during the call (V8's GCProfiler gives the heap in use before each collection the call
 * triggered; the end of the call is the other candidate) minus the heap before it; `peakRssDelta`
 * the highest RSS during the call minus the RSS before it (null where /proc can't tell).
 * @param {string} set @param {string} engine
 */
function memory(set, engine) {
  if (!gc) throw new Error('run with --expose-gc');
  const data = readPickle(set, 4);
  const text = engine === 'json' ? readFileSync(`${DATA_DIR}${set}.json`, 'utf8') : '';
  const run =
    engine === 'pickle-ts'
      ? () => loads(data)
      : engine === 'pickleparser'
        ? () => parse(data)
        : () => JSON.parse(text);
  gc();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const canPeak = resetPeakRss();
  const rss0 = procStatus('VmRSS') ?? 0;
  const profiler = new v8.GCProfiler();
  profiler.start();
  const value = run();
  const heapAtEnd = process.memoryUsage().heapUsed;
  const peak = canPeak ? procStatus('VmHWM') : undefined;
  const collections = profiler.stop()?.statistics ?? [];
  const heapPeak = Math.max(
    heapAtEnd,
    ...collections.map((c) => c.beforeGC.heapStatistics.usedHeapSize),
  );
  gc();
  gc();
  return {
    peakRssDelta: peak === undefined ? null : peak - rss0,
    heapPeak: heapPeak - heap0,
    retained: process.memoryUsage().heapUsed - heap0,
    length: lengthOf(value),
  };
}

const [mode, set, engine] = argv;
if (mode === 'time' && set) console.log(JSON.stringify(timeSet(set)));
else if (mode === 'memory' && set && engine) console.log(JSON.stringify(memory(set, engine)));
else {
  console.error('usage: bench/worker.mjs time SET [options] | memory SET ENGINE');
  process.exit(2);
}
