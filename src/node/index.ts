/**
 * `pickle-ts/node`: pickles in files and streams, compressed or not, as Python's
 * `pickle.dump(obj, f)` / `pickle.load(f)` with `open`, `gzip.open`, `bz2.BZ2File`, `lzma.open`
 * and `zstandard` write and read them.
 *
 * @example
 * ```ts
 * import { dump, load } from 'pickle-ts/node';
 * await dump({ Ozzy: 3, Filou: 8 }, 'smallerfile.bz2'); // bz2, from the extension
 * await load('smallerfile.bz2'); // { Ozzy: 3, Filou: 8 } (compression found by magic bytes)
 * ```
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dumps, type PicklerOptions } from '../core/pickler.js';
import { ErrorCode, UnpicklingError } from '../core/errors.js';
import { StreamUnpickler, loads, type UnpicklerOptions } from '../core/unpickler.js';
import {
  CompressionError,
  MAGIC_LENGTH,
  codecByName,
  codecForMagic,
  codecForPath,
  concat,
  type Codec,
  type CompressionName,
} from './codecs.js';
import { isBytes, pathOf, rawChunks, writeTo, type Source, type Target } from './io.js';

export { StreamUnpickler, type ChunkSource } from '../core/unpickler.js';
export { CompressionError, type CompressionName } from './codecs.js';
export { Bz2Decoder, bz2Decompress } from './bz2.js';
export type { Source, Target } from './io.js';

/** Options of `dump` and `dumpSync`: the pickler's, plus where and how to write. */
export interface DumpOptions extends PicklerOptions {
  /**
   * `'gzip'`, `'bz2'`, `'xz'`, `'zstd'`, or `'none'`. Defaults to the one a path's extension
   * names (`.gz`, `.bz2`, `.xz`, `.zst`), else `'none'`.
   */
  compression?: CompressionName | 'none';
  /**
   * Compression level. Defaults to Python's: `gzip.open` 9, `bz2.BZ2File` 9, `lzma.open`
   * preset 6, `zstandard` 3.
   */
  level?: number;
  /**
   * Add the pickle after what the file holds (Python's `'ab'` mode). A compressed file gets a
   * new stream, member or frame, which Python and `loadAll` read on. Defaults to `false`.
   */
  append?: boolean;
}

/** Options of `load`, `loadAll` and `loadSync`: the unpickler's, plus how to read. */
export interface LoadOptions extends UnpicklerOptions {
  /**
   * `'auto'` finds gzip, bz2, xz and zstd by their magic bytes; `'none'` reads the bytes as a
   * pickle; a name insists on that format. Defaults to `'auto'`.
   */
  compression?: CompressionName | 'none' | 'auto';
}

function chooseCodec(target: unknown, options: DumpOptions): Codec | undefined {
  const c = options.compression;
  if (c === 'none') return undefined;
  if (c !== undefined) return codecByName(c);
  const path = pathOf(target);
  return path === undefined ? undefined : codecForPath(path);
}

/**
 * Pickles `value` into a file or stream: Python's `pickle.dump(value, f)`. A path is created or
 * replaced (or appended to, with `append`); a `FileHandle` or stream is written at its position
 * and left open. Compression follows the path's extension or the `compression` option.
 *
 * @example
 * ```ts
 * await dump(dogs, 'dogs');                        // plain pickle, protocol 4
 * await dump(dogs, 'dogs.gz', { protocol: 5 });    // gzip, as gzip.open('dogs.gz', 'wb')
 * await dump(more, 'log.bz2', { append: true });   // a second bz2 stream, as bz2.open(..., 'ab')
 * ```
 */
export async function dump(
  value: unknown,
  target: Target,
  options: DumpOptions = {},
): Promise<void> {
  const codec = chooseCodec(target, options);
  let data = dumps(value, options);
  if (codec !== undefined) data = await codec.compress(data, options.level ?? codec.defaultLevel);
  await writeTo(target, data, options.append ?? false);
}

/**
 * `dump` for small files, synchronously, to a path or a file descriptor. Compression: gzip only
 * (bz2, xz and zstd compress in `dump`, whose codecs are asynchronous).
 *
 * @example
 * ```ts
 * dumpSync({ a: 1 }, 'a.pkl');
 * ```
 */
export function dumpSync(
  value: unknown,
  target: string | URL | number,
  options: DumpOptions = {},
): void {
  const codec = chooseCodec(target, options);
  let data = dumps(value, options);
  if (codec !== undefined) {
    if (!codec.compressSync) {
      throw new CompressionError(
        codec.name,
        `${codec.name}: dumpSync cannot compress ${codec.name}; use dump()`,
      );
    }
    data = codec.compressSync(data, options.level ?? codec.defaultLevel);
  }
  const fd = typeof target === 'number' ? target : openSync(target, options.append ? 'a' : 'w');
  try {
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
  } finally {
    if (typeof target !== 'number') closeSync(fd);
  }
}

/** Decompressed chunks of a source, and whether they went through a codec. */
interface Opened {
  chunks: AsyncGenerator<Uint8Array, void, undefined>;
  codec: Codec | undefined;
  /** The input's length when it is known (an uncompressed file or bytes): see `inputLength`. */
  inputLength: number | undefined;
}

