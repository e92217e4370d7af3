/**
 * `genops`: the opcodes of a pickle with their arguments and byte positions, driven by the
 * opcode table's argument descriptors, as `pickletools.genops` does.
 */
import { ArgSize, type ArgValue, type ArgumentDescriptor } from '../core/args.js';
import { ErrorCode, UnpicklingError } from '../core/errors.js';
import { OPCODE_BY_CODE, OP, type OpName, type OpcodeInfo } from '../core/opcodes.js';
import { Reader } from '../core/reader.js';

export interface OpcodeEvent {
  readonly opcode: OpcodeInfo<OpName>;
  /** The decoded inline argument, or `undefined` for opcodes without one. */
  readonly arg: ArgValue | undefined;
  /** Byte offset of the opcode. */
  readonly pos: number;
}

export interface GenopsOptions {
  /** Decode each argument (as pickletools does). `false` only steps over them. Defaults to true. */
  args?: boolean;
}

/** Steps over an argument using only its layout: no parsing, so no argument can fail. */
function skipArg(arg: ArgumentDescriptor, r: Reader): void {
  switch (arg.n) {
    case ArgSize.UP_TO_NEWLINE:
      r.line();
      if (arg.name === 'stringnl_noescape_pair') r.line();
      return;
    case ArgSize.TAKEN_FROM_ARGUMENT1:
      r.skip(r.u8());
      return;
    case ArgSize.TAKEN_FROM_ARGUMENT4: {
      const n = r.i32();
      if (n < 0) throw r.error(ErrorCode.BAD_ARGUMENT, `negative byte count: ${n}`);
      r.skip(n);
      return;
    }
    case ArgSize.TAKEN_FROM_ARGUMENT4U:
      r.skip(r.u32());
      return;
    case ArgSize.TAKEN_FROM_ARGUMENT8U:
      r.skip(r.u64());
      return;
    default:
      r.skip(arg.n);
  }
}

/**
 * Yields each opcode of the pickle that starts at `start`, up to and including its STOP.
 *
 * @example
 * ```ts
 * for (const { opcode, arg, pos } of genops(bytes)) console.log(pos, opcode.name, arg);
 * ```
 */
export function* genops(
  data: Uint8Array,
  start = 0,
  options: GenopsOptions = {},
): Generator<OpcodeEvent, void, undefined> {
  const decode = options.args ?? true;
  const r = new Reader(data, start);
  for (;;) {
    const pos = r.pos;
    r.opStart = pos;
    if (pos >= r.end) {
      throw new UnpicklingError(ErrorCode.TRUNCATED, 'pickle exhausted before seeing STOP', {
        offset: pos,
      });
    }
    const code = data[pos]!;
    const opcode = OPCODE_BY_CODE[code];
    if (opcode === undefined) {
      throw new UnpicklingError(
        ErrorCode.UNKNOWN_OPCODE,
        `opcode 0x${code.toString(16).padStart(2, '0')} unknown`,
        { offset: pos },
      );
    }
    r.pos = pos + 1;
    let arg: ArgValue | undefined;
    if (opcode.arg !== null) {
      if (decode) arg = opcode.arg.read(r);
      else skipArg(opcode.arg, r);
    }
    yield { opcode, arg, pos };
    if (code === OP.STOP) return;
  }
}

/** Byte offset just past the STOP of the pickle starting at `start`. */
export function pickleEnd(data: Uint8Array, start = 0): number {
  let end = start;
  for (const { pos } of genops(data, start, { args: false })) end = pos + 1;
  return end;
}
