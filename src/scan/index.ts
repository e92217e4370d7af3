/**
 * `pickle-ts/scan`: tells what a pickle would do if Python loaded it — every global it imports
 * and every call it makes, with byte offsets — and gives a verdict (`safe`, `suspicious`,
 * `dangerous`, `malformed`), without running anything. Browser-safe; `scanFile` (files,
 * compression) is in `pickle-ts/scan/node`.
 *
 * @example
 * ```ts
 * import { scan } from 'pickle-ts/scan';
 * const { verdict, findings } = scan(bytes);
 * // verdict: 'dangerous'; findings[0]: { offset: 2, opcode: 'GLOBAL', kind: 'import',
 * //   module: 'os', name: 'system', severity: 'dangerous', reason: 'GLOBAL: runs commands ...' }
 * ```
 */
export { scan, verdictRank } from './scanner.js';
export { formatScanReport, type ReportOptions } from './report.js';
export { Policy, rank as severityRank, type Judgement } from './policy.js';
export { ALLOWED_GLOBALS, EVALUATED_GLOBALS } from './allowlist.js';
export {
  DANGEROUS_ATTRIBUTES,
  DANGEROUS_METHODS,
  DANGEROUS_MODULES,
  DANGEROUS_NAMES,
} from './denylist.js';
export type {
  Finding,
  FindingKind,
  GlobalSpec,
  ScanError,
  ScanOptions,
  ScanResult,
  ScanSection,
  Severity,
  Verdict,
} from './types.js';
