/**
 * Protocol 0's text opcodes parsed as CPython's C unpickler parses them, case by case against
 * live python3: INT (strtol with base 0, then int(s, 0)), LONG (an optional trailing L), FLOAT
 * (PyOS_string_to_double), STRING (quotes and bytes escapes, then `encoding`), UNICODE
 * (raw-unicode-escape), text GET/PUT (base-10 memo indexes) and PERSID (ASCII persistent IDs).
 *
 * Each row is an input line; the expectation is whatever Python does with it. If Python gives a
 * value, pickle-ts must give the same value (default and exact mode); if Python raises,
 * pickle-ts must raise an `UnpicklingError`.
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';
import { assertSameValue } from './helpers/equal.js';
import { UnpicklingError, loads, tuple, type UnpicklerOptions } from './helpers/pickle.js';
import { needPython, py, type PyError } from './helpers/python.js';
import { fromTagged, type Tagged } from './helpers/tagged.js';

interface Options {
  encoding?: string;
  errors?: string;
  /** Load with a persistent_load returning ('pid', pid). */
  persistent?: boolean;
}

interface Case {
  /** What the row shows: the opcode's text, as JSON. */
  text: string;
  data: Uint8Array;
  options: Options;
}

/** Bytes of a latin-1 string: each char is one byte. */
const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** `opcode` + `text` + newline + STOP. */
function line(opcode: string, text: string, options: Options = {}): Case {
  return { text, data: latin1(`${opcode}${text}\n.`), options };
}

/** A list PUT at `put`, fetched back by GET `get`: the tuple (list, list). */
function putGet(put: string, get: string): Case {
  return { text: `p${put} g${get}`, data: latin1(`((lp${put}\ng${get}\nt.`), options: {} };
}

const TABLE: Record<string, Case[]> = {
  INT: [
    // The fast path (src/core/handlers.ts shortDecimalLine): 1-15 plain decimal digits.
    '7',
    '-7',
    '10',
    '123456789012345',
    '-123456789012345',
    '999999999999999',
    '1234567890123456',
    '-1234567890123456',
    '0',
    '-0',
    '00',
    '01',
    '+1',
    ' 1',
    '\t1',
    '1 ',
    '010',
    '-010',
    '08',
    '0x10',
    '0X1f',
    '0b11',
    '0o17',
    '0x',
    '1_000',
    '0_10',
    '2147483648',
    '9007199254740993',
    '9223372036854775807',
    '9223372036854775808',
    '-9223372036854775808',
    '-9223372036854775809',
    '99999999999999999999',
    '-99999999999999999999',
    '1e3',
    '1.0',
    'abc',
    '-',
    '+-1',
    '--1',
    '',
    '1\x00',
    '12\x0034',
    '99999999999999999999\x00x',
    '0b11\x00x',
    '\xd9\xa1',
  ].map((s) => line('I', s)),
  LONG: [
    '12L',
    '12',
    '0L',
    '-0L',
    '00L',
    '010',
    '010L',
    '0x10L',
    '0x10',
    '0b101L',
    '+5L',
    ' 12L',
    '1 L',
    '1_0L',
    '12l',
    '12LL',
    'L',
    '',
    '99999999999999999999999L',
    '-99999999999999999999999',
    '9007199254740993L',
    '12\x00x',
    '12\x00L',
  ].map((s) => line('L', s)),
  FLOAT: [
    '1e3',
    '1E3',
    '1.5e+3',
    '0.1',
    '-0.0',
    '+1.5',
    '.5',
    '5.',
    '5e-324',
    '1.7976931348623157e308',
    '1e-400',
    '1e500',
    '-1e500',
    'nan',
    '-nan',
    'NaN',
    'inf',
    '-inf',
    'inF',
    'Infinity',
    '-Infinity',
    'infinit',
    ' inf',
    '1.5 ',
    '1_0',
    '0x10',
    '1e',
    '',
    '2.5\x00junk',
  ].map((s) => line('F', s)),
  STRING: [
    ...[
      "'ab'",
      '"ab"',
      'ab',
      `'ab"`,
      `"ab'`,
      "'",
      "''",
      '""',
      "'a'b'",
      `"it's"`,
      "'\\n'",
      "'\\x41'",
      "'\\101'",
      "'\\0'",
      "'\\777'",
      "'\\''",
      "'\\\"'",
      "'\\\\'",
      "'\\a\\b\\f\\v\\r\\t'",
      "'ab\\'",
      "'\\q'",
      "'\\x4'",
      "'\\x'",
      "'\\xzz'",
      "'\\xe9'",
      "'caf\xe9'",
      "'a\x00b'",
    ].map((s) => line('S', s)),
    ...["'caf\xe9'", "'\\xe9'", "'\\x80\\xff'"].flatMap((s) =>
      ['ASCII', 'latin1', 'bytes', 'utf-8'].map((encoding) => line('S', s, { encoding })),
    ),
    line('S', "'caf\xc3\xa9'", { encoding: 'utf-8' }),
    line('S', "'ab'", { encoding: 'bytes' }),
    ...['strict', 'replace', 'ignore', 'backslashreplace', 'surrogateescape'].map((errors) =>
      line('S', "'caf\xe9'", { encoding: 'ASCII', errors }),
    ),
  ],
  UNICODE: [
    'abc',
    '',
    '\\u0041',
    '\\u00e9',
    '\\u00E9',
    '\\U0001F600',
    '\\U0001f600',
    '\\ud83d\\ude00',
    '\\ud800',
    'a\\b',
    '\\',
    '\\x41',
    '\\\\u0041',
    '\\\\\\u0041',
    '\\u12',
    '\\u004',
    '\\u12zz',
    '\\U0001F60',
    '\\U00110000',
    'caf\xe9',
    'a\x00b',
  ].map((s) => line('V', s)),
  'GET/PUT': [
    putGet('0', '0'),
    putGet('1', '1'),
    putGet('010', '10'),
    putGet('010', '8'),
    putGet(' 1', '1'),
    putGet('1 ', '1'),
    putGet('+1', '1'),
    putGet('1_0', '10'),
    putGet('1000000', '1000000'),
    putGet('1\x00x', '1'),
    putGet('1', '1\x00x'),
    putGet('1', '2'),
    putGet('1', '-1'),
    putGet('1', '99999999999999999999999'),
    putGet('-1', '1'),
    putGet('0x1', '1'),
    putGet('1e1', '10'),
    putGet('', '0'),
    putGet('0', ''),
    putGet('abc', '0'),
    putGet('\xd9\xa1', '1'),
  ],
  PERSID: [
    ...['abc', '', '12', 'a b', "a'b", '\\x41', 'a\x00b', 'caf\xe9'].map((s) =>
      line('P', s, { persistent: true }),
    ),
    line('P', 'abc'),
  ],
};

