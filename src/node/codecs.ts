/**
 * The four compression formats Python's standard library and `zstandard` write, each chosen for
 * being correct on multi-stream/member/frame files and truncated input, for streaming, and for
 * speed (docs/files.md has the measurements):
 *
 * - gzip: node:zlib, both ways.
 * - bz2: our own decoder (./bz2.ts); compression by libbzip2 compiled to WASM (`libbzip2-wasm`),
 *   byte-identical to Python's `bz2.compress`.
 * - xz: decoding by xz-embedded in WASM (`xz-decompress`); compression by liblzma
 *   (`lzma-native`, an optional dependency with prebuilt binaries).
 * - zstd: frames found by ./zstd.ts, each decoded by libzstd (`@mongodb-js/zstd`, optional,
 *   prebuilt) or, without it, by `fzstd` (pure JS); compression needs `@mongodb-js/zstd`.
 */
import { createRequire } from 'node:module';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { Bz2Decoder, Bz2Error, bz2Decompress } from './bz2.js';
import { concat } from './concat.js';
import { ZstdFrameError, splitFrames, zstdDecompress, type FrameDecoders } from './zstd.js';

const require = createRequire(import.meta.url);

/** The compression formats pickle-ts reads and writes. */
export type CompressionName = 'gzip' | 'bz2' | 'xz' | 'zstd';

/** A codec failed: the data is truncated, corrupt, or the codec's package is missing. */
export class CompressionError extends Error {
  override name = 'CompressionError';
  /** The input ended before the format's end marker. */
  readonly truncated: boolean;
  constructor(
    readonly codec: CompressionName,
    message: string,
    options: { truncated?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.truncated = options.truncated ?? false;
  }
}

type Chunks = AsyncIterable<Uint8Array>;

interface Codec {
  readonly name: CompressionName;
  /** File name endings that select it on dump. */
  readonly extensions: readonly string[];
  /** Python's default level: gzip 9, bz2 9, xz preset 6, zstd 3. */
  readonly defaultLevel: number;
  /** Whether `head` (at least 6 bytes, or the whole input) starts this format. */
  matches(head: Uint8Array): boolean;
  compress(data: Uint8Array, level: number): Promise<Uint8Array>;
  compressSync?(data: Uint8Array, level: number): Uint8Array;
  decompress(chunks: Chunks): Chunks;
  decompressSync?(data: Uint8Array): Uint8Array;
}

// --- gzip ------------------------------------------------------------------------------------

const gzipAsync = promisify(gzip);

function zlibError(e: unknown): CompressionError {
  const message = e instanceof Error ? e.message : String(e);
  const truncated = /unexpected end of file/i.test(message);
  return new CompressionError(
    'gzip',
    truncated
      ? 'gzip: compressed file ended before the end-of-stream marker was reached'
      : `gzip: ${message}`,
    { truncated, cause: e },
  );
}

const GZIP: Codec = {
  name: 'gzip',
  extensions: ['.gz', '.gzip'],
  defaultLevel: 9,
  matches: (h) => h[0] === 0x1f && h[1] === 0x8b,
  compress: async (data, level) => new Uint8Array(await gzipAsync(data, { level })),
  compressSync: (data, level) => new Uint8Array(gzipSync(data, { level })),
  async *decompress(chunks) {
    // zlib reads every member of a multi-member file and ignores zero padding, as Python does.
    // pipeline, not pipe: a failing source must fail the output instead of leaving it open.
    // 256 KiB output chunks: zlib's 16 KiB default halves the throughput of a streamed load.
    const gunzip = pipeline(
      Readable.from(chunks, { objectMode: false }),
      createGunzip({ chunkSize: 1 << 18 }),
      () => {},
    );
    try {
      for await (const part of gunzip as AsyncIterable<Buffer>)
        yield new Uint8Array(part.buffer, part.byteOffset, part.length);
    } catch (e) {
      throw e instanceof Error && 'errno' in e ? zlibError(e) : e;
    }
  },
  decompressSync(data) {
    try {
      return new Uint8Array(gunzipSync(data));
    } catch (e) {
      throw zlibError(e);
    }
  },
};

// --- bz2 -------------------------------------------------------------------------------------

interface Bz2Wasm {
  compressBZ2(
    data: Uint8Array,
    blockSize: number,
    workFactor: number,
  ): { error: number; errorMsg?: string; output: Uint8Array };
}

let bz2Wasm: Promise<Bz2Wasm> | undefined;

/** libbzip2 in WASM, instantiated once (it compiles asynchronously). */
function loadBz2Wasm(): Promise<Bz2Wasm> {
  bz2Wasm ??= new Promise<Bz2Wasm>((resolve, reject) => {
    try {
      const factory = require('libbzip2-wasm') as () => Bz2Wasm & {
        onRuntimeInitialized?: () => void;
      };
      const m = factory();
      // Resolve with a plain wrapper: the Emscripten module is a thenable that never settles.
      m.onRuntimeInitialized = () =>
        resolve({
          compressBZ2: (data, blockSize, workFactor) => m.compressBZ2(data, blockSize, workFactor),
        });
    } catch (e) {
      reject(
        new CompressionError('bz2', `bz2: cannot load libbzip2-wasm: ${String(e)}`, { cause: e }),
      );
    }
  });
  return bz2Wasm;
}

/** libbzip2-wasm holds the whole input in WASM memory: larger inputs become several streams. */
const BZ2_PIECE = 64 * 1024 * 1024;

function bz2Error(e: unknown): unknown {
  if (e instanceof Bz2Error)
    return new CompressionError('bz2', e.message, { truncated: e.truncated, cause: e });
  return e;
}

const BZ2: Codec = {
  name: 'bz2',
  extensions: ['.bz2', '.bz', '.pbz2'],
  defaultLevel: 9,
  matches: (h) => h[0] === 0x42 && h[1] === 0x5a && h[2] === 0x68 && h[3]! >= 0x31 && h[3]! <= 0x39,
  async compress(data, level) {
    const bz = await loadBz2Wasm();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < data.length || i === 0; i += BZ2_PIECE) {
      const r = bz.compressBZ2(data.subarray(i, i + BZ2_PIECE), level, 30);
      if (r.error !== 0)
        throw new CompressionError('bz2', `bz2: compression failed (${r.errorMsg ?? r.error})`);
      parts.push(r.output.slice());
    }
    return concat(parts);
  },
  async *decompress(chunks) {
    try {
      yield* bz2Decompress(chunks);
    } catch (e) {
      throw bz2Error(e);
    }
  },
  decompressSync(data) {
    try {
      const d = new Bz2Decoder();
      return concat([...d.push(data), ...d.end()]);
    } catch (e) {
      throw bz2Error(e);
    }
  },
};