async function openSource(source: Source, options: LoadOptions): Promise<Opened> {
  const raw = rawChunks(source);
  const mode = options.compression ?? 'auto';
  const head: Uint8Array[] = [];
  let headLength = 0;
  let done = false;
  while (mode !== 'none' && headLength < MAGIC_LENGTH) {
    const next = await raw.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = concat(head.length ? head : [new Uint8Array(0)]);
  let codec: Codec | undefined;
  if (mode === 'auto') codec = codecForMagic(first);
  else if (mode !== 'none') codec = codecByName(mode);
  async function* replay(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      if (first.length) yield first;
      if (!done) yield* raw;
    } finally {
      await raw.return(undefined);
    }
  }
  const plain = replay();
  if (codec === undefined) return { chunks: plain, codec, inputLength: await lengthOf(source) };
  const c = codec;
  async function* decoded(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      yield* c.decompress(plain);
    } finally {
      await plain.return(undefined);
    }
  }
  return { chunks: decoded(), codec, inputLength: undefined };
}

/**
 * A file's size or a buffer's length, for the stream's `inputLength` (a length field that claims
 * more than the file holds then fails at once, and large payloads are allocated exactly).
 */
async function lengthOf(source: Source): Promise<number | undefined> {
  if (isBytes(source)) return source.byteLength;
  const path = pathOf(source);
  if (path === undefined) return undefined;
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** A codec failure as the `UnpicklingError` that `load` throws. */
function asUnpicklingError(e: unknown): unknown {
  if (!(e instanceof CompressionError)) return e;
  return new UnpicklingError(e.truncated ? ErrorCode.TRUNCATED : ErrorCode.COMPRESSION, e.message, {
    cause: e,
  });
}

/**
 * Reads the first pickle of a file or stream: Python's `pickle.load(f)`. Compressed input (gzip,
 * bz2, xz, zstd) is recognised by its magic bytes. The input is streamed: memory holds the value
 * and about one chunk, not the file. Compressed input is read to its end, so that a truncated or
 * corrupt file fails (`UnpicklingError`, code `TRUNCATED` when cut short) instead of giving a
 * value from unchecked bytes.
 *
 * @example
 * ```ts
 * const dogs = await load('smallerfile');          // a bz2 file written by bz2.BZ2File
 * const v = await load(process.stdin);             // any Node stream
 * const w = await load((await fetch(url)).body!);  // a web ReadableStream
 * ```
 */
export async function load(source: Source, options: LoadOptions = {}): Promise<unknown> {
  const { chunks, codec, inputLength } = await openSource(source, options).catch((e: unknown) => {
    throw asUnpicklingError(e);
  });
  try {
    const value = await new StreamUnpickler(chunks, { inputLength, ...options }).load();
    if (codec !== undefined) for await (const _ of chunks); // check the rest decompresses
    return value;
  } catch (e) {
    throw asUnpicklingError(e);
  } finally {
    await chunks.return(undefined);
  }
}

/**
 * Every pickle in a file or stream, one after another, as repeated `pickle.load(f)` reads a file
 * written in append mode (across the streams, members or frames of a compressed one). The memo
 * carries over from one pickle to the next, as with one Python `Unpickler`.
 *
 * @example
 * ```ts
 * for await (const record of loadAll('log.gz')) console.log(record);
 * ```
 */
export async function* loadAll(
  source: Source,
  options: LoadOptions = {},
): AsyncGenerator<unknown, void, undefined> {
  let opened: Opened;
  try {
    opened = await openSource(source, options);
  } catch (e) {
    throw asUnpicklingError(e);
  }
  const { chunks, inputLength } = opened;
  try {
    const u = new StreamUnpickler(chunks, { inputLength, ...options });
    for (;;) {
      let value: unknown;
      try {
        if (await u.atEnd()) return;
        value = await u.load();
      } catch (e) {
        throw asUnpicklingError(e);
      }
      yield value;
    }
  } finally {
    await chunks.return(undefined);
  }
}

/**
 * `load` for small files, synchronously: reads the whole file (a path, a file descriptor, or
 * bytes already in memory) and decompresses gzip, bz2 and zstd (xz only in `load`).
 *
 * @example
 * ```ts
 * const config = loadSync('config.pkl');
 * ```
 */
export function loadSync(
  source: string | URL | number | Uint8Array,
  options: LoadOptions = {},
): unknown {
  let data: Uint8Array;
  if (isBytes(source)) data = source;
  else if (typeof source === 'number') data = readAllFd(source);
  else data = new Uint8Array(readFileSync(pathOf(source) ?? String(source)));
  const mode = options.compression ?? 'auto';
  const codec =
    mode === 'auto' ? codecForMagic(data) : mode === 'none' ? undefined : codecByName(mode);
  if (codec !== undefined) {
    if (!codec.decompressSync) {
      throw new CompressionError(
        codec.name,
        `${codec.name}: loadSync cannot read ${codec.name}; use load()`,
      );
    }
    try {
      data = codec.decompressSync(data);
    } catch (e) {
      throw asUnpicklingError(e);
    }
  }
  return loads(data, options);
}

function readAllFd(fd: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(1 << 16);
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return concat(parts.length ? parts : [new Uint8Array(0)]);
    parts.push(buf.subarray(0, n));
  }
}
