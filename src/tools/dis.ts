/**
 * `dis`: a symbolic disassembly of a pickle, the same text as CPython's `pickletools.dis`,
 * including its checks of the stack, the marks and the memo, which fail with pickletools'
 * messages at the same opcodes (after printing the same lines).
 */
import { ErrorCode, type UnpicklingError } from '../core/errors.js';
import { OPCODE_BY_CODE, OP, type OpcodeInfo, type StackObject } from '../core/opcodes.js';
import { PtCursor, intOfArg, located, ptError, readPtOp, reprArg } from './ptargs.js';
import { reprCodePoints } from './pytext.js';

/**
 * The memo `dis` emulates: memo key to the kind of object stored. Pass the same map to several
 * `dis` calls to disassemble pickles written by one pickler with one memo, as pickletools'
 * `memo` argument does.
 */
export type DisMemo = Map<number | bigint, StackObject>;

export interface DisOptions {
  /**
   * Add the first line of each opcode's documentation. `true` aligns it at column 30 as
   * `python -m pickletools --annotate` does; a number is pickletools' `annotate` column hint.
   * Defaults to no annotations.
   */
  annotate?: boolean | number;
  /** Blanks by which to indent each MARK level. Defaults to 4. */
  indentlevel?: number;
  /** The memo to use and update (see `DisMemo`). Defaults to a new one per call. */
  memo?: DisMemo;
  /** Byte offset of the pickle in `data`. Defaults to 0. */
  start?: number;
  /** Called now and then with the offset reached, for progress reports. */
  onProgress?: (offset: number) => void;
  /**
   * The most characters of text to produce before failing with LIMIT_EXCEEDED. `dis` sets it to
   * the longest string the engine can hold; `disChunks` defaults to no limit. (Each open MARK
   * indents a line, so the text can grow with the square of the input: 16 KiB of MARKs make
   * half a gigabyte, which pickletools prints and V8 cannot hold in one string.)
   */
  maxChars?: number;
}

/** V8's longest string (2**29 - 24 UTF-16 units on 64-bit builds). */
const MAX_STRING = 2 ** 29 - 24;

