/**
 * `npm run fuzz -- --seconds N [--seed S] [--max-bytes B] [--no-python]`: fuzzes every parser of
 * untrusted bytes in pickle-ts (loads in its modes, loadAll, StreamUnpickler, genops, dis,
 * optimize, scan) with mutants of the valid corpus, and round-trips random valid values through
 * every protocol (test/safety/fuzz/). Findings are saved in fuzz-findings/; the exit status is 1
 * if there is any.
 *
 * `npm run fuzz -- --replay FILE...` runs saved inputs through every target again.
 *
 * The fuzzing runs in a child process, watched from here: a child that stops reporting for
 * HANG_SECONDS is killed and its input recorded as a hang; one that dies (a V8 abort, the heap
 * limit) is recorded as a crash. Either way a new child carries on with the time that is left.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Fuzzer, type FuzzStats, type StoredFinding } from '../test/safety/fuzz/engine.js';
import { FINDINGS_DIR, describeFinding, saveFinding } from '../test/safety/fuzz/findings.js';
import { Rng } from '../test/safety/fuzz/rng.js';
import { TARGETS, runTargets, type Finding, type Target } from '../test/safety/fuzz/targets.js';

const HANG_SECONDS = 30;
const SCRIPT = fileURLToPath(import.meta.url);

const { values: args, positionals } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    'max-bytes': { type: 'string', default: String(64 * 1024) },
    'no-python': { type: 'boolean', default: false },
    out: { type: 'string', default: FINDINGS_DIR },
    replay: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

type FromChild =
  | { type: 'progress'; stats: FuzzStats }
  | { type: 'finding'; finding: StoredFinding }
  | { type: 'done'; stats: FuzzStats };

const fmt = (n: number) => n.toLocaleString('en-US');

// --- the child: runs the fuzzer, reports over IPC, checkpoints its current input ------------

async function child(): Promise<void> {
  const out = args.out;
  mkdirSync(out, { recursive: true });
  const current = join(out, `.current-${process.pid}`);
  const fd = openSync(current, 'w');
  const send = (m: FromChild) => process.send?.(m);
  const header = new Uint8Array(8);
  const headerView = new DataView(header.buffer);
  const fuzzer = new Fuzzer({
    seconds: Number(args.seconds),
    seed: Number(args.seed),
    maxBytes: Number(args['max-bytes']),
    python: !args['no-python'],
    onProgress: (stats) => send({ type: 'progress', stats }),
    onFinding: (finding) => send({ type: 'finding', finding }),
    checkpoint: (what) => {
      const bytes = typeof what === 'string' ? new TextEncoder().encode(what) : what;
      headerView.setUint32(0, typeof what === 'string' ? 1 : 0, true);
      headerView.setUint32(4, bytes.length, true);
      writeSync(fd, header, 0, 8, 0);
      writeSync(fd, bytes, 0, bytes.length, 8);
    },
  });
  const { stats } = await fuzzer.run();
  send({ type: 'done', stats });
  closeSync(fd);
  rmSync(current, { force: true });
  process.disconnect?.();
}

/** What a dead or hung child was running: its input bytes, or a value's description. */
function readCheckpoint(path: string): { input?: Uint8Array; text?: string } {
  try {
    const data = new Uint8Array(readFileSync(path));
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const kind = view.getUint32(0, true);
    const body = data.subarray(8, 8 + view.getUint32(4, true));
    return kind === 1 ? { text: new TextDecoder().decode(body) } : { input: body };
  } catch {
    return {};
  } finally {
    rmSync(path, { force: true });
  }
}

// --- the parent ---------------------------------------------------------------------------

interface ChildRun {
  seed: number;
  stats?: FuzzStats;
  outcome: 'done' | 'hang' | 'crash';
}

