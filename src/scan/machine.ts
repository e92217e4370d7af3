/**
 * The scanner's pickle machine: walks one pickle with `genops` and runs each opcode on a model
 * of Python's unpickler — the stack, the MARK fences and the memo exactly as CPython keeps them
 * (MEMOIZE stores at `len(memo)`, POP may pop a MARK, a STOP may leave items behind) — so that a
 * name built from memo entries, a STACK_GLOBAL of strings from anywhere, an INST or an OBJ is
 * seen as Python would see it. Structure errors Python would raise (stack underflow, missing
 * MARK, memo key never stored) end the pickle with an `UnpicklingError`.
 */
import type { ArgValue } from '../core/args.js';
import { ErrorCode, UnpicklingError } from '../core/errors.js';
import { OP, type OpName } from '../core/opcodes.js';
import { decodeUtf8 } from '../core/text.js';
import { genops } from '../tools/genops.js';
import { judgeCall, type CallHost, type CallHow } from './calls.js';
import { DANGEROUS_ATTRIBUTES } from './denylist.js';
import type { FindingKind, Severity } from './types.js';
import {
  NONE,
  describe,
  dictGet,
  itemsOf,
  stringOf,
  type ConstValue,
  type DictValue,
  type GlobalValue,
  type ObjectValue,
  type Value,
} from './values.js';

/** A finding as the machine reports it (the host adds where the pickle is). */
export interface MachineFinding {
  offset: number;
  opcode: string;
  kind: FindingKind;
  module: string;
  name: string;
  severity: Severity;
  reason: string;
}

/** What the machine needs from the scan around it. */
export interface MachineHost extends CallHost {
  report(finding: MachineFinding): void;
  /** EXT codes the loading process registers. */
  readonly extensions: ReadonlyMap<number, readonly [string, string]> | undefined;
  /**
   * joblib: an array written into the file right after the BUILD of its wrapper at `offset`.
   * `objects` means a whole pickle follows (object arrays); scans it and returns its end.
   */
  scanInlinePickle(data: Uint8Array, start: number): number;
  /**
   * joblib: the same bytes read by plain `pickle.load`, which takes the array bytes for opcodes.
   * Runs `continuation` reporting only what is not safe; its errors end it quietly.
   */
  readAsPlainPickle(bytes: number, continuation: () => void): void;
}

/** The end of a pickle and the value its STOP returned. */
export interface MachineRun {
  readonly end: number;
  readonly value: Value;
  /** Whether the pickle held joblib array wrappers (its arrays follow their BUILDs). */
  readonly joblib: boolean;
}

const JOBLIB_WRAPPERS = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);

/** State keys that turn a BUILD into a way to run code (or swap the object's class). */
const HIJACKING_STATE_KEYS = new Set(['__setstate__', '__class__', '__reduce__', '__reduce_ex__']);

export class PickleMachine {
  private stack: Value[] = [];
  /** Stack lengths at each open MARK (the C unpickler's fences). */
  private marks: number[] = [];
  private readonly memo = new Map<string, Value>();
  private pos = 0;
  private opName: OpName = 'PROTO';
  private joblib = false;
  /** Reading as plain `pickle.load` does: joblib's arrays are not skipped. */
  private plain = false;

  constructor(
    private readonly host: MachineHost,
    private readonly data: Uint8Array,
  ) {}

  /** A copy of this machine's state that reads as plain `pickle.load` (no joblib arrays). */
  private fork(): PickleMachine {
    const copy = new PickleMachine(this.host, this.data);
    copy.stack = this.stack.slice();
    copy.marks = this.marks.slice();
    for (const [k, v] of this.memo) copy.memo.set(k, v);
    copy.plain = true;
    return copy;
  }

  /** Runs the pickle starting at `start` through its STOP. */
  run(start: number): MachineRun {
    let at = start;
    for (;;) {
      let resume: number | undefined;
      for (const { opcode, arg, pos } of genops(this.data, at)) {
        this.pos = pos;
        this.opName = opcode.name;
        if (opcode.code === OP.STOP) {
          return { end: pos + 1, value: this.pop(), joblib: this.joblib };
        }
        resume = this.step(opcode.name, arg, pos);
        if (resume !== undefined) break;
      }
      if (resume === undefined) break;
      at = resume;
    }
    /* c8 ignore next */
    throw this.error(ErrorCode.TRUNCATED, 'pickle exhausted before seeing STOP');
  }

  private error(code: ErrorCode, message: string): UnpicklingError {
    return new UnpicklingError(code, message, { offset: this.pos, opcode: this.opName });
  }

