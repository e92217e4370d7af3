/**
 * The streaming Unpickler gives what `loads` gives, whatever the chunking: every CPython corpus
 * pickle (protocols 0-5) and every committed fixture, fed in chunks of 1, 7, 64 KiB and other
 * sizes, loads to the same value; every truncation of them fails with the same error (code,
 * offset, opcode, message); large payloads read straight into their value, in and out of frames.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ByteArray, ErrorCode, UnpicklingError, dumps, loadAll, loads } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { StreamUnpickler, type ChunkSource } from '../../src/node/index.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** `data` as chunks of `size` bytes (each a fresh copy, as a stream delivers them). */
function* chunked(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.slice(i, i + size);
}

/** `data` as an async stream of chunks of varying sizes. */
async function* irregular(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  for (let k = 0; i < data.length; k++) {
    const n = sizes[k % sizes.length]!;
    yield data.slice(i, i + n);
    i += n;
    await Promise.resolve();
  }
}

type Outcome = { values: unknown[] } | { error: UnpicklingError };

function syncOutcome(data: Uint8Array, options = {}): Outcome {
  const values: unknown[] = [];
  try {
    for (const v of loadAll(data, options)) values.push(v);
    if (data.length === 0) loads(data, options);
    return { values };
  } catch (e) {
    assert.ok(e instanceof UnpicklingError, String(e));
    return { error: e };
  }
}

async function streamOutcome(source: ChunkSource, options = {}): Promise<Outcome> {
  const values: unknown[] = [];
  const u = new StreamUnpickler(source, options);
  try {
    if (await u.atEnd()) await u.load();
    for await (const v of u) values.push(v);
    return { values };
  } catch (e) {
    assert.ok(e instanceof UnpicklingError, String(e));
    return { error: e };
  }
}

function assertSame(got: Outcome, want: Outcome, what: string): void {
  if ('error' in want) {
    assert.ok('error' in got, `${what}: expected ${want.error.message}, got a value`);
    const g = got.error;
    const w = want.error;
    assert.deepEqual(
      [g.code, g.offset, g.opcode, g.message],
      [w.code, w.offset, w.opcode, w.message],
      what,
    );
  } else {
    assert.ok('values' in got, `${what}: ${'error' in got ? got.error.message : ''}`);
    assert.deepStrictEqual(got.values, want.values, what);
  }
}

const CHUNK_SIZES = [1, 7, 64, 4096, 65536];

describe('StreamUnpickler against loads', () => {
  test('every corpus pickle, protocols 0-5, in chunks of 1 and 7 bytes (up to 4 KiB), 64, 4096 and 65536', async (t) => {
    if (!needPython(t)) return;
    const cases = await py.corpus();
    assert.ok(cases.length > 50, 'the corpus has cases');
    for (const c of cases) {
      for (const [protocol, pickle] of c.pickles.entries()) {
        const want = syncOutcome(pickle);
        assert.ok('values' in want, `${c.name}: loads fails`);
        for (const size of CHUNK_SIZES) {
          if (size > pickle.length * 2 && size !== 65536) continue;
          if (size < 64 && pickle.length > 4096) continue; // keeps the test fast; sizes below cover them
          assertSame(
            await streamOutcome(chunked(pickle, size)),
            want,
            `${c.name} p${protocol} / ${size}`,
          );
        }
      }
    }
  });

  test('the whole corpus as one stream of consecutive pickles, memo carried over, exact mode', async (t) => {
    if (!needPython(t)) return;
    const cases = await py.corpus();
    const all = Buffer.concat(cases.flatMap((c) => c.pickles));
    for (const options of [{}, { exact: true }]) {
      const want = syncOutcome(all, options);
      for (const sizes of [[61, 1000, 5], [65536], [333, 100_000]]) {
        assertSame(
          await streamOutcome(irregular(all, sizes), options),
          want,
          `corpus stream ${sizes.join(',')}`,
        );
      }
    }
  });

  test('every committed fixture, whole and in 1- and 7-byte chunks; errors are the same', async () => {
    const files = ['handmade', 'py2'].flatMap((d) =>
      readdirSync(join(fixtures, d))
        .filter((f) => f.endsWith('.pkl'))
        .map((f) => join(fixtures, d, f)),
    );
    assert.ok(files.length > 20);
    for (const file of files) {
      const data = new Uint8Array(readFileSync(file));
      const options = file.includes('py2') ? { encoding: 'latin1' } : {};
      const want = syncOutcome(data, options);
      for (const size of [1, 7, data.length || 1]) {
        assertSame(await streamOutcome(chunked(data, size), options), want, `${file} / ${size}`);
      }
    }
  });

  test('every truncation of a mixed pickle at protocols 0-5 gives the same error as loads', async () => {
    const value = {
      text: 'héllo wörld',
      list: [1, -2, 3.5, 2n ** 70n, null, true],
      bytes: new Uint8Array([1, 2, 3]),
      nested: new Map<unknown, unknown>([[1, new Set([1, 2])]]),
      arr: new ByteArray([9, 9]),
    };
    for (let protocol = 0; protocol <= 5; protocol++) {
      const full = dumps(value, { protocol });
      for (let cut = 0; cut < full.length; cut++) {
        const data = full.subarray(0, cut);
        const want = syncOutcome(data);
        assert.ok('error' in want, `p${protocol} cut ${cut} loads without error`);
        for (const size of [1, 5, 4096]) {
          assertSame(await streamOutcome(chunked(data, size)), want, `p${protocol} cut ${cut}`);
        }
      }
    }
  });

  test('an empty stream is EOF, as loads of empty bytes', async () => {
    const got = await streamOutcome([]);
    assert.ok('error' in got);
    assert.equal(got.error.code, ErrorCode.EOF);
    assertSame(got, syncOutcome(new Uint8Array(0)), 'empty');
  });

  test('sources: a sync iterable, an async iterable, a web ReadableStream, with or without async iteration', async () => {
    const data = dumps({ a: [1, 2, 3] });
    const want = { values: [{ a: [1, 2, 3] }] };
    assertSame(await streamOutcome([data.subarray(0, 3), data.subarray(3)]), want, 'iterable');
    assertSame(await streamOutcome(irregular(data, [2])), want, 'async iterable');
    const web = () => new Blob([data.subarray(0, 5), data.subarray(5)]).stream();
    assertSame(await streamOutcome(web()), want, 'ReadableStream');
    const stream = web();
    const readerOnly = { getReader: () => stream.getReader() };
    assertSame(await streamOutcome(readerOnly), want, 'getReader() only');
  });
});