function runChild(
  seed: number,
  seconds: number,
  onFinding: (f: StoredFinding) => void,
  onProgress: (s: FuzzStats) => void,
): Promise<ChildRun> {
  return new Promise((resolve) => {
    const argv = [
      '--child',
      '--seed',
      String(seed),
      '--seconds',
      String(seconds),
      '--max-bytes',
      String(args['max-bytes']),
      '--out',
      args.out,
      ...(args['no-python'] ? ['--no-python'] : []),
    ];
    const proc: ChildProcess = fork(SCRIPT, argv, {
      execArgv: process.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const run: ChildRun = { seed, outcome: 'crash' };
    let last = Date.now();
    let hung = false;
    const watchdog = setInterval(() => {
      if (Date.now() - last > HANG_SECONDS * 1000) {
        hung = true;
        proc.kill('SIGKILL');
      }
    }, 1000);
    proc.on('message', (m: FromChild) => {
      last = Date.now();
      if (m.type === 'progress') {
        run.stats = m.stats;
        onProgress(m.stats);
      } else if (m.type === 'finding') {
        onFinding(m.finding);
      } else {
        run.stats = m.stats;
        run.outcome = 'done';
      }
    });
    proc.on('exit', (code, signal) => {
      clearInterval(watchdog);
      if (run.outcome === 'done' && code === 0) return resolve(run);
      const { input, text } = readCheckpoint(join(args.out, `.current-${proc.pid}`));
      run.outcome = hung ? 'hang' : 'crash';
      onFinding({
        kind: run.outcome,
        target: 'process',
        signature: hung
          ? `hang: no progress for ${HANG_SECONDS} s`
          : `crash: exit ${code ?? ''}${signal ?? ''}: ${firstErrorLine(stderr)}`,
        message: hung
          ? `the fuzzing process made no progress for ${HANG_SECONDS} s and was killed${text ? `; it was running ${text.slice(0, 300)}` : ''}`
          : `the fuzzing process died (exit code ${code}, signal ${signal})${text ? ` while running ${text.slice(0, 300)}` : ''}`,
        input,
        detail: stderr || undefined,
        count: 1,
      });
      resolve(run);
    });
  });
}

function firstErrorLine(stderr: string): string {
  const line = stderr
    .split('\n')
    .find((l) => /error|fatal|abort/i.test(l))
    ?.trim();
  return (line ?? 'no message').replace(/\d+/g, 'N').slice(0, 100);
}

function addStats(total: FuzzStats | undefined, s: FuzzStats): FuzzStats {
  if (!total) return structuredClone(s);
  total.elapsedMs += s.elapsedMs;
  total.inputs += s.inputs;
  total.values += s.values;
  total.roundTrips += s.roundTrips;
  total.pythonChecked += s.pythonChecked;
  for (const t of TARGETS) {
    total.runs[t] += s.runs[t];
    total.slowestMs[t] = Math.max(total.slowestMs[t], s.slowestMs[t]);
  }
  for (const [k, v] of Object.entries(s.mutators)) total.mutators[k] = (total.mutators[k] ?? 0) + v;
  total.heapMb.push(...s.heapMb);
  return total;
}

async function parent(): Promise<number> {
  const seconds = Number(args.seconds);
  const seed = args.seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(args.seed);
  if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(seed)) {
    console.error('usage: npm run fuzz -- --seconds N [--seed S] [--max-bytes B] [--no-python]');
    return 2;
  }
  console.log(
    `fuzz: ${seconds} s, seed ${seed} (reproduce: npm run fuzz -- --seconds ${seconds} --seed ${seed})`,
  );
  const findings = new Map<string, StoredFinding>();
  const onFinding = (f: StoredFinding) => {
    const known = findings.get(f.signature);
    const merged = known
      ? { ...f, count: known.count + f.count, input: smaller(known.input, f.input) }
      : f;
    findings.set(f.signature, merged);
    if (!known) console.log(`  finding [${f.kind}] ${f.target}: ${f.message.slice(0, 300)}`);
  };
  const deadline = Date.now() + seconds * 1000;
  let total: FuzzStats | undefined;
  let lastPrint = Date.now();
  const runs: ChildRun[] = [];
  for (let k = 0; Date.now() < deadline - 1000; k++) {
    const childSeed = k === 0 ? seed : (seed + k * 1_000_003) >>> 0;
    let base = total ? structuredClone(total) : undefined;
    const run = await runChild(
      childSeed,
      Math.max(1, Math.round((deadline - Date.now()) / 1000)),
      onFinding,
      (s) => {
        if (Date.now() - lastPrint >= 15_000) {
          lastPrint = Date.now();
          const now = addStats(base ? structuredClone(base) : undefined, s);
          console.log(
            `  [${Math.round((seconds * 1000 - (deadline - Date.now())) / 1000)} s] ${fmt(now.inputs)} inputs, ${fmt(now.values)} values, ${findings.size} findings`,
          );
        }
      },
    );
    runs.push(run);
    if (run.stats) total = addStats(total, run.stats);
    base = undefined;
    if (run.outcome === 'done') break;
  }
  report(total, [...findings.values()], seed, runs);
  return findings.size > 0 ? 1 : 0;
}

function smaller(a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.length < a.length ? b : a;
}

function report(
  stats: FuzzStats | undefined,
  findings: StoredFinding[],
  seed: number,
  runs: ChildRun[],
): void {
  console.log('');
  if (stats) {
    const secs = stats.elapsedMs / 1000;
    console.log(
      `fuzz: seed ${seed}: ${fmt(stats.inputs)} inputs in ${secs.toFixed(0)} s (${fmt(Math.round(stats.inputs / secs))}/s)`,
    );
    console.log(
      `  runs per target: ${TARGETS.map((t: Target) => `${t} ${fmt(stats.runs[t])}`).join(', ')}`,
    );
    console.log(
      `  slowest input per target (ms): ${TARGETS.map((t: Target) => `${t} ${stats.slowestMs[t].toFixed(1)}`).join(', ')}`,
    );
    console.log(
      `  generated values: ${fmt(stats.values)}, round trips (value x protocol): ${fmt(stats.roundTrips)}, checked by python3: ${fmt(stats.pythonChecked)}`,
    );
    console.log(
      `  mutators: ${Object.entries(stats.mutators)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')}`,
    );
    if (stats.heapMb.length > 0) {
      console.log(
        `  heap after GC: ${Math.min(...stats.heapMb)}-${Math.max(...stats.heapMb)} MB over ${stats.heapMb.length} samples (last ${stats.heapMb.at(-1)} MB)`,
      );
    }
  }
  if (runs.length > 1) {
    console.log(`  processes: ${runs.map((r) => `seed ${r.seed} (${r.outcome})`).join(', ')}`);
  }
  if (findings.length === 0) {
    console.log('  findings: none');
    return;
  }
  console.log(`  findings: ${findings.length} (saved in ${args.out})`);
  for (const f of findings) {
    console.log(`  - ${describeFinding(f, saveFinding(f, seed, args.out)).replace(/\n/g, '\n  ')}`);
  }
}

async function replayFiles(files: string[]): Promise<number> {
  let any = false;
  for (const file of files) {
    const input = new Uint8Array(readFileSync(file));
    const seen = new Map<string, Finding>();
    for (let seed = 1; seed <= 5; seed++) {
      const counts = Object.fromEntries(TARGETS.map((t) => [t, 0])) as Record<Target, number>;
      await runTargets(input, new Rng(seed), counts, (f) => seen.set(f.signature, f));
    }
    console.log(`${file} (${input.length} bytes): ${seen.size === 0 ? 'nothing found' : ''}`);
    for (const f of seen.values()) {
      any = true;
      console.log(`  [${f.kind}] ${f.message}`);
      if (f.detail) console.log(f.detail.split('\n').slice(0, 12).join('\n'));
    }
  }
  return any ? 1 : 0;
}

if (args.child) {
  await child();
} else if (args.replay) {
  process.exitCode = await replayFiles(positionals);
} else {
  process.exitCode = await parent();
}
