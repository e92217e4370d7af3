/**
 * A scan result as text for people: the verdict, then each finding that is not safe (every
 * finding with `all`), then the globals the pickle names, counted.
 */
import type { Finding, ScanResult } from './types.js';

export interface ReportOptions {
  /** List safe findings too. Defaults to false. */
  all?: boolean;
  /** At most this many finding lines per file (then a count of the rest). Defaults to 50. */
  maxLines?: number;
}

function where(f: Finding): string {
  const parts: string[] = [];
  if (f.section !== '') parts.push(f.section);
  if (f.pickle > 0) parts.push(`pickle ${f.pickle + 1}`);
  if (f.nested) parts.push(`in the pickle loaded at byte ${f.nested.join(' > byte ')}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function qualified(f: Finding): string {
  if (f.module === '') return f.name;
  return f.name === '' ? f.module : `${f.module}.${f.name}`;
}

/** The readable report for one input: a first line with the verdict, then details. */
export function formatScanReport(
  name: string,
  result: ScanResult,
  options: ReportOptions = {},
): string {
  const maxLines = options.maxLines ?? 50;
  const lines: string[] = [];
  const pickles = `${result.pickles} pickle${result.pickles === 1 ? '' : 's'}`;
  lines.push(`${name}: ${result.verdict} (${result.format}, ${pickles})`);
  const shown = result.findings.filter((f) => options.all === true || f.severity !== 'safe');
  const width = Math.max(0, ...shown.slice(0, maxLines).map((f) => String(f.offset).length));
  for (const f of shown.slice(0, maxLines)) {
    lines.push(
      `  byte ${String(f.offset).padStart(width)}  ${f.severity.padEnd(10)} ${f.kind} ${qualified(f)}${f.opcode ? ` [${f.opcode}]` : ''}${where(f)}: ${f.reason}`,
    );
  }
  if (shown.length > maxLines) lines.push(`  ... and ${shown.length - maxLines} more findings`);
  for (const e of result.errors) {
    const section = e.section === '' ? '' : `${e.section}: `;
    lines.push(`  malformed: ${section}${e.message}`);
  }
  const counts = new Map<string, { severity: string; n: number }>();
  for (const f of result.findings) {
    if (f.kind !== 'import') continue;
    const key = qualified(f);
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { severity: f.severity, n: 1 });
  }
  if (counts.size > 0) {
    const names = [...counts].map(
      ([k, { severity, n }]) =>
        `${k}${n > 1 ? ` x${n}` : ''}${severity === 'safe' ? '' : ` [${severity}]`}`,
    );
    lines.push(`  globals: ${names.join(', ')}`);
  }
  if (result.omittedSafeFindings > 0) {
    lines.push(`  (${result.omittedSafeFindings} more safe findings not listed)`);
  }
  return lines.join('\n') + '\n';
}
