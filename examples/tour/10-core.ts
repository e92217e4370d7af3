/**
 * The tour, part 1: the core codec. It begins as the Real Python pickle tutorial does:
 * `dogs_dict` dumped to a file named `dogs`, loaded back, compared, its type shown. Then it shows
 * what else crosses between Python and JS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import {
  Complex,
  FrozenSet,
  PyObject,
  Tuple,
  Unpickler,
  Pickler,
  dumps,
  loads,
  tuple,
} from '../../src/index.js';
import { genops } from '../../src/tools/genops.js';
import { heading, python, pythonBytes } from './helpers.js';

// 1. The tutorial: dump a dict to a file, load it back.
heading("The tutorial's dogs_dict");
const dogs_dict = { Ozzy: 3, Filou: 8, Luna: 5, Skippy: 10, Barco: 12, Balou: 9, Laika: 16 };
const filename = 'dogs';
writeFileSync(filename, dumps(dogs_dict));
const new_dict = loads(readFileSync(filename));
console.log(new_dict);
console.log(isDeepStrictEqual(new_dict, dogs_dict));
console.log(
  typeof new_dict,
  Object.getPrototypeOf(new_dict) === Object.prototype
    ? '(a plain object: a Python dict with string keys)'
    : '',
);

const fromPython = python(`import pickle; print(pickle.load(open('${filename}', 'rb')))`);
console.log(
  fromPython === undefined
    ? '(python3 not found: skipping the Python side)'
    : `Python reads the same file: ${fromPython}`,
);

// 2. Python's values, natural in JS, and back.
heading('Python values in JS');
const sample = {
  big: 2n ** 100n,
  point: tuple(1.5, -2),
  tags: new Set(['a', 'b']),
  frozen: new FrozenSet([1, 2]),
  byKey: new Map<unknown, unknown>([
    [1, 'int key'],
    [tuple(0, 0), 'tuple key'],
    [null, 'None key'],
  ]),
  raw: new Uint8Array([0, 255]),
  z: new Complex(1, -1),
};
const bytes = dumps(sample);
console.log(`${bytes.length} bytes at protocol 4; back in JS:`);
console.log(loads(bytes));
const shown = python('import pickle, sys; print(pickle.loads(sys.stdin.buffer.read()))', bytes);
if (shown !== undefined) console.log(`Python sees: ${shown}`);

// 3. Shared references and cycles survive.
heading('Sharing and cycles');
const shared = [1, 2];
const loop: unknown[] = ['loop'];
loop.push(loop);
const back = loads(dumps({ a: shared, b: shared, loop })) as {
  a: unknown;
  b: unknown;
  loop: unknown[];
};
console.log(
  'a and b are one list:',
  back.a === back.b,
  '| the list contains itself:',
  back.loop[1] === back.loop,
);

// 4. Exact mode: ints stay ints and floats stay floats, byte for byte.
heading('Exact mode');
const original = pythonBytes(
  "import pickle, sys; sys.stdout.buffer.write(pickle.dumps({'int': 3, 'float': 3.0, 'tuple': (1, 2.0)}))",
);
if (original !== undefined) {
  console.log('default mode:', loads(original));
  const exact = loads(original, { exact: true });
  console.log('exact mode:  ', exact);
  const again = dumps(exact, { exact: true });
  console.log('re-dumped bytes identical to CPython:', Buffer.compare(original, again) === 0);
} else {
  console.log(loads(dumps({ int: 3n, float: 3 }, { exact: true }), { exact: true }));
}

// 5. Unknown classes stay inert and write back as they came.
heading('Unknown classes');
const objBytes = pythonBytes(
  'import pickle, sys, ipaddress; sys.stdout.buffer.write(pickle.dumps(ipaddress.ip_address("10.0.0.1")))',
);
const address = objBytes === undefined ? undefined : loads(objBytes);
if (address instanceof PyObject) {
  console.log(`${address.className}(${address.args.join(', ')}) was never run; it is`, address);
  console.log(
    'Python reads it back as:',
    python(
      'import pickle, sys; print(repr(pickle.loads(sys.stdin.buffer.read())))',
      dumps(address),
    ),
  );
} else {
  console.log('(python3 not found: skipping)');
}

// 6. Several pickles in one stream, one memo.
heading('Several pickles in one stream');
const p = new Pickler();
const first = p.dump(['x', 'y']);
const second = p.dump(['x', 'y']); // 'x' and 'y' come from the memo this time
const stream = new Uint8Array([...first, ...second]);
const u = new Unpickler(stream);
while (!u.atEnd) console.log(`at byte ${u.position}:`, u.load());

// 7. What is inside: the opcodes.
heading('Opcodes of a small pickle');
for (const { pos, opcode, arg } of genops(dumps(tuple<unknown>('a', 1), { protocol: 2 }))) {
  console.log(
    `${String(pos).padStart(3)}: ${opcode.name.padEnd(16)} ${arg === undefined ? '' : JSON.stringify(typeof arg === 'bigint' ? String(arg) : arg)}`,
  );
}
console.log(
  `\nA Tuple is an array too: ${Array.isArray(tuple(1, 2)) && tuple(1, 2) instanceof Tuple}`,
);
