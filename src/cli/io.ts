/**
 * The command's streams: standard input and output, and whether they are terminals. Output is
 * written with backpressure (a slow pipe does not make the process buffer everything), and a
 * closed pipe (`pickle dis big.pkl | head`) ends the command quietly.
 */
import type { Readable, Writable } from 'node:stream';

export interface CliIO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The process's own streams. */
export function processIO(): CliIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
  };
}

/** The reader of the output went away (EPIPE): stop writing, and exit as if done. */
export class OutputClosed extends Error {
  override name = 'OutputClosed';
}

/** Somewhere to write text or bytes, with backpressure. */
export interface Sink {
  write(chunk: string | Uint8Array): Promise<void>;
}

/** A sink on a stream: waits for 'drain' when the stream's buffer is full. */
export function streamSink(stream: Writable): Sink {
  let closed = false;
  let failure: Error | undefined;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') closed = true;
    else failure = e;
  });
  return {
    async write(chunk) {
      if (closed) throw new OutputClosed('output closed');
      if (failure) throw failure;
      if (chunk.length === 0) return;
      if (!stream.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off('drain', done);
            stream.off('error', done);
            resolve();
          };
          stream.on('drain', done);
          stream.on('error', done);
        });
        if (closed) throw new OutputClosed('output closed');
        if (failure) throw failure;
      }
    },
  };
}

/** Writes every piece a generator yields. */
export async function writeAll(sink: Sink, pieces: Iterable<string | Uint8Array>): Promise<void> {
  let batch = '';
  try {
    for (const piece of pieces) {
      if (typeof piece === 'string') {
        batch += piece;
        if (batch.length >= 0x10000) {
          await sink.write(batch);
          batch = '';
        }
      } else {
        if (batch) await sink.write(batch);
        batch = '';
        await sink.write(piece);
      }
    }
  } finally {
    // What was produced before an error is written too (as pickletools prints before failing).
    if (batch) await sink.write(batch);
  }
}
