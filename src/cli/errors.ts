/**
 * What the `pickle` command reports, and with which exit status: 0 success, 1 a bad pickle or
 * bad JSON (the message names the byte offset and opcode), 2 a usage error or a file that
 * cannot be read or written.
 */

export const ExitCode = {
  OK: 0,
  DATA: 1,
  USAGE: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A command line the command cannot run: printed with the command's usage, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file that cannot be opened, read or written: exit status 2. */
export class FileError extends Error {
  override name = 'FileError';
}

/** Data the command cannot process that is not a pickle error (exit status 1). */
export class DataError extends Error {
  override name = 'DataError';
}
