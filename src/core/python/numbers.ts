/** Python's `decimal.Decimal` and `fractions.Fraction`, exact. */
import { reprSymbol } from './repr-symbol.js';

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan|snan)(\d*)$/i;

/**
 * Python's `decimal.Decimal`, kept as its exact text, so the sign of zero, the exponent and
 * trailing zeros (`1.10`) survive: it pickles back as `Decimal('<text>')`.
 */
export class Decimal {
  /** The canonical text, as Python's `str(Decimal)` prints it. */
  readonly value: string;

  constructor(value: string | number | bigint) {
    const text = typeof value === 'string' ? value.trim().replace(/_/g, '') : String(value);
    if (!DECIMAL.test(text) && !SPECIAL.test(text)) {
      throw new RangeError(`invalid literal for Decimal: ${JSON.stringify(value)}`);
    }
    this.value = canonicalDecimal(text);
  }

  isNaN(): boolean {
    return /nan/i.test(this.value);
  }

  isFinite(): boolean {
    return !/nan|inf/i.test(this.value);
  }

  /** The nearest JS number (exact only for values a double can hold). */
  toNumber(): number {
    if (/nan/i.test(this.value)) return NaN;
    if (/inf/i.test(this.value)) return this.value.startsWith('-') ? -Infinity : Infinity;
    return Number(this.value);
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }

  [reprSymbol](): string {
    return `Decimal('${this.value}')`;
  }
}

/** Python's `str(Decimal(text))`: the same digits and exponent, in Python's layout. */
function canonicalDecimal(text: string): string {
  const special = SPECIAL.exec(text);
  if (special) {
    const sign = special[1] === '-' ? '-' : '';
    const kind = special[2]!.toLowerCase();
    const payload = special[3]!.replace(/^0+/, '');
    if (kind === 'inf' || kind === 'infinity') return `${sign}Infinity`;
    return `${sign}${kind === 'nan' ? 'NaN' : 'sNaN'}${payload}`;
  }
  const m = DECIMAL.exec(text)!;
  const sign = m[1] === '-' ? '-' : '';
  const intPart = m[2] ?? '';
  const frac = m[3] ?? m[4] ?? '';
  const exp = Number(m[5] ?? '0') - frac.length;
  const digits = (intPart + frac).replace(/^0+/, '') || '0';
  // __str__ of decimal (to_sci_string): plain notation when exp <= 0 and adjusted >= -6.
  const adjusted = exp + digits.length - 1;
  let out: string;
  if (exp <= 0 && adjusted >= -6) {
    if (exp === 0) out = digits;
    else {
      const point = digits.length + exp;
      out =
        point > 0
          ? `${digits.slice(0, point)}.${digits.slice(point)}`
          : `0.${'0'.repeat(-point)}${digits}`;
    }
  } else {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${mant}E${adjusted >= 0 ? '+' : ''}${adjusted}`;
  }
  return sign + out;
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Python's `fractions.Fraction`: a normalized ratio of two integers. */
export class Fraction {
  readonly numerator: bigint;
  readonly denominator: bigint;

  constructor(numerator: bigint | number, denominator: bigint | number = 1n) {
    let n = BigInt(numerator);
    let d = BigInt(denominator);
    if (d === 0n) throw new RangeError(`Fraction(${n}, 0)`);
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = gcd(n, d) || 1n;
    this.numerator = n / g;
    this.denominator = d / g;
  }

  /** A `Fraction` from Python's text form, `'3/4'` or `'-2'` (old pickles use it). */
  static parse(text: string): Fraction {
    const m = /^\s*([+-]?\d+)(?:\s*\/\s*(\d+))?\s*$/.exec(text);
    if (!m) throw new RangeError(`Invalid literal for Fraction: ${JSON.stringify(text)}`);
    return new Fraction(BigInt(m[1]!), BigInt(m[2] ?? '1'));
  }

  toNumber(): number {
    return Number(this.numerator) / Number(this.denominator);
  }

  toString(): string {
    return this.denominator === 1n
      ? String(this.numerator)
      : `${this.numerator}/${this.denominator}`;
  }

  [reprSymbol](): string {
    return `Fraction(${this.numerator}, ${this.denominator})`;
  }
}
