/**
 * Extension codes (`copyreg.add_extension`) against CPython: EXT1 (codes 1-255), EXT2 (256-65535)
 * and EXT4 (larger) from protocol 2, with `new ExtensionRegistry().add(module, name, code)` on
 * both sides of pickle-ts. Each Python snippet registers its code and removes it again
 * (`s.with_extension`), since copyreg's registry is process-wide in the oracle.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { genops } from '../src/tools/genops.js';
import {
  ErrorCode,
  ExtensionRegistry,
  PyGlobal,
  PyObject,
  UnpicklingError,
  dumps,
  loads,
} from './helpers/pickle.js';
import { needPython, py } from './helpers/python.js';
import { fromTagged, type Tagged } from './helpers/tagged.js';

const PROTOCOLS = [0, 1, 2, 3, 4, 5];
const MODULE = 'sample_classes';
const IMPORT = 'import pickle, copyreg, sample_classes as s\n';
/** Codes at the edges of the three ranges. */
const CODES = [1, 200, 255, 256, 4660, 65535, 65536, 0x12345678, 0x7fffffff];

const opNames = (b: Uint8Array): string[] => [...genops(b)].map((o) => o.opcode.name);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function pyValue(code: string, data?: Uint8Array): Promise<Tagged> {
  const r = await py.eval(IMPORT + code, data);
  if (r.error) throw new Error(`python: ${r.error.type}: ${r.error.message}\n${code}`);
  return r.tagged!;
}

/** Python code: `expr` evaluated while `module.name` is registered as `code`. */
function withExtension(module: string, name: string, code: number, expr: string): string {
  return `result = s.with_extension(${JSON.stringify(module)}, ${JSON.stringify(name)}, ${code}, lambda: ${expr})`;
}

function extOp(code: number): string {
  return code <= 0xff ? 'EXT1' : code <= 0xffff ? 'EXT2' : 'EXT4';
}

