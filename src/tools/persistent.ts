/**
 * A persistent ID met while loading without a `persistentLoad` of one's own: what `show` and
 * the tagged JSON keep in place of the object the ID stands for, so that nothing is lost.
 */
import { reprSymbol } from '../core/python/repr.js';

export class PersistentId {
  /** The ID exactly as the pickle gave it (a string for PERSID, any value for BINPERSID). */
  readonly pid: unknown;

  constructor(pid: unknown) {
    this.pid = pid;
  }

  [reprSymbol](repr: (value: unknown) => string): string {
    return `<persistent id ${repr(this.pid)}>`;
  }
}

/**
 * Options for `loads`/`dumps` that turn persistent IDs into `PersistentId` values and back.
 *
 * @example
 * ```ts
 * const value = loads(bytes, keepPersistentIds); // a PersistentId where the pickle had one
 * dumps(value, keepPersistentIds);                // writes the same persistent IDs back
 * ```
 */
export const keepPersistentIds = {
  persistentLoad: (pid: unknown): unknown => new PersistentId(pid),
  persistentId: (value: unknown): unknown =>
    value instanceof PersistentId ? value.pid : undefined,
};
