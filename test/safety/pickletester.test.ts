/**
 * The bad-input cases of CPython's own pickle tests (Lib/test/pickletester.py), run against
 * pickle-ts. test/fixtures/pickletester/make.py extracts them with `ast` into cases.json, with
 * what CPython 3.13 and python3 raised for each when the fixture was made.
 *
 * For every case: `loads` throws an `UnpicklingError` (never a TypeError, RangeError or another
 * error, never a value) with a known `code` and an `offset`; `StreamUnpickler` fed one byte at a
 * time throws the same; and live python3 raises too (so the test does not rest on the fixture).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ErrorCode, StreamUnpickler, UnpicklingError, loads } from '../helpers/pickle.js';
import { needPython, py } from '../helpers/python.js';
import { fromTagged } from '../helpers/tagged.js';

interface Raised {
  type: string | null;
  message?: string;
  value?: string;
}

interface Case {
  test: string;
  class: string;
  line: number;
  hex: string;
  repr: string;
  comment: string | null;
  expected: string;
  expectedC: string[];
  via: string;
  decorators: string[];
  raised: Record<string, Raised>;
}

interface Fixture {
  source: { path: string; cpython: string; sha256: string };
  interpreters: Array<{ version: string; executable: string }>;
  groups: Record<string, number>;
  cases: Case[];
  skipped: Array<{ test: string; line: number; reason: string }>;
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/pickletester/cases.json', import.meta.url), 'utf8'),
) as Fixture;

const bytesOf = (c: Case) => new Uint8Array(Buffer.from(c.hex, 'hex'));
const where = (c: Case) => `${c.test} (pickletester.py:${c.line}) ${c.repr}`;
const CODES = new Set<string>(Object.values(ErrorCode));

/**
 * The codes each test's cases may fail with. The tests name the failure they provoke (a short
 * stack, a missing MARK, cut-off data, ...), so the code must say the same.
 */
const GROUP_CODES: Record<string, readonly ErrorCode[]> = {
  test_bad_stack: [
    ErrorCode.STACK_UNDERFLOW,
    ErrorCode.NO_MARK,
    ErrorCode.BAD_STACK,
    ErrorCode.BAD_OPERAND, // '}(Nu': an odd number of items for SETITEMS
  ],
  test_bad_mark: [
    ErrorCode.STACK_UNDERFLOW,
    ErrorCode.NO_MARK,
    ErrorCode.BAD_STACK,
    ErrorCode.BAD_OPERAND, // '(Nd': an odd number of items for DICT, as CPython says
  ],
  test_truncated_data: [ErrorCode.TRUNCATED, ErrorCode.EOF],
  test_incomplete_input: [ErrorCode.TRUNCATED],
  test_misc_get: [ErrorCode.MEMO_MISSING],
  test_badly_quoted_string: [ErrorCode.BAD_ARGUMENT, ErrorCode.TRUNCATED],
  test_badly_escaped_string: [ErrorCode.BAD_ARGUMENT],
  test_negative_put: [ErrorCode.BAD_ARGUMENT],
  test_maxint64: [ErrorCode.BAD_ARGUMENT],
  test_bad_ext_code: [ErrorCode.EXTENSION_MISSING, ErrorCode.BAD_ARGUMENT],
  test_bad_reduce: [ErrorCode.BAD_OPERAND],
  test_bad_newobj: [ErrorCode.BAD_OPERAND],
  test_bad_newobj_ex: [ErrorCode.BAD_OPERAND],
  test_negative_32b_binbytes: [ErrorCode.TRUNCATED],
  test_negative_32b_binunicode: [ErrorCode.TRUNCATED],
  test_large_32b_binbytes8: [ErrorCode.TRUNCATED],
  test_large_32b_bytearray8: [ErrorCode.TRUNCATED],
  test_large_32b_binunicode8: [ErrorCode.TRUNCATED],
  test_negative_32b_binput: [ErrorCode.LIMIT_EXCEEDED, ErrorCode.BAD_ARGUMENT],
  test_protocol0_is_ascii_only: [ErrorCode.BAD_ARGUMENT, ErrorCode.PERSISTENT_LOAD],
};

/** Codes implied by the exception CPython raised, whatever the test. */
function codesForPython(type: string | null | undefined): readonly ErrorCode[] | undefined {
  if (type === 'UnicodeDecodeError') return [ErrorCode.BAD_ENCODING];
  if (type === 'EOFError') return [ErrorCode.EOF, ErrorCode.TRUNCATED];
  return undefined;
}

/** What `loads` did: the error it threw, or a description of what went wrong. */
function loadOutcome(data: Uint8Array): UnpicklingError | string {
  let value: unknown;
  try {
    value = loads(data);
  } catch (e) {
    if (e instanceof UnpicklingError) return e;
    return `threw ${(e as Error)?.constructor?.name ?? typeof e}: ${String(e)}`;
  }
  return `returned a value instead of throwing: ${describe(value)}`;
}

async function streamOutcome(data: Uint8Array): Promise<UnpicklingError | string> {
  const chunks = Array.from(data, (byte) => Uint8Array.of(byte));
  let value: unknown;
  try {
    value = await new StreamUnpickler(chunks).load();
  } catch (e) {
    if (e instanceof UnpicklingError) return e;
    return `threw ${(e as Error)?.constructor?.name ?? typeof e}: ${String(e)}`;
  }
  return `returned a value instead of throwing: ${describe(value)}`;
}

