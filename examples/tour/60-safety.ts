/**
 * The tour, part 6: safety. The tutorial's warning — never unpickle data from an untrusted
 * source — because a pickle can make Python run anything. `scan` reads a pickle the way Python
 * would, without running it, and tells what it would import and call.
 */
import { writeFileSync } from 'node:fs';
import { dumps, loads, PyObject } from '../../src/index.js';
import { runCli } from '../../src/cli/cli.js';
import { processIO } from '../../src/cli/io.js';
import { scan } from '../../src/scan/index.js';
import { heading, pythonBytes } from './helpers.js';

heading('A pickle that runs a command when Python loads it');
// What `pickle.dumps` writes for an object whose __reduce__ returns (os.system, ('echo pwned',)).
const evil =
  pythonBytes(
    "import pickle, os, sys\nclass P:\n    def __reduce__(self): return (os.system, ('echo pwned',))\nsys.stdout.buffer.write(pickle.dumps(P(), protocol=2))",
  ) ??
  new Uint8Array([
    0x80,
    0x02,
    0x63,
    ...new TextEncoder().encode('posix\nsystem\n'),
    0x71,
    0x00,
    0x58,
    0x0a,
    0,
    0,
    0,
    ...new TextEncoder().encode('echo pwned'),
    0x71,
    0x01,
    0x85,
    0x71,
    0x02,
    0x52,
    0x71,
    0x03,
    0x2e,
  ]);
writeFileSync('evil.pkl', evil);

const report = scan(evil);
console.log(`verdict: ${report.verdict}`);
for (const f of report.findings) {
  console.log(
    `  byte ${f.offset} ${f.opcode}: ${f.kind} ${f.module}.${f.name} (${f.severity}) ${f.reason}`,
  );
}

heading('pickle-ts itself never runs it: the call loads as an inert object');
const value = loads(evil) as PyObject;
console.log(
  `loads(evil) is a ${value.constructor.name} of ${String(value.cls)} with args ${JSON.stringify(value.args)}`,
);

heading(
  'pickle scan: the verdict as an exit status (0 safe, 1 suspicious, 2 dangerous, 3 malformed)',
);
writeFileSync('dogs-safe.pkl', dumps({ Ozzy: 3, Filou: 8, born: new Date(Date.UTC(2019, 4, 1)) }));
for (const file of ['dogs-safe.pkl', 'evil.pkl']) {
  console.log(`$ pickle scan ${file}`);
  const status = await runCli(['scan', file], processIO());
  console.log(`(exit status ${status})`);
}