describe('extension codes against CPython', () => {
  test('a registered global is written as EXT1/EXT2/EXT4 from protocol 2, byte for byte as CPython', async (t) => {
    if (!needPython(t)) return;
    for (const code of CODES) {
      const want = fromTagged(
        await pyValue(
          withExtension(
            MODULE,
            'sample_function',
            code,
            '[pickle.dumps(s.sample_function, p) for p in range(6)]',
          ),
        ),
      ) as Uint8Array[];
      const extensions = new ExtensionRegistry().add(MODULE, 'sample_function', code);
      for (const p of PROTOCOLS) {
        const got = dumps(new PyGlobal(MODULE, 'sample_function'), { protocol: p, extensions });
        assert.equal(hex(got), hex(want[p]!), `code ${code} @${p}`);
        const ops = opNames(got);
        if (p >= 2) assert.ok(ops.includes(extOp(code)), `code ${code} @${p}: ${ops}`);
        else assert.ok(ops.includes('GLOBAL'), `protocols 0-1 have no EXT opcodes: ${ops}`);
      }
    }
  });

  test('CPython -> pickle-ts: EXT opcodes load the global the registry names', async (t) => {
    if (!needPython(t)) return;
    for (const code of CODES) {
      const pickles = fromTagged(
        await pyValue(
          withExtension(
            MODULE,
            'sample_function',
            code,
            '[pickle.dumps([s.sample_function, s.sample_function], p) for p in range(6)]',
          ),
        ),
      ) as Uint8Array[];
      const extensions = new ExtensionRegistry().add(MODULE, 'sample_function', code);
      for (const p of PROTOCOLS) {
        const v = loads(pickles[p]!, { extensions }) as unknown[];
        assert.ok(v[0] instanceof PyGlobal, `code ${code} @${p}`);
        assert.equal(v[0].fullName, `${MODULE}.sample_function`);
        assert.equal(v[0], v[1], 'one code gives one global');
        // A global written by code is not memoized, by CPython or by pickle-ts.
        if (p >= 2) {
          assert.equal(opNames(pickles[p]!).filter((o) => o === extOp(code)).length, 2);
        }
        assert.equal(hex(dumps(v, { protocol: p, extensions })), hex(pickles[p]!));
      }
    }
  });

  test('pickle-ts -> CPython: Python with the same code registered loads the real global', async (t) => {
    if (!needPython(t)) return;
    for (const code of CODES) {
      const extensions = new ExtensionRegistry().add(MODULE, 'sample_function', code);
      for (const p of PROTOCOLS) {
        const data = dumps([new PyGlobal(MODULE, 'sample_function'), 'after'], {
          protocol: p,
          extensions,
        });
        const r = await pyValue(
          withExtension(
            MODULE,
            'sample_function',
            code,
            "pickle.loads(data) == [s.sample_function, 'after']",
          ),
          data,
        );
        assert.deepEqual(r, { t: 'bool', v: true }, `code ${code} @${p}`);
      }
    }
  });

  test('a class with a code inside NEWOBJ: loads as a PyObject, writes back the same bytes', async (t) => {
    if (!needPython(t)) return;
    const code = 300;
    const pickles = fromTagged(
      await pyValue(
        withExtension(MODULE, 'Plain', code, "[s.dumps('Plain', p) for p in range(6)]"),
      ),
    ) as Uint8Array[];
    const extensions = new ExtensionRegistry().add(MODULE, 'Plain', code);
    for (const p of PROTOCOLS) {
      const v = loads(pickles[p]!, { extensions }) as PyObject;
      assert.ok(v instanceof PyObject);
      const cls = p < 2 ? v.args[0] : v.cls; // copyreg._reconstructor's first argument below 2
      assert.ok(cls instanceof PyGlobal);
      assert.equal(cls.fullName, `${MODULE}.Plain`);
      assert.deepEqual(v.state, { x: 10, y: 'wye' });
      const again = dumps(v, { protocol: p, extensions });
      assert.equal(hex(again), hex(pickles[p]!), `@${p}`);
      if (p >= 2) assert.ok(opNames(again).includes('EXT2'));
      const r = await pyValue(
        withExtension(MODULE, 'Plain', code, "s.loads_equal('Plain', data)"),
        again,
      );
      assert.deepEqual(r, { t: 'bool', v: true }, `@${p}`);
    }
  });

  test('built-in globals take their codes too: a set at protocols 2-3 (REDUCE of builtins.set)', async (t) => {
    if (!needPython(t)) return;
    const code = 0x1234;
    const pickles = fromTagged(
      await pyValue(
        withExtension('builtins', 'set', code, "[pickle.dumps({1, 'a'}, p) for p in range(6)]"),
      ),
    ) as Uint8Array[];
    const extensions = new ExtensionRegistry().add('builtins', 'set', code);
    for (const p of PROTOCOLS) {
      const got = dumps(new Set<unknown>([1, 'a']), { protocol: p, extensions });
      // CPython iterates the set in hash order: compare with what it loads, then bytes by order.
      const v = loads(pickles[p]!, { extensions });
      assert.ok(v instanceof Set, `@${p}`);
      assert.deepEqual(new Set(v), new Set([1, 'a']));
      assert.equal(hex(dumps(v, { protocol: p, extensions })), hex(pickles[p]!), `@${p}`);
      assert.equal(opNames(got).includes('EXT2'), p === 2 || p === 3, `@${p}: ${opNames(got)}`);
      const r = await pyValue(
        withExtension('builtins', 'set', code, "pickle.loads(data) == {1, 'a'}"),
        got,
      );
      assert.deepEqual(r, { t: 'bool', v: true }, `@${p}`);
    }
  });

  test('an unregistered code is UnpicklingError EXTENSION_MISSING (CPython: ValueError)', async (t) => {
    if (!needPython(t)) return;
    for (const code of [1, 256, 65536]) {
      const pickles = fromTagged(
        await pyValue(
          withExtension(
            MODULE,
            'sample_function',
            code,
            '[pickle.dumps(s.sample_function, p) for p in range(2, 6)]',
          ),
        ),
      ) as Uint8Array[];
      for (const data of pickles) {
        // The code is removed again: CPython cannot load it either.
        const pyErr = await py.load(data);
        assert.equal(pyErr.error?.type, 'ValueError');
        assert.match(pyErr.error.message, new RegExp(`unregistered extension code ${code}`));
        for (const extensions of [undefined, new ExtensionRegistry().add(MODULE, 'other', 9)]) {
          assert.throws(
            () => loads(data, extensions ? { extensions } : {}),
            (e: unknown) =>
              e instanceof UnpicklingError &&
              e.code === ErrorCode.EXTENSION_MISSING &&
              e.opcode === extOp(code) &&
              e.message.includes(String(code)),
          );
        }
      }
    }
  });

  test('EXT with code 0 or a negative EXT4 code is rejected, as CPython does', async (t) => {
    if (!needPython(t)) return;
    for (const data of [
      new Uint8Array([0x80, 0x02, 0x82, 0x00, 0x2e]),
      new Uint8Array([0x80, 0x02, 0x83, 0x00, 0x00, 0x2e]),
      new Uint8Array([0x80, 0x02, 0x84, 0xff, 0xff, 0xff, 0xff, 0x2e]),
    ]) {
      const pyErr = await py.load(data);
      assert.equal(pyErr.error?.type, 'UnpicklingError', hex(data));
      assert.match(pyErr.error.message, /code <= 0/);
      assert.throws(
        () => loads(data, { extensions: new ExtensionRegistry().add(MODULE, 'x', 1) }),
        (e: unknown) =>
          e instanceof UnpicklingError &&
          e.code === ErrorCode.BAD_ARGUMENT &&
          /code <= 0/.test(e.message),
        hex(data),
      );
    }
  });

  test('EXT resolves through find_class: Python 2 names are renamed below protocol 3, and findClass applies', async (t) => {
    if (!needPython(t)) return;
    const extensions = new ExtensionRegistry().add('copy_reg', '_reconstructor', 9);
    const at2 = new Uint8Array([0x80, 0x02, 0x82, 0x09, 0x2e]);
    const at3 = new Uint8Array([0x80, 0x03, 0x82, 0x09, 0x2e]);
    const r = await pyValue(
      withExtension(
        'copy_reg',
        '_reconstructor',
        9,
        'pickle.loads(data) is copyreg._reconstructor',
      ),
      at2,
    );
    assert.deepEqual(r, { t: 'bool', v: true });
    assert.equal((loads(at2, { extensions }) as PyGlobal).fullName, 'copyreg._reconstructor');
    const r3 = await py.eval(
      IMPORT + withExtension('copy_reg', '_reconstructor', 9, 'pickle.loads(data)'),
      at3,
    );
    assert.equal(r3.error?.type, 'ModuleNotFoundError');
    assert.equal((loads(at3, { extensions }) as PyGlobal).fullName, 'copy_reg._reconstructor');
    const seen: string[] = [];
    const marker = { found: true };
    const v = loads(at2, {
      extensions,
      findClass: (m, n) => {
        seen.push(`${m}.${n}`);
        return marker;
      },
    });
    assert.equal(v, marker);
    assert.deepEqual(seen, ['copyreg._reconstructor']);
  });

  test('ExtensionRegistry.add checks codes and conflicts as copyreg.add_extension does', async (t) => {
    if (!needPython(t)) return;
    const attempts: Array<[string, () => unknown]> = [
      ["copyreg.add_extension('m', 'n', 0)", () => new ExtensionRegistry().add('m', 'n', 0)],
      [
        "copyreg.add_extension('m', 'n', 0x80000000)",
        () => new ExtensionRegistry().add('m', 'n', 0x80000000),
      ],
      [
        "s.with_extension('m', 'n', 7, lambda: copyreg.add_extension('m', 'n', 8))",
        () => new ExtensionRegistry().add('m', 'n', 7).add('m', 'n', 8),
      ],
      [
        "s.with_extension('m', 'n', 7, lambda: copyreg.add_extension('m', 'other', 7))",
        () => new ExtensionRegistry().add('m', 'n', 7).add('m', 'other', 7),
      ],
    ];
    for (const [pyCode, js] of attempts) {
      const r = await py.eval(IMPORT + pyCode);
      assert.equal(r.error?.type, 'ValueError', pyCode);
      assert.throws(js, pyCode);
    }
    // Adding the same pair twice is allowed by both.
    const again = await py.eval(
      IMPORT + "s.with_extension('m', 'n', 7, lambda: copyreg.add_extension('m', 'n', 7))",
    );
    assert.equal(again.error, undefined);
    assert.equal(new ExtensionRegistry().add('m', 'n', 7).add('m', 'n', 7).size, 1);
    // The oracle's registry is clean again.
    const left = await pyValue("result = [k for k in copyreg._extension_registry if k[0] == 'm']");
    assert.deepEqual(fromTagged(left), []);
  });
});
