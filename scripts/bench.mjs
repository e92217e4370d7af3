#!/usr/bin/env node
// `npm run bench`: bench/bench.mjs builds the library with tsc (the benchmark times dist/, never
// src/ through tsx, whose getter-wrapped namespace imports distort timings), makes the data sets
// when missing (python3 bench/make_data.py), then measures in plain node with gc exposed.
// Arguments pass through: --quick, --only NAME, --no-memory, --engines A,B, --reps N, --help.
import { spawnSync } from 'node:child_process';

const bench = new URL('../bench/bench.mjs', import.meta.url).pathname;
const run = spawnSync(process.execPath, [bench, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
