#!/usr/bin/env node
/**
 * `node bench/numpy.mjs`: decoding numpy's protocol-5 pickles of a float64 array (4, 40 and
 * 400 MB), in-band and out-of-band, by pickle-ts and by numpy's own `pickle.loads`, in one run.
 *
 * numpy 2 writes the pickles (python3 with numpy, into a temporary directory removed at the end):
 * `pickle.dumps(a, 5)` puts the data in-band (BYTEARRAY8); with a `buffer_callback` it goes
 * out-of-band (NEXT_BUFFER), the buffer written to its own file. Rows:
 *
 * - memcpy: `src.slice()` (allocate and copy) and `dst.set(src)` (copy into memory already
 *   allocated) of the array's bytes: the speed an in-band decode that copies once can reach;
 * - pickle-ts in-band: `loads(pickle, { registry })` (the core copies the payload once, the
 *   array views that copy), and with `zeroCopy: true` when the payload is 8-byte aligned in the
 *   input (the array views the input: no copy) and when it is not (one copy, to align it);
 * - pickle-ts out-of-band: `loads(pickle, { registry, buffers: [buffer] })` (the array views the
 *   buffer: no per-byte work, so the time does not grow with the size);
 * - numpy: `pickle.loads(pickle)` and `pickle.loads(pickle, buffers=[buffer])` in python3.
 *
 * Each figure is the median of --reps runs (default 5) after warm-up runs, with gc between runs;
 * every result is checked (last element, and no copy where there should be none). It times the
 * compiled library (dist/, built here with tsc unless --no-build) in plain Node with gc exposed.
 *   node bench/numpy.mjs [--reps N] [--sizes 4,40,400] [--no-build]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: node bench/numpy.mjs [--reps N] [--sizes 4,40,400] [--no-build]';

function parseArgs(argv) {
  const opts = { reps: 5, sizes: [4, 40, 400], build: true, prepared: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reps') opts.reps = Number(argv[++i]);
    else if (a === '--sizes') opts.sizes = String(argv[++i]).split(',').map(Number);
    else if (a === '--no-build') opts.build = false;
    else if (a === '--prepared') opts.prepared = true;
    else {
      console.error(`${a === '--help' ? '' : `unknown argument ${a}\n`}${USAGE}`);
      process.exit(a === '--help' ? 0 : 2);
    }
  }
  if (!(opts.reps >= 1) || opts.sizes.some((s) => !(s > 0))) {
    console.error(USAGE);
    process.exit(2);
  }
  return opts;
}

const MAKE = `
import json, pickle, sys
import numpy as np
out = {"numpy": np.__version__, "python": sys.version.split()[0], "sizes": {}}
for mb in json.loads(sys.argv[2]):
    a = np.arange(mb * 1000000 // 8, dtype="<f8")
    base = "%s/f8-%dMB" % (sys.argv[1], mb)
    with open(base + ".inband.pkl", "wb") as f:
        f.write(pickle.dumps(a, 5))
    bufs = []
    with open(base + ".oob.pkl", "wb") as f:
        f.write(pickle.dumps(a, 5, buffer_callback=bufs.append))
    with open(base + ".oob.buf", "wb") as f:
        f.write(bufs[0].raw())
    out["sizes"][str(mb)] = {"base": base, "count": a.size}
print(json.dumps(out))
`;

const TIME_NUMPY = `
import gc, json, pickle, sys, time
import numpy as np
reps = int(sys.argv[1])
sizes = json.loads(sys.argv[2])
def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
def timed(f, check):
    times = []
    for i in range(reps + 1):
        gc.collect()
        t = time.perf_counter()
        x = f()
        dt = time.perf_counter() - t
        check(x)
        del x
        if i:
            times.append(dt * 1000)
    return median(times)
out = {}
for mb, s in sizes.items():
    n = s["count"]
    with open(s["base"] + ".inband.pkl", "rb") as f:
        inband = f.read()
    with open(s["base"] + ".oob.pkl", "rb") as f:
        oob = f.read()
    with open(s["base"] + ".oob.buf", "rb") as f:
        buf = f.read()
    def check(x):
        assert x.dtype == np.float64 and x.shape == (n,) and x[-1] == n - 1
    out[mb] = {
        "inband": timed(lambda: pickle.loads(inband), check),
        "oob": timed(lambda: pickle.loads(oob, buffers=[buf]), check),
    }
    del inband, oob, buf
print(json.dumps(out))
`;

function python(code, args) {
  const r = spawnSync('python3', ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error || r.status !== 0) {
    throw new Error(
      `python3 failed: ${r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  return JSON.parse(r.stdout);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Median ms of `reps` runs of `run`, after warm-up runs (at least one, and up to 0.2 s of them,
 * so that fast operations are timed compiled); `check` sees each result. Before each run: gc,
 * then `settle()` (a tiny decode), since the first call after a full gc pays ~0.15 ms of V8's
 * own that has nothing to do with the data.
 */
function timed(reps, run, check, settle = () => {}) {
  const warmStart = performance.now();
  for (let n = 0; n < 1 || (n < 1000 && performance.now() - warmStart < 200); n++) check(run());
  const times = [];
  for (let i = 0; i < reps; i++) {
    globalThis.gc?.();
    settle();
    const t = performance.now();
    const result = run();
    const dt = performance.now() - t;
    check(result);
    times.push(dt);
  }
  return median(times);
}

/** `bytes` copied into a fresh buffer at `offset`: the input for an aligned or misaligned run. */
function placedAt(bytes, offset) {
  const out = new Uint8Array(new ArrayBuffer(bytes.length + offset), offset, bytes.length);
  out.set(bytes);
  return out;
}