function describe(v: unknown): string {
  const name = typeof v === 'object' && v !== null ? v.constructor?.name : typeof v;
  let text: string;
  try {
    text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? '';
  } catch {
    text = String(v);
  }
  return `${name} ${text.slice(0, 80)}`;
}

/** The problems with one case's error, or none. */
function problems(c: Case, e: UnpicklingError | string): string[] {
  if (typeof e === 'string') return [e];
  const out: string[] = [];
  if (!CODES.has(e.code)) out.push(`code ${String(e.code)} is not an ErrorCode`);
  if (typeof e.offset !== 'number') out.push(`offset is ${String(e.offset)}, not a number`);
  const allowed = codesForPython(c.raised[fixture.source.cpython]?.type) ?? GROUP_CODES[c.test];
  if (allowed && !allowed.includes(e.code)) {
    out.push(`code ${e.code} (${e.message}), expected ${allowed.join(' or ')}`);
  }
  return out;
}

const groups = new Map<string, Case[]>();
for (const c of fixture.cases) {
  if (!groups.has(c.test)) groups.set(c.test, []);
  groups.get(c.test)!.push(c);
}

test('the fixture holds the tests the brief names, extracted from CPython 3.13', () => {
  assert.match(fixture.source.cpython, /^3\.13\./);
  for (const name of [
    'test_bad_stack',
    'test_bad_mark',
    'test_truncated_data',
    'test_badly_escaped_string',
    'test_badly_quoted_string',
    'test_bad_ext_code',
    'test_negative_put',
    'test_negative_32b_binput',
    'test_misc_get',
    'test_bad_reduce',
    'test_bad_newobj',
    'test_bad_newobj_ex',
  ]) {
    assert.ok(groups.has(name), `${name} missing from cases.json`);
  }
  assert.equal(
    fixture.cases.length,
    Object.values(fixture.groups).reduce((a, b) => a + b, 0),
  );
  // Every case failed under both interpreters when the fixture was made.
  for (const c of fixture.cases) {
    for (const [version, r] of Object.entries(c.raised)) {
      assert.ok(r.type !== null, `${where(c)}: CPython ${version} loaded ${r.value}`);
    }
  }
  console.log(
    `pickletester: ${fixture.cases.length} cases from ${groups.size} tests of ` +
      `CPython ${fixture.source.cpython}; ${fixture.skipped.length} calls not extractable`,
  );
});

for (const [name, cases] of groups) {
  test(`${name}: loads and StreamUnpickler reject every case with an UnpicklingError`, async () => {
    const failures: string[] = [];
    let rejected = 0;
    let streamSame = 0;
    for (const c of cases) {
      const data = bytesOf(c);
      const e = loadOutcome(data);
      const bad = problems(c, e);
      if (typeof e !== 'string') rejected++;
      for (const p of bad) failures.push(`${where(c)}: loads ${p}`);
      const s = await streamOutcome(data);
      if (typeof s === 'string') {
        failures.push(`${where(c)}: StreamUnpickler ${s}`);
      } else if (typeof e !== 'string' && (s.code !== e.code || s.offset !== e.offset)) {
        failures.push(
          `${where(c)}: StreamUnpickler ${s.code} (${s.message}), loads ${e.code} (${e.message})`,
        );
      } else {
        streamSame++;
      }
    }
    console.log(
      `${name}: ${cases.length} cases, ${rejected} rejected by loads, ` +
        `${streamSame} with the same code and offset when streamed byte by byte`,
    );
    assert.deepEqual(failures, []);
  });
}

test('live python3 raises for every case, as recorded in the fixture', async (t) => {
  if (!needPython(t)) return;
  const code = [
    'import json, sys',
    'out = []',
    'for h in json.loads(data):',
    '    try:',
    '        pickle.loads(bytes.fromhex(h))',
    '        out.append(None)',
    '    except BaseException as e:',
    '        out.append([type(e).__name__, str(e)])',
    'result = [sys.version.split()[0], out]',
  ].join('\n');
  const r = await py.eval(
    code,
    new TextEncoder().encode(JSON.stringify(fixture.cases.map((c) => c.hex))),
  );
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  const [version, verdicts] = fromTagged(r.tagged!) as [string, Array<[string, string] | null>];
  assert.equal(verdicts.length, fixture.cases.length);
  const failures: string[] = [];
  const perGroup = new Map<string, number>();
  fixture.cases.forEach((c, i) => {
    const v = verdicts[i];
    if (v === null || v === undefined) {
      failures.push(`${where(c)}: python3 ${version} loaded it`);
      return;
    }
    perGroup.set(c.test, (perGroup.get(c.test) ?? 0) + 1);
    const recorded = c.raised[version];
    if (recorded && recorded.type !== v[0]) {
      failures.push(
        `${where(c)}: python3 ${version} raised ${v[0]}, fixture says ${recorded.type}`,
      );
    }
  });
  for (const [name, cases] of groups) {
    console.log(
      `${name}: ${cases.length} cases, ${perGroup.get(name) ?? 0} rejected by python3 ${version}`,
    );
  }
  assert.deepEqual(failures, []);
});