// --- xz --------------------------------------------------------------------------------------

interface LzmaNative {
  compress(
    data: Uint8Array,
    options: { preset: number; check: number; threads?: number },
    done: (out: Buffer, error?: Error) => void,
  ): void;
  CHECK_CRC64: number;
}

function loadLzmaNative(): LzmaNative {
  try {
    return require('lzma-native') as LzmaNative;
  } catch (e) {
    throw new CompressionError(
      'xz',
      'xz: compression needs the optional package lzma-native, which did not load here (reading xz works without it)',
      { cause: e },
    );
  }
}

const XZ: Codec = {
  name: 'xz',
  extensions: ['.xz', '.lzma'],
  defaultLevel: 6,
  matches: (h) =>
    h[0] === 0xfd &&
    h[1] === 0x37 &&
    h[2] === 0x7a &&
    h[3] === 0x58 &&
    h[4] === 0x5a &&
    h[5] === 0x00,
  compress(data, level) {
    const lzma = loadLzmaNative();
    return new Promise((resolve, reject) =>
      lzma.compress(data, { preset: level, check: lzma.CHECK_CRC64 }, (out, error) =>
        error
          ? reject(new CompressionError('xz', `xz: ${error.message}`, { cause: error }))
          : resolve(new Uint8Array(out.buffer, out.byteOffset, out.length)),
      ),
    );
  },
  async *decompress(chunks) {
    const { XzReadableStream } = require('xz-decompress') as {
      XzReadableStream: new (input: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
    };
    const input = ReadableStream.from(chunks);
    try {
      for await (const part of new XzReadableStream(input) as unknown as AsyncIterable<Uint8Array>)
        yield part;
    } catch (e) {
      if (!/error code \d+/.test(String(e))) throw e; // the source failed, not xz
      // xz-embedded reports a cut file and corrupt data alike (XZ_BUF_ERROR / XZ_DATA_ERROR).
      throw new CompressionError('xz', 'xz: compressed file is truncated or corrupt', {
        truncated: /code 8\b/.test(String(e)),
        cause: e,
      });
    }
  },
};

// --- zstd ------------------------------------------------------------------------------------

interface ZstdNative {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}
interface Fzstd {
  decompress(data: Uint8Array): Uint8Array;
  Decompress: new (ondata?: (chunk: Uint8Array, final: boolean) => void) => {
    push(chunk: Uint8Array, final?: boolean): void;
  };
}

const fzstd = (): Fzstd => require('fzstd') as Fzstd;

/** libzstd through @mongodb-js/zstd when its prebuilt binary loads here, else undefined. */
function loadZstdNative(): ZstdNative | undefined {
  try {
    return require('@mongodb-js/zstd') as ZstdNative;
  } catch {
    return undefined;
  }
}

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length);

