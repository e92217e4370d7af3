/**
 * The Pool's methods with Python's names and semantics: map (with Python's default chunksize,
 * checked against a live CPython Pool), starmap, apply, the async handles, imap ordering,
 * progress, close/join and `await using`. One pool of 2 workers serves most tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AsyncResult,
  IMapIterator,
  Pool,
  PoolError,
  PoolErrorCode,
  TimeoutError,
  range,
} from '../../src/pool/index.js';
import { needPython, py } from '../helpers/python.js';

/** Blocks the worker for `ms` milliseconds (a global-only lambda, sent by source). */
const sleepThen = (ms: number) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return ms;
};

let pool: Pool;
before(() => {
  pool = new Pool(2);
});
after(() => pool.terminate());

describe('map', () => {
  test("the tutorial's examples run as written", async () => {
    assert.deepEqual(
      await pool.map(Math.cos, range(10)),
      [...range(10)].map((x) => Math.cos(x)),
    );
    assert.deepEqual(
      await pool.map((x: number) => 2 ** x, range(10)),
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    );
  });

  test('keeps input order, takes any iterable, and maps an empty input to []', async () => {
    function* gen() {
      yield* [3, 1, 2];
    }
    assert.deepEqual(await pool.map((x: number) => x * 10, gen()), [30, 10, 20]);
    assert.deepEqual(await pool.map((x: string) => x, new Set(['a', 'b'])), ['a', 'b']);
    let called: unknown;
    const r = pool.mapAsync((x: number) => x, [], { callback: (v) => (called = v) });
    assert.equal(r.ready(), true);
    assert.deepEqual(await r.get(), []);
    assert.deepEqual(called, []);
  });

  test("cuts the input into chunks by Python's rule (compared with CPython's Pool)", async (t) => {
    if (!needPython(t)) return;
    for (const [length, chunksize] of [
      [1, undefined],
      [7, undefined],
      [8, undefined],
      [9, undefined],
      [100, undefined],
      [1001, undefined],
      [10, 3],
      [10, 20],
    ] as const) {
      const sizes: number[] = [];
      let last = 0;
      const onProgress = (done: number, total: number) => {
        assert.equal(total, length);
        sizes.push(done - last);
        last = done;
      };
      const out = await pool.map((x: number) => x, range(length), { chunksize, onProgress });
      assert.deepEqual(out, [...range(length)]);
      const r = await py.eval(
        `import pool_chunks\nresult = pool_chunks.chunk_sizes(${length}, 2, ${chunksize ?? 'None'})`,
      );
      const expected = (r.tagged as { v: Array<{ v: string }> }).v.map((x) => Number(x.v));
      // Chunks may finish in any order: compare the sizes as multisets.
      assert.deepEqual(
        sizes.sort((a, b) => a - b),
        expected.sort((a, b) => a - b),
        `length ${length}, chunksize ${chunksize}`,
      );
    }
  });

  test('rejects a chunksize below 1, as Python does', () => {
    for (const bad of [0, -1, 1.5]) {
      assert.throws(
        () => pool.mapAsync((x: number) => x, [1], bad),
        (e: unknown) => e instanceof PoolError && e.code === PoolErrorCode.BAD_ARGUMENT,
      );
    }
  });

  test('reports progress up to (total, total)', async () => {
    const seen: Array<[number, number]> = [];
    await pool.map((x: number) => x, range(20), {
      chunksize: 3,
      onProgress: (d, t) => seen.push([d, t]),
    });
    assert.equal(seen.length, 7);
    assert.deepEqual(seen.at(-1), [20, 20]);
    assert.ok(seen.every(([d], i) => i === 0 || d > seen[i - 1]![0]));
  });
});

describe('starmap and apply', () => {
  test('starmap spreads each tuple of arguments', async () => {
    assert.deepEqual(
      await pool.starmap(
        (a: number, b: number) => a ** b,
        [
          [2, 5],
          [3, 2],
        ],
      ),
      [32, 9],
    );
    const r = pool.starmapAsync(Math.max, [[1, 9, 3], [4]]);
    assert.ok(r instanceof AsyncResult);
    assert.deepEqual(await r, [9, 4]);
  });

  test('apply calls the function once with the arguments', async () => {
    assert.equal(await pool.apply((a: bigint, b: bigint) => a ** b, [2n, 70n]), 2n ** 70n);
    assert.equal(await pool.apply(() => 'no arguments'), 'no arguments');
  });

  test('applyAsync gives a handle: ready, successful, wait, get(timeout), then, callbacks', async () => {
    let callbackValue: unknown;
    const r = pool.applyAsync(sleepThen, [150], { callback: (v) => (callbackValue = v) });
    assert.equal(r.ready(), false);
    assert.throws(
      () => r.successful(),
      (e: unknown) => e instanceof PoolError && e.code === PoolErrorCode.NOT_READY,
    );
    await assert.rejects(r.get(0.01), TimeoutError);
    await r.wait(0.01);
    assert.equal(r.ready(), false, 'wait(timeout) returns without the result');
    assert.equal(await r.get(5), 150);
    assert.equal(r.ready(), true);
    assert.equal(r.successful(), true);
    assert.equal(callbackValue, 150);
    assert.equal(await r, 150, 'the handle is awaitable');

    let errorSeen: unknown;
    const bad = pool.applyAsync(
      () => {
        throw new RangeError('no');
      },
      [],
      { errorCallback: (e) => (errorSeen = e) },
    );
    await bad.wait();
    assert.equal(bad.successful(), false);
    assert.ok(errorSeen instanceof RangeError);
    await assert.rejects(bad.get(), RangeError);
  });
});

