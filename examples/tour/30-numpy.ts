/**
 * The tour, part 3: numpy arrays. Opt in with a registry from `pickle-ts/numpy`: arrays load
 * as `NDArray`s over typed arrays, dtypes and scalars come along, and what pickle-ts writes
 * numpy loads. With protocol 5's out-of-band buffers nothing is copied either way.
 */
import { dumps, loads, type PickleBuffer } from '../../src/index.js';
import { NDArray, datetime64ToDate, numpyRegistry } from '../../src/numpy/index.js';
import { heading, python, pythonBytes } from './helpers.js';

const registry = numpyRegistry();

heading('numpy arrays from Python');
const fromPython = pythonBytes(`
import pickle, sys
import numpy as np
sys.stdout.buffer.write(pickle.dumps({
    'weights': np.arange(6, dtype='float32').reshape(2, 3) / 4,
    'labels': np.array(['cat', 'dog', 'émeu']),
    'seen': np.array(['2024-03-10T01:30', 'NaT'], dtype='datetime64[m]'),
    'mean': np.float64(0.625),
}, protocol=5))`);
const model = (
  fromPython
    ? loads(fromPython, { registry })
    : {
        weights: NDArray.from(Float32Array.of(0, 0.25, 0.5, 0.75, 1, 1.25), [2, 3]),
        labels: NDArray.fromArray(['cat', 'dog', 'émeu'], '<U4'),
        seen: NDArray.fromArray([28500570n, -(2n ** 63n)], '<M8[m]'),
        mean: 0.625,
      }
) as { weights: NDArray<Float32Array>; labels: NDArray; seen: NDArray; mean: number };
const { weights, labels, seen, mean } = model;
console.log(weights);
console.log(
  `weights: dtype ${weights.dtype}, shape (${weights.shape.join(', ')}), data a ${weights.data.constructor.name}, ` +
    `weights.get(1, 2) = ${String(weights.get(1, 2))}`,
);
console.log(`labels: ${labels.dtype} ${JSON.stringify(labels.toArray())}`);
console.log(
  `seen: ${seen.dtype}, minutes since 1970 as bigints: ${String(seen.toArray())}; as Dates: ` +
    (seen.toArray() as bigint[])
      .map((m) => datetime64ToDate(m, seen.descr)?.toISOString() ?? 'NaT')
      .join(', '),
);
console.log(`a numpy float64 scalar loads as a plain number: ${mean}`);

heading('Arrays made in JS, for numpy');
const grid = NDArray.from(
  Float64Array.from({ length: 12 }, (_, i) => i * i),
  [3, 4],
  'F',
);
const back =
  python(
    'import pickle, sys; a = pickle.loads(sys.stdin.buffer.read()); ' +
      'print(repr(a), a.flags.f_contiguous)',
    dumps(grid, { registry, protocol: 5 }),
  ) ?? '(python3 not found)';
console.log(`numpy reads a Fortran-order grid: ${back}`);

heading('Protocol 5: out-of-band buffers, no copies');
const big = NDArray.from(new Float64Array(1_000_000).fill(0.5));
const buffers: PickleBuffer[] = [];
const pickle = dumps(big, { registry, protocol: 5, bufferCallback: (b) => void buffers.push(b) });
console.log(
  `the pickle is ${pickle.length} bytes; the 8 MB of data went out-of-band, as a view of the ` +
    `array's own memory: ${buffers[0]!.data.buffer === big.data.buffer}`,
);
const again = loads(pickle, {
  registry,
  buffers: buffers.map((b) => b.data),
}) as NDArray<Float64Array>;
console.log(
  `loaded back, the array views that same memory (nothing copied): ${again.data.buffer === big.data.buffer}`,
);
