/**
 * Errors keep Python's names (`PickleError`, `PicklingError`, `UnpicklingError`) and add a
 * machine-readable `code`, the byte `offset` in the pickle and the `opcode` being handled.
 */

/** Every failure code pickle-ts raises. */
export const ErrorCode = {
  /** The input ended inside an opcode or before STOP. */
  TRUNCATED: 'TRUNCATED',
  /** The input was empty where a pickle should start (Python raises `EOFError`). */
  EOF: 'EOF',
  UNKNOWN_OPCODE: 'UNKNOWN_OPCODE',
  UNSUPPORTED_PROTOCOL: 'UNSUPPORTED_PROTOCOL',
  STACK_UNDERFLOW: 'STACK_UNDERFLOW',
  NO_MARK: 'NO_MARK',
  /** STOP was reached with a MARK still open or more than one value on the stack. */
  BAD_STACK: 'BAD_STACK',
  MEMO_MISSING: 'MEMO_MISSING',
  /** An opcode's argument cannot be parsed (a bad decimal, an unquoted STRING, ...). */
  BAD_ARGUMENT: 'BAD_ARGUMENT',
  /** Bytes that must be text are not valid in their encoding. */
  BAD_ENCODING: 'BAD_ENCODING',
  /** An opcode's stack operands have the wrong type (APPEND to a non-list, ...). */
  BAD_OPERAND: 'BAD_OPERAND',
  FRAME: 'FRAME',
  /** Compressed input (gzip, bz2, xz, zstd) is corrupt; see the error's `cause`. */
  COMPRESSION: 'COMPRESSION',
  EXTENSION_MISSING: 'EXTENSION_MISSING',
  PERSISTENT_LOAD: 'PERSISTENT_LOAD',
  BUFFERS: 'BUFFERS',
  GLOBAL_BLOCKED: 'GLOBAL_BLOCKED',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  /** dumps: a value has no pickled form (a function, `undefined`, an unregistered class). */
  UNPICKLABLE: 'UNPICKLABLE',
  /** dumps: the value cannot be written at the requested protocol. */
  PROTOCOL: 'PROTOCOL',
  /** A bad option or a bad value returned by a user hook. */
  BAD_OPTION: 'BAD_OPTION',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface PickleErrorDetails {
  /** Byte offset in the pickle of the opcode being handled, when known. */
  offset?: number | undefined;
  /** Name of the opcode being handled or written, when known. */
  opcode?: string | undefined;
  cause?: unknown;
}

/** Base class of every error pickle-ts throws on purpose. */
export class PickleError extends Error {
  override name = 'PickleError';
  readonly code: ErrorCode;
  readonly offset: number | undefined;
  readonly opcode: string | undefined;
  /** The message without the "at byte N (OPCODE): " prefix. */
  readonly reason: string;

  constructor(code: ErrorCode, reason: string, details: PickleErrorDetails = {}) {
    const where =
      details.offset === undefined
        ? ''
        : `at byte ${details.offset}${details.opcode ? ` (${details.opcode})` : ''}: `;
    super(where + reason, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.reason = reason;
    this.offset = details.offset;
    this.opcode = details.opcode;
  }
}

/** Raised by `dumps`/`Pickler` for values that cannot be pickled. */
export class PicklingError extends PickleError {
  override name = 'PicklingError';
  /** Where in the value the problem is, as `value.items[3].when`. */
  readonly path: string;

  constructor(
    code: ErrorCode,
    reason: string,
    details: PickleErrorDetails & { path?: string } = {},
  ) {
    super(code, details.path ? `${details.path}: ${reason}` : reason, details);
    this.path = details.path ?? '';
  }
}

/** Raised by `loads`/`Unpickler` for input that is not a valid pickle or that breaks a limit. */
export class UnpicklingError extends PickleError {
  override name = 'UnpicklingError';
}