  private report(
    kind: FindingKind,
    module: string,
    name: string,
    severity: Severity,
    reason: string,
  ): void {
    this.host.report({
      offset: this.pos,
      opcode: this.opName,
      kind,
      module,
      name,
      severity,
      reason,
    });
  }

  // --- the stack ---------------------------------------------------------------------------

  private get fence(): number {
    return this.marks.length === 0 ? 0 : this.marks[this.marks.length - 1]!;
  }

  private push(v: Value): void {
    this.stack.push(v);
  }

  private pop(): Value {
    if (this.stack.length <= this.fence)
      throw this.error(ErrorCode.STACK_UNDERFLOW, 'unpickling stack underflow');
    return this.stack.pop()!;
  }

  private top(): Value {
    if (this.stack.length <= this.fence)
      throw this.error(ErrorCode.STACK_UNDERFLOW, 'unpickling stack underflow');
    return this.stack[this.stack.length - 1]!;
  }

  private popMark(): Value[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.error(ErrorCode.NO_MARK, 'could not find MARK');
    return this.stack.splice(mark);
  }

  /** A value goes into a container, an argument list or a state: evaluated globals escape. */
  private hold(v: Value): Value {
    if (v.kind === 'global' && v.evaluated) {
      this.report(
        'import',
        v.module,
        v.name,
        'dangerous',
        `${v.module}.${v.name} is passed around as a value, not called: whatever calls it later, the scanner cannot follow`,
      );
    }
    return v;
  }

  private holdAll(vs: Value[]): Value[] {
    for (const v of vs) this.hold(v);
    return vs;
  }

  // --- names -------------------------------------------------------------------------------

  /** The module and name lines of GLOBAL and INST, decoded as Python 3 does (UTF-8). */
  private namePair(pos: number): [string, string] {
    const d = this.data;
    let i = pos + 1;
    const lines: string[] = [];
    for (let n = 0; n < 2; n++) {
      const nl = d.indexOf(0x0a, i);
      lines.push(decodeName(d, i, nl));
      i = nl + 1;
    }
    return [lines[0]!, lines[1]!];
  }

  private importGlobal(module: string, name: string, how: string): GlobalValue {
    const policy = this.host.policy;
    const evaluated = policy.isEvaluated(module, name);
    const j = policy.judge(module, name);
    const severity = evaluated ? 'safe' : j.severity;
    const reason = evaluated
      ? `${how === 'INST' ? 'called by INST' : 'looked up'}; each call of it is judged by what it reaches`
      : j.reason;
    this.report('import', module, name, severity, reason);
    return { kind: 'global', module, name, severity, offset: this.pos, evaluated };
  }

  // --- calls -------------------------------------------------------------------------------

  private call(callee: Value, args: readonly Value[] | undefined, how: CallHow): Value {
    const { judgement, module, name, result } = judgeCall(this.host, {
      callee,
      args,
      offset: this.pos,
      how,
    });
    this.report('call', module, name, judgement.severity, judgement.reason);
    return result;
  }

  private build(inst: Value, state: Value): void {
    this.hold(state);
    if (inst.kind === 'global' || inst.kind === 'module') {
      this.report(
        'build',
        inst.kind === 'global' ? inst.module : inst.module,
        inst.kind === 'global' ? inst.name : '',
        'dangerous',
        `BUILD on ${describe(inst)} itself sets attributes of a class or module for the whole process`,
      );
      return;
    }
    const keys = stateKeys(state);
    const hijack = keys.find((k) => HIJACKING_STATE_KEYS.has(k) || DANGEROUS_ATTRIBUTES.has(k));
    const cls = inst.kind === 'object' ? inst.callee : undefined;
    const module = cls?.kind === 'global' ? cls.module : '';
    const name = cls?.kind === 'global' ? cls.name : describe(cls ?? inst);
    if (hijack !== undefined) {
      this.report(
        'build',
        module,
        name,
        'dangerous',
        `BUILD sets ${hijack} on the object: a later BUILD or use of it calls what the pickle chose`,
      );
    } else if (inst.kind === 'object') {
      const severity = inst.severity;
      this.report(
        'build',
        module,
        name,
        severity,
        severity === 'safe'
          ? `${name}.__setstate__ (or attribute update) of an allowlisted class`
          : `${name}.__setstate__ (or attribute update) of an object from an untrusted call`,
      );
    }
    if (inst.kind === 'object') inst.state = state;
  }

