/**
 * The opcode table: the single source of truth about pickle's 68 opcodes. The unpickler's
 * dispatch, the pickler's opcode bytes, `genops`/`dis` and the scanner are all driven by it.
 * Mirrors CPython's `pickletools.opcodes` (a test holds the two against each other).
 */
import {
  type ArgumentDescriptor,
  bytearray8,
  bytes1,
  bytes4,
  bytes8,
  decimalnl_long,
  decimalnl_short,
  float8,
  floatnl,
  int4,
  long1,
  long4,
  string1,
  string4,
  stringnl,
  stringnl_noescape,
  stringnl_noescape_pair,
  uint1,
  uint2,
  uint4,
  uint8,
  unicodestring1,
  unicodestring4,
  unicodestring8,
  unicodestringnl,
} from './args.js';

/** The kinds of stack entries, named as pickletools names its `StackObject`s. */
export type StackObject =
  | 'any'
  | 'int'
  | 'int_or_bool'
  | 'bool'
  | 'float'
  | 'str'
  | 'bytes'
  | 'bytes_or_str'
  | 'bytearray'
  | 'buffer'
  | 'None'
  | 'list'
  | 'tuple'
  | 'dict'
  | 'set'
  | 'frozenset'
  | 'mark'
  | 'stackslice';

export interface OpcodeInfo<Name extends string = string> {
  readonly name: Name;
  /** The opcode byte. */
  readonly code: number;
  /** Its inline argument, or `null` if it has none. */
  readonly arg: ArgumentDescriptor | null;
  readonly stackBefore: readonly StackObject[];
  readonly stackAfter: readonly StackObject[];
  /** The protocol that introduced it. */
  readonly proto: number;
  /** One line, the first line of pickletools' doc. */
  readonly doc: string;
}

function op<const Name extends string>(
  name: Name,
  code: number,
  arg: ArgumentDescriptor | null,
  stackBefore: readonly StackObject[],
  stackAfter: readonly StackObject[],
  proto: number,
  doc: string,
): OpcodeInfo<Name> {
  return { name, code, arg, stackBefore, stackAfter, proto, doc };
}

