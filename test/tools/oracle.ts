/**
 * Batched calls to test/python/tools_oracle.py: many pickles in one blob, one round trip to the
 * Python oracle per batch.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { py } from '../helpers/python.js';

export interface PyDis {
  text: string;
  end?: number;
  error?: string;
  type?: string;
  /** Offset of the opcode pickletools was at when it failed. */
  at?: number;
}

export interface PyOptimize {
  hex?: string;
  diff?: string | null;
  error?: string;
}

/** Concatenates pickles; returns the blob and each one's [offset, length]. */
export function pack(items: readonly Uint8Array[]): {
  blob: Uint8Array;
  spans: Array<[number, number]>;
} {
  const total = items.reduce((n, b) => n + b.length, 0);
  const blob = new Uint8Array(total);
  const spans: Array<[number, number]> = [];
  let at = 0;
  for (const b of items) {
    blob.set(b, at);
    spans.push([at, b.length]);
    at += b.length;
  }
  return { blob, spans };
}

async function call<T>(expr: string, blob: Uint8Array): Promise<T> {
  const r = await py.eval(`import tools_oracle as t\nresult = ${expr}`, blob);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  const tagged = r.tagged as { t: string; v: string };
  return JSON.parse(tagged.v) as T;
}

export async function pyDisMany(
  items: readonly Uint8Array[],
  annotate: number,
  indentlevel = 4,
): Promise<PyDis[]> {
  const { blob, spans } = pack(items);
  const cases = spans.map(([o, n]) => [o, n, annotate, indentlevel]);
  return call(`t.dis_many(data, ${JSON.stringify(cases)})`, blob);
}

export async function pyDisStream(data: Uint8Array, annotate: number, sharedMemo: boolean) {
  return call<PyDis[]>(`t.dis_stream(data, ${annotate}, ${sharedMemo ? 'True' : 'False'})`, data);
}

export async function pyOptimizeMany(
  items: readonly Uint8Array[],
  checkLoad = true,
): Promise<PyOptimize[]> {
  const { blob, spans } = pack(items);
  return call(
    `t.optimize_many(data, ${JSON.stringify(spans)}, ${checkLoad ? 'True' : 'False'})`,
    blob,
  );
}

export async function pyPrintMany(
  items: readonly Uint8Array[],
  encoding = 'ASCII',
): Promise<Array<{ text?: string; error?: string }>> {
  const { blob, spans } = pack(items);
  return call(`t.print_many(data, ${JSON.stringify(spans)}, ${JSON.stringify(encoding)})`, blob);
}

export async function pyReprlibMany(
  items: readonly Uint8Array[],
  maxlevel: number,
  maxitems: number,
): Promise<string[]> {
  const { blob, spans } = pack(items);
  const cases = spans.map(([o, n]) => [o, n, maxlevel, maxitems]);
  return call(`t.reprlib_many(data, ${JSON.stringify(cases)})`, blob);
}

/** For each pickle and the plain JSON written for it (or null), a difference or null. */
export async function pyJsonCheckMany(
  items: ReadonlyArray<readonly [Uint8Array, string | null]>,
): Promise<Array<string | null>> {
  const { blob, spans } = pack(items.map(([b]) => b));
  const cases = spans.map(([o, n], i) => [o, n, items[i]![1]]);
  return call(`t.json_check_many(data, ${pyLiteral(cases)})`, blob);
}

export async function pyJsonDumpsMany(items: readonly Uint8Array[]): Promise<Array<string | null>> {
  const { blob, spans } = pack(items);
  return call(`t.json_dumps_many(data, ${JSON.stringify(spans)})`, blob);
}

/** For each pickle and a repr text of its value: whether Python evaluates the text to it. */
export async function pySameValueMany(
  items: ReadonlyArray<readonly [Uint8Array, string]>,
): Promise<boolean[]> {
  const { blob, spans } = pack(items.map(([b]) => b));
  const cases = spans.map(([o, n], i) => [o, n, items[i]![1]]);
  return call(`t.same_value_many(data, ${pyLiteral(cases)})`, blob);
}

/** A JSON value as a Python expression (null -> None). */
function pyLiteral(v: unknown): string {
  return `__import__('json').loads(${JSON.stringify(JSON.stringify(v))})`;
}

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The committed fixture pickles: Python 2.7-written and hand-made (some malformed). */
export function fixturePickles(): Array<{ name: string; data: Uint8Array }> {
  const out: Array<{ name: string; data: Uint8Array }> = [];
  for (const dir of ['py2', 'handmade']) {
    for (const f of readdirSync(join(FIXTURES, dir)).sort()) {
      if (!f.endsWith('.pkl')) continue;
      out.push({ name: `${dir}/${f}`, data: new Uint8Array(readFileSync(join(FIXTURES, dir, f))) });
    }
  }
  return out;
}
