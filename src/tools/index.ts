/**
 * `pickle-ts/tools`: pickletools for JavaScript, and the pieces the `pickle` command is made of.
 *
 * - `genops(bytes)`: each opcode with its argument and offset (`pickletools.genops`).
 * - `dis(bytes, options)`: the text of `pickletools.dis`, its checks and errors included.
 * - `optimize(bytes)`: the bytes of `pickletools.optimize`.
 * - `show(value, options)`: Python's repr of a value, without recursion, cut to a depth.
 * - `toJson(value, options)` / `fromJson(text)`: plain JSON, and lossless tagged JSON
 *   (`losslessLoadOptions` load a pickle for it).
 *
 * @example
 * ```ts
 * import { dis, optimize } from 'pickle-ts/tools';
 * console.log(dis(optimize(bytes), { annotate: true }));
 * ```
 */
export { genops, pickleEnd, type OpcodeEvent, type GenopsOptions } from './genops.js';
export { dis, disChunks, type DisOptions, type DisMemo } from './dis.js';
export { optimize } from './optimize.js';
export { show, showChunks, DEFAULT_PALETTE, type ShowOptions, type ShowPalette } from './show.js';
export {
  toJson,
  jsonChunks,
  JsonConversionError,
  TAGGED_JSON_VERSION,
  type ToJsonOptions,
} from './json-write.js';
export { fromJson, JsonParseError } from './json-read.js';
export { PersistentId, keepPersistentIds } from './persistent.js';
export { losslessLoadOptions, losslessDumpOptions, dataOnlyFindClass } from './lossless.js';