/** All 68 opcodes, in pickletools' order. */
export const OPCODES = [
  op('INT', 0x49, decimalnl_short, [], ['int_or_bool'], 0, 'Push an integer or bool.'),
  op('BININT', 0x4a, int4, [], ['int'], 1, 'Push a four-byte signed integer.'),
  op('BININT1', 0x4b, uint1, [], ['int'], 1, 'Push a one-byte unsigned integer.'),
  op('BININT2', 0x4d, uint2, [], ['int'], 1, 'Push a two-byte unsigned integer.'),
  op('LONG', 0x4c, decimalnl_long, [], ['int'], 0, 'Push a long integer.'),
  op('LONG1', 0x8a, long1, [], ['int'], 2, 'Long integer using one-byte length.'),
  op('LONG4', 0x8b, long4, [], ['int'], 2, 'Long integer using found-byte length.'),
  op('STRING', 0x53, stringnl, [], ['bytes_or_str'], 0, 'Push a Python string object.'),
  op('BINSTRING', 0x54, string4, [], ['bytes_or_str'], 1, 'Push a Python string object.'),
  op('SHORT_BINSTRING', 0x55, string1, [], ['bytes_or_str'], 1, 'Push a Python string object.'),
  op('BINBYTES', 0x42, bytes4, [], ['bytes'], 3, 'Push a Python bytes object.'),
  op('SHORT_BINBYTES', 0x43, bytes1, [], ['bytes'], 3, 'Push a Python bytes object.'),
  op('BINBYTES8', 0x8e, bytes8, [], ['bytes'], 4, 'Push a Python bytes object.'),
  op('BYTEARRAY8', 0x96, bytearray8, [], ['bytearray'], 5, 'Push a Python bytearray object.'),
  op('NEXT_BUFFER', 0x97, null, [], ['buffer'], 5, 'Push an out-of-band buffer object.'),
  op(
    'READONLY_BUFFER',
    0x98,
    null,
    ['buffer'],
    ['buffer'],
    5,
    'Make an out-of-band buffer object read-only.',
  ),
  op('NONE', 0x4e, null, [], ['None'], 0, 'Push None on the stack.'),
  op('NEWTRUE', 0x88, null, [], ['bool'], 2, 'Push True onto the stack.'),
  op('NEWFALSE', 0x89, null, [], ['bool'], 2, 'Push False onto the stack.'),
  op('UNICODE', 0x56, unicodestringnl, [], ['str'], 0, 'Push a Python Unicode string object.'),
  op(
    'SHORT_BINUNICODE',
    0x8c,
    unicodestring1,
    [],
    ['str'],
    4,
    'Push a Python Unicode string object.',
  ),
  op('BINUNICODE', 0x58, unicodestring4, [], ['str'], 1, 'Push a Python Unicode string object.'),
  op('BINUNICODE8', 0x8d, unicodestring8, [], ['str'], 4, 'Push a Python Unicode string object.'),
  op('FLOAT', 0x46, floatnl, [], ['float'], 0, 'Newline-terminated decimal float literal.'),
  op(
    'BINFLOAT',
    0x47,
    float8,
    [],
    ['float'],
    1,
    'Float stored in binary form, with 8 bytes of data.',
  ),
  op('EMPTY_LIST', 0x5d, null, [], ['list'], 1, 'Push an empty list.'),
  op('APPEND', 0x61, null, ['list', 'any'], ['list'], 0, 'Append an object to a list.'),
  op(
    'APPENDS',
    0x65,
    null,
    ['list', 'mark', 'stackslice'],
    ['list'],
    1,
    'Extend a list by a slice of stack objects.',
  ),
  op(
    'LIST',
    0x6c,
    null,
    ['mark', 'stackslice'],
    ['list'],
    0,
    'Build a list out of the topmost stack slice, after markobject.',
  ),
  op('EMPTY_TUPLE', 0x29, null, [], ['tuple'], 1, 'Push an empty tuple.'),
  op(
    'TUPLE',
    0x74,
    null,
    ['mark', 'stackslice'],
    ['tuple'],
    0,
    'Build a tuple out of the topmost stack slice, after markobject.',
  ),
  op(
    'TUPLE1',
    0x85,
    null,
    ['any'],
    ['tuple'],
    2,
    'Build a one-tuple out of the topmost item on the stack.',
  ),
  op(
    'TUPLE2',
    0x86,
    null,
    ['any', 'any'],
    ['tuple'],
    2,
    'Build a two-tuple out of the top two items on the stack.',
  ),
  op(
    'TUPLE3',
    0x87,
    null,
    ['any', 'any', 'any'],
    ['tuple'],
    2,
    'Build a three-tuple out of the top three items on the stack.',
  ),
  op('EMPTY_DICT', 0x7d, null, [], ['dict'], 1, 'Push an empty dict.'),
  op(
    'DICT',
    0x64,
    null,
    ['mark', 'stackslice'],
    ['dict'],
    0,
    'Build a dict out of the topmost stack slice, after markobject.',
  ),
  op(
    'SETITEM',
    0x73,
    null,
    ['dict', 'any', 'any'],
    ['dict'],
    0,
    'Add a key+value pair to an existing dict.',
  ),
  op(
    'SETITEMS',
    0x75,
    null,
    ['dict', 'mark', 'stackslice'],
    ['dict'],
    1,
    'Add an arbitrary number of key+value pairs to an existing dict.',
  ),
  op('EMPTY_SET', 0x8f, null, [], ['set'], 4, 'Push an empty set.'),
  op(
    'ADDITEMS',
    0x90,
    null,
    ['set', 'mark', 'stackslice'],
    ['set'],
    4,
    'Add an arbitrary number of items to an existing set.',
  ),
  op(
    'FROZENSET',
    0x91,
    null,
    ['mark', 'stackslice'],
    ['frozenset'],
    4,
    'Build a frozenset out of the topmost slice, after markobject.',
  ),
  op(
    'POP',
    0x30,
    null,
    ['any'],
    [],
    0,
    'Discard the top stack item, shrinking the stack by one item.',
  ),
  op(
    'DUP',
    0x32,
    null,
    ['any'],
    ['any', 'any'],
    0,
    'Push the top stack item onto the stack again, duplicating it.',
  ),
  op('MARK', 0x28, null, [], ['mark'], 0, 'Push markobject onto the stack.'),
  op(
    'POP_MARK',
    0x31,
    null,
    ['mark', 'stackslice'],
    [],
    1,
    'Pop all the stack objects at and above the topmost markobject.',
  ),
  op(
    'GET',
    0x67,
    decimalnl_short,
    [],
    ['any'],
    0,
    'Read an object from the memo and push it on the stack.',
  ),
  op(
    'BINGET',
    0x68,
    uint1,
    [],
    ['any'],
    1,
    'Read an object from the memo and push it on the stack.',
  ),
  op(
    'LONG_BINGET',
    0x6a,
    uint4,
    [],
    ['any'],
    1,
    'Read an object from the memo and push it on the stack.',
  ),
  op(
    'PUT',
    0x70,
    decimalnl_short,
    [],
    [],
    0,
    'Store the stack top into the memo.  The stack is not popped.',
  ),
  op(
    'BINPUT',
    0x71,
    uint1,
    [],
    [],
    1,
    'Store the stack top into the memo.  The stack is not popped.',
  ),
  op(
    'LONG_BINPUT',
    0x72,
    uint4,
    [],
    [],
    1,
    'Store the stack top into the memo.  The stack is not popped.',
  ),
  op(
    'MEMOIZE',
    0x94,
    null,
    ['any'],
    ['any'],
    4,
    'Store the stack top into the memo.  The stack is not popped.',
  ),
  op('EXT1', 0x82, uint1, [], ['any'], 2, 'Extension code.'),
  op('EXT2', 0x83, uint2, [], ['any'], 2, 'Extension code.'),
  op('EXT4', 0x84, int4, [], ['any'], 2, 'Extension code.'),
  op(
    'GLOBAL',
    0x63,
    stringnl_noescape_pair,
    [],
    ['any'],
    0,
    'Push a global object (module.attr) on the stack.',
  ),
  op(
    'STACK_GLOBAL',
    0x93,
    null,
    ['str', 'str'],
    ['any'],
    4,
    'Push a global object (module.attr) on the stack.',
  ),
  op(
    'REDUCE',
    0x52,
    null,
    ['any', 'any'],
    ['any'],
    0,
    'Push an object built from a callable and an argument tuple.',
  ),
  op(
    'BUILD',
    0x62,
    null,
    ['any', 'any'],
    ['any'],
    0,
    'Finish building an object, via __setstate__ or dict update.',
  ),
  op(
    'INST',
    0x69,
    stringnl_noescape_pair,
    ['mark', 'stackslice'],
    ['any'],
    0,
    'Build a class instance.',
  ),
  op('OBJ', 0x6f, null, ['mark', 'any', 'stackslice'], ['any'], 1, 'Build a class instance.'),
  op('NEWOBJ', 0x81, null, ['any', 'any'], ['any'], 2, 'Build an object instance.'),
  op('NEWOBJ_EX', 0x92, null, ['any', 'any', 'any'], ['any'], 4, 'Build an object instance.'),
  op('PROTO', 0x80, uint1, [], [], 2, 'Protocol version indicator.'),
  op('STOP', 0x2e, null, ['any'], [], 0, 'Stop the unpickling machine.'),
  op('FRAME', 0x95, uint8, [], [], 4, 'Indicate the beginning of a new frame.'),
  op(
    'PERSID',
    0x50,
    stringnl_noescape,
    [],
    ['any'],
    0,
    'Push an object identified by a persistent ID.',
  ),
  op('BINPERSID', 0x51, null, ['any'], ['any'], 1, 'Push an object identified by a persistent ID.'),
] as const;

