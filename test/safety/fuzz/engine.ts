/**
 * The fuzz loop, shared by `npm run fuzz` (scripts/fuzz.ts) and the CI pass
 * (test/safety/fuzz.test.ts). Until time is up it alternates:
 * - mutation rounds: a seed from the valid corpus (or a pickle written for a generated value),
 *   mutated, run through every target (targets.ts);
 * - value rounds: a random valid value (values.ts), which must round-trip through every
 *   protocol 0-5 in its mode; its pickles join the seeds, and a sample goes to python3.
 * It watches the heap: an input that grows it by more than 64 MB, and a heap that keeps growing
 * over the run (measured after a GC), are findings.
 */
import fc from 'fast-check';
import v8 from 'node:v8';
import { StreamUnpickler, dumps, loads, type UnpicklerOptions } from '../../../src/index.js';
import { dis, genops, optimize } from '../../../src/tools/index.js';
import { scan } from '../../../src/scan/index.js';
import { difference } from '../../helpers/equal.js';
import { hasPython } from '../../helpers/python.js';
import { toTagged } from '../../helpers/tagged.js';
import { fixtureSeeds, pythonCorpusSeeds, type Seed } from './corpus.js';
import { MUTATORS, mutate } from './mutators.js';
import { checkInPython, type PythonCase } from './python.js';
import { Rng } from './rng.js';
import {
  SLOW_MS,
  TARGETS,
  chunksOf,
  errorSignature,
  gc,
  runTargets,
  type Finding,
  type Target,
} from './targets.js';
import { byteIdenticalInPython, pyValue, type ValueMode } from './values.js';

const MB = 1024 * 1024;
/** The heap (after GC) growing by more than this over a run is a finding. */
export const HEAP_GROWTH = 64 * MB;
const PROTOCOLS = [0, 1, 2, 3, 4, 5];

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Largest input (longer seeds and mutants are cut to it). Defaults to 64 KiB. */
  maxBytes?: number;
  /** Check a sample of generated pickles in python3. Defaults to whether python3 runs. */
  python?: boolean;
  /**
   * Which rounds to run: mutants of the corpus, generated values, or both (one value round in
   * 25). Defaults to both.
   */
  rounds?: 'both' | 'mutation' | 'values';
  /** Called about once a second. */
  onProgress?: (stats: FuzzStats) => void;
  /** Called for each new finding (after minimizing it). */
  onFinding?: (finding: StoredFinding) => void;
  /** Called before each input runs, with the input (or a value's description). */
  checkpoint?: (what: Uint8Array | string) => void;
}

export interface FuzzStats {
  seed: number;
  elapsedMs: number;
  /** Inputs run through the targets (mutants and seeds). */
  inputs: number;
  /** Inputs run per target. */
  runs: Record<Target, number>;
  /** The longest one input took in each target (ms; the better of two timings when over). */
  slowestMs: Record<Target, number>;
  /** Times each mutator was applied. */
  mutators: Record<string, number>;
  seeds: number;
  /** Generated values checked, and their round trips (value x protocol). */
  values: number;
  roundTrips: number;
  /** Pickles of generated values checked by python3. */
  pythonChecked: number;
  /** Heap used after GC, sampled over the run (MB). */
  heapMb: number[];
}

export interface StoredFinding extends Finding {
  /** How many inputs showed it. */
  count: number;
}

export interface FuzzResult {
  stats: FuzzStats;
  findings: StoredFinding[];
}

