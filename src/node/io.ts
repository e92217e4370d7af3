/**
 * Where pickles come from and go to: paths, `FileHandle`s, Node streams, async iterables of
 * chunks and web `ReadableStream`s in; paths, `FileHandle`s and Node writable streams out.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { chunksOf, type BytesLike, type ChunkSource } from '../core/unpickler.js';

/** Read size for files: one chunk is what a streaming load holds beside the values. */
export const CHUNK_SIZE = 1 << 16;

/** Where `load` and `loadAll` read from. */
export type Source = string | URL | FileHandle | NodeJS.ReadableStream | ChunkSource | BytesLike;

/** Where `dump` writes to. */
export type Target = string | URL | FileHandle | Writable;

export function isFileHandle(x: unknown): x is FileHandle {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as FileHandle).fd === 'number' &&
    typeof (x as FileHandle).read === 'function' &&
    typeof (x as FileHandle).close === 'function'
  );
}

export function isBytes(x: unknown): x is BytesLike {
  return ArrayBuffer.isView(x) || x instanceof ArrayBuffer;
}

/** A path given as a string or a `file:` URL, else undefined. */
export function pathOf(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (x instanceof URL) return fileURLToPath(x);
  return undefined;
}

/** Reads a file from its current position, one chunk at a time (fresh buffers, never reused). */
async function* readHandle(handle: FileHandle): AsyncGenerator<Uint8Array, void, undefined> {
  for (;;) {
    const buf = new Uint8Array(CHUNK_SIZE);
    const { bytesRead } = await handle.read(buf, 0, CHUNK_SIZE, null);
    if (bytesRead === 0) return;
    yield bytesRead === CHUNK_SIZE ? buf : buf.slice(0, bytesRead);
  }
}

async function* readPath(path: string): AsyncGenerator<Uint8Array, void, undefined> {
  const handle = await open(path, 'r');
  try {
    yield* readHandle(handle);
  } finally {
    await handle.close();
  }
}

/** The raw bytes of a source as chunks. Closing the generator closes a file it opened. */
export function rawChunks(source: Source): AsyncGenerator<Uint8Array, void, undefined> {
  const path = pathOf(source);
  if (path !== undefined) return readPath(path);
  if (isFileHandle(source)) return readHandle(source);
  if (isBytes(source)) return chunksOf([source]);
  if (isNodeReadable(source)) {
    // Left open when loading stops, as pickle.load leaves its file open.
    return chunksOf(source.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>);
  }
  if (typeof source === 'object' && source !== null) {
    if (Symbol.asyncIterator in source || Symbol.iterator in source || 'getReader' in source) {
      return chunksOf(source as ChunkSource);
    }
  }
  throw new TypeError(
    `Expected a path, FileHandle, stream, async iterable of chunks or bytes to load from, got ${describe(source)}`,
  );
}

/** Writes all of `data` to a target; appends to a path when `append` is set. */
export async function writeTo(target: Target, data: Uint8Array, append: boolean): Promise<void> {
  const path = pathOf(target);
  if (path !== undefined) {
    const handle = await open(path, append ? 'a' : 'w');
    try {
      await writeHandle(handle, data);
    } finally {
      await handle.close();
    }
    return;
  }
  if (isFileHandle(target)) return writeHandle(target, data);
  if (isWritable(target)) {
    await new Promise<void>((resolve, reject) => {
      target.write(data, (error) => (error ? reject(error) : resolve()));
    });
    return;
  }
  throw new TypeError(
    `Expected a path, FileHandle or writable stream to dump to, got ${describe(target)}`,
  );
}

async function writeHandle(handle: FileHandle, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) {
    const { bytesWritten } = await handle.write(data, off, data.length - off, null);
    off += bytesWritten;
  }
}

function isNodeReadable(x: unknown): x is Readable {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as Readable).iterator === 'function' &&
    typeof (x as Readable).pipe === 'function'
  );
}

function isWritable(x: unknown): x is Writable {
  return typeof x === 'object' && x !== null && typeof (x as Writable).write === 'function';
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return x.constructor?.name ?? 'object';
}
