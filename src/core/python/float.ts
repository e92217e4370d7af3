/**
 * A number that pickles as a Python float even when it is integral: `dumps(new PyFloat(3))`
 * writes `3.0`. (Default-mode `dumps` writes an integral number as an int; exact mode writes
 * every number as a float.) `loads` never returns one.
 */
export class PyFloat {
  constructor(readonly value: number) {}

  valueOf(): number {
    return this.value;
  }
}
