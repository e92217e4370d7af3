/** Loading the pickles of an input for `show` and `convert`. */
import { Unpickler } from '../index.js';
import { keepPersistentIds } from '../tools/persistent.js';
import { losslessLoadOptions } from '../tools/lossless.js';

export interface LoadOptions {
  /**
   * For a lossless conversion: only data-only globals resolve, so every other class stays an
   * inert `PyObject` (see `losslessLoadOptions`). Otherwise the default registry, so that
   * values such as dates print as themselves.
   */
  readonly lossless: boolean;
  /** How Python 2 `str` decodes (as `pickle.load`'s `encoding`). Defaults to ASCII. */
  readonly encoding?: string | undefined;
}

/**
 * Each pickle in `data`, one after another (a file written by repeated `pickle.dump`), loaded
 * in exact mode (ints are `bigint`s, floats `number`s) with persistent IDs kept as
 * `PersistentId`s, by one unpickler (one memo). Yields `[offset, value]`.
 */
export function* loadPickles(
  data: Uint8Array,
  options: LoadOptions,
): Generator<readonly [number, unknown], void, undefined> {
  const unpickler = new Unpickler(data, {
    ...(options.lossless
      ? losslessLoadOptions
      : { exact: true, persistentLoad: keepPersistentIds.persistentLoad }),
    ...(options.encoding !== undefined ? { encoding: options.encoding } : {}),
  });
  do {
    const at = unpickler.position;
    yield [at, unpickler.load()];
  } while (!unpickler.atEnd);
}
