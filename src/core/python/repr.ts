/**
 * Python's `repr()` of the values pickle-ts models, as CPython prints them: `'it''s'` quoting,
 * `b'\x00'`, `(1,)`, `{1: 'a'}`, `frozenset({1})`, `1e+16`. Used for protocol 0 persistent IDs
 * (`str(pid)`) and for messages.
 */
import { ByteArray } from './bytes.js';
import { Complex } from './complex.js';
import { isDictObject } from './dict.js';
import { FrozenSet } from './frozenset.js';
import { PyGlobal, PyObject } from './object.js';
import { Tuple } from './tuple.js';
import { pyFloatRepr } from '../text.js';

import { reprSymbol } from './repr-symbol.js';

export { reprSymbol };

interface HasRepr {
  [reprSymbol](repr: (value: unknown) => string): string;
}

function hasRepr(v: object): v is HasRepr {
  return typeof (v as Partial<HasRepr>)[reprSymbol] === 'function';
}

/** The built-in functions (not classes) of Python's `builtins`: their repr differs. */
const BUILTIN_FUNCTIONS = new Set(
  (
    'abs aiter all anext any ascii bin breakpoint callable chr compile delattr dir divmod eval exec ' +
    'format getattr globals hasattr hash hex id input isinstance issubclass iter len locals max min ' +
    'next oct open ord pow print repr round setattr sorted sum vars __import__ __build_class__'
  ).split(' '),
);

/** `repr()` of a global: `<class 'm.C'>`, or `<built-in function max>` for a builtin function. */
export function reprGlobal(g: PyGlobal): string {
  if (g.module === 'builtins') {
    return BUILTIN_FUNCTIONS.has(g.name) ? `<built-in function ${g.name}>` : `<class '${g.name}'>`;
  }
  return `<class '${g.fullName}'>`;
}

// Python's str.isprintable(): not Other (Cc, Cf, Cs, Co, Cn) and not a separator except space.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** `repr(str)`. */
export function reprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
    else if (cp < 0x7f || (ch !== ' ' && !NON_PRINTABLE.test(ch)) || ch === ' ') out += ch;
    else if (cp <= 0xff) out += '\\x' + hex(cp, 2);
    else if (cp <= 0xffff) out += '\\u' + hex(cp, 4);
    else out += '\\U' + hex(cp, 8);
  }
  return out + quote;
}

/** `repr(bytes)` (without the `b` for the body when `prefix` is empty). */
export function reprBytes(data: Uint8Array, prefix = 'b'): string {
  const hasSingle = data.includes(0x27);
  const quote = hasSingle && !data.includes(0x22) ? '"' : "'";
  let out = prefix + quote;
  for (const b of data) {
    if (b === quote.charCodeAt(0) || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b < 0x20 || b >= 0x7f) out += '\\x' + hex(b, 2);
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

/** `repr(int)` or `repr(float)` of a number, following the pickler's rule for the mode. */
export function reprNumber(n: number, exact = false): string {
  if (!exact && Number.isSafeInteger(n) && !Object.is(n, -0)) return String(n);
  return pyFloatRepr(n);
}

/** `repr(value)`; cycles print as Python prints them (`[...]`, `{...}`). */
export function pyRepr(value: unknown, exact = false): string {
  const active = new Set<object>();
  const r = (v: unknown): string => {
    if (v === null) return 'None';
    if (v === true) return 'True';
    if (v === false) return 'False';
    if (typeof v === 'number') return reprNumber(v, exact);
    if (typeof v === 'bigint') return String(v);
    if (typeof v === 'string') return reprStr(v);
    if (typeof v !== 'object') return `<${typeof v}>`;
    if (v instanceof ByteArray) return `bytearray(${reprBytes(v)})`;
    if (v instanceof Uint8Array) return reprBytes(v);
    if (v instanceof Complex) return v.toString();
    if (v instanceof PyGlobal) return reprGlobal(v);
    if (hasRepr(v)) return v[reprSymbol](r);
    if (active.has(v)) {
      if (Array.isArray(v)) return v instanceof Tuple ? '(...)' : '[...]';
      return v instanceof Set ? '{...}' : '{...}';
    }
    active.add(v);
    try {
      if (v instanceof Tuple) return v.length === 1 ? `(${r(v[0])},)` : `(${v.map(r).join(', ')})`;
      if (Array.isArray(v)) return `[${v.map(r).join(', ')}]`;
      if (v instanceof FrozenSet)
        return v.size === 0 ? 'frozenset()' : `frozenset({${[...v].map(r).join(', ')}})`;
      if (v instanceof Set) return v.size === 0 ? 'set()' : `{${[...v].map(r).join(', ')}}`;
      if (v instanceof Map) return `{${[...v].map(([k, x]) => `${r(k)}: ${r(x)}`).join(', ')}}`;
      if (v instanceof PyObject) {
        const cls = v.cls instanceof PyGlobal ? v.cls.fullName : r(v.cls);
        return `<${cls} object>`;
      }
      if (isDictObject(v)) {
        return `{${Object.keys(v)
          .map((k) => `${reprStr(k)}: ${r((v as Record<string, unknown>)[k])}`)
          .join(', ')}}`;
      }
      return `<${v.constructor?.name ?? 'object'}>`;
    } finally {
      active.delete(v);
    }
  };
  return r(value);
}

/** Python's `str(value)`: the string itself for a `str`, else `repr`. */
export function pyStr(value: unknown, exact = false): string {
  return typeof value === 'string' ? value : pyRepr(value, exact);
}