function zstdError(e: unknown): CompressionError {
  if (e instanceof CompressionError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new CompressionError('zstd', message.startsWith('zstd') ? message : `zstd: ${message}`, {
    truncated: e instanceof ZstdFrameError && e.truncated,
    cause: e,
  });
}

/** Whole frames by libzstd when it loads here (else fzstd); frames too big to hold, by fzstd. */
function frameDecoders(zstd: ZstdNative | undefined): FrameDecoders {
  return {
    whole: async (frame) => {
      if (zstd === undefined) return fzstd().decompress(frame);
      const out = await zstd.decompress(asBuffer(frame));
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    },
    streaming: () => {
      let out: Uint8Array[] = [];
      const d = new (fzstd().Decompress)((chunk) => out.push(chunk));
      return {
        push(piece, final) {
          d.push(piece, final);
          const parts = out;
          out = [];
          return parts;
        },
      };
    },
  };
}

const ZSTD: Codec = {
  name: 'zstd',
  extensions: ['.zst', '.zstd'],
  defaultLevel: 3,
  matches: (h) => {
    const magic = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
    return magic === 0xfd2fb528 || (magic & 0xfffffff0) >>> 0 === 0x184d2a50;
  },
  async compress(data, level) {
    const zstd = loadZstdNative();
    if (zstd === undefined) {
      throw new CompressionError(
        'zstd',
        'zstd: compression needs the optional package @mongodb-js/zstd, which did not load here (reading zstd works without it)',
      );
    }
    const out = await zstd.compress(asBuffer(data), level);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
  async *decompress(chunks) {
    try {
      yield* zstdDecompress(chunks, frameDecoders(loadZstdNative()));
    } catch (e) {
      throw zstdError(e);
    }
  },
  decompressSync(data) {
    try {
      return concat(splitFrames(data).map((frame) => fzstd().decompress(frame)));
    } catch (e) {
      throw zstdError(e);
    }
  },
};

/** Every codec, in the order magic bytes are tried. */
export const CODECS: readonly Codec[] = [GZIP, BZ2, XZ, ZSTD];

export function codecByName(name: CompressionName): Codec {
  const c = CODECS.find((c) => c.name === name);
  if (!c)
    throw new TypeError(
      `Unknown compression ${JSON.stringify(name)}: expected gzip, bz2, xz or zstd`,
    );
  return c;
}

/** The codec a file name's ending selects (`.gz`, `.bz2`, `.xz`, `.zst`, ...), if any. */
export function codecForPath(path: string): Codec | undefined {
  const lower = path.toLowerCase();
  return CODECS.find((c) => c.extensions.some((e) => lower.endsWith(e)));
}

/** The codec whose magic bytes start `head`, if any. */
export function codecForMagic(head: Uint8Array): Codec | undefined {
  return CODECS.find((c) => c.matches(head));
}

/** Bytes to peek at to recognise a format. */
export const MAGIC_LENGTH = 6;

export { concat };

export type { Codec };
