/**
 * `scan(bytes)`: recognizes the container (a pickle stream, a zip such as a PyTorch checkpoint
 * or an `.npz`, an `.npy` array, a joblib file, a legacy PyTorch file), runs every pickle in it
 * through the pickle machine, follows nested pickles, and gives one verdict.
 */
import { PickleError } from '../core/errors.js';
import { PickleMachine, type MachineFinding, type MachineHost } from './machine.js';
import {
  ContainerError,
  TORCH_LEGACY_MAGIC,
  isNpy,
  isZip,
  readNpyHeader,
  readZipDirectory,
  zipMemberData,
} from './formats.js';
import { Policy, rank, worst } from './policy.js';
import type {
  Finding,
  ScanError,
  ScanOptions,
  ScanResult,
  ScanSection,
  Severity,
  Verdict,
} from './types.js';

/** Where the pickle being scanned is. */
interface Location {
  section: string;
  pickle: number;
  nested: readonly number[];
}

const PICKLE_MEMBER = /\.(pkl|pickle|pck|p)$/i;

class Scan implements MachineHost {
  readonly policy: Policy;
  readonly extensions: ReadonlyMap<number, readonly [string, string]> | undefined;
  private readonly findings: Finding[] = [];
  private readonly errors: ScanError[] = [];
  private readonly sections: ScanSection[] = [];
  private readonly maxFindings: number;
  private readonly maxDepth: number;
  private omitted = 0;
  private pickles = 0;
  private nestedBudget: number;
  private readonly nestedSeen = new WeakMap<Uint8Array, Severity>();
  private at: Location = { section: '', pickle: 0, nested: [] };
  /** The worst severity reported since the current nested scan began. */
  private worstSince: Severity = 'safe';

  constructor(
    private readonly options: ScanOptions,
    inputLength: number,
  ) {
    this.policy = new Policy(options);
    this.extensions = options.extensions;
    this.maxFindings = options.maxFindings ?? 100_000;
    this.maxDepth = options.maxNestingDepth ?? 8;
    this.nestedBudget = Math.max(4 * inputLength, 1 << 20);
  }

  /** Set while following a joblib file as plain pickle.load reads it. */
  private plainReading = false;
  private readonly reported = new Set<string>();

  report(f: MachineFinding): void {
    const key = `${this.at.section}\n${this.at.nested.join(',')}\n${f.offset}\n${f.kind}\n${f.module}\n${f.name}`;
    if (this.plainReading) {
      // Only what plain pickle.load would add: dangerous findings not already reported. (Its
      // reading of benign joblib data is nonsense Python gives up on: names from array bytes,
      // an object array's pickle read with the outer memo. Unknown names there mean nothing.)
      if (f.severity !== 'dangerous' || this.reported.has(key)) return;
      f = {
        ...f,
        reason: `if read by plain pickle.load, not joblib (which skips these bytes as array data): ${f.reason}`,
      };
    }
    if (f.severity !== 'safe') this.reported.add(key);
    this.worstSince = worst(this.worstSince, f.severity);
    if (f.severity === 'safe' && this.findings.length >= this.maxFindings) {
      this.omitted++;
      return;
    }
    const { section, pickle, nested } = this.at;
    this.findings.push({ ...f, section, pickle, ...(nested.length > 0 ? { nested } : {}) });
  }

  private fail(error: unknown, section: string, pickle: number): void {
    if (error instanceof PickleError) {
      this.errors.push({
        section,
        pickle,
        offset: error.offset ?? 0,
        opcode: error.opcode,
        code: error.code,
        message: error.message,
      });
    } else if (error instanceof ContainerError) {
      this.errors.push({
        section,
        pickle,
        offset: error.offset,
        opcode: undefined,
        code: 'BAD_CONTAINER',
        message: error.message,
      });
    } else {
      throw error;
    }
  }

