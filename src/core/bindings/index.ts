/**
 * The built-in registry: bindings for the data-only globals and types pickle-ts understands out
 * of the box. Exactly these names resolve to something other than an inert `PyGlobal` by default:
 *
 * - `builtins`: `set`, `frozenset`, `bytes`, `bytearray`, `complex`, `slice`, `range`, and
 *   `getattr` (nested class names only); `_codecs.encode` (bytes before protocol 3);
 * - `copyreg`: `_reconstructor`, `__newobj__`, `__newobj_ex__` (they build registered classes);
 * - `datetime`: `date`, `time`, `datetime`, `timedelta`, `timezone`; `zoneinfo.ZoneInfo`;
 * - `decimal.Decimal`, `fractions.Fraction`, `uuid.UUID`, `functools.partial` (held as data);
 * - `collections`: `OrderedDict`, `defaultdict`, `deque`, `Counter`.
 *
 * None of them runs code from the pickle: they only build values.
 */
import { Registry } from '../registry.js';
import { addBuiltinBindings } from './builtins.js';
import { addDatetimeBindings } from './datetime.js';
import { addStdlibBindings } from './stdlib.js';

function makeBuiltinRegistry(): Registry {
  const r = new Registry();
  addBuiltinBindings(r);
  addDatetimeBindings(r);
  addStdlibBindings(r);
  return r.seal();
}

/** The built-in bindings, consulted after any registry you pass. Sealed. */
export const builtinRegistry: Registry = makeBuiltinRegistry();
