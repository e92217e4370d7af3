/**
 * How a worker thread starts. Normally on the compiled `worker.js` beside this file. When the
 * program runs TypeScript through tsx (this library's own source, or the user's modules whose
 * exported functions the workers import), tsx's hooks must be registered in the worker too: on
 * the Node versions where tsx does not do that itself, the worker starts on a small module that
 * registers them and then imports the worker.
 */
import { realpathSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { WorkerEntry } from './workers.js';

/** Node versions from which tsx registers its hooks in worker threads by itself. */
function tsxRegistersInWorkers(): boolean {
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number);
  const atLeast = (m: number, p: number) => minor > m || (minor === m && patch >= p);
  if (major === 22) return atLeast(22, 3);
  if (major === 24) return atLeast(11, 1);
  return major >= 25;
}

function runsThroughTsx(): boolean {
  return (
    import.meta.url.endsWith('.ts') ||
    process.execArgv.some((arg) => /(^|[/\\@])tsx([/\\]|$)/.test(arg) || arg === 'tsx')
  );
}

function tsxApi(): string | undefined {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return undefined;
  }
}

/** The worker's entry point in this program. */
export function workerEntry(): WorkerEntry {
  const fromSource = import.meta.url.endsWith('.ts');
  const worker = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  const api = runsThroughTsx() && !tsxRegistersInWorkers() ? tsxApi() : undefined;
  if (!api) return { url: worker, options: {} };
  const code =
    `const { register } = await import(${JSON.stringify(api)});\n` +
    `register();\n` +
    `await import(${JSON.stringify(worker.href)});\n`;
  return { url: new URL(`data:text/javascript,${encodeURIComponent(code)}`), options: {} };
}

/**
 * The URL of the program's main script. Its exports are sent by source, not by reference: a
 * worker importing it would run the whole program again.
 */
export function mainScriptUrl(): string | undefined {
  const script = process.argv[1];
  if (!isMainThread || !script) return undefined;
  try {
    return pathToFileURL(realpathSync(script)).href;
  } catch {
    return undefined;
  }
}
