/**
 * pickle-ts: Python's pickle for TypeScript and JavaScript. Browser-safe core.
 *
 * @example
 * ```ts
 * import { dumps, loads } from 'pickle-ts';
 * const bytes = dumps({ name: 'Rex', tags: ['good', 'dog'] });
 * loads(bytes); // { name: 'Rex', tags: ['good', 'dog'] }
 * ```
 */
export {
  dumps,
  Pickler,
  type PicklerOptions,
  type ReduceValue,
  type Reducer,
} from './core/pickler.js';
export {
  loads,
  loadAll,
  Unpickler,
  StreamUnpickler,
  type ChunkSource,
  type UnpicklerOptions,
  type StreamUnpicklerOptions,
  type BytesLike,
} from './core/unpickler.js';
export { DEFAULT_LIMITS, type UnpicklerLimits, type LimitOptions } from './core/limits.js';
export {
  PickleError,
  PicklingError,
  UnpicklingError,
  ErrorCode,
  type PickleErrorDetails,
} from './core/errors.js';
export {
  Registry,
  ExtensionRegistry,
  type ClassBinding,
  type Constructor,
} from './core/registry.js';
export { builtinRegistry } from './core/bindings/index.js';
export { allowlist, type GlobalName } from './core/allowlist.js';
export { type ClassOptions, NEWARGS, SLOTS, STATE, STATE_SETTER } from './core/bindings/classes.js';
export {
  OPCODES,
  OP,
  OPCODE_BY_NAME,
  OPCODE_BY_CODE,
  HIGHEST_PROTOCOL,
  DEFAULT_PROTOCOL,
  opcodeName,
  type OpName,
  type OpcodeInfo,
  type StackObject,
} from './core/opcodes.js';
export type { ArgumentDescriptor, ArgValue } from './core/args.js';
export {
  Tuple,
  tuple,
  toTuple,
  FrozenSet,
  ByteArray,
  PickleBuffer,
  Complex,
  PyGlobal,
  PyObject,
  type PyObjectKind,
  type GlobalBehavior,
  isDictObject,
  isArrayIndexKey,
  dictToMap,
  pyRepr,
  pyStr,
  reprSymbol,
  PyFloat,
  PyDate,
  PyTime,
  PyDateTime,
  PyTimeDelta,
  PyTimezone,
  ZoneInfo,
  type PyTzInfo,
  Decimal,
  Fraction,
  OrderedDict,
  DefaultDict,
  Deque,
  Counter,
  NamedTuple,
  Slice,
  Range,
  Partial,
  UUID,
  EnumMember,
} from './core/python/index.js';
