/**
 * `show`: a value in Python's repr style, as `print(pickle.load(f))` prints it, for the types
 * pickle-ts models. Unlike `pyRepr`, it never recurses on nesting depth (a million nested lists
 * print), it can cut deep or long values the way `reprlib` does, it can color its output, and it
 * shows what an inert `PyObject` holds.
 */
import { ByteArray, PickleBuffer } from '../core/python/bytes.js';
import { Complex } from '../core/python/complex.js';
import { isDictObject } from '../core/python/dict.js';
import { FrozenSet } from '../core/python/frozenset.js';
import { PyGlobal, PyObject } from '../core/python/object.js';
import { reprBytes, reprNumber, reprStr, reprSymbol } from '../core/python/repr.js';
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

type Task =
  string | { readonly value: unknown; readonly level: number } | { readonly leave: object };

interface Repr {
  [reprSymbol](repr: (value: unknown) => string): string;
}

function hasRepr(v: object): v is Repr {
  return typeof (v as Partial<Repr>)[reprSymbol] === 'function';
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
export function showChunks(
  value: unknown,
  options: ShowOptions = {},
): Generator<string, void, undefined> {
  return printer(value, options, new Set());
}

/** The printer; `active` is shared with the printers run for `[reprSymbol]` children. */
function* printer(
  value: unknown,
  options: ShowOptions,
  active: Set<object>,
): Generator<string, void, undefined> {
  const maxDepth = options.depth ?? Infinity;
  const maxItems = options.maxItems ?? Infinity;
  const exact = options.exact ?? false;
  const palette =
    options.color === true ? DEFAULT_PALETTE : options.color === false ? undefined : options.color;
  const paint = (style: keyof ShowPalette, text: string) =>
    palette && palette[style] ? palette[style] + text + RESET : text;
  const elided = paint('elided', '...');

  // `active` holds the values on the path being printed: reaching one again is a cycle.
  const tasks: Task[] = [];
  let out = '';

  if (options.str && typeof value === 'string') {
    yield value;
    return;
  }
  tasks.push({ value, level: maxDepth });

  /** Pushes `open item sep item ... close` (in reverse, as tasks pop from the end). */
  const pushItems = (
    v: object,
    open: string,
    close: string,
    items: readonly unknown[],
    total: number,
    level: number,
    render?: (item: unknown, level: number) => Task[],
  ) => {
    tasks.push({ leave: v }, close);
    if (total > items.length) tasks.push(elided, items.length > 0 ? ', ' : '');
    for (let i = items.length - 1; i >= 0; i--) {
      const rendered = render
        ? render(items[i], level - 1)
        : [{ value: items[i], level: level - 1 }];
      for (let k = rendered.length - 1; k >= 0; k--) tasks.push(rendered[k]!);
      if (i > 0) tasks.push(', ');
    }
    tasks.push(open);
    active.add(v);
  };

  const entry = (key: Task, item: unknown, level: number): Task[] => [
    key,
    ': ',
    { value: item, level },
  ];
  const take = <T>(iterable: Iterable<T>, n: number): T[] => {
    const items: T[] = [];
    if (n <= 0) return items;
    for (const x of iterable) {
      items.push(x);
      if (items.length >= n) break;
    }
    return items;
  };

  while (tasks.length > 0) {
    if (out.length > 0xffff) {
      yield out;
      out = '';
    }
    const task = tasks.pop()!;
    if (typeof task === 'string') {
      out += task;
      continue;
    }
    if ('leave' in task) {
      active.delete(task.leave);
      continue;
    }
    const { value: v, level } = task;
    if (v === null) out += paint('keyword', 'None');
    else if (v === true) out += paint('keyword', 'True');
    else if (v === false) out += paint('keyword', 'False');
    else if (typeof v === 'number') out += paint('number', reprNumber(v, exact));
    else if (typeof v === 'bigint') out += paint('number', String(v));
    else if (typeof v === 'string') out += paint('string', reprStr(v));
    else if (typeof v !== 'object') out += paint('object', `<${typeof v}>`);
    else if (v instanceof ByteArray) out += paint('bytes', `bytearray(${reprBytes(v)})`);
    else if (v instanceof Uint8Array) out += paint('bytes', reprBytes(v));
    else if (v instanceof Complex) out += paint('number', reprComplex(v));
    else if (v instanceof PyGlobal) out += paint('object', reprGlobal(v));
    else if (v instanceof PickleBuffer) out += paint('object', '<pickle.PickleBuffer object>');
    else if (active.has(v)) out += recursionText(v);
    else if (hasRepr(v)) {
      const inner: ShowOptions = { ...options, depth: level - 1, str: false };
      active.add(v);
      try {
        out += v[reprSymbol]((x) => [...printer(x, inner, active)].join(''));
      } finally {
        active.delete(v);
      }
    } else if (level <= 0 && isFilledContainer(v)) {
      out += depthText(v);
    } else if (v instanceof Tuple) {
      const items = v.length > maxItems ? v.slice(0, maxItems) : v;
      pushItems(v, '(', v.length === 1 && maxItems >= 1 ? ',)' : ')', items, v.length, level);
    } else if (Array.isArray(v)) {
      pushItems(v, '[', ']', v.length > maxItems ? v.slice(0, maxItems) : v, v.length, level);
    } else if (v instanceof FrozenSet) {
      if (v.size === 0) out += 'frozenset()';
      else pushItems(v, 'frozenset({', '})', take(v, maxItems), v.size, level);
    } else if (v instanceof Set) {
      if (v.size === 0) out += 'set()';
      else pushItems(v, '{', '}', take(v, maxItems), v.size, level);
    } else if (v instanceof Map) {
      pushItems(v, '{', '}', take(v, maxItems), v.size, level, (pair, l) => {
        const [k, x] = pair as [unknown, unknown];
        return entry({ value: k, level: l }, x, l);
      });
    } else if (v instanceof PyObject) {
      pushObject(v, level);
    } else if (isDictObject(v)) {
      const keys = Object.keys(v);
      const shown = keys.length > maxItems ? keys.slice(0, maxItems) : keys;
      pushItems(v, '{', '}', shown, keys.length, level, (k, l) =>
        entry(paint('string', reprStr(k as string)), v[k as string], l),
      );
    } else {
      out += paint(
        'object',
        `<${(v as { constructor?: { name?: string } }).constructor?.name ?? 'object'}>`,
      );
    }
  }
  yield out;

  /** `<module.Name object: args=(...), state={...}>`: what the pickle gave the object. */
  function pushObject(v: PyObject, level: number): void {
    const parts: Array<[string, unknown]> = [];
    if (v.args.length > 0) parts.push(['args', v.args]);
    if (v.kwargs !== undefined) parts.push(['kwargs', v.kwargs]);
    if (v.state !== undefined) parts.push(['state', v.state]);
    if (v.stateSetter !== undefined) parts.push(['setstate', v.stateSetter]);
    if (v.listItems.length > 0) parts.push(['items', v.listItems]);
    if (v.dictItems.length > 0) parts.push(['dictitems', new Map(v.dictItems)]);
    const name = paint('object', `<${objectName(v)} object`);
    if (parts.length === 0 || level <= 0) {
      out +=
        parts.length === 0
          ? name + paint('object', '>')
          : `${name}: ${elided}${paint('object', '>')}`;
      return;
    }
    tasks.push({ leave: v }, paint('object', '>'));
    for (let i = parts.length - 1; i >= 0; i--) {
      const [label, x] = parts[i]!;
      tasks.push({ value: x, level: level - 1 }, `${label}=`);
      if (i > 0) tasks.push(', ');
    }
    tasks.push(`${name}: `);
    active.add(v);
  }
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
