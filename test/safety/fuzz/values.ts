/**
 * Random valid values in pickle-ts's model (fast-check arbitraries): None, bools, ints, floats
 * (NaN, -0, infinities), strings (astral characters and lone surrogates), bytes, bytearray,
 * complex, tuples, lists, dicts as plain objects and as Maps with hashable keys, sets and
 * frozensets, with shared references and cycles added afterwards.
 *
 * Every value is what `loads` gives back for it (the canonical form): in default mode a `bigint`
 * is outside the safe range (a safe one would come back as a `number`); a `Map` has at least one
 * key a plain object cannot hold; keys and set members are distinct under Python's equality
 * (`1 == 1.0 == True`, tuples by value), so that Python holds the same number of items.
 */
import fc from 'fast-check';
import {
  ByteArray,
  Complex,
  FrozenSet,
  Tuple,
  isArrayIndexKey,
  isDictObject,
  toTuple,
} from '../../../src/index.js';

export interface ValueMode {
  /** Exact mode: ints are `bigint`, every `number` is a float. */
  exact: boolean;
}

const INT_EDGES = [
  0n,
  1n,
  -1n,
  127n,
  128n,
  255n,
  256n,
  -256n,
  65535n,
  65536n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 31n,
  -(2n ** 31n) - 1n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  -(2n ** 53n) - 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  -(2n ** 63n),
  2n ** 64n,
  -(2n ** 64n) - 1n,
  10n ** 30n,
];

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Any int, as a bigint: small, edges, and large (up to about 1,200 decimal digits). */
const anyBigInt: fc.Arbitrary<bigint> = fc.oneof(
  { arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), weight: 4 },
  { arbitrary: fc.constantFrom(...INT_EDGES), weight: 3 },
  {
    arbitrary: fc
      .tuple(
        fc.integer({ min: 64, max: 4000 }),
        fc.boolean(),
        fc.bigInt({ min: 0n, max: 2n ** 64n }),
      )
      .map(([bits, neg, low]) => (neg ? -1n : 1n) * (2n ** BigInt(bits) + low)),
    weight: 1,
  },
);

/** An int in the mode's form: `bigint` in exact mode, else `number` if safe. */
function intValue(mode: ValueMode): fc.Arbitrary<number | bigint> {
  if (mode.exact) return anyBigInt;
  return fc.oneof(
    { arbitrary: fc.integer(), weight: 3 },
    { arbitrary: fc.maxSafeInteger(), weight: 1 },
    {
      arbitrary: fc.constantFrom(...INT_EDGES.filter((v) => v >= -SAFE && v <= SAFE)).map(Number),
      weight: 2,
    },
    { arbitrary: anyBigInt.filter((v) => v < -SAFE || v > SAFE), weight: 1 },
  );
}

/** Floats, biased to the edges; in default mode an integral one is an int (`1.0` is `1`). */
const floatValue: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.double(), weight: 4 },
  {
    arbitrary: fc.constantFrom(0, -0, 0.5, 1.5, 0.1, 1e16, 1e22, 5e-324, 1.7976931348623157e308),
    weight: 1,
  },
  { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity), weight: 1 },
);

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];

/** Strings with astral characters, lone surrogates (kept by pickle-ts), NUL, newlines, quotes. */
const stringValue: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 12 }), weight: 80 },
  {
    arbitrary: fc.string({
      unit: fc.oneof(
        { arbitrary: fc.constantFrom(...LONE_SURROGATES), weight: 20 },
        {
          arbitrary: fc.constantFrom('\n', '\r', '\\', "'", '"', '\0', '\x7f', '\x80', '\xff'),
          weight: 20,
        },
        { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 80 },
      ),
      maxLength: 16,
    }),
    weight: 60,
  },
  {
    arbitrary: fc.constantFrom(
      '',
      '0',
      '42',
      '__proto__',
      'constructor',
      'toString',
      'a'.repeat(256),
    ),
    weight: 20,
  },
  {
    arbitrary: fc.integer({ min: 250, max: 70_000 }).map((n) => 'x'.repeat(n)),
    weight: 1,
  },
);

/** A key a plain object can hold (so such a dict loads as an object). */
const objectKey: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', 'a', 'b', '-1', '01'),
  )
  .filter((k) => k !== '__proto__' && !isArrayIndexKey(k));

const bytesValue: fc.Arbitrary<Uint8Array> = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 16 }), weight: 60 },
  {
    arbitrary: fc.integer({ min: 250, max: 70_000 }).map((n) => new Uint8Array(n).fill(0x61)),
    weight: 1,
  },
);

