/**
 * Python dicts in JS. A dict whose keys are all strings becomes a plain object, the natural JS
 * value. Any other dict becomes a `Map`, which keeps every key type and Python's insertion order.
 * Two kinds of string keys also need a `Map`: array-index strings ('0', '42'), because a JS
 * object would move them to the front, and '__proto__', which a plain object cannot hold safely.
 */

/** Whether `value` is a plain object, the JS form of a dict with string keys. */
export function isDictObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Whether a JS object would reorder this key (a canonical array index, 0 to 2**32 - 2). */
export function isArrayIndexKey(key: string): boolean {
  const c = key.charCodeAt(0);
  if (!(c >= 0x30 && c <= 0x39)) return false;
  const n = Number(key);
  return n >>> 0 === n && n !== 0xffffffff && String(n) === key;
}

/** Whether a string key can live in a plain object without changing its meaning or order. */
export function isObjectKey(key: string): boolean {
  return key !== '__proto__' && !isArrayIndexKey(key);
}

/** The entries of a plain-object dict as a `Map`, in the same order. */
export function dictToMap(obj: Record<string, unknown>): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  for (const k of Object.keys(obj)) m.set(k, obj[k]);
  return m;
}
