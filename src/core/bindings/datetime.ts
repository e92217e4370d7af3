/**
 * `datetime` and `zoneinfo` both ways. CPython pickles a date, time or datetime as its packed
 * state bytes (plus the tzinfo), with `fold` in the high bit of the month or hour byte at
 * protocol 4 and above; a timedelta as (days, seconds, microseconds); a timezone as
 * (offset[, name]); a ZoneInfo as `ZoneInfo._unpickle(key, 1)`. Python 2 pickles carry the state
 * as a `str`, which arrives here as latin-1 text (`encoding: 'latin1'`) or bytes.
 */
import { ErrorCode, UnpicklingError } from '../errors.js';
import type { Registry } from '../registry.js';
import {
  PyDate,
  PyDateTime,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  ZoneInfo,
  type PyTzInfo,
} from '../python/datetime.js';
import { PyGlobal, PyObject } from '../python/object.js';
import { tuple } from '../python/tuple.js';
import { typeName } from '../python/typename.js';
import { BUILTINS_GETATTR } from './names.js';

const DATE = new PyGlobal('datetime', 'date');
const TIME = new PyGlobal('datetime', 'time');
const DATETIME = new PyGlobal('datetime', 'datetime');
const TIMEDELTA = new PyGlobal('datetime', 'timedelta');
const TIMEZONE = new PyGlobal('datetime', 'timezone');
const ZONEINFO = new PyGlobal('zoneinfo', 'ZoneInfo');

function fail(message: string): never {
  throw new UnpicklingError(ErrorCode.BAD_OPERAND, message);
}

/** Packed state as bytes: bytes, or latin-1 text from a Python 2 `str`. */
function stateBytes(v: unknown, length: number): Uint8Array | undefined {
  if (v instanceof Uint8Array && v.length === length) return v;
  if (typeof v === 'string' && v.length === length) {
    const b = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const c = v.charCodeAt(i);
      if (c > 0xff) return undefined;
      b[i] = c;
    }
    return b;
  }
  return undefined;
}

function tz(v: unknown): PyTzInfo | null {
  if (v === undefined || v === null) return null;
  if (v instanceof PyTimezone || v instanceof ZoneInfo) return v;
  return fail(`bad tzinfo state arg: ${typeName(v)}`);
}

function int(v: unknown, name: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n))
    fail(`${name} must be an integer, not ${typeName(v)}`);
  return n;
}

/** The `datetime` constructors' error, as an UnpicklingError located by the caller. */
function build<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) fail(e.message);
    throw e;
  }
}

