/**
 * `datetime64` counts as JS `Date`s. numpy stores a datetime64 as a signed 64-bit count of its
 * unit since 1970-01-01T00:00 (NaT is the smallest int64).
 */
import { DType } from './dtype.js';

/** numpy's NaT ("not a time"): the smallest int64. */
export const NAT = -(2n ** 63n);

const MS_PER: Record<string, bigint> = {
  W: 7n * 86_400_000n,
  D: 86_400_000n,
  h: 3_600_000n,
  m: 60_000n,
  s: 1000n,
  ms: 1n,
};
const PER_MS: Record<string, bigint> = {
  us: 1000n,
  ns: 1_000_000n,
  ps: 10n ** 9n,
  fs: 10n ** 12n,
  as: 10n ** 15n,
};

/**
 * The `Date` a `datetime64` count stands for, or `null` for NaT. Units finer than milliseconds
 * are rounded toward negative infinity (a `Date` holds milliseconds); a count outside the range
 * of `Date` throws a RangeError.
 *
 * @example
 * ```ts
 * datetime64ToDate(18262n, '<M8[D]'); // 2020-01-01T00:00:00.000Z
 * ```
 */
export function datetime64ToDate(count: bigint, dtype: string | DType): Date | null {
  const d = DType.of(dtype);
  if (d.kind !== 'M') throw new TypeError(`${d.str} is not a datetime64 dtype`);
  if (count === NAT) return null;
  const unit = d.unit ?? 'generic';
  const n = count * BigInt(d.unitCount);
  let ms: bigint;
  if (unit === 'Y' || unit === 'M') {
    const months = unit === 'Y' ? n * 12n : n;
    const years = months >= 0n ? months / 12n : -((-months + 11n) / 12n);
    const date = new Date(0);
    date.setUTCFullYear(1970 + Number(years), Number(months - years * 12n), 1);
    return checked(date, count);
  } else if (unit in MS_PER) {
    ms = n * MS_PER[unit]!;
  } else if (unit in PER_MS) {
    const per = PER_MS[unit]!;
    ms = n >= 0n ? n / per : -((-n + per - 1n) / per);
  } else {
    throw new RangeError(`a datetime64 of generic unit holds no date (only NaT)`);
  }
  return checked(new Date(Number(ms)), count);
}

function checked(date: Date, count: bigint): Date {
  if (Number.isNaN(date.getTime()))
    throw new RangeError(`datetime64 ${count} is outside the range of a JS Date`);
  return date;
}
