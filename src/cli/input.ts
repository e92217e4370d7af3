/**
 * Reading the command's input: a file, or `-` for standard input, read whole. Compressed input
 * (gzip, bz2, xz, zstd) is recognized by its magic bytes and decompressed by the file layer
 * (`pickle-ts/node`); output compression follows the file extension. These are the only places
 * the command touches compression.
 */
import { open } from 'node:fs/promises';
import {
  CompressionError,
  codecForMagic,
  codecForPath,
  concat,
  type Codec,
  type CompressionName,
} from '../node/codecs.js';
import { DataError, FileError } from './errors.js';
import type { CliIO } from './io.js';
import type { Progress } from './progress.js';

/** The input's bytes (decompressed), and where they came from. */
export interface Input {
  readonly data: Uint8Array;
  /** The path given, or `<stdin>`. */
  readonly name: string;
  /** The compression the input had, if any. */
  readonly compression: CompressionName | undefined;
}

/** The compression a file name asks for, by its extension (`.gz`, `.bz2`, `.xz`, `.zst`). */
export function compressionOfPath(path: string): CompressionName | undefined {
  return codecForPath(path)?.name;
}

/** A file name without its compression extension (`data.pkl.gz` -> `data.pkl`). */
export function withoutCompressionExtension(path: string): string {
  return compressionOfPath(path) ? path.replace(/\.[^.]+$/, '') : path;
}

async function decompress(codec: Codec, data: Uint8Array, name: string): Promise<Uint8Array> {
  async function* whole(): AsyncGenerator<Uint8Array> {
    yield data;
  }
  const parts: Uint8Array[] = [];
  try {
    for await (const part of codec.decompress(whole())) parts.push(part);
  } catch (e) {
    if (e instanceof CompressionError) throw new DataError(`${name}: ${e.message}`);
    throw e;
  }
  return parts.length === 0 ? new Uint8Array(0) : concat(parts);
}

function describe(e: unknown, path: string, verb: string): FileError {
  const err = e as NodeJS.ErrnoException;
  const reason =
    err.code === 'ENOENT'
      ? 'No such file or directory'
      : err.code === 'EACCES'
        ? 'Permission denied'
        : err.code === 'EISDIR'
          ? 'Is a directory'
          : err.message;
  return new FileError(`cannot ${verb} '${path}': ${reason}`);
}

async function readFileWithProgress(path: string, progress: Progress): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw describe(e, path, 'open');
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new FileError(`cannot read '${path}': Is a directory`);
    if (!stat.isFile()) return await readStream(handle.createReadStream(), progress);
    const data = new Uint8Array(stat.size);
    progress.phase('reading', stat.size);
    let done = 0;
    while (done < data.length) {
      const { bytesRead } = await handle.read(data, done, Math.min(1 << 22, data.length - done));
      if (bytesRead === 0) break;
      done += bytesRead;
      progress.update(done);
    }
    return done === data.length ? data : data.subarray(0, done);
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw describe(e, path, 'read');
  } finally {
    await handle.close();
  }
}

async function readStream(
  stream: AsyncIterable<Uint8Array | string>,
  progress: Progress,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  progress.phase('reading', 0);
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    chunks.push(bytes);
    total += bytes.length;
    progress.update(total);
  }
  return concat(chunks, total);
}

/** Reads `path` (`-` for standard input) whole, decompressing it if its magic bytes say so. */
export async function readInput(path: string, io: CliIO, progress: Progress): Promise<Input> {
  const name = path === '-' ? '<stdin>' : path;
  const raw =
    path === '-'
      ? await readStream(io.stdin, progress)
      : await readFileWithProgress(path, progress);
  const codec = codecForMagic(raw);
  if (codec === undefined) return { data: raw, name, compression: undefined };
  progress.status(`decompressing ${codec.name}`, raw.length);
  const data = await decompress(codec, raw, name);
  progress.finish();
  return { data, name, compression: codec.name };
}

/** `data` compressed as the extension of `path` asks (at Python's default level), if it does. */
export async function compressFor(path: string, data: Uint8Array): Promise<Uint8Array> {
  const codec = codecForPath(path);
  if (codec === undefined) return data;
  try {
    return await codec.compress(data, codec.defaultLevel);
  } catch (e) {
    if (e instanceof CompressionError) throw new FileError(`cannot write '${path}': ${e.message}`);
    throw e;
  }
}

/** A `FileError` for a failed write to `path`. */
export function writeError(e: unknown, path: string): FileError {
  return describe(e, path, 'write');
}
