/**
 * Compressed pickle files against live Python, each format both ways: pickle-ts writes (one
 * pickle, then an appended one: a multi-stream/member/frame file) and Python opens the file with
 * its own module and `pickle.load`s every value; Python writes (`gzip.open`, `bz2.BZ2File`,
 * `lzma.open`, `zstandard.open`, and zstd frames ended by `flush(FLUSH_FRAME)`), appends, and
 * pickle-ts reads it all with `load`, `loadAll` and `loadSync`. Truncated files fail with
 * TRUNCATED, never a value.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode, UnpicklingError, dumps, tuple } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { dump, load, loadAll, loadSync } from '../../src/node/index.js';
import { needPythonFor, pyFiles } from './python-files.js';

const dir = mkdtempSync(join(tmpdir(), 'pickle-ts-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The values test/python/files_codec.py builds, in JS. */
function sample(i: number) {
  return {
    name: 'Rex',
    i,
    tags: ['good', 'dog', 'ü€'],
    home: tuple(51.5, -0.1),
    big: 2n ** 100n,
    raw: Uint8Array.from({ length: 256 }, (_, k) => k),
    nested: { a: [1, 2, { b: null }] },
    flag: true,
  };
}

let bigValue: unknown;
function big(): unknown {
  if (bigValue) return bigValue;
  const noise = new Uint8Array(400_000);
  let x = 12345;
  for (let k = 0; k < noise.length; k++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    noise[k] = (x >>> 16) & 0xff;
  }
  const pattern = Uint8Array.from({ length: 2_000_000 }, (_, k) => (k * 31 + 7) & 0xff);
  const nums = Array.from({ length: 100_000 }, (_, k) => k);
  return (bigValue = { noise, pattern, text: 'abc€'.repeat(300_000), nums });
}

const valueOf = (spec: string) => (spec === 'big' ? big() : sample(Number(spec.split(':')[1])));

const FORMATS = [
  { format: 'gzip', ext: '.gz' },
  { format: 'bz2', ext: '.bz2' },
  { format: 'xz', ext: '.xz' },
  { format: 'zstd', ext: '.zst' },
] as const;

async function collect(source: string): Promise<{ values: unknown[]; error?: unknown }> {
  const values: unknown[] = [];
  try {
    for await (const v of loadAll(source)) values.push(v);
    return { values };
  } catch (error) {
    return { values, error };
  }
}

function assertTruncated(e: unknown, format: string, what: string): void {
  assert.ok(e instanceof UnpicklingError, `${what}: expected an UnpicklingError, got ${String(e)}`);
  assert.equal(e.code, ErrorCode.TRUNCATED, `${what}: ${e.message}`);
  assert.ok(e.message.length > 10, `${what}: a message says what happened`);
  if (e.cause !== undefined) assert.match(e.message, new RegExp(`^${format}:`), what);
}

