/**
 * `show`: a value in Python's repr style, as `print(pickle.load(f))` prints it, for the types
 * pickle-ts models. Like `pyRepr` (the two share the core's `printChunks` engine), it never
 * recurses on nesting depth (a million nested lists print); unlike it, it can cut deep or long
 * values the way `reprlib` does, it can color its output, and it shows what an inert `PyObject`
 * holds.
 */
import { ByteArray, PickleBuffer } from '../core/python/bytes.js';
import { Complex } from '../core/python/complex.js';
import { isDictObject } from '../core/python/dict.js';
import { FrozenSet } from '../core/python/frozenset.js';
import { PyGlobal, PyObject } from '../core/python/object.js';
import { printChunks, type PrintParts, type PrintStyle } from '../core/python/printer.js';
import { reprBytes, reprNumber, reprStr } from '../core/python/repr.js';
import { Tuple } from '../core/python/tuple.js';
import { pyFloatRepr } from '../core/text.js';

/** ANSI styles for each kind of token; an empty string leaves the token plain. */
export interface ShowPalette {
  readonly string: string;
  readonly number: string;
  readonly keyword: string;
  readonly bytes: string;
  readonly object: string;
  readonly elided: string;
}

/** The colors `show` uses when `color` is `true`. */
export const DEFAULT_PALETTE: ShowPalette = {
  string: '\x1b[32m',
  number: '\x1b[33m',
  keyword: '\x1b[35m',
  bytes: '\x1b[32m',
  object: '\x1b[36m',
  elided: '\x1b[2m',
};

const RESET = '\x1b[0m';

export interface ShowOptions {
  /**
   * Container levels to show; deeper non-empty containers print as `[...]`, `{...}` or `(...)`,
   * as `reprlib` does. Defaults to no limit.
   */
  depth?: number;
  /** Items to show per container before `...`. Defaults to no limit. */
  maxItems?: number;
  /** ANSI colors: `true` for `DEFAULT_PALETTE`, or a palette. Defaults to none. */
  color?: boolean | ShowPalette;
  /**
   * Values loaded with `{ exact: true }`: every `number` is a Python float (`3.0`) and ints are
   * `bigint`s. Defaults to false (integral numbers print as ints).
   */
  exact?: boolean;
  /** Print a top-level `str` as `print()` does, without quotes. Defaults to false (`repr`). */
  str?: boolean;
}

/** What `repr` prints for a container reached again while it is being printed. */
function recursionText(v: object): string {
  if (v instanceof Tuple) return '(...)';
  if (Array.isArray(v)) return '[...]';
  if (v instanceof FrozenSet) return 'frozenset(...)';
  if (v instanceof Set) return 'set(...)';
  if (v instanceof PyObject) return `<${objectName(v)} object ...>`;
  if (v instanceof Map || isDictObject(v)) return '{...}';
  return '...';
}

/**
 * `repr(complex)`. (The core's `Complex.toString` drops the `+` before a NaN imaginary part;
 * Python writes `(1+nanj)`.)
 */
function reprComplex(z: Complex): string {
  const part = (x: number) => {
    const r = pyFloatRepr(x);
    return r.endsWith('.0') ? r.slice(0, -2) : r;
  };
  const im = `${part(z.im)}j`;
  if (z.re === 0 && !Object.is(z.re, -0)) return im;
  const sign = z.im < 0 || Object.is(z.im, -0) ? '' : '+';
  return `(${part(z.re)}${sign}${im})`;
}

/** What `reprlib` prints for a non-empty container below the depth limit. */
function depthText(v: object): string {
  if (v instanceof Tuple) return '(...)';
  if (Array.isArray(v)) return '[...]';
  if (v instanceof FrozenSet) return 'frozenset({...})';
  return '{...}';
}

/** `repr(cls)`: Python leaves out the module of built-in classes (`<class 'list'>`). */
function reprGlobal(g: PyGlobal): string {
  return `<class '${g.module === 'builtins' ? g.name : g.fullName}'>`;
}

function objectName(v: PyObject): string {
  return v.cls instanceof PyGlobal ? v.cls.fullName : String(v.className ?? 'object');
}

/** Whether `v` is a list, tuple, set or dict with something in it (what a depth limit cuts). */
function isFilledContainer(v: object): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Set || v instanceof Map) return v.size > 0;
  return isDictObject(v) && Object.keys(v).length > 0;
}

/**
 * Yields the text of `value` piece by piece (about 64 KiB at a time).
 *
 * @example
 * ```ts
 * for (const piece of showChunks(value, { maxItems: 10 })) process.stdout.write(piece);
 * ```
 */
export function* showChunks(
  value: unknown,
  options: ShowOptions = {},
): Generator<string, void, undefined> {
  if (options.str && typeof value === 'string') {
    yield value;
    return;
  }
  yield* printChunks(value, showStyle(options), options.depth ?? Infinity);
}

