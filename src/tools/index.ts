/**
 * `pickle-ts/tools`: pickletools for JavaScript. So far `genops`; `dis` and `optimize` follow.
 */
export { genops, pickleEnd, type OpcodeEvent, type GenopsOptions } from './genops.js';
