/**
 * The pool's own errors, and how an error thrown in a worker comes back: as an error of the same
 * class (built-in classes and pickle-ts's own; others keep their name on a plain `Error`), with
 * its message and own fields, and the worker's stack in a `RemoteTraceback` as its `cause`, the
 * way Python's multiprocessing re-raises a task's exception.
 */
import { ErrorCode, PickleError, PicklingError, UnpicklingError } from '../index.js';

/** What went wrong, for code that handles pool failures. */
export const PoolErrorCode = {
  /** A task was submitted to a pool that was closed or terminated. */
  NOT_RUNNING: 'NOT_RUNNING',
  /** `join()` was called before `close()` or `terminate()`. */
  STILL_RUNNING: 'STILL_RUNNING',
  /** The worker running the task exited (a crash, `process.exit`, out of memory). */
  WORKER_EXITED: 'WORKER_EXITED',
  /** `terminate()` ended the pool before the task finished. */
  TERMINATED: 'TERMINATED',
  /** The pool's `initializer` failed in a worker, so the pool cannot run tasks. */
  INITIALIZER_FAILED: 'INITIALIZER_FAILED',
  /** A bad argument to a pool method (a chunksize below 1, ...). */
  BAD_ARGUMENT: 'BAD_ARGUMENT',
  /** `successful()` was asked of a result that is not ready. */
  NOT_READY: 'NOT_READY',
} as const;
export type PoolErrorCode = (typeof PoolErrorCode)[keyof typeof PoolErrorCode];

/**
 * A failure of the pool itself, as opposed to an error thrown by a task.
 *
 * @example
 * ```ts
 * try { await pool.map(f, items); } catch (e) {
 *   if (e instanceof PoolError && e.code === PoolErrorCode.WORKER_EXITED) console.log(e.exitCode);
 * }
 * ```
 */
export class PoolError extends Error {
  override name = 'PoolError';
  readonly code: PoolErrorCode;
  /** For `WORKER_EXITED`: the worker's exit code, when it exited rather than crashed. */
  readonly exitCode: number | undefined;

  constructor(
    code: PoolErrorCode,
    message: string,
    options: { cause?: unknown; exitCode?: number } = {},
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.exitCode = options.exitCode;
  }
}

/**
 * `get(timeout)` ran out of time (Python's `multiprocessing.TimeoutError`). The task goes on.
 *
 * @example
 * ```ts
 * await pool.applyAsync(slow).get(0.1); // throws TimeoutError after 100 ms
 * ```
 */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * The stack of an error as it was in the worker, set as the `cause` of the error a task's
 * result rejects with (Python's `multiprocessing.pool.RemoteTraceback`).
 *
 * @example
 * ```ts
 * try { await pool.apply(fails); } catch (e) { console.log((e as Error).cause); }
 * ```
 */
export class RemoteTraceback extends Error {
  override name = 'RemoteTraceback';

  constructor(stack: string, cause?: unknown) {
    super(stack.split('\n', 1)[0], cause === undefined ? undefined : { cause });
    // Printed as the worker printed it, without this thread's frames.
    this.stack = `RemoteTraceback: ${stack}`;
  }
}

type ErrorClass = new (message?: string) => Error;

/** Error classes rebuilt as themselves; any other class becomes an `Error` keeping its name. */
const ERROR_CLASSES: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
  ['TimeoutError', TimeoutError],
]);

const PICKLE_ERRORS = new Map<string, typeof PickleError>([
  ['PickleError', PickleError],
  ['PicklingError', PicklingError],
  ['UnpicklingError', UnpicklingError],
]);

const OWN_FIELDS_SKIPPED = new Set(['stack', 'message', 'cause', 'name']);

/** The parts of an error that travel: class name, message, stack, own fields, cause. */
export interface ErrorParts {
  className: string;
  name: string;
  message: string;
  stack: string;
  fields: Record<string, unknown>;
  cause: unknown;
  hasCause: boolean;
}

/** Splits an error into its parts; `keep(value)` says whether a field's value can travel. */
export function errorParts(e: Error, keep: (value: unknown) => boolean): ErrorParts {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(e)) {
    if (OWN_FIELDS_SKIPPED.has(key)) continue;
    const value = (e as unknown as Record<string, unknown>)[key];
    if (keep(value)) fields[key] = value;
  }
  const hasCause = 'cause' in e && keep(e.cause);
  return {
    className: e.constructor?.name ?? 'Error',
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(e.message),
    stack: typeof e.stack === 'string' ? e.stack : `${e.name}: ${e.message}`,
    fields,
    cause: hasCause ? e.cause : null,
    hasCause,
  };
}

/** An error of the class `parts` name, or an `Error` with its name, holding its fields. */
export function reviveError(parts: ErrorParts): Error {
  let error: Error;
  const pickleClass = PICKLE_ERRORS.get(parts.className);
  if (pickleClass) {
    const code = parts.fields.code;
    error = new pickleClass(
      typeof code === 'string' ? (code as ErrorCode) : ErrorCode.BAD_OPERAND,
      parts.message,
    );
  } else {
    const cls = ERROR_CLASSES.get(parts.className) ?? Error;
    error = new cls(parts.message);
  }
  for (const [key, value] of Object.entries(parts.fields)) {
    Object.defineProperty(error, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  if (error.name !== parts.name) {
    Object.defineProperty(error, 'name', { value: parts.name, writable: true, configurable: true });
  }
  if (parts.hasCause) {
    Object.defineProperty(error, 'cause', {
      value: parts.cause,
      writable: true,
      configurable: true,
    });
  }
  error.stack = parts.stack;
  return error;
}

/**
 * The error a task's result rejects with: the worker's error rebuilt, its stack moved into a
 * `RemoteTraceback` cause (which carries the worker error's own cause on), as Python shows a
 * task's exception.
 */
export function taskError(remote: unknown, where: string): unknown {
  if (!(remote instanceof Error)) return remote;
  const stack = remote.stack ?? `${remote.name}: ${remote.message}`;
  const ownCause = 'cause' in remote ? remote.cause : undefined;
  Object.defineProperty(remote, 'cause', {
    value: new RemoteTraceback(stack, ownCause),
    writable: true,
    configurable: true,
  });
  remote.stack = `${remote.name}: ${remote.message}\n    at ${where} (the worker's stack is the cause)`;
  return remote;
}
