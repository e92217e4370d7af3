/**
 * What the scanner reports: findings (each import and call the pickle would make in Python),
 * their severity, and one verdict for the whole input.
 */

/** How bad one finding is. */
export type Severity = 'safe' | 'suspicious' | 'dangerous';

/**
 * The verdict on an input: `safe` (only allowlisted, data-only names), `suspicious` (names the
 * scanner does not know), `dangerous` (code execution or system access), or `malformed` (the
 * input is not a well-formed pickle and nothing dangerous came before the error: Python would
 * have stopped there).
 */
export type Verdict = Severity | 'malformed';

/**
 * What a finding is about:
 * - `import`: a global the pickle looks up (GLOBAL, STACK_GLOBAL, INST, or a name reached
 *   through `getattr`, `__import__` and the like);
 * - `call`: a call Python makes (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ);
 * - `build`: BUILD, which calls the object's `__setstate__` or sets its attributes;
 * - `extension`: an EXT1/EXT2/EXT4 code (a global named through copyreg's extension registry);
 * - `persistent-id`: PERSID/BINPERSID (the loader's `persistent_load` decides what it is);
 * - `nested-pickle`: a pickle inside a `pickle.loads` argument, scanned too;
 * - `stack-global`: STACK_GLOBAL with names the scanner cannot compute;
 * - `code`: source code in an archive (TorchScript), which some loaders run.
 */
export type FindingKind =
  | 'import'
  | 'call'
  | 'build'
  | 'extension'
  | 'persistent-id'
  | 'nested-pickle'
  | 'stack-global'
  | 'code';

export interface Finding {
  /** Byte offset of the opcode, in the bytes of the pickle's section (see `section`). */
  readonly offset: number;
  /** The opcode's name (`GLOBAL`, `REDUCE`, ...). */
  readonly opcode: string;
  readonly kind: FindingKind;
  /** The module of the global involved (`''` when there is none, as for a call of a computed value). */
  readonly module: string;
  /** Its qualified name (`system`, `ndarray`, `Outer.Inner`). */
  readonly name: string;
  readonly severity: Severity;
  /** Why it has that severity, in words. */
  readonly reason: string;
  /** Index of the pickle in its section (0 for the first). */
  readonly pickle: number;
  /** Where the pickle is: `''` for the input itself, else a zip member name, `.npy data`, ... */
  readonly section: string;
  /**
   * For a finding inside a nested pickle (the bytes given to `pickle.loads`), the offsets of the
   * calls that hold it, outermost first; `offset` is then inside the nested bytes.
   */
  readonly nested?: readonly number[];
}

/** A part of the input that is not a well-formed pickle. */
export interface ScanError {
  readonly section: string;
  readonly pickle: number;
  /** Byte offset of the problem in its section. */
  readonly offset: number;
  readonly opcode: string | undefined;
  /** An `ErrorCode` of pickle-ts (`TRUNCATED`, `STACK_UNDERFLOW`, ...) or `BAD_CONTAINER`. */
  readonly code: string;
  readonly message: string;
}

/** One part of the input the scanner looked at (the whole file, a zip member, ...). */
export interface ScanSection {
  /** `''` for the input itself, a zip member name, or a description such as `.npy data`. */
  readonly name: string;
  /** The format recognized: `pickle`, `npy`, `zip`, `joblib`, `torch-legacy`, ... */
  readonly format: string;
  /** How many pickles were scanned in it. */
  readonly pickles: number;
}

export interface ScanResult {
  readonly verdict: Verdict;
  /** Every import and call, in order; see `ScanOptions.maxFindings` for very large inputs. */
  readonly findings: readonly Finding[];
  /** How many pickles were scanned, over every section (nested pickles not counted). */
  readonly pickles: number;
  /** The input's container format: `pickle`, `npy`, `npz`, `torch-zip`, `zip`, `joblib`, ... */
  readonly format: string;
  readonly sections: readonly ScanSection[];
  /** Where the input is malformed (empty when it is not). */
  readonly errors: readonly ScanError[];
  /** Findings of severity `safe` left out of `findings` because of `maxFindings`. */
  readonly omittedSafeFindings: number;
}

/** A global a scanner option names: `'module:qualname'` or `['module', 'qualname']`. */
export type GlobalSpec = string | readonly [string, string];

export interface ScanOptions {
  /**
   * Extra globals to treat as safe (data-only constructors of your own classes), as
   * `'module:qualname'`, or `'module:*'` for every name of a module. They never override the
   * names the scanner knows as dangerous. Defaults to none.
   */
  allow?: readonly GlobalSpec[];
  /** Extra globals to treat as dangerous (`'module:*'` for a whole module). Defaults to none. */
  deny?: readonly GlobalSpec[];
  /**
   * EXT codes the loading process registers (`copyreg.add_extension`), so an EXT opcode is
   * judged by the global it names. Defaults to none, as CPython registers none.
   */
  extensions?: ReadonlyMap<number, readonly [string, string]>;
  /**
   * Decompresses raw deflate data (zip members stored with method 8). The Node entry point
   * (`scanFile`) passes node:zlib's; without it, deflated zip members are reported as not
   * scanned (and the verdict cannot be `safe`).
   */
  inflateRaw?: (data: Uint8Array, expectedSize: number) => Uint8Array;
  /** How deep to follow pickles inside `pickle.loads` arguments. Defaults to 8. */
  maxNestingDepth?: number;
  /**
   * Keep at most this many findings; past it, `safe` findings are counted in
   * `omittedSafeFindings` instead of listed (suspicious and dangerous ones are always kept).
   * Defaults to 100,000.
   */
  maxFindings?: number;
}