describe('imap', () => {
  // Item 0 takes 300 ms, the others 10 ms.
  const slowFirst = (i: number) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, i === 0 ? 300 : 10);
    return i;
  };

  test('imap yields in input order; imapUnordered as results finish', async () => {
    const ordered: number[] = [];
    const it = pool.imap(slowFirst, range(5));
    assert.ok(it instanceof IMapIterator);
    for await (const x of it) ordered.push(x);
    assert.deepEqual(ordered, [0, 1, 2, 3, 4]);

    const unordered: number[] = [];
    for await (const x of pool.imapUnordered(slowFirst, range(5))) unordered.push(x);
    assert.deepEqual([...unordered].sort(), [0, 1, 2, 3, 4]);
    assert.notEqual(unordered[0], 0, 'a later, faster item comes out before the slow first one');
  });

  test('chunksize groups items; progress counts items; an input without length ends it', async () => {
    function* gen() {
      for (let i = 0; i < 7; i++) yield i;
    }
    const seen: Array<[number, number | undefined]> = [];
    const out: number[] = [];
    for await (const x of pool.imap((x: number) => x * x, gen(), {
      chunksize: 3,
      onProgress: (d, t) => seen.push([d, t]),
    })) {
      out.push(x);
    }
    assert.deepEqual(out, [0, 1, 4, 9, 16, 25, 36]);
    assert.deepEqual(seen.at(-1), [7, 7]);
  });

  test('reads an endless input lazily and stops when the loop breaks', async () => {
    let read = 0;
    function* naturals() {
      for (let i = 0; ; i++) {
        read++;
        yield i;
      }
    }
    const out: number[] = [];
    for await (const x of pool.imap((x: number) => x + 1, naturals())) {
      out.push(x);
      if (out.length === 50) break;
    }
    assert.deepEqual(out, [...range(1, 51)]);
    assert.ok(read < 1000, `read ${read} items of an endless input`);
    assert.equal(await pool.apply(() => 'still running'), 'still running');
  });

  test('a failed item throws at its place, and next() goes on after it', async () => {
    const it = pool.imap((x: number) => {
      if (x === 2) throw new Error(`item ${x}`);
      return x;
    }, range(5));
    assert.deepEqual(await it.next(), { value: 0, done: false });
    assert.deepEqual(await it.next(), { value: 1, done: false });
    await assert.rejects(it.next(), /item 2/);
    assert.deepEqual(await it.next(), { value: 3, done: false });
    assert.deepEqual(await it.next(), { value: 4, done: false });
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  test('next(timeout) rejects with a TimeoutError and the result still comes', async () => {
    const it = pool.imap(sleepThen, [200]);
    await assert.rejects(it.next(0.01), TimeoutError);
    assert.deepEqual(await it.next(5), { value: 200, done: false });
  });
});

describe('lifecycle', () => {
  test('close() finishes the work submitted; join() waits for the workers; no new tasks', async () => {
    const p = new Pool(1);
    await assert.rejects(
      p.join(),
      (e: unknown) => e instanceof PoolError && e.code === PoolErrorCode.STILL_RUNNING,
    );
    const r = p.mapAsync(sleepThen, [20, 20, 20], 1);
    p.close();
    assert.throws(
      () => p.applyAsync(() => 1),
      (e: unknown) => e instanceof PoolError && e.code === PoolErrorCode.NOT_RUNNING,
    );
    await p.join();
    assert.deepEqual(await r.get(), [20, 20, 20]);
  });

  test('await using terminates the pool at the end of the block', async () => {
    let inside: Pool;
    {
      await using p = new Pool({ processes: 1 });
      inside = p;
      assert.equal(await p.apply(() => 7), 7);
    }
    assert.throws(
      () => inside.applyAsync(() => 1),
      (e: unknown) => e instanceof PoolError && e.code === PoolErrorCode.NOT_RUNNING,
    );
  });

  test('bad constructor arguments are refused, as Python refuses them', () => {
    assert.throws(() => new Pool(0), /processes must be 1 or more/);
    assert.throws(() => new Pool(1, { maxTasksPerChild: 0 }), /maxTasksPerChild/);
    assert.throws(
      () => new Pool(1, { initializer: 5 as unknown as () => void }),
      /initializer must be a function/,
    );
  });
});
