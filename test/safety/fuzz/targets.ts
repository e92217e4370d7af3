/**
 * The fuzz targets: everything in pickle-ts that parses untrusted bytes, each run on one input,
 * and the oracles that judge them. The library is imported from src directly rather than through
 * test/helpers/pickle.ts: random inputs must not count towards the opcode coverage of the tests.
 *
 * Oracles:
 * - only a `PickleError` may escape the decoders and the pickletools functions; `scan` may not
 *   throw at all (a bad input gets the verdict `malformed`);
 * - no target takes more than `SLOW_MS` on one input. A time is the smaller of the wall clock and
 *   the process's CPU time (a busy machine stretches the first, V8's helper threads the second),
 *   and an input over it is timed twice more, after a GC: it is slow only if it is slow each time;
 * - no target holds more than `HEAP_PER_TARGET` for one input: the decoders run with
 *   `maxHeapBytes` at `FUZZ_LIMITS` (the default, 1 GiB, lets a 20-byte `bytearray(2**30)`
 *   through), so this checks that the limits bound the memory;
 * - `StreamUnpickler` gives the values and the error that `Unpickler` gives for the same bytes,
 *   whatever the chunk sizes.
 */
import {
  PickleError,
  StreamUnpickler,
  Unpickler,
  loads,
  type UnpicklerOptions,
} from '../../../src/index.js';
import { dis, genops, optimize } from '../../../src/tools/index.js';
import { scan } from '../../../src/scan/index.js';
import { inflateRaw } from '../../../src/scan/node.js';
import { numpyRegistry } from '../../../src/numpy/index.js';
import { difference } from '../../helpers/equal.js';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Rng } from './rng.js';

/** An input slower than this in one target is a finding. */
export const SLOW_MS = 100;
/** Timings after the first for an input over `SLOW_MS`. */
const RETIMINGS = 2;
/** A target taking more memory than this on one input (held, or at its peak) is a finding. */
export const HEAP_PER_TARGET = 64 * 2 ** 20;
/** The decoders' limits: half the memory the oracle allows, for the slack of their estimates. */
export const FUZZ_LIMITS = { maxHeapBytes: HEAP_PER_TARGET / 2 } as const;
/** Pickles read from one input by `loadAll` and the stream at most. */
const MAX_PICKLES = 64;

export const TARGETS = [
  'loads',
  'loads exact',
  'loads encoding',
  'loads hooks',
  'loads numpy',
  'loadAll',
  'stream',
  'genops',
  'dis',
  'optimize',
  'scan',
] as const;
export type Target = (typeof TARGETS)[number];

export type FindingKind =
  | 'escape'
  | 'slow'
  | 'heap'
  | 'leak'
  | 'hang'
  | 'crash'
  | 'stream-mismatch'
  | 'mode-mismatch'
  | 'roundtrip'
  | 'python';

export interface Finding {
  readonly kind: FindingKind;
  readonly target: string;
  /** What identifies the bug (kind, target, error type and message shape, top frame). */
  readonly signature: string;
  readonly message: string;
  /** The input that shows it, when there is one. */
  readonly input?: Uint8Array | undefined;
  /** More to go with the report (a stack, a value). */
  readonly detail?: string | undefined;
}

/** How one target ended on one input. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown; value?: unknown };

/** The error's type and message with numbers blanked, and its first stack frame in src/. */
export function errorSignature(e: unknown): string {
  if (!(e instanceof Error)) return `non-Error ${typeof e}`;
  const shape = e.message
    .split('\n')[0]!
    .replace(/0x[0-9a-f]+/gi, 'N')
    .replace(/\d+/g, 'N')
    .replace(/'[^']*'/g, "'…'")
    .slice(0, 100);
  const frame = (e.stack ?? '')
    .split('\n')
    .find((l) => l.includes('/src/'))
    ?.replace(/^.*\/src\//, 'src/')
    .replace(/\)$/, '');
  return frame ? `${e.name} @ ${frame}` : `${e.name}: ${shape}`;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.slice(0, 500);
  return `thrown ${typeof e}: ${String(e)}`.slice(0, 500);
}

const SEQUENCE = Symbol('sequence');

/** What an `Unpickler` or a stream read from an input: its values, then how it stopped. */
interface Sequence {
  [SEQUENCE]: true;
  values: unknown[];
  error: unknown;
}

function describeEnd(e: unknown): string {
  if (e === undefined) return 'end of input';
  if (e instanceof PickleError) return `${e.code} at ${e.offset ?? '?'}`;
  return describeError(e);
}

