import { pyFloatRepr } from '../text.js';

/** Python's `complex`: two floats. */
export class Complex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}

  /** `abs(z)` */
  abs(): number {
    return Math.hypot(this.re, this.im);
  }

  /** The real part, if the imaginary part is zero (else throws, as Python's `float(z)` does). */
  toNumber(): number {
    if (this.im !== 0) throw new TypeError(`cannot convert complex ${this.toString()} to a number`);
    return this.re;
  }

  /** As Python prints it: `(1+2j)`, `3j`. */
  toString(): string {
    const im = `${numberText(this.im)}j`;
    if (this.re === 0 && !Object.is(this.re, -0)) return im;
    const sign = this.im < 0 || Object.is(this.im, -0) ? '' : '+';
    return `(${numberText(this.re)}${sign}${im})`;
  }
}

/** A part as `repr(complex)` writes it: the float's repr without a trailing `.0`. */
function numberText(x: number): string {
  const r = pyFloatRepr(x);
  return r.endsWith('.0') ? r.slice(0, -2) : r;
}