  /** Scans a whole input (or nested file) by its format; returns the format's name. */
  scanContainer(data: Uint8Array, section: string): string {
    if (isZip(data)) return this.scanZip(data, section);
    if (isNpy(data)) {
      this.scanNpy(data, section);
      return 'npy';
    }
    return this.scanStream(data, 0, section, false);
  }

  private scanZip(data: Uint8Array, section: string): string {
    const prefix = section === '' ? '' : `${section}/`;
    let members;
    try {
      members = readZipDirectory(data);
    } catch (e) {
      this.fail(e, section, 0);
      return 'zip';
    }
    const isTorch = members.some((m) => /(^|\/)data\.pkl$/.test(m.name));
    const isNpz = members.length > 0 && members.every((m) => m.name.endsWith('.npy'));
    for (const member of members) {
      const name = prefix + member.name;
      const pickle = PICKLE_MEMBER.test(member.name);
      const npy = member.name.endsWith('.npy');
      if (isTorch && /(^|\/)code\/.*\.py$/.test(member.name)) {
        this.at = { section: name, pickle: 0, nested: this.at.nested };
        this.report({
          offset: member.offset,
          opcode: '',
          kind: 'code',
          module: '',
          name: member.name,
          severity: 'suspicious',
          reason: 'TorchScript source: torch.jit.load compiles and runs it (torch.load does not)',
        });
      }
      if (!pickle && !npy) continue;
      let bytes;
      try {
        bytes = zipMemberData(data, member, this.options.inflateRaw);
      } catch (e) {
        this.fail(e, name, 0);
        continue;
      }
      if (npy) this.scanNpy(bytes, name);
      else this.scanStream(bytes, 0, name, false);
    }
    return isTorch ? 'torch-zip' : isNpz ? 'npz' : 'zip';
  }

  private scanNpy(data: Uint8Array, section: string): void {
    let header;
    try {
      header = readNpyHeader(data);
    } catch (e) {
      this.fail(e, section, 0);
      return;
    }
    if (!header.hasObject) {
      this.sections.push({ name: section, format: 'npy', pickles: 0 });
      return;
    }
    // numpy.load(allow_pickle=True) reads one pickle after the header.
    this.scanStream(data, header.dataStart, section, true, 'npy');
  }

  /**
   * Scans the pickles from `start` to the end (or just one). A legacy `torch.save` file is five
   * pickles then raw storage bytes; joblib's arrays are skipped by the machine.
   */
  private scanStream(
    data: Uint8Array,
    start: number,
    section: string,
    justOne: boolean,
    format = 'pickle',
  ): string {
    const saved = this.at;
    let count = 0;
    let pos = start;
    let label = format;
    let limit = justOne ? 1 : Infinity;
    if (data.length === start) {
      this.fail(
        new ContainerError('no pickle: the input is empty (Python raises EOFError)', start),
        section,
        0,
      );
    }
    try {
      while (pos < data.length && count < limit) {
        this.at = { section, pickle: count, nested: saved.nested };
        const run = new PickleMachine(this, data).run(pos);
        if (this.at.nested.length === 0) this.pickles++;
        count++;
        pos = run.end;
        if (run.joblib) label = 'joblib';
        if (
          count === 1 &&
          !justOne &&
          run.value.kind === 'const' &&
          run.value.value === TORCH_LEGACY_MAGIC
        ) {
          // magic, protocol version, system info, the object, storage keys; then raw storages.
          limit = 5;
          label = 'torch-legacy';
        }
      }
      if (label === 'torch-legacy' && count < 5) {
        throw new ContainerError('legacy PyTorch file ended before its five pickles', pos);
      }
    } catch (e) {
      this.fail(e, section, count);
    } finally {
      this.at = saved;
    }
    this.runPlainReadings();
    if (saved.nested.length === 0)
      this.sections.push({ name: section, format: label, pickles: count });
    return label;
  }

  /** Plain-pickle readings of joblib files, run after the joblib reading of their stream. */
  private readonly plainReadings: Array<{ at: Location; bytes: number; run: () => void }> = [];