async function measure(opts) {
  const lib = await import(new URL('../dist/src/index.js', import.meta.url).href);
  const { NDArray, numpyRegistry } = await import(
    new URL('../dist/src/numpy/index.js', import.meta.url).href
  );
  const { genops } = await import(new URL('../dist/src/tools/index.js', import.meta.url).href);
  const registry = numpyRegistry();
  const tinyBuffer = new Uint8Array(8);
  const tiny = lib.dumps(new NDArray('<f8', [1]), {
    registry,
    protocol: 5,
    bufferCallback: () => false,
  });
  const dir = mkdtempSync(join(os.tmpdir(), 'pickle-ts-numpy-bench-'));
  try {
    const made = python(MAKE, [dir, JSON.stringify(opts.sizes)]);
    const numpy = python(TIME_NUMPY, [String(opts.reps), JSON.stringify(made.sizes)]);
    const rows = [];
    const alignment = {};
    for (const [mb, { base, count }] of Object.entries(made.sizes)) {
      const inband = new Uint8Array(readFileSync(`${base}.inband.pkl`));
      const oob = new Uint8Array(readFileSync(`${base}.oob.pkl`));
      const buffer = new Uint8Array(readFileSync(`${base}.oob.buf`));
      // Where the in-band payload starts, to place it on and off an 8-byte boundary.
      let at = -1;
      for (const op of genops(inband, 0, { args: false }))
        if (op.opcode.name === 'BYTEARRAY8') at = op.pos + 9;
      alignment[mb] = at % 8;
      const aligned = placedAt(inband, (8 - (at % 8)) % 8);
      const misaligned = placedAt(inband, ((8 - (at % 8)) % 8) + 1);
      const last = count - 1;
      const isArray = (a) => {
        if (!(a.data instanceof Float64Array) || a.data.length !== count || a.data[last] !== last)
          throw new Error('wrong result');
      };
      const viewing = (input) => (a) => {
        isArray(a);
        if (a.data.buffer !== input.buffer) throw new Error('expected a view, got a copy');
      };
      const copying = (input) => (a) => {
        isArray(a);
        if (a.data.buffer === input.buffer) throw new Error('expected a copy');
      };
      const r = (name, ms, pt = true) => rows.push({ name, mb: Number(mb), ms, pt });
      const settle = () => lib.loads(tiny, { registry, buffers: [tinyBuffer] });
      r(
        'memcpy: slice() (allocate + copy)',
        timed(
          opts.reps,
          () => buffer.slice(),
          () => {},
        ),
        false,
      );
      const dst = new Uint8Array(buffer.length);
      r(
        'memcpy: set() into allocated memory',
        timed(
          opts.reps,
          () => dst.set(buffer),
          () => {},
        ),
        false,
      );
      r(
        'pickle-ts in-band (core copies once)',
        timed(opts.reps, () => lib.loads(aligned, { registry }), copying(aligned), settle),
      );
      r(
        'pickle-ts in-band, zeroCopy, aligned (view)',
        timed(
          opts.reps,
          () => lib.loads(aligned, { registry, zeroCopy: true }),
          viewing(aligned),
          settle,
        ),
      );
      r(
        'pickle-ts in-band, zeroCopy, misaligned (1 copy)',
        timed(
          opts.reps,
          () => lib.loads(misaligned, { registry, zeroCopy: true }),
          copying(misaligned),
          settle,
        ),
      );
      r(
        'pickle-ts out-of-band (view)',
        timed(
          opts.reps,
          () => lib.loads(oob, { registry, buffers: [buffer] }),
          viewing(buffer),
          settle,
        ),
      );
      r('numpy pickle.loads in-band', numpy[mb].inband, false);
      r('numpy pickle.loads out-of-band', numpy[mb].oob, false);
    }
    return { made, rows, alignment };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report({ made, rows, alignment }, opts) {
  const sizes = opts.sizes;
  const names = [...new Set(rows.map((r) => r.name))];
  const cell = (name, mb) => {
    const row = rows.find((r) => r.name === name && r.mb === mb);
    const gbs = mb / 1000 / (row.ms / 1000);
    const speed = row.ms < 0.05 ? '' : ` ${gbs >= 100 ? '≫' : gbs.toFixed(1)} GB/s`;
    return `${row.ms < 1 ? row.ms.toFixed(3) : row.ms.toFixed(1)} ms${speed}`;
  };
  const header = ['decode of a float64 array, protocol 5', ...sizes.map((s) => `${s} MB`)];
  const lines = names.map((n) => [n, ...sizes.map((mb) => cell(n, mb))]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cols) =>
    cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(
    `numpy ${made.numpy}, Python ${made.python}, Node ${process.version}, ${os.cpus()[0]?.model ?? ''}`,
  );
  console.log(
    `median of ${opts.reps} runs after warm-up; GB/s = array bytes / time (blank: too fast to mean anything)\n`,
  );
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
  const offsets = Object.entries(alignment).map(([mb, k]) => `${mb} MB: ${k}`);
  console.log(
    `\nnumpy's in-band pickle puts the data at a byte offset ≡ (mod 8) ${offsets.join(', ')}`,
  );
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(`\nload average at the end: ${load} (on ${os.cpus().length} cores)`);
}

const opts = parseArgs(process.argv.slice(2));
if (!opts.prepared) {
  if (opts.build) {
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')],
      { stdio: 'inherit' },
    );
    if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  }
  const args = [...process.argv.slice(2).filter((a) => a !== '--no-build'), '--prepared'];
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), ...args],
    { stdio: 'inherit' },
  );
  process.exit(run.status ?? 1);
}
report(await measure(opts), opts);