  /** joblib: after the BUILD of an array wrapper, the array's bytes follow in the file. */
  private afterBuild(inst: Value, pos: number): number | undefined {
    if (inst.kind !== 'object' || inst.callee.kind !== 'global') return undefined;
    if (this.plain) return undefined;
    if (!JOBLIB_WRAPPERS.has(`${inst.callee.module}.${inst.callee.name}`)) return undefined;
    this.joblib = true;
    // Plain pickle.load would read on from here through the array's bytes as opcodes: an
    // attacker's bytes that joblib skips would run there. Follow that reading too.
    const plain = this.fork();
    this.host.readAsPlainPickle(this.data.length - pos, () => plain.run(pos + 1));
    const end = pos + 1;
    const dtype = dictGet(inst.state, 'dtype');
    const info = dtypeInfo(dtype);
    if (info === undefined) {
      throw this.error(
        ErrorCode.BAD_OPERAND,
        'a joblib array wrapper without a dtype the scanner can read',
      );
    }
    // The wrapper is replaced by the array on the stack.
    this.pop();
    this.push({ kind: 'opaque', what: 'joblib array', severity: 'safe' });
    if (info.hasObject) return this.host.scanInlinePickle(this.data, end);
    const shape = itemsOf(dictGet(inst.state, 'shape')) ?? [];
    let count = 1n;
    for (const dim of shape) {
      if (
        dim.kind !== 'const' ||
        (typeof dim.value !== 'number' && typeof dim.value !== 'bigint')
      ) {
        throw this.error(ErrorCode.BAD_OPERAND, 'a joblib array wrapper with a bad shape');
      }
      count *= BigInt(dim.value);
    }
    let at = end;
    const alignment = dictGet(inst.state, 'numpy_array_alignment_bytes');
    if (alignment !== undefined && !(alignment.kind === 'const' && alignment.py === 'none')) {
      if (at >= this.data.length)
        throw this.error(ErrorCode.TRUNCATED, 'joblib array padding missing');
      at += 1 + this.data[at]!;
    }
    const size = count * BigInt(info.itemSize);
    if (BigInt(at) + size > BigInt(this.data.length)) {
      throw this.error(
        ErrorCode.TRUNCATED,
        `joblib array of ${size} bytes runs past the end of the file`,
      );
    }
    return at + Number(size);
  }

  // --- opcodes -----------------------------------------------------------------------------

