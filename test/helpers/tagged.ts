/**
 * Tagged JSON on the JS side (see test/python/tagged.py): builds the JS value pickle-ts should
 * produce for a Python value, and describes a JS value for Python to rebuild.
 */
import {
  ByteArray,
  Complex,
  FrozenSet,
  PickleBuffer,
  PyGlobal,
  Tuple,
  isArrayIndexKey,
  isDictObject,
} from '../../src/index.js';

export type Tagged =
  | { t: 'None' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: string }
  | { t: 'float'; v: string }
  | { t: 'str'; v: string }
  | { t: 'ref'; id: number }
  | { t: 'bytes' | 'bytearray'; id: number; v: string }
  | { t: 'complex'; id: number; re: string; im: string }
  | { t: 'tuple' | 'list' | 'set' | 'frozenset'; id: number; v: Tagged[] }
  | { t: 'dict'; id: number; v: Array<[Tagged, Tagged]> }
  | { t: 'buffer'; id: number; v: string; readonly: boolean }
  | { t: 'global'; id: number; module: string; name: string };

export interface Mode {
  /** Ints as bigint (the unpickler's exact mode). */
  exact?: boolean;
}

export function parseFloatText(s: string): number {
  if (s === 'nan') return NaN;
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
}

const hexBytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/** The JS value pickle-ts gives for a Python value. */
export function fromTagged(tagged: Tagged, mode: Mode = {}): unknown {
  const objs = new Map<number, unknown>();
  const dec = (t: Tagged): unknown => {
    switch (t.t) {
      case 'None':
        return null;
      case 'bool':
        return t.v;
      case 'int': {
        const v = BigInt(t.v);
        if (mode.exact) return v;
        return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v;
      }
      case 'float':
        return parseFloatText(t.v);
      case 'str':
        return t.v;
      case 'ref':
        if (!objs.has(t.id)) throw new Error(`tagged ref ${t.id} before its object`);
        return objs.get(t.id);
      case 'bytes':
        return reg(t.id, hexBytes(t.v));
      case 'bytearray':
        return reg(t.id, ByteArray.copyOf(hexBytes(t.v)));
      case 'complex':
        return reg(t.id, new Complex(parseFloatText(t.re), parseFloatText(t.im)));
      case 'tuple': {
        const v = reg(t.id, new Tuple());
        t.v.forEach((x, i) => (v[i] = dec(x)));
        return v;
      }
      case 'list': {
        const v = reg(t.id, [] as unknown[]);
        for (const x of t.v) v.push(dec(x));
        return v;
      }
      case 'set': {
        const v = reg(t.id, new Set<unknown>());
        for (const x of t.v) v.add(dec(x));
        return v;
      }
      case 'frozenset': {
        const v = reg(t.id, new FrozenSet<unknown>());
        for (const x of t.v) v.add(dec(x));
        return v;
      }
      case 'dict': {
        const plain = t.v.every(
          ([k]) => k.t === 'str' && k.v !== '__proto__' && !isArrayIndexKey(k.v),
        );
        if (plain) {
          const v = reg(t.id, {} as Record<string, unknown>);
          for (const [k, x] of t.v) v[(k as { v: string }).v] = dec(x);
          return v;
        }
        const v = reg(t.id, new Map<unknown, unknown>());
        for (const [k, x] of t.v) {
          const key = dec(k);
          v.set(key, dec(x));
        }
        return v;
      }
      case 'buffer':
        return reg(t.id, new PickleBuffer(hexBytes(t.v), t.readonly));
      case 'global':
        return reg(t.id, new PyGlobal(t.module, t.name));
    }
  };
  function reg<T>(id: number, v: T): T {
    objs.set(id, v);
    return v;
  }
  return dec(tagged);
}

const floatText = (x: number) => {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  return String(x);
};

/** Describes a JS value for Python; numbers follow the pickler's rule for the mode. */
export function toTagged(value: unknown, mode: Mode = {}): Tagged {
  const ids = new Map<object, number>();
  const enc = (v: unknown): Tagged => {
    if (v === null) return { t: 'None' };
    if (typeof v === 'boolean') return { t: 'bool', v };
    if (typeof v === 'bigint') return { t: 'int', v: String(v) };
    if (typeof v === 'number') {
      if (!mode.exact && Number.isSafeInteger(v) && !Object.is(v, -0))
        return { t: 'int', v: String(v) };
      return { t: 'float', v: floatText(v) };
    }
    if (typeof v === 'string') return { t: 'str', v };
    if (typeof v !== 'object') throw new Error(`no tagged form for ${typeof v}`);
    const seen = ids.get(v);
    if (seen !== undefined) return { t: 'ref', id: seen };
    const id = ids.size + 1;
    ids.set(v, id);
    if (v instanceof ByteArray) return { t: 'bytearray', id, v: Buffer.from(v).toString('hex') };
    if (v instanceof Uint8Array) return { t: 'bytes', id, v: Buffer.from(v).toString('hex') };
    if (v instanceof Complex) return { t: 'complex', id, re: floatText(v.re), im: floatText(v.im) };
    if (v instanceof Tuple) return { t: 'tuple', id, v: [...v].map(enc) };
    if (Array.isArray(v)) return { t: 'list', id, v: v.map(enc) };
    if (v instanceof FrozenSet) return { t: 'frozenset', id, v: [...v].map(enc) };
    if (v instanceof Set) return { t: 'set', id, v: [...v].map(enc) };
    if (v instanceof Map)
      return { t: 'dict', id, v: [...v].map(([k, x]) => [enc(k), enc(x)] as [Tagged, Tagged]) };
    if (v instanceof PickleBuffer)
      return { t: 'buffer', id, v: Buffer.from(v.data).toString('hex'), readonly: v.readonly };
    if (v instanceof PyGlobal) return { t: 'global', id, module: v.module, name: v.name };
    if (isDictObject(v)) {
      return {
        t: 'dict',
        id,
        v: Object.keys(v).map(
          (k) => [{ t: 'str', v: k }, enc((v as Record<string, unknown>)[k])] as [Tagged, Tagged],
        ),
      };
    }
    throw new Error(`no tagged form for ${(v as object).constructor?.name}`);
  };
  return enc(value);
}
