/**
 * IEEE 754 half precision (numpy's `float16`). JS has no Float16Array before Node 24, so float16
 * data is held raw, as a `Uint16Array` of bit patterns, and converted one value at a time.
 */

/**
 * The number a float16 bit pattern stands for (exact: every float16 is a float64).
 *
 * @example
 * ```ts
 * float16ToNumber(0x3c00); // 1
 * float16ToNumber(0x7e00); // NaN
 * ```
 */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * The float16 bit pattern nearest to `value`, rounding half to even as numpy does (overflow gives
 * infinity; NaN keeps a quiet NaN pattern).
 *
 * @example
 * ```ts
 * numberToFloat16(1.5); // 0x3e00
 * ```
 */
export function numberToFloat16(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  let a = Math.abs(value);
  if (a === Infinity) return sign | 0x7c00;
  // Rounded from the float64 value directly (through float32 would round twice).
  if (a >= 65520) return sign | 0x7c00; // at or past the midpoint above the largest float16
  if (a < 2 ** -14) {
    // Subnormal: a multiple of 2**-24, rounded half to even.
    const q = a / 2 ** -24;
    return sign | roundHalfEven(q);
  }
  let exponent = Math.floor(Math.log2(a));
  // log2 can be off by one near powers of two.
  if (2 ** exponent > a) exponent--;
  else if (2 ** (exponent + 1) <= a) exponent++;
  a = a / 2 ** exponent - 1; // in [0, 1)
  let fraction = roundHalfEven(a * 1024);
  if (fraction === 1024) {
    fraction = 0;
    exponent++;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | fraction;
}

function roundHalfEven(q: number): number {
  const floor = Math.floor(q);
  const diff = q - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