/**
 * Random chunk sizes: single bytes and tiny pieces (small inputs only: a stream pays a few
 * microseconds per chunk, which is not what the time oracle is about), small pieces, or slabs.
 */
export function chunksOf(data: Uint8Array, rng: Rng): Uint8Array[] {
  const copy = data.slice();
  const chunks: Uint8Array[] = [];
  const styles = copy.length <= 4096 ? 4 : copy.length <= 32768 ? 3 : 2;
  const style = rng.below(styles);
  for (let at = 0; at < copy.length;) {
    const n =
      style === 3
        ? 1 + rng.below(3)
        : style === 2
          ? 1 + rng.below(64)
          : style === 1
            ? 64 + rng.below(4096)
            : 1 + rng.below(1 << 16);
    chunks.push(copy.subarray(at, at + n));
    at += n;
  }
  if (rng.chance(0.2)) chunks.splice(rng.below(chunks.length + 1), 0, new Uint8Array(0));
  return chunks;
}

function readAll(data: Uint8Array, options: UnpicklerOptions): Sequence {
  const values: unknown[] = [];
  try {
    const u = new Unpickler(data, options);
    while (!u.atEnd && values.length < MAX_PICKLES) values.push(u.load());
    return { [SEQUENCE]: true, values, error: undefined };
  } catch (error) {
    return { [SEQUENCE]: true, values, error };
  }
}

async function streamAll(chunks: Uint8Array[], options: UnpicklerOptions): Promise<Sequence> {
  const values: unknown[] = [];
  try {
    const u = new StreamUnpickler(chunks, options);
    while (!(await u.atEnd()) && values.length < MAX_PICKLES) values.push(await u.load());
    return { [SEQUENCE]: true, values, error: undefined };
  } catch (error) {
    return { [SEQUENCE]: true, values, error };
  }
}

function endCode(e: unknown): string {
  if (e === undefined) return 'end of input';
  if (e instanceof PickleError) return `${e.code}${e.opcode ? ` (${e.opcode})` : ''}`;
  return e instanceof Error ? e.name : typeof e;
}

/** How the unpickler's and the stream's readings of an input differ, if they do. */
function sequenceDifference(
  a: Sequence,
  b: Sequence,
): { signature: string; message: string } | undefined {
  if (a.values.length !== b.values.length) {
    return {
      signature: `Unpickler read N pickles then ${endCode(a.error)}, the stream M`,
      message: `Unpickler read ${a.values.length} pickles (then ${describeEnd(a.error)}), the stream ${b.values.length} (then ${describeEnd(b.error)})`,
    };
  }
  for (let i = 0; i < a.values.length; i++) {
    const d = difference(b.values[i], a.values[i], `pickle ${i}`);
    if (d)
      return {
        signature: `values differ: ${d.replace(/\d+/g, 'N').slice(0, 80)}`,
        message: `values differ: ${d}`,
      };
  }
  const ea = a.error;
  const eb = b.error;
  if (ea === undefined && eb === undefined) return undefined;
  if (ea instanceof PickleError && eb instanceof PickleError) {
    if (ea.code === eb.code && ea.offset === eb.offset) return undefined;
  } else if (ea !== undefined && eb !== undefined) {
    return undefined; // a non-PickleError is reported as an escape on its own
  }
  return {
    signature: `errors differ: Unpickler ${endCode(ea)}`,
    message: `Unpickler stopped with ${describeEnd(ea)}, the stream with ${describeEnd(eb)}`,
  };
}

/**
 * Exact mode changes only how ints are represented, so `loads` must succeed or fail alike in
 * both modes, with the same error code (limits aside: their estimates differ by mode). The
 * signature names the mode that fails first (the other went past that point), by its error code,
 * opcode and reason with the numbers blanked, so that one bug gives one signature.
 */
