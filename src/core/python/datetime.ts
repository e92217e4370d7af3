/**
 * Python's `datetime` module values: `date`, `time`, `datetime`, `timedelta`, `timezone`, and
 * `zoneinfo.ZoneInfo` (by key). They keep everything Python keeps (microseconds, `fold`, the
 * time zone) and convert to JS `Date` where that is exact enough. A JS `Date` pickles as an aware
 * UTC `datetime`.
 */
import { reprSymbol } from './repr-symbol.js';

type Repr = (value: unknown) => string;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  }
  return v;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const daysInMonth = (y: number, m: number) => (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m]!);

/** Python's `datetime.date`. */
export class PyDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;

  constructor(year: number, month: number, day: number) {
    this.year = checkInt('year', year, 1, 9999);
    this.month = checkInt('month', month, 1, 12);
    this.day = checkInt('day', day, 1, daysInMonth(year, month));
  }

  /** Midnight UTC of this date. */
  toDate(): Date {
    const d = new Date(0);
    d.setUTCFullYear(this.year, this.month - 1, this.day);
    return d;
  }

  /** `date.isoformat()`: `2020-01-02`. */
  isoformat(): string {
    return `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
  }

  toString(): string {
    return this.isoformat();
  }

  toJSON(): string {
    return this.isoformat();
  }

  [reprSymbol](): string {
    return `datetime.date(${this.year}, ${this.month}, ${this.day})`;
  }
}

const US_PER_SECOND = 1_000_000;
const SECONDS_PER_DAY = 86_400;

/** Python's `datetime.timedelta`, normalized as Python normalizes it. */
export class PyTimeDelta {
  /** -999999999 to 999999999. */
  readonly days: number;
  /** 0 to 86399. */
  readonly seconds: number;
  /** 0 to 999999. */
  readonly microseconds: number;

  constructor(days = 0, seconds = 0, microseconds = 0) {
    for (const [name, v] of [
      ['days', days],
      ['seconds', seconds],
      ['microseconds', microseconds],
    ] as const) {
      if (!Number.isSafeInteger(v))
        throw new RangeError(`timedelta ${name} must be an integer, got ${v}`);
    }
    // Carry microseconds into seconds and seconds into days, staying within safe integers.
    let us = microseconds % US_PER_SECOND;
    let s = seconds + (microseconds - us) / US_PER_SECOND;
    if (us < 0) {
      us += US_PER_SECOND;
      s -= 1;
    }
    let sd = s % SECONDS_PER_DAY;
    let d = days + (s - sd) / SECONDS_PER_DAY;
    if (sd < 0) {
      sd += SECONDS_PER_DAY;
      d -= 1;
    }
    if (Math.abs(d) > 999_999_999)
      throw new RangeError(`days=${d}; must have magnitude <= 999999999`);
    this.days = d + 0; // no -0
    this.seconds = sd + 0;
    this.microseconds = us + 0;
  }

  /** `timedelta.total_seconds()`. */
  totalSeconds(): number {
    return this.days * SECONDS_PER_DAY + this.seconds + this.microseconds / US_PER_SECOND;
  }

  /** Whole microseconds, exactly. */
  totalMicroseconds(): bigint {
    return (
      (BigInt(this.days) * BigInt(SECONDS_PER_DAY) + BigInt(this.seconds)) * 1_000_000n +
      BigInt(this.microseconds)
    );
  }

  /** Milliseconds, as JS dates count them. */
  toMilliseconds(): number {
    return (this.days * SECONDS_PER_DAY + this.seconds) * 1000 + this.microseconds / 1000;
  }

  equals(other: PyTimeDelta): boolean {
    return (
      this.days === other.days &&
      this.seconds === other.seconds &&
      this.microseconds === other.microseconds
    );
  }

  /** `str(timedelta)`: `-1 day, 0:00:05.000007`. */
  toString(): string {
    const h = Math.floor(this.seconds / 3600);
    const m = Math.floor((this.seconds % 3600) / 60);
    const s = this.seconds % 60;
    let out = `${h}:${pad(m)}:${pad(s)}`;
    if (this.microseconds) out += `.${pad(this.microseconds, 6)}`;
    if (this.days) out = `${this.days} day${Math.abs(this.days) === 1 ? '' : 's'}, ${out}`;
    return out;
  }

  [reprSymbol](): string {
    const parts: string[] = [];
    if (this.days) parts.push(`days=${this.days}`);
    if (this.seconds) parts.push(`seconds=${this.seconds}`);
    if (this.microseconds) parts.push(`microseconds=${this.microseconds}`);
    return `datetime.timedelta(${parts.length ? parts.join(', ') : '0'})`;
  }
}

/** A time zone: `datetime.timezone` (fixed offset) or `zoneinfo.ZoneInfo`. */
export type PyTzInfo = PyTimezone | ZoneInfo;

/** Python's `datetime.timezone`: a fixed offset from UTC, with an optional name. */
export class PyTimezone {
  readonly offset: PyTimeDelta;
  readonly name: string | undefined;

  /** `datetime.timezone.utc`. */
  static readonly utc = new PyTimezone(new PyTimeDelta(0));

  constructor(offset: PyTimeDelta, name?: string) {
    const us = offset.totalMicroseconds();
    if (us <= -86_400_000_000n || us >= 86_400_000_000n) {
      throw new RangeError(
        'offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24)',
      );
    }
    this.offset = offset;
    this.name = name;
  }

  /** Offset from UTC in milliseconds (microseconds are dropped). */
  offsetMilliseconds(): number {
    return this.offset.toMilliseconds();
  }

  isUtc(): boolean {
    return this.offset.totalMicroseconds() === 0n && this.name === undefined;
  }

  [reprSymbol](repr: Repr): string {
    if (this.isUtc()) return 'datetime.timezone.utc';
    return this.name === undefined
      ? `datetime.timezone(${repr(this.offset)})`
      : `datetime.timezone(${repr(this.offset)}, ${repr(this.name)})`;
  }

  toString(): string {
    if (this.name !== undefined) return this.name;
    const us = this.offset.totalMicroseconds();
    if (us === 0n) return 'UTC';
    const sign = us < 0n ? '-' : '+';
    const abs = us < 0n ? -us : us;
    const h = abs / 3_600_000_000n;
    const m = (abs / 60_000_000n) % 60n;
    return `UTC${sign}${pad(Number(h))}:${pad(Number(m))}`;
  }
}

/** `zoneinfo.ZoneInfo`: an IANA time zone, pickled by its key. */
export class ZoneInfo {
  constructor(readonly key: string) {}

  /** The zone's offset from UTC at `instant` (ms), via the platform's `Intl` time zone data. */
  offsetAt(instant: number): number {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: this.key,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(new Date(instant));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const local = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return local - Math.floor(instant / 1000) * 1000;
  }

  [reprSymbol](repr: Repr): string {
    return `zoneinfo.ZoneInfo(key=${repr(this.key)})`;
  }

  toString(): string {
    return this.key;
  }
}

/** Offset in ms of `tz` for local wall time `localMs` (Python's fold picks between two). */
function offsetForLocal(tz: PyTzInfo, localMs: number, fold: 0 | 1): number {
  if (tz instanceof PyTimezone) return tz.offsetMilliseconds();
  // Try the offsets in force a day either side; keep those that map back to this wall time.
  const candidates = [
    ...new Set([
      tz.offsetAt(localMs - SECONDS_PER_DAY * 1000),
      tz.offsetAt(localMs + SECONDS_PER_DAY * 1000),
    ]),
  ];
  const valid = candidates.filter((o) => tz.offsetAt(localMs - o) === o).sort((a, b) => b - a);
  if (valid.length === 0) {
    // A wall time in a gap: as Python does, fold=0 uses the offset before the gap.
    const before = tz.offsetAt(localMs - SECONDS_PER_DAY * 1000);
    const after = tz.offsetAt(localMs + SECONDS_PER_DAY * 1000);
    return fold === 0 ? before : after;
  }
  return fold === 1 && valid.length > 1 ? valid[1]! : valid[0]!;
}

function timeText(h: number, m: number, s: number, us: number): string {
  return `${pad(h)}:${pad(m)}:${pad(s)}${us ? `.${pad(us, 6)}` : ''}`;
}

function offsetText(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const abs = Math.abs(offsetMs);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  return `${sign}${pad(h)}:${pad(m)}${s ? `:${pad(s)}` : ''}`;
}

/** Python's `datetime.time`. */
export class PyTime {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
  readonly tzinfo: PyTzInfo | null;
  readonly fold: 0 | 1;

  constructor(
    hour = 0,
    minute = 0,
    second = 0,
    microsecond = 0,
    tzinfo: PyTzInfo | null = null,
    fold: 0 | 1 = 0,
  ) {
    this.hour = checkInt('hour', hour, 0, 23);
    this.minute = checkInt('minute', minute, 0, 59);
    this.second = checkInt('second', second, 0, 59);
    this.microsecond = checkInt('microsecond', microsecond, 0, 999_999);
    this.tzinfo = tzinfo;
    this.fold = fold;
  }

  isoformat(): string {
    const t = timeText(this.hour, this.minute, this.second, this.microsecond);
    return this.tzinfo instanceof PyTimezone ? t + offsetText(this.tzinfo.offsetMilliseconds()) : t;
  }

  toString(): string {
    return this.isoformat();
  }

  toJSON(): string {
    return this.isoformat();
  }

  [reprSymbol](repr: Repr): string {
    const args = [this.hour, this.minute];
    if (this.second || this.microsecond) args.push(this.second);
    if (this.microsecond) args.push(this.microsecond);
    let s = `datetime.time(${args.join(', ')}`;
    if (this.tzinfo) s += `, tzinfo=${repr(this.tzinfo)}`;
    if (this.fold) s += ', fold=1';
    return s + ')';
  }
}

/** Python's `datetime.datetime`: naive (`tzinfo` null) or aware. */
export class PyDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;
  readonly tzinfo: PyTzInfo | null;
  readonly fold: 0 | 1;

  constructor(
    year: number,
    month: number,
    day: number,
    hour = 0,
    minute = 0,
    second = 0,
    microsecond = 0,
    tzinfo: PyTzInfo | null = null,
    fold: 0 | 1 = 0,
  ) {
    const date = new PyDate(year, month, day);
    const time = new PyTime(hour, minute, second, microsecond, tzinfo, fold);
    this.year = date.year;
    this.month = date.month;
    this.day = date.day;
    this.hour = time.hour;
    this.minute = time.minute;
    this.second = time.second;
    this.microsecond = time.microsecond;
    this.tzinfo = tzinfo;
    this.fold = fold;
  }

  /**
   * An aware UTC datetime for a JS `Date` (what `dumps` writes for a `Date`), with its
   * milliseconds as microseconds.
   */
  static fromDate(date: Date): PyDateTime {
    const t = date.getTime();
    if (!Number.isFinite(t)) throw new RangeError('cannot convert an invalid Date to a datetime');
    return new PyDateTime(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds() * 1000,
      PyTimezone.utc,
    );
  }

  /** The wall-clock fields as milliseconds since the epoch, as if they were UTC. */
  private wallMilliseconds(): number {
    const d = new Date(0);
    d.setUTCFullYear(this.year, this.month - 1, this.day);
    d.setUTCHours(this.hour, this.minute, this.second, Math.floor(this.microsecond / 1000));
    return d.getTime();
  }

  /** The offset from UTC in milliseconds, or `null` for a naive datetime. */
  utcOffsetMilliseconds(): number | null {
    return this.tzinfo === null
      ? null
      : offsetForLocal(this.tzinfo, this.wallMilliseconds(), this.fold);
  }

  /**
   * The instant as a JS `Date` (microseconds are truncated to milliseconds). A naive datetime is
   * read as UTC unless `naive: 'local'` is given.
   */
  toDate(options: { naive?: 'utc' | 'local' } = {}): Date {
    const wall = this.wallMilliseconds();
    if (this.tzinfo !== null) return new Date(wall - this.utcOffsetMilliseconds()!);
    if (options.naive === 'local') {
      return new Date(
        this.year,
        this.month - 1,
        this.day,
        this.hour,
        this.minute,
        this.second,
        Math.floor(this.microsecond / 1000),
      );
    }
    return new Date(wall);
  }

  /** `datetime.isoformat()`: `2020-01-02T03:04:05.000006+00:00`. */
  isoformat(sep = 'T'): string {
    let s = `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}${sep}${timeText(this.hour, this.minute, this.second, this.microsecond)}`;
    const off = this.utcOffsetMilliseconds();
    if (off !== null) s += offsetText(off);
    return s;
  }

  toString(): string {
    return this.isoformat(' ');
  }

  toJSON(): string {
    return this.isoformat();
  }

  [reprSymbol](repr: Repr): string {
    const args = [this.year, this.month, this.day, this.hour, this.minute];
    if (this.second || this.microsecond) args.push(this.second);
    if (this.microsecond) args.push(this.microsecond);
    let s = `datetime.datetime(${args.join(', ')}`;
    if (this.fold) s += ', fold=1';
    if (this.tzinfo) s += `, tzinfo=${repr(this.tzinfo)}`;
    return s + ')';
  }
}
