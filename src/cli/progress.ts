/**
 * A progress bar on standard error, for inputs of a few megabytes or more, drawn only when
 * standard error is a terminal (and not over output going to the same terminal). Nothing is
 * printed on pipes.
 */
import type { CliIO } from './io.js';

/** Inputs smaller than this finish too fast for a bar to help. */
export const PROGRESS_THRESHOLD = 4 * 1024 * 1024;

const WIDTH = 24;
const INTERVAL_MS = 100;

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export class Progress {
  private label = '';
  private total = 0;
  private last = 0;
  private drawn = false;

  /**
   * @param enabled whether to draw at all (see `Progress.for`).
   */
  private constructor(
    private readonly io: CliIO,
    private readonly enabled: boolean,
  ) {}

  /**
   * A progress bar for a command. `outputToTerminal` is true when the command's own output goes
   * to standard output and that is a terminal: a bar would then be drawn over it.
   */
  static for(io: CliIO, outputToTerminal: boolean): Progress {
    return new Progress(io, io.stderrIsTTY && !outputToTerminal);
  }

  /** Starts (or moves to) a phase: `total` bytes, 0 when unknown. */
  phase(label: string, total: number): void {
    this.label = label;
    this.total = total;
    this.last = 0;
    this.update(0, true);
  }

  /** Reports `done` bytes of the phase; draws at most every 100 ms. */
  update(done: number, force = false): void {
    if (!this.enabled) return;
    if (this.total > 0 && this.total < PROGRESS_THRESHOLD) return;
    if (this.total === 0 && done < PROGRESS_THRESHOLD && !this.drawn) return;
    const now = Date.now();
    if (!force && now - this.last < INTERVAL_MS) return;
    this.last = now;
    let line: string;
    if (this.total > 0) {
      const fraction = Math.min(1, done / this.total);
      const filled = Math.round(fraction * WIDTH);
      line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${megabytes(done)} of ${megabytes(this.total)}`;
    } else {
      line = `${this.label} ${megabytes(done)}`;
    }
    this.io.stderr.write(`\r\x1b[K${line}`);
    this.drawn = true;
  }

  /** Shows a step that has no measurable progress (`decoding 120.0 MB`), for big inputs. */
  status(label: string, size: number): void {
    if (!this.enabled || size < PROGRESS_THRESHOLD) return;
    this.io.stderr.write(`\r\x1b[K${label} ${megabytes(size)}...`);
    this.drawn = true;
  }

  /** Removes the bar. */
  finish(): void {
    if (this.drawn) this.io.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
