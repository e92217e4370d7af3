/**
 * The tour, part 2: Python's object world. Dates, decimals and collections arrive as small JS
 * classes that convert to JS types; your own classes load as themselves once registered; and
 * Python 2's pickles load too.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Decimal,
  PyDateTime,
  PyObject,
  Registry,
  dumps,
  loads,
  pyRepr,
  type OrderedDict,
} from '../../src/index.js';
import { heading, python, pythonBytes } from './helpers.js';

heading('Dates, decimals, collections');
const fromPython = pythonBytes(`
import pickle, sys, datetime, decimal, collections, zoneinfo
sys.stdout.buffer.write(pickle.dumps({
    'when': datetime.datetime(2024, 3, 10, 1, 30, tzinfo=zoneinfo.ZoneInfo('America/New_York')),
    'price': decimal.Decimal('19.90'),
    'order': collections.OrderedDict(b=2, a=1),
}))`);
const sample =
  fromPython === undefined
    ? {
        when: PyDateTime.fromDate(new Date(Date.UTC(2024, 2, 10, 6, 30))),
        price: new Decimal('19.90'),
      }
    : (loads(fromPython) as { when: PyDateTime; price: Decimal; order: OrderedDict });
console.log(sample);
console.log(`as Python prints it: ${pyRepr(sample)}`);
console.log(
  `when, as a JS Date: ${sample.when.toDate().toISOString()}; the price keeps its zero: ${sample.price}`,
);
// A JS Date pickles as an aware UTC datetime.
console.log(
  'a JS Date in Python:',
  python(
    'import pickle, sys; print(repr(pickle.loads(sys.stdin.buffer.read())))',
    dumps(new Date(0)),
  ) ?? '(python3 not found)',
);

heading('Your own classes');
class Point {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
const registry = new Registry();
registry.register('geometry', 'Point', Point);
const bytes = dumps([new Point(3, 4)], { registry });
const [back] = loads(bytes, { registry }) as [Point];
console.log(
  `a registered class comes back as itself: ${back instanceof Point}, norm ${back.norm()}`,
);
const inert = loads(bytes) as [PyObject];
console.log('without the registration it stays inert, and nothing runs:', inert[0]);

heading('Python 2 pickles');
const py2 = readFileSync(
  fileURLToPath(new URL('../../test/fixtures/py2-stdlib/mixed.cPickle.p2.pkl', import.meta.url)),
);
console.log(
  "a Python 2.7 cPickle, with encoding 'latin1':",
  pyRepr(loads(py2, { encoding: 'latin1' })),
);