  /** Runs one opcode; returns where to go on when the bytes after it are not opcodes. */
  private step(name: OpName, arg: ArgValue | undefined, pos: number): number | undefined {
    switch (name) {
      case 'INT':
        this.push(typeof arg === 'boolean' ? constant('bool', arg) : constant('int', arg!));
        return;
      case 'BININT':
      case 'BININT1':
      case 'BININT2':
      case 'LONG':
      case 'LONG1':
      case 'LONG4':
        this.push(constant('int', arg!));
        return;
      case 'FLOAT':
      case 'BINFLOAT':
        this.push(constant('float', arg!));
        return;
      case 'STRING':
      case 'BINSTRING':
      case 'SHORT_BINSTRING':
        this.push(constant('str8', arg!));
        return;
      case 'UNICODE':
      case 'SHORT_BINUNICODE':
      case 'BINUNICODE':
      case 'BINUNICODE8':
        this.push(constant('str', arg!));
        return;
      case 'BINBYTES':
      case 'SHORT_BINBYTES':
      case 'BINBYTES8':
        this.push(constant('bytes', arg!));
        return;
      case 'BYTEARRAY8':
        this.push(constant('bytearray', arg!));
        return;
      case 'NEXT_BUFFER':
        this.push({ kind: 'opaque', what: 'out-of-band buffer', severity: 'safe' });
        return;
      case 'READONLY_BUFFER':
        this.top();
        return;
      case 'NONE':
        this.push(NONE);
        return;
      case 'NEWTRUE':
      case 'NEWFALSE':
        this.push(constant('bool', name === 'NEWTRUE'));
        return;
      case 'EMPTY_LIST':
        this.push({ kind: 'list', items: [] });
        return;
      case 'EMPTY_TUPLE':
        this.push({ kind: 'tuple', items: [] });
        return;
      case 'EMPTY_DICT':
        this.push({ kind: 'dict', entries: [] });
        return;
      case 'EMPTY_SET':
        this.push({ kind: 'set', items: [] });
        return;
      case 'APPEND': {
        const v = this.hold(this.pop());
        appendTo(this.top(), [v]);
        return;
      }
      case 'APPENDS': {
        const items = this.holdAll(this.popMark());
        appendTo(this.top(), items);
        return;
      }
      case 'ADDITEMS': {
        const items = this.holdAll(this.popMark());
        appendTo(this.top(), items);
        return;
      }
      case 'SETITEM': {
        const v = this.hold(this.pop());
        const k = this.hold(this.pop());
        setItems(this.top(), [k, v]);
        return;
      }
      case 'SETITEMS': {
        const items = this.holdAll(this.popMark());
        if (items.length % 2 !== 0)
          throw this.error(ErrorCode.BAD_STACK, 'odd number of items for SETITEMS');
        setItems(this.top(), items);
        return;
      }
      case 'LIST':
        this.push({ kind: 'list', items: this.holdAll(this.popMark()) });
        return;
      case 'TUPLE':
        this.push({ kind: 'tuple', items: this.holdAll(this.popMark()) });
        return;
      case 'FROZENSET':
        this.push({ kind: 'frozenset', items: this.holdAll(this.popMark()) });
        return;
      case 'DICT': {
        const items = this.holdAll(this.popMark());
        if (items.length % 2 !== 0)
          throw this.error(ErrorCode.BAD_STACK, 'odd number of items for DICT');
        const dict: DictValue = { kind: 'dict', entries: [] };
        setItems(dict, items);
        this.push(dict);
        return;
      }
      case 'TUPLE1':
      case 'TUPLE2':
      case 'TUPLE3': {
        const n = name === 'TUPLE1' ? 1 : name === 'TUPLE2' ? 2 : 3;
        const items: Value[] = [];
        for (let i = 0; i < n; i++) items.unshift(this.hold(this.pop()));
        this.push({ kind: 'tuple', items });
        return;
      }
      case 'POP':
        // CPython pops a MARK when the stack above it is empty.
        if (this.stack.length > this.fence) this.stack.pop();
        else if (this.marks.length > 0) this.marks.pop();
        else throw this.error(ErrorCode.STACK_UNDERFLOW, 'unpickling stack underflow');
        return;
      case 'POP_MARK':
        this.popMark();
        return;
      case 'DUP':
        this.push(this.top());
        return;
      case 'MARK':
        this.marks.push(this.stack.length);
        return;
      case 'GET':
      case 'BINGET':
      case 'LONG_BINGET': {
        const v = this.memo.get(String(arg));
        if (v === undefined)
          throw this.error(
            ErrorCode.MEMO_MISSING,
            `memo key ${String(arg)} has never been stored into`,
          );
        this.push(v);
        return;
      }
      case 'PUT':
      case 'BINPUT':
      case 'LONG_BINPUT':
        if (typeof arg !== 'number' && typeof arg !== 'bigint')
          throw this.error(ErrorCode.BAD_ARGUMENT, 'bad memo key');
        if (arg < 0) throw this.error(ErrorCode.BAD_ARGUMENT, 'negative PUT argument');
        this.memo.set(String(arg), this.top());
        return;
      case 'MEMOIZE':
        this.memo.set(String(this.memo.size), this.top());
        return;
      case 'GLOBAL': {
        const [module, qualname] = this.namePair(pos);
        this.push(this.importGlobal(module, qualname, 'GLOBAL'));
        return;
      }
      case 'STACK_GLOBAL': {
        const nameValue = this.pop();
        const moduleValue = this.pop();
        const module = stringOf(moduleValue);
        const qualname = stringOf(nameValue);
        if (module !== undefined && qualname !== undefined) {
          this.push(this.importGlobal(module, qualname, 'STACK_GLOBAL'));
        } else if (moduleValue.kind === 'const' && nameValue.kind === 'const') {
          throw this.error(ErrorCode.BAD_OPERAND, 'STACK_GLOBAL requires str');
        } else {
          this.report(
            'stack-global',
            '',
            `${describe(moduleValue)}.${describe(nameValue)}`,
            'dangerous',
            'STACK_GLOBAL of names computed at load time: the scanner cannot tell what is imported',
          );
          this.push({ kind: 'opaque', what: 'computed global', severity: 'dangerous' });
        }
        return;
      }
      case 'INST': {
        const [module, qualname] = this.namePair(pos);
        const args = this.holdAll(this.popMark());
        const cls = this.importGlobal(module, qualname, 'INST');
        this.push(this.call(cls, args, 'INST'));
        return;
      }
      case 'OBJ': {
        const items = this.holdAll(this.popMark());
        const cls = items.shift();
        if (cls === undefined) throw this.error(ErrorCode.STACK_UNDERFLOW, 'OBJ without a class');
        this.push(this.call(cls, items, 'OBJ'));
        return;
      }
      case 'REDUCE': {
        const args = this.pop();
        const callee = this.pop();
        this.push(this.call(callee, args.kind === 'tuple' ? args.items : undefined, 'REDUCE'));
        return;
      }
      case 'NEWOBJ': {
        const args = this.pop();
        const cls = this.pop();
        this.push(this.call(cls, args.kind === 'tuple' ? args.items : undefined, 'NEWOBJ'));
        return;
      }
      case 'NEWOBJ_EX': {
        this.hold(this.pop());
        const args = this.pop();
        const cls = this.pop();
        this.push(this.call(cls, args.kind === 'tuple' ? args.items : undefined, 'NEWOBJ_EX'));
        return;
      }
      case 'BUILD': {
        const state = this.pop();
        const inst = this.top();
        this.build(inst, state);
        return this.afterBuild(inst, pos);
      }
      case 'EXT1':
      case 'EXT2':
      case 'EXT4': {
        const code = Number(arg);
        const named = this.host.extensions?.get(code);
        if (named !== undefined) {
          const [module, qualname] = named;
          const g = this.importGlobal(module, qualname, `${name} ${code}`);
          this.report(
            'extension',
            module,
            qualname,
            g.severity,
            `extension code ${code} names ${module}.${qualname}`,
          );
          this.push(g);
        } else {
          this.report(
            'extension',
            '',
            `<extension ${code}>`,
            'suspicious',
            `extension code ${code} names whatever global the loading process registered with copyreg.add_extension (CPython registers none: without one, loading fails)`,
          );
          this.push({
            kind: 'global',
            module: '',
            name: `<extension ${code}>`,
            severity: 'suspicious',
            offset: pos,
            evaluated: false,
          });
        }
        return;
      }
      case 'PERSID':
      case 'BINPERSID': {
        const pid = name === 'PERSID' ? constant('str', arg!) : this.hold(this.pop());
        this.report(
          'persistent-id',
          '',
          describe(pid),
          'safe',
          "a persistent ID: plain pickle.load refuses it; the loader's persistent_load decides what it is (torch.load: a tensor storage)",
        );
        this.push({ kind: 'opaque', what: `persistent ${describe(pid)}`, severity: 'safe' });
        return;
      }
      case 'PROTO':
        if (typeof arg !== 'number' || arg > 5)
          throw this.error(
            ErrorCode.UNSUPPORTED_PROTOCOL,
            `unsupported pickle protocol: ${String(arg)}`,
          );
        return;
      case 'FRAME':
        return;
      case 'STOP':
        return;
    }
  }
}

