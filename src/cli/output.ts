/**
 * Where a command writes: standard output for `-`, else a file written through a temporary
 * file renamed into place once the command succeeds (a failure leaves no half-written output),
 * compressed when the file name ends in .gz, .bz2, .xz or .zst.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { UsageError } from './errors.js';
import { compressFor, compressionOfPath, writeError } from './input.js';
import { streamSink, type CliIO, type Sink } from './io.js';

export interface Output extends Sink {
  /** Finishes the output: `ok` keeps it, otherwise a file output is removed. */
  close(ok: boolean): Promise<void>;
}

/**
 * Opens `path` for writing. `binary` outputs (pickles) refuse a terminal, as `gzip` does: they
 * would only garble it.
 */
export async function openOutput(path: string, io: CliIO, binary: boolean): Promise<Output> {
  if (path === '-') {
    if (binary && io.stdoutIsTTY) {
      throw new UsageError(
        'refusing to write a binary pickle to a terminal; give a file name or redirect standard output',
      );
    }
    const sink = streamSink(io.stdout);
    return { write: (c) => sink.write(c), close: async () => undefined };
  }
  const tmp = `${path}.${process.pid}.tmp`;
  if (compressionOfPath(path)) {
    // Compression needs the whole output: collect it, compress, then write.
    const chunks: Uint8Array[] = [];
    const encoder = new TextEncoder();
    return {
      write: async (c) => void chunks.push(typeof c === 'string' ? encoder.encode(c) : c),
      close: async (ok) => {
        if (!ok) return;
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const data = new Uint8Array(total);
        let at = 0;
        for (const c of chunks) {
          data.set(c, at);
          at += c.length;
        }
        await writeFileAtomically(path, tmp, await compressFor(path, data));
      },
    };
  }
  const stream = createWriteStream(tmp);
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (e) {
    throw writeError(e, path);
  }
  const sink = streamSink(stream);
  return {
    write: (c) => sink.write(c),
    close: async (ok) => {
      stream.end();
      try {
        await finished(stream);
        if (ok) await rename(tmp, path);
      } catch (e) {
        throw writeError(e, path);
      } finally {
        if (!ok) await rm(tmp, { force: true });
      }
    },
  };
}

async function writeFileAtomically(path: string, tmp: string, data: Uint8Array): Promise<void> {
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw writeError(e, path);
  }
}