const complexValue: fc.Arbitrary<Complex> = fc
  .tuple(floatValue, floatValue)
  .map(([re, im]) => new Complex(re, im));

let nanKeys = 0;

/**
 * A key that is equal exactly when Python's `==` says the two values are (for distinct keys
 * and set members): ints, bools and integral floats compare as ints, tuples by value.
 */
export function pyKey(v: unknown): string {
  if (v === null) return 'N';
  if (typeof v === 'boolean') return v ? 'i1' : 'i0';
  if (typeof v === 'bigint') return `i${v}`;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return `nan${nanKeys++}`;
    if (Number.isInteger(v)) return `i${BigInt(v)}`;
    return `f${v}`;
  }
  if (typeof v === 'string') return `s${JSON.stringify(v)}`;
  if (v instanceof Complex) {
    if (Number.isNaN(v.re) || Number.isNaN(v.im)) return `cnan${nanKeys++}`;
    return v.im === 0 ? pyKey(v.re) : `c${v.re},${v.im}`;
  }
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`;
  if (v instanceof Tuple) return `t(${v.map(pyKey).join(',')})`;
  if (v instanceof FrozenSet) return `F{${[...v].map(pyKey).sort().join(',')}}`;
  throw new TypeError(`not hashable: ${String(v)}`);
}

/** What makes a number in the mode: an int or a float. */
function numberValue(mode: ValueMode): fc.Arbitrary<unknown> {
  return fc.oneof(intValue(mode), floatValue);
}

/** Hashable values: scalars, bytes, complex, tuples and frozensets of hashables. */
function hashable(mode: ValueMode): fc.Arbitrary<unknown> {
  const { h } = fc.letrec<{ h: unknown; leaf: unknown }>((tie) => ({
    leaf: fc.oneof(
      fc.constant(null),
      fc.boolean(),
      numberValue(mode),
      stringValue,
      bytesValue,
      complexValue,
    ),
    h: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      { arbitrary: tie('leaf'), weight: 6 },
      { arbitrary: fc.array(tie('h'), { maxLength: 4 }).map((a) => toTuple(a)), weight: 1 },
      {
        arbitrary: fc
          .uniqueArray(tie('h'), { maxLength: 4, selector: pyKey })
          .map((a) => new FrozenSet(a)),
        weight: 1,
      },
    ),
  }));
  return h;
}

/** A key a plain object cannot hold: not a string, or an index-like string, or `__proto__`. */
function mapOnlyKey(mode: ValueMode): fc.Arbitrary<unknown> {
  return fc.oneof(
    hashable(mode).filter((k) => typeof k !== 'string'),
    fc.constantFrom('0', '7', '42', '4294967294', '__proto__'),
  );
}

/** The tree of values (no sharing yet). */
function tree(mode: ValueMode): fc.Arbitrary<unknown> {
  const key = hashable(mode);
  const { value } = fc.letrec<{ value: unknown; leaf: unknown }>((tie) => ({
    leaf: fc.oneof(
      { arbitrary: fc.constant(null), weight: 20 },
      { arbitrary: fc.boolean(), weight: 20 },
      { arbitrary: intValue(mode), weight: 60 },
      { arbitrary: floatValue, weight: 40 },
      { arbitrary: stringValue, weight: 60 },
      { arbitrary: bytesValue, weight: 20 },
      { arbitrary: bytesValue.map((b) => ByteArray.copyOf(b)), weight: 20 },
      { arbitrary: complexValue, weight: 20 },
    ),
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 5 },
      { arbitrary: tie('leaf'), weight: 160 },
      { arbitrary: fc.array(tie('value'), { maxLength: 6 }), weight: 40 },
      { arbitrary: fc.array(tie('value'), { maxLength: 5 }).map((a) => toTuple(a)), weight: 40 },
      {
        arbitrary: fc
          .uniqueArray(fc.tuple(objectKey, tie('value')), { maxLength: 5, selector: ([k]) => k })
          .map((entries) => {
            const o: Record<string, unknown> = {};
            for (const [k, v] of entries) o[k] = v;
            return o;
          }),
        weight: 40,
      },
      {
        arbitrary: fc
          .tuple(
            fc.tuple(mapOnlyKey(mode), tie('value')),
            fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }),
          )
          .map(([first, rest]) => {
            const m = new Map<unknown, unknown>();
            const seen = new Set<string>();
            for (const [k, v] of [first, ...rest]) {
              const id = pyKey(k);
              if (!seen.has(id)) m.set(k, v);
              seen.add(id);
            }
            return m;
          }),
        weight: 40,
      },
      {
        arbitrary: fc.uniqueArray(key, { maxLength: 5, selector: pyKey }).map((a) => new Set(a)),
        weight: 20,
      },
      {
        arbitrary: fc
          .uniqueArray(key, { maxLength: 5, selector: pyKey })
          .map((a) => new FrozenSet(a)),
        weight: 20,
      },
      // Sizes around the pickler's batches of 1000 and the 256-entry memo of BINPUT.
      {
        arbitrary: fc
          .integer({ min: 990, max: 2010 })
          .map((n) => Array.from({ length: n }, (_, i) => (mode.exact ? BigInt(i) : i))),
        weight: 1,
      },
      {
        arbitrary: fc.integer({ min: 200, max: 300 }).map((n) => {
          const o: Record<string, unknown> = {};
          for (let i = 0; i < n; i++) o[`k${i}`] = [];
          return o;
        }),
        weight: 1,
      },
      // Deep nesting.
      {
        arbitrary: fc.integer({ min: 50, max: 1000 }).map((n) => {
          let v: unknown[] = [];
          const root = v;
          for (let i = 0; i < n; i++) {
            const next: unknown[] = [];
            v.push(next);
            v = next;
          }
          return root;
        }),
        weight: 1,
      },
    ),
  }));
  return value;
}

/** Containers that may take a shared reference: lists and dict values (never keys or sets). */
function mutableContainers(
  root: unknown,
): Array<unknown[] | Record<string, unknown> | Map<unknown, unknown>> {
  const out: Array<unknown[] | Record<string, unknown> | Map<unknown, unknown>> = [];
  const nodes = objectNodes(root);
  for (const n of nodes) {
    if (Array.isArray(n) ? !(n instanceof Tuple) : n instanceof Map || isDictObject(n)) {
      out.push(n as unknown[] | Record<string, unknown> | Map<unknown, unknown>);
    }
  }
  return out;
}

/** Every object in the value, each once. */
export function objectNodes(root: unknown): object[] {
  const seen = new Set<object>();
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) todo.push(...v);
    else if (v instanceof Map) for (const [k, x] of v) todo.push(k, x);
    else if (v instanceof Set) todo.push(...v);
    else if (!(v instanceof Uint8Array) && !(v instanceof Complex)) todo.push(...Object.values(v));
  }
  return [...seen];
}

/** Adds shared references (and so cycles, when a container gets one of its ancestors). */
function share(root: unknown, links: ReadonlyArray<readonly [number, number]>): unknown {
  if (links.length === 0) return root;
  const targets = mutableContainers(root);
  // Not the empty tuple: pickle never memoizes it (each () loads as a tuple of its own).
  const nodes = objectNodes(root).filter((n) => !(n instanceof Tuple && n.length === 0));
  if (targets.length === 0 || nodes.length === 0) return root;
  let n = 0;
  for (const [i, j] of links) {
    const target = targets[i % targets.length]!;
    const item = nodes[j % nodes.length]!;
    if (Array.isArray(target)) target.push(item);
    else if (target instanceof Map) {
      while (target.has(`link ${n}`)) n++;
      target.set(`link ${n++}`, item);
    } else {
      while (`link ${n}` in target) n++;
      target[`link ${n++}`] = item;
    }
  }
  return root;
}

/** A random valid value for the mode, with shared references and cycles some of the time. */
export function pyValue(mode: ValueMode): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      tree(mode),
      fc.oneof(
        { arbitrary: fc.constant([] as Array<[number, number]>), weight: 2 },
        {
          arbitrary: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 4 }),
          weight: 1,
        },
      ),
    )
    .map(([root, links]) => share(root, links));
}

/**
 * Whether CPython's `pickle.dumps(pickle.loads(ours))` should give our bytes back exactly: not
 * when a set has two members or more (Python writes a set in its own hash order), nor when two
 * distinct bytes objects of length 0 or 1 are equal (CPython loads them as one cached object and
 * then writes a memo reference for the second).
 */
export function byteIdenticalInPython(root: unknown): boolean {
  const small = new Set<string>();
  for (const n of objectNodes(root)) {
    if (n instanceof Set && n.size >= 2) return false;
    if (n instanceof Uint8Array && !(n instanceof ByteArray) && n.length <= 1) {
      const k = Buffer.from(n).toString('hex');
      if (small.has(k)) return false;
      small.add(k);
    }
  }
  return true;
}
