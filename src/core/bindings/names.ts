/** The Python globals pickle-ts itself writes, as inert `PyGlobal`s. */
import { PyGlobal } from '../python/object.js';

const g = (module: string, name: string) => new PyGlobal(module, name);

export const COPYREG_NEWOBJ = g('copyreg', '__newobj__');
export const COPYREG_NEWOBJ_EX = g('copyreg', '__newobj_ex__');
export const COPYREG_RECONSTRUCTOR = g('copyreg', '_reconstructor');
export const BUILTINS_OBJECT = g('builtins', 'object');
export const BUILTINS_TUPLE = g('builtins', 'tuple');
export const BUILTINS_LIST = g('builtins', 'list');
export const BUILTINS_DICT = g('builtins', 'dict');
export const BUILTINS_BYTES = g('builtins', 'bytes');
export const BUILTINS_BYTEARRAY = g('builtins', 'bytearray');
export const BUILTINS_SET = g('builtins', 'set');
export const BUILTINS_FROZENSET = g('builtins', 'frozenset');
export const BUILTINS_COMPLEX = g('builtins', 'complex');
export const BUILTINS_GETATTR = g('builtins', 'getattr');
export const BUILTINS_SLICE = g('builtins', 'slice');
export const BUILTINS_RANGE = g('builtins', 'range');
export const CODECS_ENCODE = g('_codecs', 'encode');
