/**
 * The scanner for files (Node only): reads a file, undoes its compression (gzip, bz2, xz and
 * zstd by their magic bytes, as `pickle-ts/node` does, and the zlib streams joblib writes), and
 * scans what is inside with node:zlib for deflated zip members.
 */
import { readFile } from 'node:fs/promises';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { CompressionError, codecForMagic, concat, type Codec } from '../node/codecs.js';
import { ContainerError, isZlib } from './formats.js';
import { scan } from './scanner.js';
import type { ScanOptions, ScanResult } from './types.js';

/** A scan result, with the compression the input had (`gzip`, ..., `zlib`, or none). */
export interface FileScanResult extends ScanResult {
  readonly compression: string | undefined;
}

/** node:zlib's raw inflate, for deflated zip members. */
export function inflateRaw(data: Uint8Array, expectedSize: number): Uint8Array {
  const out = inflateRawSync(data, { maxOutputLength: Math.max(expectedSize, 1) });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

async function decompress(codec: Codec, data: Uint8Array): Promise<Uint8Array> {
  async function* whole(): AsyncGenerator<Uint8Array> {
    yield data;
  }
  const parts: Uint8Array[] = [];
  for await (const part of codec.decompress(whole())) parts.push(part);
  return parts.length === 0 ? new Uint8Array(0) : concat(parts);
}

/** The result for input that cannot even be decompressed: malformed, at its first byte. */
function undecodable(message: string, compression: string): FileScanResult {
  return {
    verdict: 'malformed',
    findings: [],
    pickles: 0,
    format: compression,
    sections: [],
    errors: [
      { section: '', pickle: 0, offset: 0, opcode: undefined, code: 'BAD_CONTAINER', message },
    ],
    omittedSafeFindings: 0,
    compression,
  };
}

/**
 * Scans bytes that may be compressed: gzip, bz2, xz, zstd (found by magic bytes) or zlib
 * (joblib's `compress=True`), then whatever container is inside.
 *
 * @example
 * ```ts
 * import { scanBytes } from 'pickle-ts/scan/node';
 * const report = await scanBytes(gzippedPickle); // report.compression === 'gzip'
 * ```
 */
export async function scanBytes(
  data: Uint8Array,
  options: ScanOptions = {},
): Promise<FileScanResult> {
  const withInflate: ScanOptions = { inflateRaw, ...options };
  const codec = codecForMagic(data);
  if (codec !== undefined) {
    let inner: Uint8Array;
    try {
      inner = await decompress(codec, data);
    } catch (e) {
      if (e instanceof CompressionError) return undecodable(e.message, codec.name);
      throw e;
    }
    return { ...scan(inner, withInflate), compression: codec.name };
  }
  if (isZlib(data)) {
    let inner: Uint8Array;
    try {
      const out = inflateSync(data);
      inner = new Uint8Array(out.buffer, out.byteOffset, out.length);
    } catch (e) {
      // Not every byte pair that looks like a zlib header is one: scan it as it is.
      if (e instanceof Error && !(e instanceof ContainerError)) {
        return { ...scan(data, withInflate), compression: undefined };
      }
      throw e;
    }
    return { ...scan(inner, withInflate), compression: 'zlib' };
  }
  return { ...scan(data, withInflate), compression: undefined };
}

/**
 * Reads and scans a file: a pickle (or several), compressed or not, a PyTorch checkpoint, an
 * `.npy`/`.npz`, or a joblib file.
 *
 * @example
 * ```ts
 * import { scanFile } from 'pickle-ts/scan/node';
 * const { verdict } = await scanFile('model.pt');
 * if (verdict !== 'safe') throw new Error(`model.pt is ${verdict}`);
 * ```
 */
export async function scanFile(path: string, options: ScanOptions = {}): Promise<FileScanResult> {
  const data = await readFile(path);
  return scanBytes(new Uint8Array(data.buffer, data.byteOffset, data.length), options);
}
