/**
 * Standard-library types both ways: `decimal.Decimal`, `fractions.Fraction`, the `collections`
 * types, `uuid.UUID`, `functools.partial`, and enum members and namedtuples of registered
 * classes. Each is written as CPython writes it, so its pickles are byte-identical.
 */
import { ErrorCode, UnpicklingError } from '../errors.js';
import type { Registry } from '../registry.js';
import { EnumMember, Partial, UUID } from '../python/builtins.js';
import { Counter, DefaultDict, Deque, NamedTuple, OrderedDict } from '../python/collections.js';
import { isDictObject } from '../python/dict.js';
import { Decimal, Fraction } from '../python/numbers.js';
import { PyGlobal } from '../python/object.js';
import { Tuple, tuple } from '../python/tuple.js';
import { typeName } from '../python/typename.js';
import { namedTupleReduce } from './classes.js';
import { BUILTINS_OBJECT, COPYREG_NEWOBJ, COPYREG_RECONSTRUCTOR } from './names.js';

const DECIMAL = new PyGlobal('decimal', 'Decimal');
const FRACTION = new PyGlobal('fractions', 'Fraction');
const ORDERED_DICT = new PyGlobal('collections', 'OrderedDict');
const DEFAULT_DICT = new PyGlobal('collections', 'defaultdict');
const DEQUE = new PyGlobal('collections', 'deque');
const COUNTER = new PyGlobal('collections', 'Counter');
const UUID_CLASS = new PyGlobal('uuid', 'UUID');
const PARTIAL = new PyGlobal('functools', 'partial');

function fail(message: string): never {
  throw new UnpicklingError(ErrorCode.BAD_OPERAND, message);
}

function entries(d: unknown, what: string): Array<[unknown, unknown]> {
  if (d instanceof Map) return [...d];
  if (typeof d === 'object' && d !== null && isDictObject(d)) {
    return Object.keys(d).map((k) => [k, (d as Record<string, unknown>)[k]]);
  }
  if (d === undefined || d === null) return [];
  // dict(iterable of pairs), as Python 2's OrderedDict pickles its items.
  if (Array.isArray(d) && d.every((p) => Array.isArray(p) && p.length === 2)) {
    return (d as Array<[unknown, unknown]>).map(([k, v]) => [k, v]);
  }
  return fail(`${what} argument must be a dict, not ${typeName(d)}`);
}

/** A str argument (Python 3 refuses bytes here, as in a Python 2 pickle read with 'bytes'). */
function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function newState(state: unknown, what: string): Map<unknown, unknown> | Record<string, unknown> {
  if (
    state instanceof Map ||
    (typeof state === 'object' && state !== null && isDictObject(state))
  ) {
    return state as Map<unknown, unknown> | Record<string, unknown>;
  }
  return fail(`bad state for ${what}: ${typeName(state)}`);
}