function modeDifference(
  plain: Outcome,
  exact: Outcome,
): { signature: string; message: string } | undefined {
  const code = (o: Outcome) =>
    o.ok ? 'a value' : o.error instanceof PickleError ? o.error.code : undefined;
  const a = code(plain);
  const b = code(exact);
  if (a === undefined || b === undefined || a === b) return undefined;
  if (a === 'LIMIT_EXCEEDED' || b === 'LIMIT_EXCEEDED') return undefined;
  const text = (o: Outcome) => (o.ok ? 'a value' : describeError(o.error));
  const at = (o: Outcome) =>
    !o.ok && o.error instanceof PickleError ? (o.error.offset ?? Infinity) : Infinity;
  const exactFirst = plain.ok || (!exact.ok && at(exact) < at(plain));
  const first = (exactFirst ? exact : plain) as { error: PickleError };
  const shape = (e: PickleError) =>
    `${e.code}${e.opcode ? ` (${e.opcode})` : ''}: ${e.reason
      .replace(/0x[0-9a-f]+/gi, 'N')
      .replace(/\d+/g, 'N')
      .replace(/'[^']*'/g, "'…'")
      .slice(0, 80)}`;
  return {
    signature: `${exactFirst ? 'exact mode' : 'default mode'} fails first: ${shape(first.error)}`,
    message: `loads gives ${text(plain)}; loads with { exact: true } gives ${text(exact)}`,
  };
}

const HOOKS: UnpicklerOptions = {
  persistentLoad: (pid) => ({ pid }),
  buffers: [new Uint8Array([1, 2, 3]), new Uint8Array(0)],
};

/** numpy arrays, dtypes and scalars (pickle-ts/numpy), for the `loads numpy` target. */
const NUMPY = numpyRegistry();

/** How one target ran: its outcome, its time, and the memory it took. */
interface Run {
  outcome: Outcome;
  timeMs: number;
  /** Growth of the heap (and of memory outside it) while the result is still held. */
  heapGrowth: number;
}

let gcFunction: (() => void) | undefined;
/** `gc()`, made available without --expose-gc. */
export function gc(): void {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
}

