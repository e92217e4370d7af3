/**
 * Where pickle-ts spends its time on one data set: the functions with the most self time in V8's
 * CPU profile (the profiler `node --cpu-prof` uses), for the compiled library (dist/src/index.js;
 * build it first with `npx tsc -p tsconfig.build.json`, or let `npm run bench` do it).
 *
 *   node --expose-gc bench/profile.mjs SET loads|dumps [--exact] [--protocol 2]
 *        [--runs 20] [--top 10] [--save FILE.cpuprofile]
 *   node bench/profile.mjs --summarize FILE.cpuprofile [--top 10]
 *
 * The first form warms up, then profiles each of `--runs` calls on its own, with a full gc between
 * them (outside the profile, as bench/bench.mjs collects outside the timed region), so the gc share
 * shown is what one call itself triggers. The second form summarizes a profile written by
 * `node --cpu-prof`. Lines are the TypeScript source's (dist/ has source maps). A saved profile
 * opens in Chrome DevTools or VS Code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { findSourceMap } from 'node:module';
import { performance } from 'node:perf_hooks';
import { ROOT, importLibrary, readPickle } from './common.mjs';

process.setSourceMapsEnabled(true);
const gc = globalThis.gc;

function post(session, method, params) {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const sources = new Map();

/** `file:line` in the TypeScript source when a source map is loaded; anonymous: the line's text. */
function sourceLine(f) {
  if (!f.url) return '';
  let where = `${f.url.replace(`file://${ROOT}`, '')}:${f.lineNumber + 1}`;
  let file = f.url.startsWith('file://') ? new URL(f.url) : undefined;
  let line = f.lineNumber + 1;
  const entry = findSourceMap(f.url)?.findEntry(f.lineNumber, f.columnNumber);
  if (entry && 'originalLine' in entry) {
    line = entry.originalLine + 1;
    file = new URL(entry.originalSource, f.url);
    where = `${file.href.replace(`file://${ROOT}`, '')}:${line}`;
  }
  if (f.functionName || !file) return where;
  try {
    if (!sources.has(file.href)) sources.set(file.href, readFileSync(file, 'utf8').split('\n'));
    return `${where}  ${sources.get(file.href)[line - 1]?.trim().slice(0, 50) ?? ''}`;
  } catch {
    return where;
  }
}

/** Adds each function's self time in `profile` (microseconds) to `totals`. */
function addSelfTimes(profile, totals) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i + 1] is the time from sample i to the next one: charge it to sample i.
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]);
    if (!node) continue;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${sourceLine(f)}`.trim();
    totals.set(key, (totals.get(key) ?? 0) + (deltas[i + 1] ?? 0));
  }
}

function printTop(totals, top, runs) {
  console.log(`${runs === 1 ? '    self ms' : 'self ms/run'}  share  function`);
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, us] of rows) {
    const share = ((100 * us) / all).toFixed(1);
    console.log(`${(us / 1000 / runs).toFixed(2).padStart(11)}  ${share.padStart(4)}%  ${name}`);
  }
}

async function main(argv) {
  const flag = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const top = Number(flag('--top', '10'));
  const summarize = flag('--summarize', '');
  if (summarize) {
    await importLibrary(); // loads dist's source maps, so lines map back to src/
    const totals = new Map();
    addSelfTimes(JSON.parse(readFileSync(summarize, 'utf8')), totals);
    console.log(`${summarize}: whole profile, including start-up and warm-up`);
    printTop(totals, top, 1);
    return;
  }
  const [set, op] = argv;
  if (!set || (op !== 'loads' && op !== 'dumps')) {
    console.log('usage: node --expose-gc bench/profile.mjs SET loads|dumps [--exact]');
    console.log('       [--protocol N] [--runs N] [--top N] [--save FILE.cpuprofile]');
    console.log('       node bench/profile.mjs --summarize FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  const { dumps, loads } = await importLibrary();
  const exact = argv.includes('--exact');
  const protocol = Number(flag('--protocol', '4'));
  const runs = Number(flag('--runs', '20'));
  const save = flag('--save', '');

  const data = readPickle(set, protocol);
  const value = loads(data, { exact });
  const work =
    op === 'loads' ? () => loads(data, { exact }) : () => dumps(value, { protocol, exact });
  for (let i = 0; i < 3; i++) work(); // warm up outside the profile

  // One profile per run, so that the collection between runs stays out of it.
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 100 });
  const totals = new Map();
  let elapsed = 0;
  for (let i = 0; i < runs; i++) {
    gc?.();
    await post(session, 'Profiler.start');
    const t0 = performance.now();
    work();
    elapsed += performance.now() - t0;
    const { profile } = await post(session, 'Profiler.stop');
    addSelfTimes(profile, totals);
    if (save && i === runs - 1) writeFileSync(save, JSON.stringify(profile));
  }
  session.disconnect();

  const mode = `${exact ? 'exact' : 'default'} mode, protocol ${protocol}`;
  const each = `${(elapsed / runs).toFixed(1)} ms each`;
  console.log(`${op} ${set} (${mode}): ${runs} runs, ${each}${gc ? '' : ' (gc not exposed)'}`);
  printTop(totals, top, runs);
}

await main(process.argv.slice(2));
