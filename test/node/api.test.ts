/**
 * pickle-ts/node's API: every kind of source and target, compression by extension, option and
 * magic bytes, options passed through to the core, the sync variants and their limits, errors
 * for bad input, and the tour's files part.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { ErrorCode, Tuple, UnpicklingError, dumps, loads, tuple } from '../helpers/pickle.js';
import { hasPython } from '../helpers/python.js';
import { CompressionError, dump, dumpSync, load, loadAll, loadSync } from '../../src/node/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pickle-ts-node-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = fileURLToPath(new URL('../..', import.meta.url));

const value = { name: 'Rex', tags: ['good', 'dog'], home: tuple(51.5, -0.1), n: 2n ** 70n };
const magic = (path: string) => [...readFileSync(path).subarray(0, 4)];

describe('targets and sources', () => {
  test('a path (string or file: URL): written, then read back', async () => {
    const path = join(dir, 'plain.pkl');
    await dump(value, path);
    assert.deepEqual(new Uint8Array(readFileSync(path)), dumps(value));
    assert.deepStrictEqual(await load(path), value);
    assert.deepStrictEqual(await load(pathToFileURL(path)), value);
    await dump([1], pathToFileURL(join(dir, 'url.pkl')));
    assert.deepStrictEqual(loadSync(join(dir, 'url.pkl')), [1]);
  });

  test('a FileHandle: written at its position, read from its position, left open', async () => {
    const path = join(dir, 'handle.pkl');
    const out = await open(path, 'w');
    await dump('first', out);
    await dump('second', out);
    await out.close();
    const h = await open(path, 'r');
    try {
      assert.equal(await load(h, { compression: 'none' }), 'first');
      // load reads ahead, so loadAll is the way to read consecutive pickles from one handle.
    } finally {
      await h.close();
    }
    const h2 = await open(path, 'r');
    const all: unknown[] = [];
    for await (const v of loadAll(h2)) all.push(v);
    await h2.close();
    assert.deepEqual(all, ['first', 'second']);
  });

  test('Node streams: a Writable target (not ended), a Readable source (fs stream, Readable.from)', async () => {
    const sink = new PassThrough();
    const parts: Buffer[] = [];
    sink.on('data', (d: Buffer) => parts.push(d));
    await dump(value, sink, { compression: 'gzip' });
    await dump([2], sink, { compression: 'gzip' });
    assert.equal(sink.writableEnded, false, 'dump leaves the stream open, as pickle.dump leaves f');
    const bytes = Buffer.concat(parts);
    const all: unknown[] = [];
    for await (const v of loadAll(Readable.from([bytes.subarray(0, 10), bytes.subarray(10)])))
      all.push(v);
    assert.deepStrictEqual(all, [value, [2]]);
    const open1 = Readable.from([dumps('one'), dumps('two')]);
    assert.equal(await load(open1), 'one');
    assert.equal(open1.destroyed, false, 'load leaves a stream it was given open');
    const path = join(dir, 'stream.gz');
    writeFileSync(path, bytes);
    assert.deepStrictEqual(await load(createReadStream(path, { highWaterMark: 7 })), value);
  });

  test('an async iterable of chunks, a web ReadableStream, bytes in memory', async () => {
    const bytes = dumps(value, { protocol: 5 });
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
    }
    assert.deepStrictEqual(await load(chunks()), value);
    assert.deepStrictEqual(await load(new Blob([bytes]).stream()), value);
    assert.deepStrictEqual(await load(bytes), value);
    assert.deepStrictEqual(await load(bytes.slice().buffer), value);
  });

  test('a stream of strings or a bad source or target: a TypeError that says what was expected', async () => {
    await assert.rejects(load(Readable.from(['text'])), /stream of bytes, got a string chunk/);
    await assert.rejects(load(42 as never), /Expected a path, FileHandle, stream/);
    await assert.rejects(dump(1, 42 as never), /Expected a path, FileHandle or writable stream/);
  });
});

describe('compression choice', () => {
  test('by extension on dump, by magic bytes on load, or by option', async () => {
    const cases: Array<[string, number[]]> = [
      ['x.gz', [0x1f, 0x8b]],
      ['x.bz2', [0x42, 0x5a, 0x68, 0x39]],
      ['x.xz', [0xfd, 0x37, 0x7a, 0x58]],
      ['x.zst', [0x28, 0xb5, 0x2f, 0xfd]],
    ];
    for (const [name, start] of cases) {
      const path = join(dir, name);
      await dump(value, path);
      assert.deepEqual(magic(path).slice(0, start.length), start, name);
      assert.deepStrictEqual(await load(path), value, name);
    }
    const forced = join(dir, 'forced.pkl');
    await dump(value, forced, { compression: 'xz' });
    assert.deepEqual(magic(forced), [0xfd, 0x37, 0x7a, 0x58]);
    const none = join(dir, 'none.gz');
    await dump(value, none, { compression: 'none' });
    assert.deepEqual(new Uint8Array(readFileSync(none)), dumps(value));
    // 'none' on load reads the bytes as a pickle, so a gzip file is not one.
    await assert.rejects(load(join(dir, 'x.gz'), { compression: 'none' }), UnpicklingError);
    const bz1 = join(dir, 'level1.bz2');
    await dump(value, bz1, { level: 1 });
    assert.deepEqual(magic(bz1), [0x42, 0x5a, 0x68, 0x31], 'bz2 level 1 is BZh1');
  });

  test('options reach the core: protocol, exact, encoding', async () => {
    const path = join(dir, 'opts.bz2');
    await dump({ f: 1.0, i: 3n }, path, { protocol: 2, exact: true });
    const raw = await load(path, { exact: true });
    assert.deepStrictEqual(raw, { f: 1, i: 3n });
    assert.deepStrictEqual(await load(path), { f: 1, i: 3 });
    // A Python 2 str (SHORT_BINSTRING 'caf\xe9'), read with encoding latin1, gzip-compressed.
    const py2 = new Uint8Array([0x80, 0x02, 0x55, 0x04, 0x63, 0x61, 0x66, 0xe9, 0x2e]);
    const gz = join(dir, 'py2.gz');
    writeFileSync(gz, (await import('node:zlib')).gzipSync(py2));
    assert.equal(await load(gz, { encoding: 'latin1' }), 'café');
    await assert.rejects(
      load(gz),
      (e) => e instanceof UnpicklingError && e.code === ErrorCode.BAD_ENCODING,
    );
  });
});

describe('sync variants', () => {
  test('dumpSync and loadSync: plain and gzip, paths and file descriptors, append', () => {
    const path = join(dir, 'sync.gz');
    dumpSync(value, path);
    dumpSync([1, 2], path, { append: true });
    assert.deepStrictEqual(loadSync(path), value);
    const fd = openSync(join(dir, 'fd.pkl'), 'w');
    dumpSync(tuple(1, 2), fd);
    closeSync(fd);
    const rfd = openSync(join(dir, 'fd.pkl'), 'r');
    const t = loadSync(rfd);
    closeSync(rfd);
    assert.ok(t instanceof Tuple);
    assert.deepEqual([...t], [1, 2]);
    assert.deepStrictEqual(loadSync(readFileSync(path)), value, 'compressed bytes in memory');
  });

  test('what needs the async codecs says so', async () => {
    assert.throws(
      () => dumpSync(1, join(dir, 's.bz2')),
      (e) => e instanceof CompressionError && /use dump\(\)/.test(e.message),
    );
    assert.throws(() => dumpSync(1, join(dir, 's.zst')), CompressionError);
    await dump(1, join(dir, 's.xz'));
    assert.throws(
      () => loadSync(join(dir, 's.xz')),
      (e) => e instanceof CompressionError && /use load\(\)/.test(e.message),
    );
    await dump(1, join(dir, 's.bz2'));
    assert.equal(loadSync(join(dir, 's.bz2')), 1);
  });
});

describe('errors', () => {
  test('an empty file is EOF; garbage is an UnpicklingError; a truncated plain pickle is TRUNCATED', async () => {
    const empty = join(dir, 'empty.pkl');
    writeFileSync(empty, '');
    await assert.rejects(
      load(empty),
      (e) => e instanceof UnpicklingError && e.code === ErrorCode.EOF,
    );
    const junk = join(dir, 'junk.pkl');
    writeFileSync(junk, 'hello world');
    await assert.rejects(load(junk), UnpicklingError);
    const cut = join(dir, 'cut.pkl');
    const bytes = dumps(value);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    await assert.rejects(
      load(cut),
      (e) => e instanceof UnpicklingError && e.code === ErrorCode.TRUNCATED,
    );
    assert.throws(
      () => loadSync(cut),
      (e) => e instanceof UnpicklingError && e.code === ErrorCode.TRUNCATED,
    );
  });

  test('bytes after the last bz2 stream that are not bz2 are an error, not ignored', async () => {
    const path = join(dir, 'trail.bz2');
    await dump(value, path);
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('trailing junk')]));
    await assert.rejects(async () => {
      for await (const _ of loadAll(path));
    }, /bytes after stream 1 are not a bzip2 stream/);
  });

  test('a source that fails part way: its error comes out of load, for every format', async () => {
    for (const ext of ['.pkl', '.gz', '.bz2', '.xz', '.zst']) {
      const path = join(dir, `fails${ext}`);
      await dump({ big: new Uint8Array(300_000).fill(7), n: 1 }, path);
      const bytes = readFileSync(path);
      async function* failing() {
        yield bytes.subarray(0, 20);
        await Promise.resolve();
        throw new Error('disk on fire');
      }
      await assert.rejects(load(failing()), /disk on fire/, ext);
    }
  });

  test('loadAll reads pickles appended to a zstd file, one frame each', async () => {
    const path = join(dir, 'many.zst');
    for (let i = 0; i < 3; i++) await dump({ i }, path, { append: i > 0 });
    const all: unknown[] = [];
    for await (const v of loadAll(path)) all.push(v);
    assert.deepEqual(all, [{ i: 0 }, { i: 1 }, { i: 2 }]);
    assert.deepEqual(loads(dumps({ i: 0 })), { i: 0 });
  });
});

test('the tour writes smallerfile with bz2, reads it back, and Python reads it', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'pickle-ts-tour-files-'));
  try {
    const r = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(root, 'examples/tour.ts'), 'files'],
      { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const file = readFileSync(join(cwd, 'smallerfile'));
    assert.deepEqual([...file.subarray(0, 3)], [0x42, 0x5a, 0x68], 'smallerfile is bz2');
    assert.match(r.stdout, /equal to dogs_dict: true/);
    assert.match(r.stdout, /\{ day: 2, walks: 3 \}/);
    if (hasPython()) {
      assert.match(r.stdout, /Python's bz2.BZ2File reads smallerfile: \{'Ozzy': 3, 'Filou': 8/);
      assert.match(
        r.stdout,
        /Python reads both: \{'day': 1, 'walks': 2\} \{'day': 2, 'walks': 3\}/,
      );
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