/** The JavaScript heap in use plus memory held outside it (the `ArrayBuffer`s of bytes). */
export function heapNow(): number {
  const h = v8.getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

/** The process's peak resident memory so far, in bytes (it never goes down). */
function peakNow(): number {
  return process.resourceUsage().maxRSS * 1024;
}

type TargetFn = () => unknown;

async function measure(f: TargetFn): Promise<Run> {
  const h0 = heapNow();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let outcome: Outcome;
  try {
    const v = f();
    const value = v instanceof Promise ? ((await v) as unknown) : v;
    // loadAll and the stream catch their error to keep the values read before it
    outcome =
      isSequence(value) && value.error !== undefined
        ? { ok: false, error: value.error, value }
        : { ok: true, value };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const timeMs = Math.min(wallMs, (cpu.user + cpu.system) / 1000);
  return { outcome, timeMs, heapGrowth: heapNow() - h0 };
}

function isSequence(v: unknown): v is Sequence {
  return typeof v === 'object' && v !== null && SEQUENCE in v;
}

const MB = 2 ** 20;

/**
 * Runs every target on `data` and reports what the oracles find: escapes, slow targets, a
 * target taking more than `HEAP_PER_TARGET` of memory, and the stream disagreeing with the
 * `Unpickler`. Slow and memory findings are one per input, naming every target concerned.
 */
export async function runTargets(
  data: Uint8Array,
  rng: Rng,
  counts: Record<Target, number>,
  report: (f: Finding) => void,
  slowestMs?: Record<Target, number>,
): Promise<void> {
  const encoding: UnpicklerOptions = rng.chance(0.5)
    ? { encoding: 'latin1' }
    : rng.chance(0.5)
      ? { encoding: 'bytes' }
      : { encoding: 'utf-8', errors: 'replace' };
  const chunks = chunksOf(data, rng);
  const limits = FUZZ_LIMITS;
  const targets: Array<[Target, TargetFn]> = [
    ['loads', () => loads(data, { limits })],
    ['loads exact', () => loads(data, { exact: true, limits })],
    ['loads encoding', () => loads(data, { ...encoding, limits })],
    ['loads hooks', () => loads(data, { ...HOOKS, limits })],
    ['loads numpy', () => loads(data, { registry: NUMPY, limits })],
    ['loadAll', () => readAll(data, { limits })],
    ['stream', () => streamAll(chunks, { limits })],
    ['genops', () => [...genops(data)].length],
    ['dis', () => dis(data).length],
    ['optimize', () => optimize(data)],
    ['scan', () => scan(data, { inflateRaw })],
  ];
  let sequence: Sequence | undefined;
  let streamed: Sequence | undefined;
  const outcomes = new Map<Target, Outcome>();
  const slow: string[] = [];
  const memory: string[] = [];
  for (const [target, f] of targets) {
    const run = await measure(f);
    counts[target]++;
    judgeOutcome(target, run.outcome, data, report);
    outcomes.set(target, run.outcome);
    if (run.timeMs > SLOW_MS) {
      // Timed again after a GC, to rule out a collection or a busy machine. Memory a slow target
      // takes and gives back shows only in the peak resident memory, measured this time (it
      // never goes down, so the peak is seen when it is the highest of the run so far).
      gc();
      const peak0 = peakNow();
      let best = run.timeMs;
      for (let k = 0; k < RETIMINGS && best > SLOW_MS; k++) {
        best = Math.min(best, (await measure(f)).timeMs);
      }
      const peakGrowth = peakNow() - peak0;
      if (best > SLOW_MS) slow.push(`${target} ${best.toFixed(0)} ms`);
      if (slowestMs && best > slowestMs[target]) slowestMs[target] = best;
      if (peakGrowth > HEAP_PER_TARGET) {
        memory.push(`${target} (raised the peak memory by ${(peakGrowth / MB).toFixed(0)} MB)`);
      }
    } else if (slowestMs && run.timeMs > slowestMs[target]) {
      slowestMs[target] = run.timeMs;
    }
    if (run.heapGrowth > HEAP_PER_TARGET) {
      gc();
      const again = await measure(f);
      if (again.heapGrowth > HEAP_PER_TARGET) {
        memory.push(`${target} (held ${(again.heapGrowth / MB).toFixed(0)} MB)`);
      }
    }
    const value = run.outcome.value;
    if (target === 'loadAll' && isSequence(value)) sequence = value;
    if (target === 'stream' && isSequence(value)) streamed = value;
  }
  const names = (list: string[]) => list.map((t) => t.replace(/ [(\d].*$/, '')).join(', ');
  if (slow.length > 0) {
    report({
      kind: 'slow',
      target: slow[0]!,
      signature: `slow: ${names(slow)}`,
      message: `over ${SLOW_MS} ms ${RETIMINGS + 1} times on ${data.length} bytes: ${slow.join(', ')}`,
      input: data,
    });
  }
  if (memory.length > 0) {
    report({
      kind: 'heap',
      target: memory[0]!,
      signature: `memory: ${names(memory)}`,
      message: `over ${HEAP_PER_TARGET / MB} MB on ${data.length} bytes: ${memory.join(', ')}`,
      input: data,
    });
  }
  const m = modeDifference(outcomes.get('loads')!, outcomes.get('loads exact')!);
  if (m) {
    report({
      kind: 'mode-mismatch',
      target: 'loads exact',
      signature: `mode-mismatch: ${m.signature}`,
      message: m.message,
      input: data,
    });
  }
  let d: ReturnType<typeof sequenceDifference>;
  try {
    d = sequence && streamed ? sequenceDifference(sequence, streamed) : undefined;
  } catch {
    d = undefined; // values too large for the comparison (a huge bytes object): not judged
  }
  if (d) {
    report({
      kind: 'stream-mismatch',
      target: 'stream',
      signature: `stream-mismatch: ${d.signature}`,
      message: `${d.message} (chunk sizes: ${chunks
        .slice(0, 12)
        .map((c) => c.length)
        .join(',')}${chunks.length > 12 ? ',…' : ''})`,
      input: data,
    });
  }
}

function judgeOutcome(
  target: Target,
  o: Outcome,
  data: Uint8Array,
  report: (f: Finding) => void,
): void {
  if (!o.ok) {
    if (target !== 'scan' && o.error instanceof PickleError) return;
    report({
      kind: 'escape',
      target,
      signature: `escape: ${errorSignature(o.error)}`,
      message: `${target} threw ${describeError(o.error)}`,
      input: data,
      detail: o.error instanceof Error ? o.error.stack : undefined,
    });
  } else if (target === 'scan') {
    const verdict = (o.value as { verdict?: unknown }).verdict;
    if (!['safe', 'suspicious', 'dangerous', 'malformed'].includes(String(verdict))) {
      report({
        kind: 'escape',
        target,
        signature: `scan: bad verdict ${String(verdict)}`,
        message: `scan gave the verdict ${String(verdict)}`,
        input: data,
      });
    }
  }
}

/** Replays one input through every target (for `--replay` and the regression tests). */
export async function replay(data: Uint8Array, rng: Rng): Promise<Finding[]> {
  const findings: Finding[] = [];
  const counts = Object.fromEntries(TARGETS.map((t) => [t, 0])) as Record<Target, number>;
  await runTargets(data, rng, counts, (f) => findings.push(f));
  return findings;
}
