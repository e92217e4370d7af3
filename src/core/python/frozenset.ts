/**
 * Python's `frozenset`: a `Set` subclass, so `has`, iteration and spreading work as usual, while
 * `instanceof FrozenSet` tells the pickler to write a frozenset. Treat it as immutable.
 */
export class FrozenSet<T = unknown> extends Set<T> {}
