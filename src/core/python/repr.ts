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

import { Partial } from './builtins.js';
import { DefaultDict, Deque, OrderedDict } from './collections.js';
import { isSelfPrinting, printText, type PrintParts, type PrintStyle } from './printer.js';
import { reprSymbol } from './repr-symbol.js';

export { reprSymbol };

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

/**
 * Whether Python's repr of `v` guards against cycles (`Py_ReprEnter`): lists, tuples, dicts and
 * sets do, and of the classes that print themselves, `deque`, `OrderedDict`, `functools.partial`
 * and `defaultdict` (its dict part). The others (a namedtuple, a `Counter`, a class of a user's)
 * print again when reached inside themselves, up to a guarded object.
 */
function isGuarded(v: object): boolean {
  return (
    !isSelfPrinting(v) ||
    v instanceof Deque ||
    v instanceof OrderedDict ||
    v instanceof Partial ||
    v instanceof DefaultDict
  );
}

/** `repr()` as Python writes it, as a style for the `printChunks` engine. */
function reprStyle(exact: boolean): PrintStyle {
  const style: PrintStyle = {
    layout(v: unknown, _level: number, parts: PrintParts): string | undefined {
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
      if (v instanceof Tuple) {
        if (v.length !== 1) return enclose(parts, '(', v, ')');
        parts.text('(');
        parts.child(v[0]);
        parts.text(',)');
        return undefined;
      }
      if (Array.isArray(v)) return enclose(parts, '[', v, ']');
      if (v instanceof FrozenSet) {
        return v.size === 0 ? 'frozenset()' : enclose(parts, 'frozenset({', v, '})');
      }
      if (v instanceof Set) return v.size === 0 ? 'set()' : enclose(parts, '{', v, '}');
      if (v instanceof Map) {
        parts.text('{');
        let first = true;
        for (const [k, x] of v as Map<unknown, unknown>) {
          if (!first) parts.text(', ');
          first = false;
          parts.child(k);
          parts.text(': ');
          parts.child(x);
        }
        parts.text('}');
        return undefined;
      }
      if (v instanceof PyObject) {
        if (v.cls instanceof PyGlobal) return `<${v.cls.fullName} object>`;
        parts.text('<');
        parts.child(v.cls);
        parts.text(' object>');
        return undefined;
      }
      if (isDictObject(v)) {
        parts.text('{');
        let first = true;
        for (const k of Object.keys(v)) {
          if (!first) parts.text(', ');
          first = false;
          parts.text(reprStr(k));
          parts.text(': ');
          parts.child((v as Record<string, unknown>)[k]);
        }
        parts.text('}');
        return undefined;
      }
      return `<${v.constructor?.name ?? 'object'}>`;
    },
    cycle(v: object): string {
      if (v instanceof DefaultDict) {
        // Python guards the dict part only. (A factory other than a class or None, which Python
        // would print in full, prints as `...`.)
        const f = v.factory;
        const factory =
          f instanceof PyGlobal || typeof f !== 'object' || f === null
            ? style.layout(f, Infinity, noParts)!
            : '...';
        return `defaultdict(${factory}, {...})`;
      }
      // A deque prints `[...]`, as a list does.
      if (Array.isArray(v)) return v instanceof Tuple ? '(...)' : '[...]';
      // `OrderedDict` and `functools.partial` print `...`; so does a class with no guard when
      // nothing guarded lies between (Python would raise RecursionError).
      return isSelfPrinting(v) ? '...' : '{...}';
    },
    reprintsInCycle: (v: object) => !isGuarded(v),
  };
  return style;
}

/** For `layout` of a value that has no parts. */
const noParts: PrintParts = {
  text() {
    throw new TypeError('a value without parts gave parts');
  },
  child() {
    throw new TypeError('a value without parts gave parts');
  },
};

/** Gives `parts` a container's `open item, item, ... close`. */
function enclose(
  parts: PrintParts,
  open: string,
  items: Iterable<unknown>,
  close: string,
): undefined {
  parts.text(open);
  let first = true;
  for (const item of items) {
    if (!first) parts.text(', ');
    first = false;
    parts.child(item);
  }
  parts.text(close);
  return undefined;
}

/**
 * `repr(value)`; cycles print as Python prints them (`[...]`, `{...}`). It never recurses on the
 * value's nesting depth: a list nested a million deep prints.
 *
 * @example
 * ```ts
 * pyRepr([tuple(1), new Map([[1, 'a']]), 2 ** 53]); // "[(1,), {1: 'a'}, 9007199254740992.0]"
 * ```
 */
export function pyRepr(value: unknown, exact = false): string {
  return printText(value, reprStyle(exact));
}

/** Python's `str(value)`: the string itself for a `str`, else `repr`. */
export function pyStr(value: unknown, exact = false): string {
  return typeof value === 'string' ? value : pyRepr(value, exact);
}
