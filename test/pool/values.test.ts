/**
 * Values that only pickle carries arrive as themselves, in both directions: each case goes to a
 * worker as an argument, the worker describes what it received (type names, shared identity),
 * and sends it back. Binary data travels beside the pickle, moved or copied as documented, and
 * the pool's pickles of plain values are pickles CPython reads.
 *
 * To add a value type (datetime, a registered class, once the object model lands), add a row
 * to VALUE_CASES: `make` builds it, `inWorker` is a global-only lambda describing what the
 * worker got, `check` looks at what came back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ByteArray,
  Complex,
  FrozenSet,
  PyGlobal,
  PyObject,
  Tuple,
  tuple,
} from '../../src/index.js';
import { PoolCodec } from '../../src/pool/codec.js';
import { Pool } from '../../src/pool/index.js';
import { needPython, py } from '../helpers/python.js';

interface ValueCase {
  name: string;
  make: () => unknown;
  /** Runs in the worker on the value received; its result is compared with `seen`. */
  inWorker: (v: never) => unknown;
  seen: unknown;
  /** Checks the value that came back (default: deepEqual with a fresh `make()`). */
  check?: (back: unknown) => void;
}

const VALUE_CASES: ValueCase[] = [
  {
    name: 'bigint, small and large',
    make: () => [1n, -(2n ** 100n), 0n],
    inWorker: (v: bigint[]) => v.map((x) => typeof x),
    seen: ['bigint', 'bigint', 'bigint'],
  },
  {
    name: 'numbers stay numbers: integral, -0, NaN, Infinity',
    make: () => [3, 3.5, -0, NaN, Infinity, 2 ** 60],
    inWorker: (v: number[]) => v.map((x) => [typeof x, Object.is(x, -0)]),
    seen: [
      ['number', false],
      ['number', false],
      ['number', true],
      ['number', false],
      ['number', false],
      ['number', false],
    ],
  },
  {
    name: 'Tuple, Set, FrozenSet',
    make: () => [tuple<unknown>(1, 'a'), new Set([1, 2]), new FrozenSet(['x'])],
    inWorker: (v: unknown[]) => v.map((x) => (x as object).constructor.name),
    seen: ['Tuple', 'Set', 'FrozenSet'],
    check: (back) => {
      const [t, s, f] = back as unknown[];
      assert.ok(t instanceof Tuple);
      assert.ok(s instanceof Set && !(s instanceof FrozenSet));
      assert.ok(f instanceof FrozenSet);
    },
  },
  {
    name: 'bytes and bytearray',
    make: () => [new Uint8Array([1, 2, 255]), ByteArray.copyOf(new Uint8Array([9]))],
    inWorker: (v: Uint8Array[]) => v.map((x) => x.constructor.name),
    seen: ['Uint8Array', 'ByteArray'],
  },
  {
    name: 'Map with string keys stays a Map; with other keys too',
    make: () => [
      new Map([['a', 1]]),
      new Map<unknown, unknown>([
        [1, 'one'],
        [tuple(1, 2), 'pair'],
      ]),
      new Map(),
    ],
    inWorker: (v: unknown[]) => v.map((x) => x instanceof Map),
    seen: [true, true, true],
  },
  {
    name: "plain objects stay objects, even with keys '0' and '__proto__'",
    make: () => {
      const odd = { '0': 'zero', b: 2 };
      Object.defineProperty(odd, '__proto__', { value: 'own', enumerable: true });
      return [{ a: 1 }, odd];
    },
    inWorker: (v: object[]) =>
      v.map((x) => [Object.getPrototypeOf(x) === Object.prototype, Object.keys(x)]),
    seen: [
      [true, ['a']],
      [true, ['0', 'b', '__proto__']],
    ],
    check: (back) => {
      const [, odd] = back as Array<Record<string, unknown>>;
      assert.equal(Object.getPrototypeOf(odd), Object.prototype);
      assert.equal(Object.getOwnPropertyDescriptor(odd, '__proto__')?.value, 'own');
      assert.equal(odd!['0'], 'zero');
    },
  },
  {
    name: 'undefined, alone and inside containers',
    make: () => [undefined, { a: undefined }, new Map([['k', undefined]])],
    inWorker: (v: unknown[]) => [
      typeof v[0],
      'a' in (v[1] as object),
      (v[2] as Map<string, unknown>).has('k'),
    ],
    seen: ['undefined', true, true],
  },
  {
    name: 'shared references and cycles',
    make: () => {
      const shared = [1, 2];
      const m = new Map<string, unknown>();
      m.set('self', m);
      const o: Record<string, unknown> = { '1': 'index key' };
      o.self = o;
      return { a: shared, b: shared, m, o };
    },
    inWorker: (v: {
      a: unknown;
      b: unknown;
      m: Map<string, unknown>;
      o: Record<string, unknown>;
    }) => [v.a === v.b, v.m.get('self') === v.m, v.o.self === v.o],
    seen: [true, true, true],
    check: (back) => {
      const v = back as {
        a: unknown;
        b: unknown;
        m: Map<string, unknown>;
        o: Record<string, unknown>;
      };
      assert.equal(v.a, v.b);
      assert.equal(v.m.get('self'), v.m);
      assert.equal(v.o.self, v.o);
    },
  },
  {
    name: 'typed arrays, DataView, Buffer, ArrayBuffer (small and large)',
    make: () => [
      new Float64Array([1.5, -2]),
      new Int16Array(20000).fill(-3),
      new BigInt64Array([-(2n ** 63n)]),
      new DataView(new Uint8Array([1, 2, 3]).buffer),
      Buffer.from('buffer'),
      new Uint8Array(100_000).fill(7).buffer,
      new Uint8Array(50_000).fill(5),
    ],
    inWorker: (v: object[]) => v.map((x) => [x.constructor.name, (x as ArrayBuffer).byteLength]),
    seen: [
      ['Float64Array', 16],
      ['Int16Array', 40000],
      ['BigInt64Array', 8],
      ['DataView', 3],
      ['Buffer', 6],
      ['ArrayBuffer', 100000],
      ['Uint8Array', 50000],
    ],
  },
  {
    name: 'errors as values keep class, message and fields',
    make: () => [Object.assign(new RangeError('out'), { code: 'E_OUT' })],
    inWorker: (v: Error[]) => [
      v[0]!.constructor.name,
      v[0]!.message,
      (v[0] as Error & { code: string }).code,
    ],
    seen: ['RangeError', 'out', 'E_OUT'],
    check: (back) => {
      const [e] = back as Error[];
      assert.ok(e instanceof RangeError);
      assert.equal(e.message, 'out');
      assert.equal((e as Error & { code: string }).code, 'E_OUT');
    },
  },
  {
    name: "the core's Python values: Complex, PyGlobal, PyObject",
    make: () => [
      new Complex(1, -2),
      new PyGlobal('mymodule', 'Thing'),
      new PyObject(new PyGlobal('m', 'C'), tuple(1)),
    ],
    inWorker: (v: object[]) => v.map((x) => x.constructor.name),
    seen: ['Complex', 'PyGlobal', 'PyObject'],
  },
];

