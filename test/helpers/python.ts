/**
 * The Python oracle: one python3 process per test file (test/python/oracle.py), spoken to in JSON
 * lines. Tests that need it call `oracle(t)`: on a machine without python3 they are skipped with
 * a message, except under CI=true, where a missing python3 fails the run.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import type { Tagged } from './tagged.js';

const ORACLE = fileURLToPath(new URL('../python/oracle.py', import.meta.url));
export const PYTHON = process.env.PICKLE_TS_PYTHON ?? 'python3';

let available: boolean | undefined;

/** Whether python3 runs here. */
export function hasPython(): boolean {
  if (available === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import sys; assert sys.version_info >= (3, 8)'], {
      stdio: 'ignore',
    });
    available = r.status === 0;
  }
  return available;
}

export interface PyError {
  type: string;
  message: string;
}

type Response = Record<string, unknown> & { fatal?: string; trace?: string };

class Oracle {
  private proc: ChildProcessWithoutNullStreams;
  private waiting: Array<{ resolve: (r: Response) => void; reject: (e: Error) => void }> = [];
  private stderr = '';

  constructor() {
    this.proc = spawn(PYTHON, [ORACLE], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const lines = createInterface({ input: this.proc.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const w = this.waiting.shift();
      if (this.waiting.length === 0) this.hold(false);
      if (!w) return;
      const r = JSON.parse(line) as Response;
      if (r.fatal) w.reject(new Error(`oracle: ${r.fatal}\n${r.trace ?? ''}`));
      else w.resolve(r);
    });
    this.proc.on('exit', (code) => {
      for (const w of this.waiting.splice(0))
        w.reject(new Error(`oracle exited (${code}): ${this.stderr}`));
    });
    this.hold(false);
  }

  /** Keeps the test process alive only while an answer is awaited. */
  private hold(on: boolean): void {
    type Handle = { ref?: () => void; unref?: () => void };
    for (const h of [this.proc, this.proc.stdout, this.proc.stderr, this.proc.stdin] as Handle[]) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }

  request<T extends Response>(req: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.waiting.length === 0) this.hold(true);
      this.waiting.push({ resolve: resolve as (r: Response) => void, reject });
      this.proc.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  close(): void {
    this.proc.stdin.end();
  }
}

let shared: Oracle | undefined;

const b64 = (data: Uint8Array) =>
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');

export interface CorpusCase {
  name: string;
  tagged: Tagged;
  /** CPython 3's pickle of the value at protocols 0 to 5. */
  pickles: Uint8Array[];
}

/** The live oracle's API. */
export const py = {
  async corpus(): Promise<CorpusCase[]> {
    const r = await get().request<{
      cases: Array<{ name: string; tagged: Tagged; pickles: string[] }>;
    }>({
      op: 'corpus',
    });
    return r.cases.map((c) => ({
      name: c.name,
      tagged: c.tagged,
      pickles: c.pickles.map((h) => new Uint8Array(Buffer.from(h, 'hex'))),
    }));
  },
  /** Python loads `data` (with pickle.loads kwargs) and compares with `expect`. */
  async check(
    data: Uint8Array,
    expect: Tagged,
    kwargs: Record<string, unknown> = {},
  ): Promise<string | undefined> {
    const r = await get().request<{ ok: boolean; diff?: string; error?: string }>({
      op: 'check',
      data: b64(data),
      expect,
      kwargs,
    });
    return r.ok ? undefined : (r.error ?? r.diff ?? 'not equal');
  },
  /** Python's `pickle.loads(data, **kwargs)` as tagged JSON, or the exception it raised. */
  async load(
    data: Uint8Array,
    kwargs: Record<string, unknown> = {},
  ): Promise<{ tagged?: Tagged; error?: PyError }> {
    return get().request({ op: 'load', data: b64(data), kwargs });
  },
  async dumps(tagged: Tagged, protocol: number): Promise<Uint8Array> {
    const r = await get().request<{ data: string }>({ op: 'dumps', tagged, protocol });
    return new Uint8Array(Buffer.from(r.data, 'base64'));
  },
  /** Runs Python `code` (with `data` bound to bytes if given); returns its `result`. */
  async eval(code: string, data?: Uint8Array): Promise<{ tagged?: Tagged; error?: PyError }> {
    return get().request({ op: 'eval', code, ...(data ? { data: b64(data) } : {}) });
  },
  /** Runs Python `code` whose `result` is bytes, and returns them. */
  async bytes(code: string, data?: Uint8Array): Promise<Uint8Array> {
    const r = await py.eval(code, data);
    if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
    const t = r.tagged as { t: string; v: string };
    if (t.t !== 'bytes') throw new Error(`python result is ${t.t}, not bytes`);
    return new Uint8Array(Buffer.from(t.v, 'hex'));
  },
};

function get(): Oracle {
  shared ??= new Oracle();
  return shared;
}

/**
 * Call at the start of a test that needs python3. Returns false (and skips the test) when python3
 * is missing on a user's machine; under CI=true a missing python3 is a failure.
 */
export function needPython(t: TestContext): boolean {
  if (hasPython()) return true;
  if (process.env.CI === 'true') {
    throw new Error(`python3 is required under CI=true, but "${PYTHON}" did not run`);
  }
  t.skip(
    `python3 not found: this test compares against live CPython (set PICKLE_TS_PYTHON to use another)`,
  );
  return false;
}
