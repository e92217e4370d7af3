#!/usr/bin/env node
/**
 * Peak memory while loading a 1 GB pickle from disk: `load(path)` (streamed from the file in
 * 64 KiB chunks) against `loads(readFileSync(path))` (the whole file in one buffer), each in a
 * fresh process. The pickle holds a few large bytes objects (4 x 256 MiB by default), so the
 * result is ~1 GB either way; the question is what the load needs on top of it. Peak resident
 * memory is the kernel's high-water mark (VmHWM in /proc/self/status; Linux only). Not part of
 * CI: it writes a 1 GB file under bench/data/ (gitignored) and needs ~3 GB of free memory.
 *
 *   node bench/stream-memory.mjs [--parts 4] [--part-mib 256] [--keep]
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, ROOT } from './common.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

function statusKiB(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync('/proc/self/status', 'utf8'),
  );
  return m ? Number(m[1]) : NaN;
}

// Child: load the file one way and report memory.
if (args[0] === '--child') {
  const [, mode, path] = args;
  const lib = await import(join(ROOT, 'dist/src/index.js'));
  const node = await import(join(ROOT, 'dist/src/node/index.js'));
  const before = statusKiB('VmRSS');
  const t = performance.now();
  const value = mode === 'stream' ? await node.load(path) : lib.loads(readFileSync(path));
  const seconds = (performance.now() - t) / 1000;
  const peak = statusKiB('VmHWM');
  const resultBytes = value.reduce((n, b) => n + b.length, 0);
  const ok = value.every((b, i) => b[0] === i && b[b.length - 1] === (i + 7) % 256);
  console.log(JSON.stringify({ before, peak, resultBytes, seconds, ok, parts: value.length }));
  process.exit(0);
}

const parts = arg('--parts', 4);
const partBytes = arg('--part-mib', 256) * 1024 * 1024;
const path = join(DATA_DIR, `stream-${parts}x${partBytes >> 20}MiB.pkl`);

console.log('> tsc -p tsconfig.build.json');
spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });

if (!existsSync(path)) {
  // PROTO 4, EMPTY_LIST, MARK, parts x (BINBYTES len payload), APPENDS, STOP: what CPython writes
  // for a list of large bytes (payloads of 64 KiB or more go outside frames), streamed to disk.
  console.log(`> writing ${path}`);
  const fd = openSync(path, 'w');
  writeSync(fd, new Uint8Array([0x80, 0x04, 0x5d, 0x28]));
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = (i * 131 + 17) & 0xff;
  for (let p = 0; p < parts; p++) {
    const header = new Uint8Array(5);
    header[0] = 0x42;
    new DataView(header.buffer).setUint32(1, partBytes, true);
    writeSync(fd, header);
    for (let off = 0; off < partBytes; off += block.length) {
      const piece = block.subarray(0, Math.min(block.length, partBytes - off));
      if (off === 0) piece[0] = p; // marks, checked after loading
      if (off + piece.length === partBytes) piece[piece.length - 1] = (p + 7) % 256;
      writeSync(fd, piece);
      piece[0] = 17;
      piece[piece.length - 1] = ((piece.length - 1) * 131 + 17) & 0xff;
    }
  }
  writeSync(fd, new Uint8Array([0x65, 0x2e]));
  closeSync(fd);
}
const fileBytes = statSync(path).size;
const mb = (kib) => (kib / 1024).toFixed(0);
console.log(
  `\n${(fileBytes / 2 ** 20).toFixed(0)} MiB pickle, ${parts} bytes objects of ${partBytes >> 20} MiB; MiB resident\n`,
);
console.log(
  'how                            result  RSS before  peak RSS  peak - before  over result  seconds  MB/s',
);
for (const mode of ['stream', 'whole']) {
  const r = spawnSync(
    process.execPath,
    [new URL(import.meta.url).pathname, '--child', mode, path],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  const m = JSON.parse(r.stdout);
  if (!m.ok) throw new Error(`${mode}: wrong values`);
  const label = mode === 'stream' ? 'load(path), streamed' : 'loads(readFileSync(path))';
  const resultMiB = m.resultBytes / 2 ** 20;
  const grew = (m.peak - m.before) / 1024;
  console.log(
    [
      label.padEnd(30),
      resultMiB.toFixed(0).padStart(6),
      mb(m.before).padStart(10),
      mb(m.peak).padStart(9),
      grew.toFixed(0).padStart(13),
      (grew - resultMiB).toFixed(0).padStart(11),
      m.seconds.toFixed(2).padStart(8),
      (fileBytes / 1e6 / m.seconds).toFixed(0).padStart(5),
    ].join(' '),
  );
}
if (!args.includes('--keep')) rmSync(path);