export type OpName = (typeof OPCODES)[number]['name'];

/** Opcode bytes by name: `OP.MARK === 0x28`. */
export const OP = Object.freeze(
  Object.fromEntries(OPCODES.map((o) => [o.name, o.code])) as Record<OpName, number>,
);

/** Opcode info by name. */
export const OPCODE_BY_NAME = Object.freeze(
  Object.fromEntries(OPCODES.map((o) => [o.name, o])) as { [K in OpName]: OpcodeInfo<K> },
);

/** Opcode info by byte; `undefined` for bytes that are not opcodes. */
export const OPCODE_BY_CODE: ReadonlyArray<OpcodeInfo<OpName> | undefined> = (() => {
  const table = new Array<OpcodeInfo<OpName> | undefined>(256).fill(undefined);
  for (const o of OPCODES) table[o.code] = o;
  return table;
})();

/** The opcode name for a byte, if it is one. */
export function opcodeName(code: number | undefined): OpName | undefined {
  return code === undefined ? undefined : OPCODE_BY_CODE[code]?.name;
}

/** The highest protocol this implementation reads and writes. */
export const HIGHEST_PROTOCOL = 5;
/** The protocol `dumps` uses by default: 4, as CPython 3.8 to 3.13. */
export const DEFAULT_PROTOCOL = 4;