export function addStdlibBindings(r: Registry): void {
  r.defineGlobal('decimal', 'Decimal', {
    call: (a) => {
      const v = a[0] ?? '0';
      const t = text(v);
      if (t !== undefined) return guard(() => new Decimal(t));
      if (typeof v === 'number' || typeof v === 'bigint') return guard(() => new Decimal(v));
      return fail(`conversion from ${typeName(v)} to Decimal is not supported`);
    },
  });
  r.defineGlobal('fractions', 'Fraction', {
    call: (a) => {
      const [n = 0, d = 1] = a;
      const t = text(n);
      if (t !== undefined && a.length === 1) return guard(() => Fraction.parse(t));
      if ((typeof n === 'number' && Number.isInteger(n)) || typeof n === 'bigint') {
        if ((typeof d === 'number' && Number.isInteger(d)) || typeof d === 'bigint')
          return guard(() => new Fraction(n, d));
      }
      return fail('both arguments of Fraction should be integers');
    },
  });
  r.defineGlobal('collections', 'OrderedDict', {
    call: (a) => new OrderedDict(entries(a[0], 'OrderedDict')),
  });
  r.defineGlobal('collections', 'Counter', {
    call: (a) => new Counter(entries(a[0], 'Counter') as Array<[unknown, number | bigint]>),
  });
  r.defineGlobal('collections', 'defaultdict', {
    call: (a) => new DefaultDict(a[0] ?? null, entries(a[1], 'defaultdict')),
  });
  r.defineGlobal('collections', 'deque', {
    call: (a) => {
      const [items = [], maxlen = null] = a;
      if (!Array.isArray(items)) fail(`deque() argument must be iterable, not ${typeName(items)}`);
      const max = typeof maxlen === 'bigint' ? Number(maxlen) : maxlen;
      if (max !== null && !(typeof max === 'number' && Number.isInteger(max) && max >= 0)) {
        fail('maxlen must be a non-negative integer or None');
      }
      return Deque.fromItems(items, max as number | null);
    },
  });
  r.defineGlobal('uuid', 'UUID', {
    // UUID(hex): the one positional argument Python takes (the others are keywords).
    call: (a) => {
      if (typeof a[0] !== 'string') {
        fail(
          a.length === 0 || a[0] === null
            ? 'one of the hex, bytes, bytes_le, fields, or int arguments must be given'
            : `UUID() argument 'hex' must be a str, not ${typeName(a[0])}`,
        );
      }
      const hex = a[0];
      return guard(() => new UUID(hex));
    },
    construct: () => new UUID(0n),
  });
  r.defineGlobal('functools', 'partial', {
    call: (a) => new Partial(a[0], a.slice(1)),
  });

  r.addClass(Decimal, { global: DECIMAL, reduce: (d) => [DECIMAL, tuple(d.value)] });
  r.addClass(Fraction, {
    global: FRACTION,
    reduce: (f) => [FRACTION, tuple(f.numerator, f.denominator)],
  });
  r.addClass(OrderedDict, {
    global: ORDERED_DICT,
    reduce: (d) => [ORDERED_DICT, tuple(), null, null, [...d]],
  });
  r.addClass(Counter, { global: COUNTER, reduce: (c) => [COUNTER, tuple(new Map(c))] });
  r.addClass(DefaultDict, {
    global: DEFAULT_DICT,
    reduce: (d) => [
      DEFAULT_DICT,
      d.factory === null ? tuple() : tuple(d.factory),
      null,
      null,
      [...d],
    ],
  });
  r.addClass(Deque, {
    global: DEQUE,
    reduce: (d) => [
      DEQUE,
      d.maxlen === null ? tuple() : tuple<unknown>(tuple(), BigInt(d.maxlen)),
      null,
      [...d],
    ],
  });
  r.addClass(UUID, {
    global: UUID_CLASS,
    reduce: (u, protocol) => {
      const state: Record<string, unknown> = { int: u.int };
      if (u.isSafe !== null) state.is_safe = u.isSafe;
      return protocol < 2
        ? [COPYREG_RECONSTRUCTOR, tuple<unknown>(UUID_CLASS, BUILTINS_OBJECT, null), state]
        : [COPYREG_NEWOBJ, tuple(UUID_CLASS), state];
    },
    restore: (u, state) => {
      const s = newState(state, 'UUID');
      const get = (k: string) => (s instanceof Map ? s.get(k) : s[k]);
      const int = get('int');
      if (typeof int !== 'bigint' && !(typeof int === 'number' && Number.isInteger(int)))
        fail('bad UUID state: no int');
      Object.assign(u, { int: BigInt(int), isSafe: get('is_safe') ?? null });
    },
  });
  r.addClass(Partial, {
    global: PARTIAL,
    reduce: (p) => [
      PARTIAL,
      tuple(p.func),
      tuple<unknown>(p.func, tuple(...p.args), p.keywords, p.dict),
    ],
    restore: (p, state) => {
      if (!(state instanceof Tuple) || state.length !== 4)
        fail('bad partial state: expected a 4-tuple');
      const [func, args, keywords, dict] = state;
      if (!(args instanceof Tuple)) fail('bad partial state: args is not a tuple');
      Object.assign(p, {
        func,
        args: [...args],
        keywords: keywords === null ? null : newState(keywords, 'partial keywords'),
        dict,
      });
    },
  });
  r.addClass(NamedTuple, {
    global: new PyGlobal('collections', 'namedtuple'),
    reduce: namedTupleReduce,
  });
  r.addClass(EnumMember, {
    global: new PyGlobal('enum', 'Enum'),
    reduce: (m) => [m.cls, tuple(m.value)],
  });
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) fail(e.message);
    throw e;
  }
}