let pool: Pool;
before(() => {
  pool = new Pool(2);
});
after(() => pool.terminate());

describe('values arrive as themselves', () => {
  for (const c of VALUE_CASES) {
    test(c.name, async () => {
      const [seen, back] = await pool.apply(
        (f: (v: unknown) => unknown, v: unknown) => [f(v), v],
        [c.inWorker as (v: unknown) => unknown, c.make()],
      );
      assert.deepEqual(seen, c.seen, 'what the worker received');
      if (c.check) c.check(back);
      else assert.deepEqual(back, c.make());
    });
  }
});

describe('binary data', () => {
  test('large results are moved, not copied: they arrive over their own ArrayBuffer', async () => {
    const [big, small] = await pool.apply(() => [
      new Float64Array(1 << 17).fill(0.5),
      new Uint8Array(8),
    ]);
    assert.ok(big instanceof Float64Array && small instanceof Uint8Array);
    assert.equal(big.length, 1 << 17);
    assert.equal(big.buffer.byteLength, big.byteLength, 'the worker’s buffer itself, moved');
    assert.ok(small.buffer.byteLength > 8 || small.byteOffset >= 0);
  });

  test("arguments are copied by default, so the caller's arrays stay usable", async () => {
    const input = new Float64Array(1 << 16).fill(2);
    const sum = await pool.apply((a: Float64Array) => a.reduce((s, x) => s + x, 0), [input]);
    assert.equal(sum, 2 * (1 << 16));
    assert.equal(input.length, 1 << 16);
  });

  test('transferArguments moves large arguments: the caller’s buffer is detached', async () => {
    const p = new Pool(1, { transferArguments: true });
    try {
      const input = new Uint8Array(1 << 16).fill(1);
      assert.equal(await p.apply((a: Uint8Array) => a.length, [input]), 1 << 16);
      assert.equal(input.byteLength, 0);
    } finally {
      await p.terminate();
    }
  });

  test('memory on a SharedArrayBuffer is shared with the worker, not copied', async () => {
    const shared = new Int32Array(new SharedArrayBuffer(16));
    await pool.apply(
      (a: Int32Array) => {
        a[0] = 42;
      },
      [shared],
    );
    assert.equal(shared[0], 42);
  });
});

describe('the pool speaks pickle', () => {
  test("the pickles of plain values are CPython's: Python loads them equal, sharing kept", async (t) => {
    if (!needPython(t)) return;
    const shared = [1n, 'x'];
    const value = {
      ints: [1n, 2n ** 80n],
      t: tuple<unknown>(1.5, 'a'),
      s: new Set([1n]),
      b: new Uint8Array([0, 255]),
      a: shared,
      c: shared,
    };
    const packed = new PoolCodec({ locate: false }).dump(value);
    assert.equal(packed.buffers.length, 0);
    const r = await py.eval(
      `v = pickle.loads(data)\n` +
        `result = [v['ints'] == [1, 2**80], v['t'] == (1.5, 'a'), v['s'] == {1}, ` +
        `v['b'] == b'\\x00\\xff', v['a'] is v['c'], type(v['t'][0]).__name__]`,
      packed.bytes,
    );
    assert.deepEqual(
      (r.tagged as { v: Array<{ v: unknown }> }).v.map((x) => x.v),
      [true, true, true, true, true, 'float'],
    );
  });
});