function shorten(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n)}…(${text.length} chars)` : text;
}

function describeValue(v: unknown, exact: boolean): string {
  try {
    return shorten(JSON.stringify(toTagged(v, { exact })), 4000);
  } catch (e) {
    return `(no tagged form: ${String(e)})`;
  }
}

/** Keeps pickles written for generated values, within a byte budget, as seeds. */
class GeneratedPool {
  private readonly items: Uint8Array[] = [];
  private bytes = 0;
  private next = 0;

  constructor(
    private readonly maxItems: number,
    private readonly maxBytes: number,
  ) {}

  add(b: Uint8Array): void {
    if (b.length > this.maxBytes / 16) return;
    if (this.items.length < this.maxItems && this.bytes + b.length <= this.maxBytes) {
      this.items.push(b);
      this.bytes += b.length;
      return;
    }
    const i = this.next++ % this.items.length;
    this.bytes += b.length - this.items[i]!.length;
    this.items[i] = b;
  }

  get size(): number {
    return this.items.length;
  }

  /** A random item, of at most `maxBytes` if one of the first few tried is that small. */
  pick(rng: Rng, maxBytes = Infinity): Uint8Array | undefined {
    if (this.items.length === 0) return undefined;
    let item = rng.pick(this.items);
    for (let i = 0; i < 4 && item.length > maxBytes; i++) item = rng.pick(this.items);
    return item;
  }
}

export class Fuzzer {
  readonly stats: FuzzStats;
  private readonly findings = new Map<string, StoredFinding>();
  private readonly rng: Rng;
  private readonly maxBytes: number;
  private seeds: Seed[] = [];
  private smallSeeds: Seed[] = [];
  private readonly pool = new GeneratedPool(4000, 8 * MB);
  private readonly arbitraries: Record<'exact' | 'default', fc.Arbitrary<unknown>> = {
    exact: pyValue({ exact: true }),
    default: pyValue({ exact: false }),
  };
  private readonly valueQueue: Array<{ value: unknown; mode: ValueMode }> = [];
  private pythonBatch: PythonCase[] = [];
  private pythonPending: Promise<void> | undefined;
  private readonly python: boolean;
  private readonly toMinimize: string[] = [];

  constructor(private readonly options: FuzzOptions) {
    this.rng = new Rng(options.seed);
    this.maxBytes = options.maxBytes ?? 64 * 1024;
    this.python = options.python ?? hasPython();
    this.stats = {
      seed: options.seed,
      elapsedMs: 0,
      inputs: 0,
      runs: Object.fromEntries(TARGETS.map((t) => [t, 0])) as Record<Target, number>,
      slowestMs: Object.fromEntries(TARGETS.map((t) => [t, 0])) as Record<Target, number>,
      mutators: Object.fromEntries(MUTATORS.map(([name]) => [name, 0])),
      seeds: 0,
      values: 0,
      roundTrips: 0,
      pythonChecked: 0,
      heapMb: [],
    };
  }

  /** Runs until the time is up. */
  async run(): Promise<FuzzResult> {
    const start = performance.now();
    const rounds = this.options.rounds ?? 'both';
    this.seeds = [
      ...(this.python ? await pythonCorpusSeeds(this.maxBytes) : []),
      ...fixtureSeeds(this.maxBytes),
    ];
    this.smallSeeds = this.seeds.filter((s) => s.bytes.length <= 8192);
    this.stats.seeds = this.seeds.length;
    const deadline = start + this.options.seconds * 1000;
    let lastProgress = start;
    let round = 0;
    gc();
    // Every seed once, unmutated, then mutants and values until the time is up.
    for (const s of rounds === 'values' ? [] : this.seeds) {
      if (performance.now() >= deadline) break;
      await this.input(s.bytes);
    }
    while (performance.now() < deadline) {
      round++;
      const value = rounds === 'values' || (rounds === 'both' && round % 25 === 0);
      if (value) await this.valueRound();
      else await this.mutationRound();
      if (round % 2000 === 0) this.sampleHeap();
      const now = performance.now();
      if (now - lastProgress > 1000) {
        lastProgress = now;
        this.stats.elapsedMs = now - start;
        this.options.onProgress?.(this.stats);
        // Let I/O run (progress messages, python3's answers): the targets only queue microtasks.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await this.flushPython(true);
    this.sampleHeap();
    this.checkGrowth();
    this.stats.elapsedMs = performance.now() - start;
    return { stats: this.stats, findings: [...this.findings.values()] };
  }

  private async mutationRound(): Promise<void> {
    const rng = this.rng;
    const fromPool = rng.chance(0.3)
      ? this.pool.pick(rng, rng.chance(0.9) ? 8192 : Infinity)
      : undefined;
    const base =
      fromPool ??
      rng.pick(rng.chance(0.95) && this.smallSeeds.length ? this.smallSeeds : this.seeds).bytes;
    const otherSeed = () =>
      (rng.chance(0.5) ? this.pool.pick(rng) : undefined) ?? rng.pick(this.seeds).bytes;
    const { bytes, used } = mutate(base, { rng, other: otherSeed }, this.maxBytes);
    for (const name of used) this.stats.mutators[name]!++;
    await this.input(bytes);
  }

  /** Runs one input through every target. */
  private async input(bytes: Uint8Array): Promise<void> {
    this.options.checkpoint?.(bytes);
    this.stats.inputs++;
    const rng = this.rng.fork();
    await runTargets(bytes, rng, this.stats.runs, (f) => this.report(f), this.stats.slowestMs);
    await this.minimizeNew();
  }

  private nextValue(): { value: unknown; mode: ValueMode } {
    if (this.valueQueue.length === 0) {
      const exact = this.rng.chance(0.5);
      const arb = exact ? this.arbitraries.exact : this.arbitraries.default;
      for (const value of fc.sample(arb, { seed: this.rng.u32() | 0, numRuns: 20 })) {
        this.valueQueue.push({ value, mode: { exact } });
      }
    }
    return this.valueQueue.shift()!;
  }

  /** One generated value: every protocol, every reader, and a sample to python3. */
  private async valueRound(): Promise<void> {
    const { value, mode } = this.nextValue();
    const exact = mode.exact;
    const description = () => describeValue(value, exact);
    this.options.checkpoint?.(`value (${exact ? 'exact' : 'default'} mode): ${description()}`);
    this.stats.values++;
    const toPython = this.python && this.rng.chance(0.5);
    const identical = toPython && byteIdenticalInPython(value);
    const expect = toPython ? toTagged(value, { exact }) : undefined;
    const loadOptions: UnpicklerOptions = exact ? { exact: true } : {};
    for (const protocol of PROTOCOLS) {
      this.stats.roundTrips++;
      const where = `p${protocol}${exact ? ' exact' : ''}`;
      const fail = (step: string, what: string, input?: Uint8Array, error?: unknown) =>
        this.report({
          kind: 'roundtrip',
          target: `${step} ${where}`,
          signature: `roundtrip ${step}: ${error === undefined ? what.replace(/\d+/g, 'N').slice(0, 80) : errorSignature(error)}`,
          message: `${step} at protocol ${protocol}${exact ? ' (exact mode)' : ''}: ${what}`,
          input,
          detail: `value: ${description()}`,
        });
      let b: Uint8Array;
      try {
        b = dumps(value, { protocol, exact });
      } catch (e) {
        fail('dumps', `threw ${String(e)}`, undefined, e);
        continue;
      }
      this.pool.add(b);
      const check = (step: string, f: () => unknown) => {
        try {
          const t0 = performance.now();
          const got = f();
          const ms = performance.now() - t0;
          const d = difference(got, value);
          if (d) fail(step, `value differs: ${d}`, b);
          else if (ms > SLOW_MS && step === 'loads') {
            const t1 = performance.now();
            f();
            const again = performance.now() - t1;
            if (again > SLOW_MS) fail('slow loads', `took ${again.toFixed(0)} ms`, b);
          }
        } catch (e) {
          fail(step, `threw ${String(e)}`, b, e);
        }
      };
      check('loads', () => loads(b, loadOptions));
      check('optimize', () => loads(optimize(b), loadOptions));
      try {
        for (const _ of genops(b)) void _;
        dis(b);
        const verdict = scan(b).verdict;
        if (verdict !== 'safe') fail('scan', `verdict ${verdict}, expected safe`, b);
      } catch (e) {
        fail('genops/dis/scan', `threw ${String(e)}`, b, e);
      }
      try {
        const got = await new StreamUnpickler(chunksOf(b, this.rng), loadOptions).load();
        const d = difference(got, value);
        if (d) fail('stream', `value differs: ${d}`, b);
      } catch (e) {
        fail('stream', `threw ${String(e)}`, b, e);
      }
      await this.minimizeNew();
      if (toPython && expect) this.pythonBatch.push({ pickle: b, protocol, expect, identical });
    }
    if (this.pythonBatch.length >= 300) await this.flushPython(false);
  }

  /** Sends the batch to python3; waits for the one before (and, at the end, for this one). */
  private async flushPython(wait: boolean): Promise<void> {
    await this.pythonPending;
    const batch = this.pythonBatch;
    this.pythonBatch = [];
    if (batch.length > 0) {
      this.pythonPending = checkInPython(batch).then(
        (problems) => {
          this.stats.pythonChecked += batch.length;
          for (const p of problems) {
            const c = batch[p.index]!;
            this.report({
              kind: 'python',
              target: `python p${c.protocol}`,
              signature: `python: ${p.problem
                .replace(/[0-9a-f]{6,}/g, 'HEX')
                .replace(/\d+/g, 'N')
                .slice(0, 90)}`,
              message: `protocol ${c.protocol}: ${p.problem}`,
              input: c.pickle,
              detail: `value: ${shorten(JSON.stringify(c.expect), 4000)}`,
            });
          }
        },
        (e: unknown) => {
          this.report({
            kind: 'python',
            target: 'python',
            signature: `python: the oracle failed: ${String(e).slice(0, 60)}`,
            message: `python3 check failed: ${String(e)}`,
          });
        },
      );
    }
    if (wait) await this.pythonPending;
  }

  private sampleHeap(): void {
    gc();
    this.stats.heapMb.push(Math.round(v8.getHeapStatistics().used_heap_size / MB));
  }

  /** A heap that grew by more than HEAP_GROWTH between the start (after warm-up) and the end. */
  private checkGrowth(): void {
    const h = this.stats.heapMb;
    if (h.length < 6) return;
    const early = Math.min(...h.slice(1, 4));
    const late = Math.min(...h.slice(-3));
    if ((late - early) * MB > HEAP_GROWTH) {
      this.report({
        kind: 'leak',
        target: 'all',
        signature: 'leak: the heap keeps growing',
        message: `the heap after GC grew from ${early} MB to ${late} MB over ${this.stats.inputs} inputs (samples: ${h.join(', ')})`,
      });
    }
  }

  report(f: Finding): void {
    const known = this.findings.get(f.signature);
    if (known) {
      known.count++;
      if (f.input && known.input && f.input.length < known.input.length) {
        this.findings.set(f.signature, { ...f, count: known.count });
      }
      return;
    }
    this.findings.set(f.signature, { ...f, count: 1 });
    if (f.input && ['escape', 'stream-mismatch', 'mode-mismatch'].includes(f.kind)) {
      this.toMinimize.push(f.signature);
    } else {
      this.options.onFinding?.(this.findings.get(f.signature)!);
    }
  }

  /** Minimizes the new findings' inputs, then hands them on. */
  private async minimizeNew(): Promise<void> {
    while (this.toMinimize.length > 0) {
      const signature = this.toMinimize.shift()!;
      const f = this.findings.get(signature)!;
      const smaller = await minimize(f.input!, signature);
      const now = this.findings.get(signature)!;
      if (smaller.length < (now.input?.length ?? Infinity)) {
        // The message (chunk sizes, offsets) is about the input as found.
        const message = `${now.message} [input minimized from ${now.input?.length} to ${smaller.length} bytes]`;
        this.findings.set(signature, { ...now, input: smaller, message });
      }
      this.options.onFinding?.(this.findings.get(signature)!);
    }
  }
}

/** Whether `input` shows the finding `signature` again (with a few chunkings for the stream). */
export async function showsAgain(input: Uint8Array, signature: string): Promise<boolean> {
  for (let seed = 1; seed <= 3; seed++) {
    let seen = false;
    const counts = Object.fromEntries(TARGETS.map((t) => [t, 0])) as Record<Target, number>;
    await runTargets(input, new Rng(seed), counts, (f) => {
      if (f.signature === signature) seen = true;
    });
    if (seen) return true;
  }
  return false;
}

/**
 * Cuts an input down while it still shows the finding: removes ever smaller chunks (a light
 * delta debugging), for at most a few seconds.
 */
export async function minimize(
  input: Uint8Array,
  signature: string,
  budgetMs = 3000,
): Promise<Uint8Array> {
  const deadline = performance.now() + budgetMs;
  let current = input;
  for (let chunk = current.length >> 1; chunk >= 1; chunk >>= 1) {
    for (let at = 0; at < current.length;) {
      if (performance.now() > deadline) return current;
      const candidate = new Uint8Array(current.length - Math.min(chunk, current.length - at));
      candidate.set(current.subarray(0, at));
      candidate.set(current.subarray(at + chunk), at);
      if (await showsAgain(candidate, signature)) current = candidate;
      else at += chunk;
    }
  }
  return current;
}
