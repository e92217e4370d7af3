/**
 * Failures are never silent and never hang: a task's error comes back with its class, message,
 * fields and the worker's stack; a worker that exits, crashes or runs out of memory is replaced
 * and only its own task fails; terminate() fails what is unfinished at once; a failing
 * initializer breaks the pool with its error; maxTasksPerChild replaces workers; and a pool
 * left open does not keep the process alive after its work.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Pool, PoolError, PoolErrorCode, RemoteTraceback } from '../../src/pool/index.js';
import { failingInitializer, whichThread } from './fixtures/tasks.js';

const sleep = (ms: number) => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return ms;
};
const isPoolError = (code: PoolErrorCode) => (e: unknown) =>
  e instanceof PoolError && e.code === code;

let pool: Pool;
before(() => {
  pool = new Pool(2);
});
after(() => pool.terminate());

describe('errors thrown by tasks', () => {
  test("keep their class, message and fields; the worker's stack is the cause", async () => {
    await assert.rejects(
      pool.apply(() => {
        throw Object.assign(new TypeError('bad input'), { code: 'E_BAD', detail: [1n, 'x'] });
      }),
      (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.equal(e.message, 'bad input');
        assert.equal((e as unknown as { code: string }).code, 'E_BAD');
        assert.deepEqual((e as unknown as { detail: unknown }).detail, [1n, 'x']);
        assert.ok(e.cause instanceof RemoteTraceback);
        assert.match(e.cause.stack!, /TypeError: bad input\n\s+at .*pool-function/);
        return true;
      },
    );
  });

  test('a class the pool does not know keeps its name; thrown non-errors come back as thrown', async () => {
    await assert.rejects(
      pool.apply(() => {
        class QuotaError extends Error {
          override name = 'QuotaError';
        }
        throw new QuotaError('over quota');
      }),
      (e: unknown) => e instanceof Error && e.name === 'QuotaError' && e.message === 'over quota',
    );
    await assert.rejects(
      pool.apply(() => {
        throw 'a string';
      }),
      (e: unknown) => e === 'a string',
    );
  });

  test('one failing item fails the whole map; the pool goes on', async () => {
    await assert.rejects(
      pool.map(
        (x: number) => {
          if (x === 7) throw new RangeError('seven');
          return x;
        },
        Array.from({ length: 20 }, (_, i) => i),
      ),
      /seven/,
    );
    assert.deepEqual(await pool.map((x: number) => x, [1, 2]), [1, 2]);
  });

  test('a result that cannot be pickled fails with the reason', async () => {
    await assert.rejects(
      pool.apply(() => new WeakMap()),
      (e: unknown) =>
        e instanceof TypeError && /result cannot be sent back: .*WeakMap/.test(e.message),
    );
  });
});

describe('workers that die', () => {
  test('process.exit in a task fails that task only; the others run on a new worker', async () => {
    const p = new Pool(1);
    try {
      const results = [0, 1, 2, 3].map((i) =>
        p.applyAsync(
          (x: number) => {
            if (x === 1) process.exit(3);
            return x;
          },
          [i],
        ),
      );
      assert.equal(await results[0]!.get(), 0);
      await assert.rejects(results[1]!.get(), (e: unknown) => {
        assert.ok(isPoolError(PoolErrorCode.WORKER_EXITED)(e));
        assert.equal((e as PoolError).exitCode, 3);
        assert.match((e as Error).message, /exited with code 3 while running this task/);
        return true;
      });
      assert.deepEqual([await results[2]!.get(), await results[3]!.get()], [2, 3]);
    } finally {
      await p.terminate();
    }
  });

  test('running out of memory (resourceLimits) fails the task and replaces the worker', async () => {
    const p = new Pool(1, { resourceLimits: { maxOldGenerationSizeMb: 24 } });
    try {
      await assert.rejects(
        p.apply(() => {
          const hog: number[][] = [];
          for (;;) hog.push(new Array(1e5).fill(1));
        }),
        (e: unknown) =>
          isPoolError(PoolErrorCode.WORKER_EXITED)(e) &&
          /ran out of memory/.test((e as Error).message),
      );
      assert.equal(await p.apply(() => 'alive'), 'alive');
    } finally {
      await p.terminate();
    }
  });

  test('an uncaught error between tasks replaces the worker with a warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      assert.equal(
        await pool.apply(() => {
          setTimeout(() => {
            throw new RangeError('late');
          }, 1);
          return 'returned first';
        }),
        'returned first',
      );
      for (let i = 0; i < 100 && warnings.length === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.match(
        warnings[0]?.message ?? '',
        /crashed with an uncaught RangeError: late between tasks/,
      );
      assert.deepEqual(await pool.map((x: number) => x, [1, 2, 3]), [1, 2, 3]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('terminate, initializer, maxTasksPerChild', () => {
  test('terminate() during work fails every unfinished task at once', async () => {
    const p = new Pool(2);
    const started = performance.now();
    const mapping = p.map(sleep, Array(20).fill(100), 1);
    const single = p.applyAsync(sleep, [100]);
    setTimeout(() => void p.terminate(), 150);
    await assert.rejects(mapping, isPoolError(PoolErrorCode.TERMINATED));
    await assert.rejects(single.get(), isPoolError(PoolErrorCode.TERMINATED));
    assert.ok(performance.now() - started < 1500, 'it did not wait for the 2 s of work');
    assert.throws(() => p.applyAsync(sleep, [1]), isPoolError(PoolErrorCode.NOT_RUNNING));
  });

  test('a failing initializer breaks the pool with its error', async () => {
    const p = new Pool(1, { initializer: failingInitializer });
    await assert.rejects(
      p.apply(() => 1),
      (e: unknown) => {
        assert.ok(isPoolError(PoolErrorCode.INITIALIZER_FAILED)(e));
        assert.match((e as Error).message, /initializer failed in worker 1: no database here/);
        assert.equal(((e as Error).cause as Error).message, 'no database here');
        return true;
      },
    );
    assert.throws(() => p.applyAsync(() => 1), isPoolError(PoolErrorCode.INITIALIZER_FAILED));
    await p.terminate();
  });

  test('an initializer that cannot be sent is refused at once', () => {
    const secret = 1;
    assert.throws(() => new Pool(1, { initializer: () => secret }), /uses `secret`/);
  });

  test('maxTasksPerChild replaces each worker after that many tasks', async () => {
    const p = new Pool(1, { maxTasksPerChild: 2 });
    try {
      const threads: number[] = [];
      for (let i = 0; i < 6; i++) threads.push(await p.apply(whichThread));
      const counts = new Map<number, number>();
      for (const t of threads) counts.set(t, (counts.get(t) ?? 0) + 1);
      assert.equal(counts.size, 3, `threads ${threads}`);
      assert.ok([...counts.values()].every((n) => n === 2));
      // A map's chunks count as tasks too.
      const chunkThreads = await p.map(whichThread, Array(4).fill(0), 1);
      const chunkCounts = new Map<number, number>();
      for (const t of chunkThreads) chunkCounts.set(t, (chunkCounts.get(t) ?? 0) + 1);
      assert.equal(chunkCounts.size, 2, `threads ${chunkThreads}`);
      assert.ok(
        chunkThreads.every((t) => !counts.has(t)),
        'the used-up workers are gone',
      );
    } finally {
      await p.terminate();
    }
  });
});

describe('the process', () => {
  test('an open pool does not keep the process alive after its work', () => {
    const script = fileURLToPath(new URL('./fixtures/open-pool.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\[ 0, 1, 4 \]/);
    assert.match(r.stdout, /end of script/);
  });
});