function constant(py: ConstValue['py'], value: ArgValue | boolean): ConstValue {
  return { kind: 'const', py, value };
}

function decodeName(d: Uint8Array, start: number, end: number): string {
  try {
    return decodeUtf8(d, start, end);
  } catch {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(d[i]!);
    return s;
  }
}

function appendTo(target: Value, items: Value[]): void {
  if (target.kind === 'list' || target.kind === 'set') {
    for (const item of items) target.items.push(item);
  } else if (target.kind === 'object') {
    for (const item of items) target.items.push(item);
  }
  // Anything else: Python calls its append/extend/add, or fails; the class was judged already.
}

function setItems(target: Value, items: Value[]): void {
  if (target.kind === 'dict') {
    for (let i = 0; i + 1 < items.length; i += 2) target.entries.push([items[i]!, items[i + 1]!]);
  } else if (target.kind === 'object') {
    for (const item of items) target.items.push(item);
  }
}

/** The attribute names a BUILD state sets (a dict, or a `(dict, slots)` pair). */
function stateKeys(state: Value): string[] {
  const dicts = state.kind === 'tuple' && state.items.length === 2 ? state.items : [state];
  const keys: string[] = [];
  for (const d of dicts) {
    if (d?.kind !== 'dict') continue;
    for (const [k] of d.entries) {
      const s = stringOf(k);
      if (s !== undefined) keys.push(s);
    }
  }
  return keys;
}

/** Item size and whether it holds objects, from a pickled `numpy.dtype(...)` and its state. */
function dtypeInfo(dtype: Value | undefined): { itemSize: number; hasObject: boolean } | undefined {
  if (dtype?.kind !== 'object') return undefined;
  const code = stringOf(dtype.args?.[0]);
  if (code === undefined) return undefined;
  const state = itemsOf(dtype.state);
  const elsize = state?.[5];
  const flags = state?.[7];
  const hasObject =
    code.startsWith('O') ||
    (flags?.kind === 'const' && typeof flags.value === 'number' && (flags.value & 1) === 1);
  if (elsize?.kind === 'const' && typeof elsize.value === 'number' && elsize.value > 0) {
    return { itemSize: elsize.value, hasObject };
  }
  const digits = /(\d+)$/.exec(code);
  if (digits === null) return hasObject ? { itemSize: 8, hasObject } : undefined;
  return { itemSize: Number(digits[1]), hasObject };
}

export type { ObjectValue };
