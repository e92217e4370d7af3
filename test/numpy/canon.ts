/**
 * The canonical form of array values shared with test/python/numpy_cases.py, so that what
 * pickle-ts decodes can be compared with what numpy holds, value by value and type by type.
 */
import { Complex } from '../helpers/pickle.js';
import { parseFloatText } from '../helpers/tagged.js';
import type { DType, NDArray } from '../../src/numpy/index.js';
import { py } from '../helpers/python.js';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Canonical form of one element of dtype `d`, as `NDArray.get` returns it. */
export function canonValue(d: DType, v: unknown): unknown {
  if (d.hasObject) return canonObject(v);
  if (d.fields !== undefined) {
    const record = v as Record<string, unknown>;
    return Object.fromEntries(d.fields.map((f) => [f.name, canonValue(f.dtype, record[f.name])]));
  }
  if (d.subarray !== undefined) {
    const { base, shape } = d.subarray;
    const walk = (x: unknown, depth: number): unknown =>
      depth === shape.length
        ? canonValue(base, x)
        : (x as unknown[]).map((y) => walk(y, depth + 1));
    return walk(v, 0);
  }
  switch (d.kind) {
    case 'b':
      return v;
    case 'i':
    case 'u':
    case 'M':
    case 'm':
      return { $i: String(v) };
    case 'f':
    case 'c':
      // Long doubles stay raw bytes (their format depends on the platform that wrote them).
      // Here x87 extended: 10 bytes of value, then padding numpy leaves uninitialized.
      if (d.itemsize > (d.kind === 'f' ? 8 : 16)) {
        const b = v as Uint8Array;
        return { $b: hex(b.subarray(0, 10)) + hex(b.subarray(16, 26)) };
      }
      return d.kind === 'f' ? { $f: v } : { $c: [(v as Complex).re, (v as Complex).im] };
    case 'U':
      return v;
    default:
      return { $b: hex(v as Uint8Array) };
  }
}

/** Canonical form of a Python object as pickle-ts loads it. */
export function canonObject(v: unknown): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return { $i: String(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { $i: String(v) } : { $f: v };
  if (v instanceof Uint8Array) return { $b: hex(v) };
  if (Array.isArray(v)) return v.map(canonObject);
  if (v instanceof Map) return { $dict: [...v].map(([k, x]) => [canonObject(k), canonObject(x)]) };
  if (typeof v === 'object')
    return {
      $dict: Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, canonObject(x)]),
    };
  throw new TypeError(`no canonical form for ${typeof v}`);
}

/** Canonical nested values of an array (C order, as numpy's `tolist()` nests them). */
export function canonArray(a: NDArray): unknown {
  const walk = (x: unknown, depth: number): unknown =>
    depth === a.ndim ? canonValue(a.descr, x) : (x as unknown[]).map((y) => walk(y, depth + 1));
  return walk(a.toArray(), 0);
}

/** Python's canonical values with float texts parsed, to compare with `canonArray`. */
export function fromPython(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(fromPython);
  if (typeof x === 'object' && x !== null) {
    const o = x as Record<string, unknown>;
    if (typeof o.$f === 'string') return { $f: parseFloatText(o.$f) };
    if (Array.isArray(o.$c)) return { $c: (o.$c as string[]).map(parseFloatText) };
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fromPython(v)]));
  }
  return x;
}

/** Runs `code` in the oracle with `numpy_cases` imported as `c`; `result` must be a JSON string. */
export async function pyJson<T>(code: string, payload?: unknown): Promise<T> {
  const data =
    payload === undefined ? undefined : new TextEncoder().encode(JSON.stringify(payload));
  const r = await py.eval(
    `import json\nimport numpy as np\nimport numpy_cases as c\n${code}`,
    data,
  );
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}`);
  const t = r.tagged as { t: string; v: string };
  if (t.t !== 'str') throw new Error(`python result is ${t.t}, not a JSON str`);
  return JSON.parse(t.v) as T;
}

export const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
export const toHex = hex;