/** `show`'s style for the `printChunks` engine. */
function showStyle(options: ShowOptions): PrintStyle {
  const maxItems = options.maxItems ?? Infinity;
  const exact = options.exact ?? false;
  const palette =
    options.color === true ? DEFAULT_PALETTE : options.color === false ? undefined : options.color;
  const paint = (style: keyof ShowPalette, text: string) =>
    palette && palette[style] ? palette[style] + text + RESET : text;
  const elided = paint('elided', '...');

  /**
   * Gives `parts` a container's `open item, item, ..., ... close`: the first `maxItems` of
   * `items` (each by `item`, or as a child), then `...` if `total` is more.
   */
  function enclose<T>(
    parts: PrintParts,
    open: string,
    close: string,
    items: Iterable<T>,
    total: number,
    item?: (x: T) => void,
  ): undefined {
    parts.text(open);
    let shown = 0;
    for (const x of items) {
      if (shown >= maxItems) break;
      if (shown > 0) parts.text(', ');
      if (item) item(x);
      else parts.child(x);
      shown++;
    }
    if (total > shown) {
      if (shown > 0) parts.text(', ');
      parts.text(elided);
    }
    parts.text(close);
    return undefined;
  }

  /** `<module.Name object: args=(...), state={...}>`: what the pickle gave the object. */
  function object(v: PyObject, level: number, parts: PrintParts): string | undefined {
    const fields: Array<[string, unknown]> = [];
    if (v.args.length > 0) fields.push(['args', v.args]);
    if (v.kwargs !== undefined) fields.push(['kwargs', v.kwargs]);
    if (v.state !== undefined) fields.push(['state', v.state]);
    if (v.stateSetter !== undefined) fields.push(['setstate', v.stateSetter]);
    if (v.listItems.length > 0) fields.push(['items', v.listItems]);
    if (v.dictItems.length > 0) fields.push(['dictitems', new Map(v.dictItems)]);
    const name = paint('object', `<${objectName(v)} object`);
    if (fields.length === 0) return name + paint('object', '>');
    if (level <= 0) return `${name}: ${elided}${paint('object', '>')}`;
    parts.text(`${name}: `);
    fields.forEach(([label, value], i) => {
      parts.text(i > 0 ? `, ${label}=` : `${label}=`);
      parts.child(value);
    });
    parts.text(paint('object', '>'));
    return undefined;
  }

  return {
    layout(v: unknown, level: number, parts: PrintParts): string | undefined {
      if (v === null) return paint('keyword', 'None');
      if (v === true) return paint('keyword', 'True');
      if (v === false) return paint('keyword', 'False');
      if (typeof v === 'number') return paint('number', reprNumber(v, exact));
      if (typeof v === 'bigint') return paint('number', String(v));
      if (typeof v === 'string') return paint('string', reprStr(v));
      if (typeof v !== 'object') return paint('object', `<${typeof v}>`);
      if (v instanceof ByteArray) return paint('bytes', `bytearray(${reprBytes(v)})`);
      if (v instanceof Uint8Array) return paint('bytes', reprBytes(v));
      if (v instanceof Complex) return paint('number', reprComplex(v));
      if (v instanceof PyGlobal) return paint('object', reprGlobal(v));
      if (v instanceof PickleBuffer) return paint('object', '<pickle.PickleBuffer object>');
      if (level <= 0 && isFilledContainer(v)) return depthText(v);
      if (v instanceof Tuple) {
        const close = v.length === 1 && maxItems >= 1 ? ',)' : ')';
        return enclose(parts, '(', close, v, v.length);
      }
      if (Array.isArray(v)) return enclose(parts, '[', ']', v, v.length);
      if (v instanceof FrozenSet) {
        return v.size === 0 ? 'frozenset()' : enclose(parts, 'frozenset({', '})', v, v.size);
      }
      if (v instanceof Set) return v.size === 0 ? 'set()' : enclose(parts, '{', '}', v, v.size);
      if (v instanceof Map) {
        return enclose(parts, '{', '}', v as Map<unknown, unknown>, v.size, ([k, x]) => {
          parts.child(k);
          parts.text(': ');
          parts.child(x);
        });
      }
      if (v instanceof PyObject) return object(v, level, parts);
      if (isDictObject(v)) {
        const keys = Object.keys(v);
        return enclose(parts, '{', '}', keys, keys.length, (k) => {
          parts.text(paint('string', reprStr(k)));
          parts.text(': ');
          parts.child(v[k]);
        });
      }
      return paint(
        'object',
        `<${(v as { constructor?: { name?: string } }).constructor?.name ?? 'object'}>`,
      );
    },
    cycle: recursionText,
  };
}

/**
 * `value` in Python's repr style, never recursing on its nesting depth.
 *
 * @example
 * ```ts
 * import { show } from 'pickle-ts/tools';
 * show(loads(bytes, { exact: true }), { exact: true }); // "{'Ozzy': 3, 'Filou': 8.0}"
 * show([[1, [2, [3]]]], { depth: 2 });                  // '[[1, [...]]]'
 * ```
 */
export function show(value: unknown, options: ShowOptions = {}): string {
  let text = '';
  for (const piece of showChunks(value, options)) text += piece;
  return text;
}
