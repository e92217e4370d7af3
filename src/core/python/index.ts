export { Tuple, tuple, toTuple } from './tuple.js';
export { FrozenSet } from './frozenset.js';
export { ByteArray, PickleBuffer } from './bytes.js';
export { Complex } from './complex.js';
export { PyGlobal, PyObject, type PyObjectKind, type GlobalBehavior } from './object.js';
export { isDictObject, isArrayIndexKey, dictToMap } from './dict.js';
export { pyRepr, pyStr, reprStr, reprBytes, reprNumber, reprSymbol } from './repr.js';
export { PyFloat } from './float.js';
export {
  PyDate,
  PyTime,
  PyDateTime,
  PyTimeDelta,
  PyTimezone,
  ZoneInfo,
  type PyTzInfo,
} from './datetime.js';
export { Decimal, Fraction } from './numbers.js';
export { OrderedDict, DefaultDict, Deque, Counter, NamedTuple } from './collections.js';
export { Slice, Range, Partial, UUID, EnumMember } from './builtins.js';
