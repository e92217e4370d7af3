/**
 * Python's `collections` types as JS containers that remember what they are: `OrderedDict`,
 * `DefaultDict` and `Counter` are `Map`s, `Deque` is an `Array`, `NamedTuple` is a `Tuple`.
 */
import { PyGlobal } from './object.js';
import { reprSymbol } from './repr-symbol.js';
import { Tuple } from './tuple.js';

type Repr = (value: unknown) => string;

function mapRepr(m: Map<unknown, unknown>, repr: Repr): string {
  return `{${[...m].map(([k, v]) => `${repr(k)}: ${repr(v)}`).join(', ')}}`;
}

/** `collections.OrderedDict`. */
export class OrderedDict<K = unknown, V = unknown> extends Map<K, V> {
  [reprSymbol](repr: Repr): string {
    // Python 3.11's form; 3.12 prints OrderedDict({...}).
    return this.size === 0
      ? 'OrderedDict()'
      : `OrderedDict([${[...this].map(([k, v]) => `(${repr(k)}, ${repr(v)})`).join(', ')}])`;
  }
}

/** `collections.Counter`: counts by key. */
export class Counter<K = unknown> extends Map<K, number | bigint> {
  [reprSymbol](repr: Repr): string {
    if (this.size === 0) return 'Counter()';
    // Python lists the most common first (a stable sort by count).
    const items = [...this].sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0));
    return `Counter({${items.map(([k, v]) => `${repr(k)}: ${repr(v)}`).join(', ')}})`;
  }
}

/**
 * `collections.defaultdict`. `factory` is the Python callable (`builtins.list`, `int`, ...) or
 * `null`; looking up a missing key does not call it (nothing runs), but it pickles back.
 */
export class DefaultDict<K = unknown, V = unknown> extends Map<K, V> {
  factory: unknown;

  constructor(factory: unknown = null, entries?: Iterable<readonly [K, V]>) {
    super(entries);
    this.factory = factory;
  }

  [reprSymbol](repr: Repr): string {
    const f = repr(this.factory);
    return `defaultdict(${f}, ${mapRepr(this, repr)})`;
  }
}

/** `collections.deque`, with its `maxlen` (`null` for unbounded). */
export class Deque<T = unknown> extends Array<T> {
  maxlen: number | null = null;

  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** A deque of `items`, keeping the last `maxlen` of them as Python does. */
  static fromItems<T>(items: Iterable<T>, maxlen: number | null = null): Deque<T> {
    const d = new Deque<T>();
    d.maxlen = maxlen;
    for (const item of items) d.push(item);
    if (maxlen !== null && d.length > maxlen) d.splice(0, d.length - maxlen);
    return d;
  }

  [reprSymbol](repr: Repr): string {
    const body = `[${this.map(repr).join(', ')}]`;
    return this.maxlen === null ? `deque(${body})` : `deque(${body}, maxlen=${this.maxlen})`;
  }
}

/**
 * An instance of a `collections.namedtuple` class whose field names were registered
 * (`registry.defineNamedTuple`): a `Tuple` with the class and its field names.
 */
export class NamedTuple<T = unknown> extends Tuple<T> {
  cls: PyGlobal = new PyGlobal('__main__', 'namedtuple');
  fields: readonly string[] = [];

  /** The field called `name`. */
  get(name: string): T | undefined {
    const i = this.fields.indexOf(name);
    return i < 0 ? undefined : this[i];
  }

  /** `_asdict()`: the fields by name. */
  toObject(): Record<string, T> {
    const out: Record<string, T> = {};
    this.fields.forEach((f, i) =>
      Object.defineProperty(out, f, {
        value: this[i],
        enumerable: true,
        writable: true,
        configurable: true,
      }),
    );
    return out;
  }

  [reprSymbol](repr: Repr): string {
    const name = this.cls.name.slice(this.cls.name.lastIndexOf('.') + 1);
    return `${name}(${this.fields.map((f, i) => `${f}=${repr(this[i])}`).join(', ')})`;
  }
}
