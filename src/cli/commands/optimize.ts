/** `pickle optimize IN OUT`: `pickletools.optimize`, byte for byte. */
import { optimizeAt } from '../../tools/optimize.js';
import type { Command } from '../command.js';
import { readInput } from '../input.js';
import { openOutput } from '../output.js';
import { Progress } from '../progress.js';

export const optimize: Command = {
  name: 'optimize',
  summary: 'drop unused memo entries, as pickletools.optimize',
  args: 'IN OUT',
  description: [
    'Write IN to OUT (either may be - for standard input/output) without the PUTs no GET uses,',
    'with the memo renumbered and protocol 4+ pickles framed again: the same bytes as',
    "Python's pickletools.optimize. The result loads to the same value. A file holding several",
    'pickles is optimized pickle by pickle (each must stand alone: optimizing drops what a later',
    'pickle would read from the memo).',
  ].join('\n'),
  options: {},
  positionals: { min: 2, max: 2 },

  async run({ positionals, io }) {
    const [inPath, outPath] = positionals as [string, string];
    const progress = Progress.for(io, false);
    const input = await readInput(inPath, io, progress);
    const out = await openOutput(outPath, io, true);
    let ok = false;
    try {
      progress.phase('optimizing', input.data.length);
      let start = 0;
      do {
        const { bytes, end } = optimizeAt(input.data, start, (offset) => progress.update(offset));
        await out.write(bytes);
        start = end;
        progress.update(start);
      } while (start < input.data.length);
      ok = true;
    } finally {
      progress.finish();
      await out.close(ok);
    }
  },
};