  readAsPlainPickle(bytes: number, continuation: () => void): void {
    if (!this.plainReading) this.plainReadings.push({ at: this.at, bytes, run: continuation });
  }

  /** Runs the queued plain readings: only dangerous findings joblib's reading did not have. */
  private runPlainReadings(): void {
    const saved = this.at;
    for (let next = this.plainReadings.shift(); next; next = this.plainReadings.shift()) {
      this.at = next.at;
      if (next.bytes > this.nestedBudget) {
        this.report({
          offset: 0,
          opcode: '',
          kind: 'import',
          module: '',
          name: '<joblib array bytes>',
          severity: 'suspicious',
          reason: 'too many joblib arrays to also read them as plain pickle.load would',
        });
        continue;
      }
      this.nestedBudget -= next.bytes;
      this.plainReading = true;
      try {
        next.run();
      } catch (e) {
        // Plain pickle.load stops at the first error, having run what came before it.
        if (!(e instanceof PickleError)) throw e;
      } finally {
        this.plainReading = false;
      }
    }
    this.at = saved;
  }

  /** joblib object arrays: a whole pickle written inline after the wrapper's BUILD. */
  scanInlinePickle(data: Uint8Array, start: number): number {
    const saved = this.at;
    try {
      this.at = { ...saved, pickle: saved.pickle + 1 };
      const run = new PickleMachine(this, data).run(start);
      if (saved.nested.length === 0) this.pickles++;
      return run.end;
    } finally {
      this.at = saved;
    }
  }

  scanNested(data: Uint8Array, callOffset: number, asFile: boolean): Severity | undefined {
    const cached = this.nestedSeen.get(data);
    if (cached !== undefined) return cached;
    if (this.at.nested.length >= this.maxDepth || data.length > this.nestedBudget) return undefined;
    this.nestedBudget -= data.length;
    const saved = this.at;
    const savedWorst = this.worstSince;
    this.worstSince = 'safe';
    this.at = { ...saved, nested: [...saved.nested, callOffset] };
    const errorsBefore = this.errors.length;
    try {
      if (asFile) this.scanContainer(data, saved.section);
      else this.scanStream(data, 0, saved.section, true);
    } finally {
      this.at = saved;
    }
    // A nested pickle that breaks makes the outer call fail in Python: judged as not safe.
    const inner =
      this.errors.length > errorsBefore ? worst(this.worstSince, 'suspicious') : this.worstSince;
    this.worstSince = worst(savedWorst, inner);
    this.nestedSeen.set(data, inner);
    return inner;
  }

  result(format: string): ScanResult {
    const severities = this.findings.map((f) => f.severity);
    const top = severities.reduce<Severity>((a, b) => worst(a, b), 'safe');
    const verdict: Verdict =
      top === 'dangerous' ? 'dangerous' : this.errors.length > 0 ? 'malformed' : top;
    return {
      verdict,
      findings: this.findings,
      pickles: this.pickles,
      format,
      sections: this.sections,
      errors: this.errors,
      omittedSafeFindings: this.omitted,
    };
  }
}

/**
 * Scans a pickle (or a file holding pickles) for what it would import and call in Python,
 * without running anything, and gives a verdict.
 *
 * @example
 * ```ts
 * import { scan } from 'pickle-ts/scan';
 * const report = scan(bytes);
 * if (report.verdict !== 'safe') {
 *   for (const f of report.findings.filter((f) => f.severity !== 'safe'))
 *     console.log(`byte ${f.offset}: ${f.module}.${f.name} (${f.severity}): ${f.reason}`);
 * }
 * ```
 */
export function scan(data: Uint8Array, options: ScanOptions = {}): ScanResult {
  const s = new Scan(options, data.length);
  const format = s.scanContainer(data, '');
  return s.result(format);
}

/** The verdicts from best to worst as the CLI ranks them: safe, suspicious, malformed, dangerous. */
export function verdictRank(verdict: Verdict): number {
  return verdict === 'malformed' ? 1.5 : rank(verdict);
}