for (const { format, ext } of FORMATS) {
  describe(`${format} files`, () => {
    test(`pickle-ts writes ${ext} (and appends a second ${format === 'gzip' ? 'member' : format === 'zstd' ? 'frame' : 'stream'}); Python's module reads every pickle`, async (t) => {
      const python = needPythonFor(t, format);
      if (!python) return;
      const path = join(dir, `ours-${format}${ext}`);
      await dump(sample(0), path);
      await dump(big(), path, { append: true, protocol: 5 });
      await dump(sample(1), path, { append: true, protocol: 2 });
      const r = pyFiles(python, {
        op: 'read',
        format,
        path,
        expect: ['sample:0', 'big', 'sample:1'],
      });
      assert.deepEqual(r, { equal: true, count: 3 });
      const { values, error } = await collect(path);
      assert.equal(error, undefined);
      assert.deepStrictEqual(values, [sample(0), big(), sample(1)]);
    });

    const layouts: Array<{ name: string; writes: Array<Partial<Parameters<typeof pyFiles>[1]>> }> =
      [
        {
          name: 'written, then appended in mode ab',
          writes: [
            { values: ['big', 'sample:1'], mode: 'wb' },
            { values: ['sample:2'], mode: 'ab', protocol: 5 },
          ],
        },
      ];
    if (format === 'zstd') {
      layouts.push({
        name: 'one stream_writer with a frame flushed after each pickle (no content size)',
        writes: [{ values: ['big', 'sample:1', 'sample:2'], mode: 'wb', frames: 'flush' }],
      });
    }

    for (const layout of layouts) {
      test(`Python writes (${layout.name}); load, loadAll and loadSync read it`, async (t) => {
        const python = needPythonFor(t, format);
        if (!python) return;
        const path = join(dir, `python-${format}-${layouts.indexOf(layout)}${ext}`);
        for (const w of layout.writes) pyFiles(python, { op: 'write', format, path, ...w });
        const expected = layout.writes.flatMap((w) => w.values!.map(valueOf));
        const { values, error } = await collect(path);
        assert.equal(error, undefined, String(error));
        assert.deepStrictEqual(values, expected);
        assert.deepStrictEqual(await load(path), expected[0]);
        // By magic bytes alone, whatever the name.
        const renamed = join(dir, `noext-${format}`);
        writeFileSync(renamed, readFileSync(path));
        assert.deepStrictEqual(await load(renamed), expected[0]);
        if (format !== 'xz') assert.deepStrictEqual(loadSync(path), expected[0]);

        // Truncated anywhere: an error, never a value from the part that is there.
        const whole = readFileSync(path);
        for (const cut of [
          whole.length - 1,
          whole.length - 9,
          Math.floor(whole.length / 2),
          200,
          7,
        ]) {
          const cutPath = join(dir, `cut-${format}${ext}`);
          writeFileSync(cutPath, whole.subarray(0, cut));
          await assert.rejects(
            load(cutPath),
            (e) => (assertTruncated(e, format, `load cut ${cut}`), true),
          );
          const got = await collect(cutPath);
          assertTruncated(got.error, format, `loadAll cut ${cut}`);
          // What loadAll gave before the error are whole pickles, in order.
          assert.deepStrictEqual(got.values, expected.slice(0, got.values.length));
          if (format !== 'xz') {
            assert.throws(
              () => loadSync(cutPath),
              (e) => (assertTruncated(e, format, `loadSync cut ${cut}`), true),
            );
          }
        }
      });
    }
  });
}

describe('byte compatibility', () => {
  test("bz2: dump writes exactly Python's bz2.compress bytes (libbzip2, level 9)", async (t) => {
    if (!needPython(t)) return;
    const value = { sample: sample(3), big: big() };
    const path = join(dir, 'same.bz2');
    await dump(value, path);
    const ours = new Uint8Array(readFileSync(path));
    const pythons = await py.bytes('import bz2\nresult = bz2.compress(data, 9)', dumps(value));
    assert.ok(Buffer.from(ours).equals(Buffer.from(pythons)), 'identical bz2 bytes');
  });
});

describe('corrupt compressed data', () => {
  for (const { format, ext } of FORMATS) {
    test(`${format}: a flipped byte in the middle is an UnpicklingError, never a value`, async () => {
      const path = join(dir, `corrupt${ext}`);
      await dump(big(), path);
      const data = readFileSync(path);
      if (format === 'zstd') {
        // zstd frames carry no checksum by default (Python's zstandard writes none either), so a
        // changed byte inside stored data cannot be seen; a damaged block header can.
        const fhd = data[4]!;
        const headerEnd =
          6 - ((fhd >> 5) & 1) + [0, 1, 2, 4][fhd & 3]! + [(fhd >> 5) & 1, 2, 4, 8][fhd >> 6]!;
        data[headerEnd]! |= 0x06; // block type 3 is reserved
      } else {
        data[Math.floor(data.length / 2)]! ^= 0x55;
      }
      writeFileSync(path, data);
      await assert.rejects(load(path), (e) => {
        assert.ok(e instanceof UnpicklingError, String(e));
        return true;
      });
    });
  }
});