describe('large payloads go straight into their value', () => {
  const big = (n: number, seed: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
    return b;
  };
  const text = 'ü'.repeat(1_500_000);
  const value = [
    big(3_000_000, 1),
    new ByteArray(big(2_000_000, 2)),
    text,
    'small',
    big(10, 3),
    big(1_200_000, 4),
  ];

  for (const protocol of [3, 4, 5]) {
    test(`protocol ${protocol}: the values equal loads, each bytes value owns its buffer`, async () => {
      const data = dumps(value, { protocol });
      const want = syncOutcome(data);
      for (const sizes of [[65536], [1 << 20], [7, 65536, 3_000_001], [1000]]) {
        const got = await streamOutcome(irregular(data, sizes));
        assertSame(got, want, `p${protocol} ${sizes.join(',')}`);
        if ('values' in got) {
          const [a, b] = got.values[0] as [Uint8Array, ByteArray];
          assert.equal(a.byteOffset, 0);
          assert.equal(
            a.buffer.byteLength,
            a.length,
            'a large bytes value has a buffer of its own',
          );
          assert.ok(b instanceof ByteArray);
          assert.equal(b.buffer.byteLength, b.length);
        }
      }
    });
  }

  test("large chunks are read in place, and the caller's chunks are never written to", async () => {
    const data = dumps([big(1_500_000, 6), 'text', big(100, 7), big(2_500_000, 8)], {
      protocol: 4,
    });
    const want = syncOutcome(data);
    for (const size of [1 << 20, 2_000_000, data.length]) {
      const chunks = [...chunked(data, size)];
      const copies = chunks.map((c) => c.slice());
      assertSame(await streamOutcome(chunks), want, `chunks of ${size}`);
      assert.deepEqual(chunks, copies, 'chunks unchanged');
    }
    // Small pickles after a large chunk: the window moves to a buffer of its own.
    const many = Buffer.concat([data, ...Array.from({ length: 50 }, (_, i) => dumps({ i }))]);
    const chunks = [many.subarray(0, 1 << 21), ...chunked(many.subarray(1 << 21), 5)];
    const copies = chunks.map((c) => c.slice());
    assertSame(await streamOutcome(chunks), syncOutcome(many), 'large then small chunks');
    assert.deepEqual(chunks, copies, 'chunks unchanged');
  });

  test('a large payload cut short is TRUNCATED at its opcode, as loads says', async () => {
    const data = dumps([1, big(3_000_000, 5)], { protocol: 4 });
    for (const cut of [data.length - 1, data.length - 2_000_000, data.length - 1_000]) {
      const short = data.subarray(0, cut);
      const want = syncOutcome(short);
      assertSame(await streamOutcome(chunked(short, 65536)), want, `cut ${cut}`);
    }
  });

  test('a large BINUNICODE with bad UTF-8 fails as loads fails', async () => {
    const data = dumps('x'.repeat(2_000_000), { protocol: 4 });
    const bad = data.slice();
    bad[1_000_000] = 0xff;
    const want = syncOutcome(bad);
    assert.ok('error' in want);
    assertSame(await streamOutcome(chunked(bad, 65536)), want, 'bad utf-8');
  });
});
