/**
 * Python's `range`: the integers from `start` up to (not including) `stop`, by `step`, as a
 * lazy iterable with a `length`, so that `pool.map(f, range(10))` reads as in Python.
 *
 * @example
 * ```ts
 * [...range(3)];        // [0, 1, 2]
 * [...range(1, 10, 3)]; // [1, 4, 7]
 * range(10).length;     // 10
 * ```
 */
export function range(stop: number): Range;
export function range(start: number, stop: number, step?: number): Range;
export function range(a: number, b?: number, step = 1): Range {
  return b === undefined ? new Range(0, a, 1) : new Range(a, b, step);
}

export class Range implements Iterable<number> {
  readonly length: number;

  constructor(
    readonly start: number,
    readonly stop: number,
    readonly step: number,
  ) {
    for (const [name, v] of [
      ['start', start],
      ['stop', stop],
      ['step', step],
    ] as const) {
      if (!Number.isSafeInteger(v))
        throw new TypeError(`range ${name} must be an integer, not ${v}`);
    }
    if (step === 0) throw new RangeError('range() step must not be zero');
    this.length = Math.max(0, Math.ceil((stop - start) / step));
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.length; i++) yield this.start + i * this.step;
  }
}
