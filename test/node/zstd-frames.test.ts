/**
 * The zstd frame scanner on frames Python's zstandard writes: every frame boundary found whatever
 * the chunking (down to 1 byte), skippable frames dropped, frames larger than the buffering limit
 * decoded as they stream in, and a cut anywhere inside a frame reported as truncation.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  FrameScanner,
  ZstdFrameError,
  splitFrames,
  zstdDecompress,
  type FrameDecoders,
} from '../../src/node/zstd.js';
import { needPythonFor } from './python-files.js';
import { createRequire } from 'node:module';

const fzstd = createRequire(import.meta.url)('fzstd') as {
  decompress(d: Uint8Array): Uint8Array;
  Decompress: new (ondata: (c: Uint8Array) => void) => {
    push(c: Uint8Array, final?: boolean): void;
  };
};

/** Decoders that record which path each frame took. */
function decoders(log: string[]): FrameDecoders {
  return {
    whole: (frame) => {
      log.push('whole');
      return fzstd.decompress(frame);
    },
    streaming: () => {
      log.push('streaming');
      let out: Uint8Array[] = [];
      const d = new fzstd.Decompress((c) => out.push(c));
      return {
        push(piece, final) {
          d.push(piece, final);
          const o = out;
          out = [];
          return o;
        },
      };
    },
  };
}

async function run(
  data: Uint8Array,
  size: number,
  limit: number,
  log: string[] = [],
): Promise<Buffer> {
  async function* chunks() {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  }
  const parts: Uint8Array[] = [];
  for await (const p of zstdDecompress(chunks(), decoders(log), limit)) parts.push(p);
  return Buffer.concat(parts);
}

test('frames from Python (with and without content size, checksums, skippable frames) in any chunking', async (t) => {
  const python = needPythonFor(t, 'zstd');
  if (!python) return;
  const r = spawnSync(
    python,
    [
      '-c',
      `import io, sys, zstandard
a = bytes(range(256)) * 40 + b'tail'
import random; b = random.Random(1).randbytes(30000)
out = io.BytesIO()
out.write(zstandard.ZstdCompressor(level=3).compress(a))
out.write(b'\\x50\\x2a\\x4d\\x18' + (5).to_bytes(4, 'little') + b'skip!')
out.write(zstandard.ZstdCompressor(level=1, write_checksum=True, write_content_size=False).compress(b))
w = zstandard.ZstdCompressor(level=5).stream_writer(out, closefd=False)
w.write(a); w.flush(zstandard.FLUSH_FRAME); w.write(b); w.flush(zstandard.FLUSH_FRAME)
sys.stdout.buffer.write(out.getvalue())
sys.stderr.buffer.write(a + b + a + b)`,
    ],
    { maxBuffer: 1 << 24 },
  );
  assert.equal(r.status, 0, String(r.stderr));
  const data = new Uint8Array(r.stdout);
  const expected = Buffer.from(r.stderr);
  assert.equal(splitFrames(data).length, 4, 'four frames, the skippable one dropped');
  for (const size of [1, 2, 3, 7, 100, 4096, data.length]) {
    assert.ok((await run(data, size, 1 << 30)).equals(expected), `chunks of ${size}`);
    const log: string[] = [];
    assert.ok(
      (await run(data, size, 500, log)).equals(expected),
      `chunks of ${size}, streaming frames`,
    );
    if (size < 500) assert.ok(log.includes('streaming'), 'frames over the limit stream');
  }
  // Frame boundaries, from the scanner itself; a cut anywhere else is a truncation.
  const scanner = new FrameScanner();
  const ends = new Set<number>();
  for (let p = 0; p < data.length;) {
    p = scanner.feed(data, p);
    ends.add(p);
  }
  assert.equal(ends.size, 5, 'four frames and a skippable one');
  const cuts = new Set<number>();
  for (let cut = 1; cut < data.length; cut += Math.ceil(data.length / 60)) cuts.add(cut);
  for (const end of ends) for (const d of [-9, -4, -1, 1, 3, 8, 12]) cuts.add(end + d);
  for (const cut of cuts) {
    if (ends.has(cut) || cut <= 0 || cut >= data.length) continue;
    await assert.rejects(run(data.subarray(0, cut), 1000, 500), (e) => {
      assert.ok(e instanceof ZstdFrameError && e.truncated, `cut ${cut}: ${String(e)}`);
      return true;
    });
  }
});