/** Python's result: pickle.loads (or an Unpickler with persistent_load). */
async function python(c: Case): Promise<{ tagged?: Tagged; error?: PyError }> {
  const { persistent, ...kwargs } = c.options;
  if (!persistent) return py.load(c.data, kwargs);
  return py.eval(
    [
      'import io',
      `u = pickle.Unpickler(io.BytesIO(data), **${JSON.stringify(kwargs)})`,
      "u.persistent_load = lambda pid: ('pid', pid)",
      'result = u.load()',
    ].join('\n'),
    c.data,
  );
}

function unpicklerOptions(c: Case, exact: boolean): UnpicklerOptions {
  const { persistent, ...rest } = c.options;
  return {
    ...rest,
    exact,
    ...(persistent ? { persistentLoad: (pid: unknown) => tuple('pid', pid) } : {}),
  };
}

function title(c: Case): string {
  const opts = Object.entries(c.options)
    .filter(([k]) => k !== 'persistent')
    .map(([k, v]) => `${k}=${String(v)}`);
  const hook = c.options.persistent ? ' with persistent_load' : '';
  return `${JSON.stringify(c.text)}${opts.length ? ` (${opts.join(', ')})` : ''}${hook}`;
}

for (const [opcode, cases] of Object.entries(TABLE)) {
  describe(`text opcode ${opcode}: as CPython's C unpickler`, () => {
    for (const c of cases) {
      test(title(c), async (t) => {
        if (!needPython(t)) return;
        const want = await python(c);
        for (const exact of [false, true]) {
          const mode = exact ? 'exact mode' : 'default mode';
          let got: unknown;
          try {
            got = loads(c.data, unpicklerOptions(c, exact));
          } catch (e) {
            if (want.error) {
              assert.ok(
                e instanceof UnpicklingError,
                `Python raised ${want.error.type}; pickle-ts threw a non-UnpicklingError: ${String(e)}`,
              );
              continue;
            }
            assert.fail(
              `${mode}: Python gives ${JSON.stringify(want.tagged)}; pickle-ts threw ${String(e)}`,
            );
          }
          if (want.error) {
            assert.fail(
              `${mode}: Python raises ${want.error.type}: ${want.error.message}; ` +
                `pickle-ts gives ${inspect(got)}`,
            );
          }
          assertSameValue(got, fromTagged(want.tagged!, { exact }), mode);
        }
      });
    }
  });
}