const us3 = (b: Uint8Array, i: number) => (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;

function packUs(us: number): number[] {
  return [(us >> 16) & 0xff, (us >> 8) & 0xff, us & 0xff];
}

export function addDatetimeBindings(r: Registry): void {
  r.defineGlobal('datetime', 'date', {
    call: (a) => {
      const s = stateBytes(a[0], 4);
      if (s && a.length === 1) return build(() => new PyDate(s[0]! * 256 + s[1]!, s[2]!, s[3]!));
      return build(() => new PyDate(int(a[0], 'year'), int(a[1], 'month'), int(a[2], 'day')));
    },
  });
  r.defineGlobal('datetime', 'time', {
    call: (a) => {
      const s = stateBytes(a[0], 6);
      if (s && (s[0]! & 0x7f) < 24) {
        return build(
          () => new PyTime(s[0]! & 0x7f, s[1]!, s[2]!, us3(s, 3), tz(a[1]), s[0]! & 0x80 ? 1 : 0),
        );
      }
      const [h = 0, m = 0, sec = 0, us = 0, tzinfo = null] = a;
      return build(
        () =>
          new PyTime(
            int(h, 'hour'),
            int(m, 'minute'),
            int(sec, 'second'),
            int(us, 'microsecond'),
            tz(tzinfo),
          ),
      );
    },
  });
  r.defineGlobal('datetime', 'datetime', {
    call: (a) => {
      const s = stateBytes(a[0], 10);
      if (s && (s[2]! & 0x7f) >= 1 && (s[2]! & 0x7f) <= 12) {
        return build(
          () =>
            new PyDateTime(
              s[0]! * 256 + s[1]!,
              s[2]! & 0x7f,
              s[3]!,
              s[4]!,
              s[5]!,
              s[6]!,
              us3(s, 7),
              tz(a[1]),
              s[2]! & 0x80 ? 1 : 0,
            ),
        );
      }
      const [y, mo, d, h = 0, mi = 0, sec = 0, us = 0, tzinfo = null] = a;
      return build(
        () =>
          new PyDateTime(
            int(y, 'year'),
            int(mo, 'month'),
            int(d, 'day'),
            int(h, 'hour'),
            int(mi, 'minute'),
            int(sec, 'second'),
            int(us, 'microsecond'),
            tz(tzinfo),
          ),
      );
    },
  });
  r.defineGlobal('datetime', 'timedelta', {
    call: (a) =>
      build(
        () =>
          new PyTimeDelta(
            int(a[0] ?? 0, 'days'),
            int(a[1] ?? 0, 'seconds'),
            int(a[2] ?? 0, 'microseconds'),
          ),
      ),
  });
  r.defineGlobal('datetime', 'timezone', {
    call: (a) => {
      const [offset, name] = a;
      if (!(offset instanceof PyTimeDelta))
        fail(`timezone() argument 1 must be datetime.timedelta, not ${typeName(offset)}`);
      if (name !== undefined && typeof name !== 'string')
        fail(`timezone() argument 2 must be str, not ${typeName(name)}`);
      return build(() => new PyTimezone(offset, name));
    },
  });
  const zone = (a: readonly unknown[]) => {
    if (typeof a[0] !== 'string') fail(`ZoneInfo key must be a str, not ${typeName(a[0])}`);
    return new ZoneInfo(a[0]);
  };
  r.defineGlobal('zoneinfo', 'ZoneInfo', { call: zone });
  r.defineGlobal('zoneinfo', 'ZoneInfo._unpickle', { call: zone });

  const withTz = (state: Uint8Array, tzinfo: PyTzInfo | null) =>
    tzinfo ? tuple<unknown>(state, tzinfo) : tuple<unknown>(state);
  r.addClass(PyDate, {
    global: DATE,
    reduce: (d) => [DATE, tuple(Uint8Array.of(d.year >> 8, d.year & 0xff, d.month, d.day))],
  });
  r.addClass(PyTime, {
    global: TIME,
    reduce: (t, protocol) => {
      const hour = t.hour | (t.fold && protocol > 3 ? 0x80 : 0);
      return [
        TIME,
        withTz(Uint8Array.of(hour, t.minute, t.second, ...packUs(t.microsecond)), t.tzinfo),
      ];
    },
  });
  const reduceDateTime = (d: PyDateTime, protocol: number) => {
    const month = d.month | (d.fold && protocol > 3 ? 0x80 : 0);
    const state = Uint8Array.of(
      d.year >> 8,
      d.year & 0xff,
      month,
      d.day,
      d.hour,
      d.minute,
      d.second,
      ...packUs(d.microsecond),
    );
    return [DATETIME, withTz(state, d.tzinfo)] as const;
  };
  r.addClass(PyDateTime, { global: DATETIME, reduce: reduceDateTime });
  // A JS Date is an instant: it pickles as an aware UTC datetime (milliseconds as microseconds).
  r.addClass(Date, {
    global: DATETIME,
    reduce: (d, protocol) => reduceDateTime(PyDateTime.fromDate(d), protocol),
  });
  r.addClass(PyTimeDelta, {
    global: TIMEDELTA,
    // Ints as bigints: exact-mode dumps would write numbers as floats.
    reduce: (t) => [TIMEDELTA, tuple(BigInt(t.days), BigInt(t.seconds), BigInt(t.microseconds))],
  });
  r.addClass(PyTimezone, {
    global: TIMEZONE,
    reduce: (z) => [
      TIMEZONE,
      z.name === undefined ? tuple<unknown>(z.offset) : tuple<unknown>(z.offset, z.name),
    ],
  });
  // ZoneInfo pickles through its classmethod, a bound method reduced as getattr(ZoneInfo, ...).
  r.addClass(ZoneInfo, {
    global: ZONEINFO,
    reduce: (z) => [
      new PyObject(BUILTINS_GETATTR, tuple<unknown>(ZONEINFO, '_unpickle')),
      tuple<unknown>(z.key, 1n),
    ],
  });
}
