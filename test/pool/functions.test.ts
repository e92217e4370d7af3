/**
 * How functions travel: built-ins by name, module exports by reference (module URL and export
 * name), everything else by source with its free variables checked before anything is sent,
 * and `captures` for the values a lambda takes from its scope. Functions may sit anywhere in
 * the arguments and come back as results.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Pool, capture, FunctionPicklingError } from '../../src/pool/index.js';
import { analyzeSource } from '../../src/pool/source.js';
import describeDefault, { makeAdder, scaled, setFactor } from './fixtures/tasks.js';

let pool: Pool;
before(() => {
  pool = new Pool(2, { initializer: setFactor, initargs: [10] });
});
after(() => pool.terminate());

describe('source analysis', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['x => x * k', ['k'], []],
    ['function f(n) { return n ? f(n - 1) : Math.cos(0); }', ['Math'], []],
    ['({ a, ...rest }) => [a, rest, b]', ['b'], []],
    ['(x) => { const k = 1; { let j = k; } return j; }', ['j'], []],
    ['function () { try { return x } catch (e) { return e } }', ['x'], []],
    ['class A extends B { m() { return super.m(); } }', ['B'], []],
    ['() => this.x', [], ['this']],
    ['function () { return () => this; }', [], []],
    ['() => new.target', [], ['new.target']],
    ['m() { return super.m(); }', [], ['super']],
    ['m(x) { return { n() { return super.n(); } } }', [], []],
    ['async *gen(x) { yield await x; }', [], []],
    ['() => import.meta.url', [], ['import.meta']],
    ['() => arguments[0]', [], ['arguments']],
    ['function () { return arguments[0]; }', [], []],
    ['() => super.x', [], ['super']],
    [
      'x => { label: for (;;) { break label; } return typeof undefinedName; }',
      ['undefinedName'],
      [],
    ],
  ];
  for (const [source, free, contextual] of cases) {
    test(source, () => {
      const a = analyzeSource(source);
      assert.deepEqual(a.freeVariables, free);
      assert.deepEqual(a.contextual, contextual);
    });
  }
});

describe('built-ins and exports', () => {
  test('built-in functions go by name', async () => {
    assert.deepEqual(await pool.map(Math.sqrt, [4, 9]), [2, 3]);
    assert.deepEqual(await pool.map(String, [1, true]), ['1', 'true']);
    assert.deepEqual(await pool.map(JSON.stringify, [{ a: 1 }]), ['{"a":1}']);
    assert.deepEqual(await pool.map(Number.parseFloat, ['1.5']), [1.5]);
  });

  test('an exported function goes by reference: module state set by the initializer, helpers', async () => {
    assert.deepEqual(await pool.map(scaled, [1, 2, 3]), [10, 20, 30]);
    assert.equal(await pool.apply(describeDefault, [5]), 'default export got 5');
  });

  test('functions anywhere in the arguments, of every kind', async () => {
    const call = (f: (x: number) => unknown, x: number) => f(x);
    assert.deepEqual(
      await pool.starmap(call, [
        [Math.sqrt, 16],
        [scaled, 2],
        [(y: number) => y * 3, 2],
        [capture({ k: 5n }, (y: number) => BigInt(y) * k), 2],
      ]),
      [4, 20, 6, 10n],
    );
  });

  test('a function made in the worker comes back and runs here', async () => {
    const fromSource = await pool.apply(() => (x: number) => x + 1);
    assert.equal(fromSource(1), 2);
    const exported = await pool.apply(() => Math.max);
    assert.equal(exported, Math.max);
  });
});

declare const k: bigint;

describe('lambdas by source', () => {
  test('async functions, generators of results, methods and classes', async () => {
    assert.deepEqual(
      await pool.map(
        async (x: number) => {
          await new Promise((r) => setTimeout(r, 1));
          return x * 2;
        },
        [1, 2, 3],
      ),
      [2, 4, 6],
    );
    const obj = {
      twice(x: number) {
        return 2 * x;
      },
    };
    assert.equal(await pool.apply(obj.twice, [21]), 42);
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    assert.equal(await pool.apply((C: typeof Point) => new C(3, 4).x + new C(3, 4).y, [Point]), 7);
  });

  test('a free variable fails before sending, naming it and explaining captures', async () => {
    const factor = 3;
    const offset = 1;
    await assert.rejects(
      pool.map((x: number) => x * factor + offset, [1]),
      (e: unknown) => {
        assert.ok(e instanceof FunctionPicklingError);
        assert.deepEqual(e.freeVariables, ['factor', 'offset']);
        assert.match(e.message, /uses `factor`, `offset` from the scope it was written in/);
        assert.match(e.message, /captures: \{ factor, offset \}/);
        assert.match(e.message, /export the function from a module/);
        return true;
      },
    );
  });

  test('captures are pickled and bound in the worker: options.captures and capture()', async () => {
    const factor = 3n;
    const names = new Map([[1, 'one']]);
    assert.deepEqual(
      await pool.map((x: number) => [BigInt(x) * factor, names.get(x)], [1, 2], {
        captures: { factor, names },
      }),
      [
        [3n, 'one'],
        [6n, undefined],
      ],
    );
    const helper = (y: number) => y + 100;
    const useHelper = capture({ helper }, (x: number) => helper(x));
    assert.equal(useHelper(1), 101, 'calling it here still works');
    assert.deepEqual(await pool.map(useHelper, [1]), [101]);
    const returned = await pool
      .apply(makeAdder(5) as (x: number) => number, [1])
      .catch((e: Error) => e);
    assert.ok(returned instanceof FunctionPicklingError, 'a closure over `n` needs captures');
    assert.equal(await pool.apply(capture({ n: 5 }, makeAdder(0)), [1]), 6);
    assert.throws(() => capture({ 'not a name': 1 }, () => 1), /not a JavaScript identifier/);
  });

  test('bound, native, super-using, this-using and private-field methods are refused clearly', async () => {
    const reasons: Array<[unknown, RegExp]> = [
      [Math.max.bind(null, 1), /bound function `bound max`.*bind\(\) hides/],
      [Object.getOwnPropertyDescriptor(Map.prototype, 'size')!.get, /native function `get size`/],
      [
        class extends Array {
          static m() {
            return super.from([]);
          }
        }.m,
        /uses `super`/,
      ],
      [
        function (this: { v: number }) {
          return () => this.v;
        }.call({ v: 1 }),
        /uses `this` from the function around it/,
      ],
      [
        new (class {
          #secret = 1;
          reveal() {
            return this.#secret;
          }
        })().reveal,
        /private field/,
      ],
    ];
    for (const [fn, reason] of reasons) {
      await assert.rejects(pool.apply(fn as () => unknown), (e: unknown) => {
        assert.ok(e instanceof FunctionPicklingError, String(e));
        assert.match(e.message, reason);
        return true;
      });
    }
  });
});
