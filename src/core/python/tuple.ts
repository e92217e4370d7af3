/**
 * Python's `tuple`: an `Array` subclass, so it indexes, iterates and `JSON.stringify`s like an
 * array, while `instanceof Tuple` tells the pickler to write a tuple. Treat it as immutable.
 *
 * @example
 * ```ts
 * const t = tuple(1, 'a');          // Tuple(2) [1, 'a']
 * dumps(t);                          // pickles as the Python tuple (1, 'a')
 * ```
 */
export class Tuple<T = unknown> extends Array<T> {
  // map/filter/slice on a tuple give plain arrays, as they would in Python (they are new lists).
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
}

/** Builds a `Tuple` from its items. (`new Tuple(3)` would make three holes, as `Array(3)` does.) */
export function tuple<T>(...items: T[]): Tuple<T> {
  const t = new Tuple<T>();
  for (let i = 0; i < items.length; i++) t[i] = items[i]!;
  return t;
}

/** Builds a `Tuple` from any iterable. */
export function toTuple<T>(items: Iterable<T>): Tuple<T> {
  const t = new Tuple<T>();
  let i = 0;
  for (const item of items) t[i++] = item;
  return t;
}
