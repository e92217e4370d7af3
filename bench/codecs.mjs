#!/usr/bin/env node
/**
 * Compression throughput of pickle-ts/node's codecs against Python's gzip, bz2, lzma and
 * zstandard modules, on the same 50 MB protocol-5 pickle (records with strings, floats, ints and
 * small bytes; made by bench/codecs_python.py) in one run. Throughput is uncompressed MB per
 * second, median of --reps runs (default 3). pickle-ts decompresses Python's compressed bytes, as
 * a stream of 64 KiB chunks (what `load` does with a file), and also whole where a sync decoder
 * exists. Python's zstandard comes from python3 or the test venv
 * (node_modules/.cache/pickle-ts-venv, made by the tests); without it the zstd row has no Python
 * numbers.
 *
 *   node bench/codecs.mjs [--reps N] [--only gzip,bz2]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, ROOT, median } from './common.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const reps = Number(arg('--reps', '3'));
const only = arg('--only', 'gzip,bz2,xz,zstd').split(',');

console.log('> tsc -p tsconfig.build.json');
spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
const codecsModule = join(ROOT, 'dist/src/node/codecs.js');
if (!existsSync(codecsModule))
  throw new Error('dist/src/node/codecs.js is missing: the build failed');
const { codecByName } = await import(codecsModule);

function python(pythonBin, which) {
  const r = spawnSync(
    pythonBin,
    [join(ROOT, 'bench/codecs_python.py'), DATA_DIR, String(reps), which],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (r.status !== 0) throw new Error(`codecs_python.py: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const hasZstandard = (bin) =>
  spawnSync(bin, ['-c', 'import zstandard'], { stdio: 'ignore' }).status === 0;
const venv = join(ROOT, 'node_modules/.cache/pickle-ts-venv/bin/python');
const zstdPython = hasZstandard('python3')
  ? 'python3'
  : existsSync(venv) && hasZstandard(venv)
    ? venv
    : undefined;

console.log(`> Python: making/reading the data, timing its modules (median of ${reps})`);
const py = python('python3', zstdPython === 'python3' ? '' : 'no-zstd');
if (zstdPython && zstdPython !== 'python3' && only.includes('zstd'))
  Object.assign(py, python(zstdPython, 'zstd-only'));
const data = new Uint8Array(readFileSync(join(DATA_DIR, 'codecs.p5.pkl')));
const MB = data.length / 1e6;

async function* chunksOf(bytes, size = 1 << 16) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function streamDecompress(codec, bytes) {
  const parts = [];
  let n = 0;
  for await (const p of codec.decompress(chunksOf(bytes))) {
    parts.push(p);
    n += p.length;
  }
  return n;
}
async function time(f) {
  const ts = [];
  let out;
  for (let i = 0; i < reps; i++) {
    globalThis.gc?.();
    const t = performance.now();
    out = await f();
    ts.push((performance.now() - t) / 1000);
  }
  return { s: median(ts), out };
}

const rows = [];
for (const name of only) {
  const codec = codecByName(name);
  const p = py[name];
  const level = codec.defaultLevel;
  let c;
  try {
    c = await time(() => codec.compress(data, level));
  } catch (e) {
    console.log(`${name}: compress unavailable: ${e.message}`);
  }
  const input = p
    ? new Uint8Array(readFileSync(join(DATA_DIR, `codecs.p5.pkl.python.${name}`)))
    : c?.out;
  const d = await time(() => streamDecompress(codec, input));
  if (d.out !== data.length)
    throw new Error(`${name}: decompressed ${d.out} bytes, expected ${data.length}`);
  const ds = codec.decompressSync
    ? await time(() => codec.decompressSync(input).length)
    : undefined;
  rows.push({ name, level, c, d, ds, p });
}

const f = (x) => (x === undefined ? '-' : x.toFixed(1));
const ratio = (a, b) => (a === undefined || b === undefined ? '-' : (a / b).toFixed(2));
console.log(
  `\n${MB.toFixed(1)} MB protocol-5 pickle; MB/s of uncompressed data (higher is better); pt/py = pickle-ts over Python\n`,
);
const head = [
  'codec',
  'level',
  'pt compress',
  'py compress',
  'pt/py',
  'pt decompress (stream)',
  'pt decompress (whole)',
  'py decompress',
  'pt/py',
  'size pt',
  'size py',
];
const lines = rows.map(({ name, level, c, d, ds, p }) => {
  const pc = c && MB / c.s;
  const yc = p && MB / p.compress_s;
  const pd = MB / d.s;
  const yd = p && MB / p.decompress_s;
  return [
    name,
    String(level),
    f(pc),
    f(yc),
    ratio(pc, yc),
    f(pd),
    f(ds && MB / ds.s),
    f(yd),
    ratio(pd, yd),
    c ? (c.out.length / 1e6).toFixed(2) + ' MB' : '-',
    p ? (p.size / 1e6).toFixed(2) + ' MB' : '-',
  ];
});
const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
console.log(head.map((h, i) => h.padEnd(widths[i])).join('  '));
for (const l of lines) console.log(l.map((c, i) => c.padStart(widths[i])).join('  '));
const load = (await import('node:os'))
  .loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(`\nload average at end: ${load} (2 cores; other processes distort timings)`);
