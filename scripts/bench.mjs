#!/usr/bin/env node
// `npm run bench`: every benchmark suite, one after another, each timing the tsc-built dist/ in
// plain node (never src/ through tsx, whose getter-wrapped namespace imports distort timings):
//   core     bench/bench.mjs: loads/dumps against CPython's C pickle, pickleparser and JSON
//   codecs   bench/codecs.mjs: gzip, bz2, xz, zstd against Python's modules on a 50 MB pickle
//   numpy    bench/numpy.mjs: a 400 MB float64 array, in-band and out-of-band, against numpy
//   pool     bench/pool.mjs: overhead per task against piscina and raw worker_threads, and a
//            CPU-bound map against serial
// `npm run bench -- core numpy` runs some suites; other arguments go to the core suite
// (--quick, --only NAME, --no-memory, --engines A,B, --reps N). The 1 GB streaming memory
// measurement is separate, as it needs ~3 GB: `node bench/stream-memory.mjs`.
import { spawnSync } from 'node:child_process';

const SUITES = {
  core: 'bench.mjs',
  codecs: 'codecs.mjs',
  numpy: 'numpy.mjs',
  pool: 'pool.mjs',
};

const args = process.argv.slice(2);
const chosen = args.filter((a) => a in SUITES);
const rest = args.filter((a) => !(a in SUITES));
const suites = chosen.length > 0 ? chosen : Object.keys(SUITES);

const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

let failed = 0;
for (const suite of suites) {
  console.log(`\n######## ${suite}\n`);
  const file = new URL(`../bench/${SUITES[suite]}`, import.meta.url).pathname;
  const extra = suite === 'core' ? rest : suite === 'codecs' ? [] : ['--no-build'];
  const run = spawnSync(process.execPath, ['--expose-gc', file, ...extra], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