/** Python's `len()` of a string: code points, not UTF-16 units. */
function pyLen(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

const spaces = (n: number) => (n > 0 ? ' '.repeat(n) : '');

/** `repr(opcode.code)[1:-1]` for each opcode byte. */
const CODE_TEXT = OPCODE_BY_CODE.map((op) =>
  op === undefined ? '' : reprCodePoints([op.code]).slice(1, -1),
);

/**
 * Disassembles the pickle at `options.start`, yielding the text piece by piece (whole lines,
 * except that an error can follow the start of a line, as in pickletools). Returns the offset
 * just past the STOP. Throws an `UnpicklingError` whose `reason` is pickletools' message.
 *
 * @example
 * ```ts
 * let text = '';
 * for (const piece of disChunks(bytes)) text += piece;
 * ```
 */
export function* disChunks(
  data: Uint8Array,
  options: DisOptions = {},
): Generator<string, number, undefined> {
  const annotate = options.annotate === true ? 30 : Number(options.annotate ?? 0);
  const indentchunk = spaces(options.indentlevel ?? 4);
  const memo: DisMemo = options.memo ?? new Map();
  const onProgress = options.onProgress;
  const f = new PtCursor(data, options.start ?? 0);
  const stack: StackObject[] = [];
  const markstack: number[] = [];
  let maxproto = -1;
  let annocol = annotate;
  let out = '';
  let count = 0;
  let emitted = 0;
  const maxChars = options.maxChars ?? Infinity;

  for (;;) {
    let next: ReturnType<typeof readPtOp>;
    try {
      next = readPtOp(f);
    } catch (e) {
      yield out; // pickletools fails in genops, before printing anything of this opcode
      throw e;
    }
    const { op, arg, pos } = next;
    const prefix = `${String(pos).padStart(5)}: `;
    if ((++count & 0xfff) === 0) onProgress?.(pos);
    if (out.length > 0xffff) {
      if ((emitted += out.length) > maxChars) throw tooLong(maxChars, pos, op);
      yield out;
      out = '';
    }
    let printed = false;
    try {
      let line = `${CODE_TEXT[op.code]!.padEnd(4)} ${indentchunk.repeat(markstack.length)}${op.name}`;
      maxproto = Math.max(maxproto, op.proto);
      const before = op.stackBefore;
      let after = op.stackAfter;
      let numtopop = before.length;

      // See whether a MARK should be popped.
      let markmsg: string | undefined;
      let errormsg: [ErrorCode, string] | undefined;
      if (
        before.includes('mark') ||
        (op.code === OP.POP && stack.length > 0 && stack[stack.length - 1] === 'mark')
      ) {
        const markpos = markstack.pop();
        if (markpos !== undefined) {
          markmsg = `(MARK at ${markpos})`;
          // Pop everything at and after the topmost markobject.
          for (;;) {
            const top = stack.pop();
            if (top === undefined) {
              throw ptError(ErrorCode.BAD_STACK, 'list index out of range', pos, op);
            }
            if (top === 'mark') break;
          }
          // Stop later code from popping too much.
          const i = before.indexOf('mark');
          numtopop = i < 0 ? 0 : i;
        } else {
          markmsg = 'no MARK exists on stack';
          errormsg = [ErrorCode.NO_MARK, markmsg];
        }
      }

      // Check for correct memo usage.
      const name = op.name;
      if (name === 'PUT' || name === 'BINPUT' || name === 'LONG_BINPUT' || name === 'MEMOIZE') {
        let memoIdx: number | bigint;
        if (name === 'MEMOIZE') {
          memoIdx = memo.size;
          markmsg = `(as ${memoIdx})`;
        } else {
          memoIdx = intOfArg(arg)!;
        }
        if (memo.has(memoIdx)) {
          const key = arg === undefined ? 'None' : reprArg(arg);
          errormsg = [ErrorCode.BAD_ARGUMENT, `memo key ${key} already defined`];
        } else if (stack.length === 0) {
          errormsg = [ErrorCode.STACK_UNDERFLOW, "stack is empty -- can't store into memo"];
        } else if (stack[stack.length - 1] === 'mark') {
          errormsg = [ErrorCode.BAD_STACK, "can't store markobject in the memo"];
        } else {
          memo.set(memoIdx, stack[stack.length - 1]!);
        }
      } else if (name === 'GET' || name === 'BINGET' || name === 'LONG_BINGET') {
        const stored = memo.get(intOfArg(arg)!);
        if (stored !== undefined) {
          after = [stored]; // for better stack emulation
        } else {
          errormsg = [
            ErrorCode.MEMO_MISSING,
            `memo key ${reprArg(arg!)} has never been stored into`,
          ];
        }
      }

      if (arg !== undefined || markmsg !== undefined) {
        // make a mild effort to align arguments
        line += spaces(10 - name.length);
        if (arg !== undefined) line += ' ' + reprArg(arg);
        if (markmsg !== undefined) line += ' ' + markmsg;
      }
      if (annotate) {
        line += spaces(annocol - pyLen(line));
        // make a mild effort to align annotations
        annocol = pyLen(line);
        if (annocol > 50) annocol = annotate;
        line += ' ' + op.doc;
      }
      out += prefix + line + '\n';
      printed = true;

      // pickletools complains only once the offending opcode is printed.
      if (errormsg) throw ptError(errormsg[0], errormsg[1], pos, op);

      // Emulate the stack effects.
      if (stack.length < numtopop) {
        throw ptError(
          ErrorCode.STACK_UNDERFLOW,
          `tries to pop ${numtopop} items from stack with only ${stack.length} items`,
          pos,
          op,
        );
      }
      if (numtopop) stack.length -= numtopop;
      if (after.includes('mark')) markstack.push(pos);
      for (const s of after) stack.push(s);
    } catch (e) {
      // The line, or when it could not be formed its "pos: " start, is out before the error.
      yield printed ? out : out + prefix;
      throw located(e, pos, op);
    }
    if (op.code === OP.STOP) break;
  }
  out += `highest protocol among opcodes = ${maxproto}\n`;
  yield out;
  if (stack.length > 0) {
    throw ptError(
      ErrorCode.BAD_STACK,
      `stack not empty after STOP: [${stack.join(', ')}]`,
      f.pos - 1,
      OPCODE_BY_CODE[OP.STOP],
    );
  }
  return f.pos;
}

/**
 * The disassembly of the pickle at the start of `data`, as `pickletools.dis` prints it.
 *
 * @example
 * ```ts
 * import { dis } from 'pickle-ts/tools';
 * console.log(dis(dumps([1, 2], { protocol: 2 })));
 * //     0: \x80 PROTO      2
 * //     2: ]    EMPTY_LIST
 * //  ...
 * ```
 */
export function dis(data: Uint8Array, options: DisOptions = {}): string {
  const maxChars = Math.min(options.maxChars ?? MAX_STRING, MAX_STRING);
  let text = '';
  for (const piece of disChunks(data, { ...options, maxChars })) {
    if (text.length + piece.length > maxChars) throw tooLong(maxChars, data.length, undefined);
    text += piece;
  }
  return text;
}

function tooLong(maxChars: number, pos: number, op: OpcodeInfo | undefined): UnpicklingError {
  return ptError(
    ErrorCode.LIMIT_EXCEEDED,
    `the disassembly is longer than ${maxChars.toLocaleString('en-US')} characters ` +
      `(the maxChars option; a string cannot be longer than ${MAX_STRING.toLocaleString('en-US')}): ` +
      `use disChunks() to stream it`,
    pos,
    op,
  );
}
