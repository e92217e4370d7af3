/** `slice`, `range`, `functools.partial`, `uuid.UUID` and enum members as JS values. */
import { PyGlobal } from './object.js';
import { reprSymbol } from './repr-symbol.js';

type Repr = (value: unknown) => string;

/** Python's `slice(start, stop, step)`; each part is usually an int or `null`. */
export class Slice {
  constructor(
    readonly start: unknown,
    readonly stop: unknown,
    readonly step: unknown = null,
  ) {}

  [reprSymbol](repr: Repr): string {
    return `slice(${repr(this.start)}, ${repr(this.stop)}, ${repr(this.step)})`;
  }
}

/** Python's `range(start, stop, step)`: iterable, with `length` and `at(i)`. */
export class Range implements Iterable<number | bigint> {
  readonly start: number | bigint;
  readonly stop: number | bigint;
  readonly step: number | bigint;

  constructor(start: number | bigint, stop: number | bigint, step: number | bigint = 1) {
    if (BigInt(step) === 0n) throw new RangeError('range() arg 3 must not be zero');
    this.start = start;
    this.stop = stop;
    this.step = step;
  }

  /** `len(range)`. */
  get length(): number {
    const [a, b, s] = [BigInt(this.start), BigInt(this.stop), BigInt(this.step)];
    const n = s > 0n ? (b - a + s - 1n) / s : (a - b - s - 1n) / -s;
    return n > 0n ? Number(n) : 0;
  }

  at(i: number): number | bigint | undefined {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return undefined;
    const v = BigInt(this.start) + BigInt(i) * BigInt(this.step);
    return typeof this.start === 'number' && typeof this.step === 'number' ? Number(v) : v;
  }

  *[Symbol.iterator](): Iterator<number | bigint> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  [reprSymbol](): string {
    return BigInt(this.step) === 1n
      ? `range(${this.start}, ${this.stop})`
      : `range(${this.start}, ${this.stop}, ${this.step})`;
  }
}

/**
 * `functools.partial(func, *args, **keywords)`, held as data: `func` is usually a `PyGlobal`.
 * Nothing is called.
 */
export class Partial {
  constructor(
    public func: unknown,
    public args: readonly unknown[] = [],
    public keywords: Record<string, unknown> | Map<unknown, unknown> | null = {},
    /** The partial object's own `__dict__`, if it had one. */
    public dict: unknown = null,
  ) {}

  [reprSymbol](repr: Repr): string {
    const parts = [repr(this.func), ...this.args.map(repr)];
    const kw = this.keywords;
    if (kw instanceof Map) for (const [k, v] of kw) parts.push(`${String(k)}=${repr(v)}`);
    else if (kw) for (const k of Object.keys(kw)) parts.push(`${k}=${repr(kw[k])}`);
    return `functools.partial(${parts.join(', ')})`;
  }
}

/** Python's `uuid.UUID`: 128 bits. */
export class UUID {
  readonly int: bigint;
  /** `is_safe` as pickled (a `SafeUUID` value: 0 safe, -1 unsafe), or `null` when unknown. */
  readonly isSafe: unknown;

  constructor(value: bigint | string, isSafe: unknown = null) {
    let int: bigint;
    if (typeof value === 'bigint') int = value;
    else {
      const hex = value.replace(/^urn:uuid:/i, '').replace(/[{}-]/g, '');
      if (!/^[0-9a-fA-F]{32}$/.test(hex))
        throw new RangeError('badly formed hexadecimal UUID string');
      int = BigInt('0x' + hex);
    }
    if (int < 0n || int >= 1n << 128n)
      throw new RangeError('int is out of range (need a 128-bit value)');
    this.int = int;
    this.isSafe = isSafe;
  }

  /** `str(uuid)`: `12345678-1234-5678-1234-567812345678`. */
  toString(): string {
    const h = this.int.toString(16).padStart(32, '0');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  toJSON(): string {
    return this.toString();
  }

  [reprSymbol](): string {
    return `UUID('${this.toString()}')`;
  }
}

/**
 * A member of a Python `enum.Enum` whose class was registered with `registry.defineEnum`: the
 * class, the member's name and its value. (Unregistered, an enum member is a `PyObject` whose
 * `args[0]` is the value: the pickle holds only the class and the value.)
 */
export class EnumMember {
  constructor(
    readonly cls: PyGlobal,
    readonly name: string | undefined,
    readonly value: unknown,
  ) {}

  [reprSymbol](repr: Repr): string {
    const cls = this.cls.name.slice(this.cls.name.lastIndexOf('.') + 1);
    return this.name === undefined
      ? `${cls}(${repr(this.value)})`
      : `<${cls}.${this.name}: ${repr(this.value)}>`;
  }
}
