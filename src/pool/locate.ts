/**
 * Where a function was defined: the URL of its module, which is what makes a function picklable
 * by reference (Python pickles a function as its module and qualified name; a JS function knows
 * neither, but V8 knows the script it came from). Asked of V8's inspector, in this thread, with
 * synchronous calls: the Runtime domain gives a function's script id, and the Debugger domain,
 * enabled only for the moment it takes to list the scripts, maps script ids to URLs.
 */
import type { Session as InspectorSession } from 'node:inspector';
import { createRequire } from 'node:module';
import { exportAt, exportedFunctions, type ExportedFunction } from './exports.js';

/** A slot on `globalThis` held for the length of one synchronous call, to name the function. */
const PROBE = Symbol.for('pickle-ts.pool.locate');
const OBJECT_GROUP = 'pickle-ts-pool-locate';

interface FunctionLocation {
  scriptId: string;
  lineNumber: number;
  columnNumber: number;
}

/** What is known of one script: its URL, and (for modules) its exported functions. */
interface Script {
  url: string;
  exports: ExportedFunction[];
  lineStarts: number[];
}

/** Where a function comes from: its module's URL, and its export name if it is exported. */
export interface Located {
  url: string;
  exportName: string | undefined;
}

interface PropertiesResult {
  internalProperties?: Array<{ name: string; value?: { value?: unknown } }>;
}

type Inspector = typeof import('node:inspector');

function loadInspector(): Inspector | undefined {
  try {
    // node:inspector is missing from Node builds without the inspector; a static import would
    // fail the whole module there.
    return createRequire(import.meta.url)('node:inspector') as Inspector;
  } catch {
    return undefined;
  }
}

/** Finds the module URL of functions. One per codec; `close()` disconnects. */
export class FunctionLocator {
  private session: InspectorSession | null | undefined;
  private readonly scripts = new Map<string, Script>();

  /** The script `fn` was defined in and its export name there, or `undefined` if unknown. */
  locate(fn: (...args: never[]) => unknown): Located | undefined {
    const session = this.connect();
    if (!session) return undefined;
    const location = this.location(session, fn);
    if (!location) return undefined;
    let script = this.scripts.get(location.scriptId);
    if (script === undefined) {
      script = this.readScript(session, location.scriptId);
      this.scripts.set(location.scriptId, script);
    }
    if (!script.url) return undefined;
    const lineStart = script.lineStarts[location.lineNumber];
    const exportName =
      lineStart === undefined
        ? undefined
        : exportAt(script.exports, lineStart + location.columnNumber);
    return { url: script.url, exportName };
  }

  close(): void {
    this.session?.disconnect();
    this.session = null;
  }

  private connect(): InspectorSession | null {
    if (this.session !== undefined) return this.session;
    const inspector = loadInspector();
    try {
      const session = inspector ? new inspector.Session() : null;
      session?.connect();
      this.session = session;
    } catch {
      this.session = null;
    }
    return this.session;
  }

  private post<T>(session: InspectorSession, method: string, params?: object): T | undefined {
    // A session connected to its own thread answers synchronously.
    let result: T | undefined;
    let failure: unknown;
    const post = session.post.bind(session) as (
      m: string,
      p: object | undefined,
      cb: (err: Error | null, r: T) => void,
    ) => void;
    post(method, params, (err, r) => {
      if (err) failure = err;
      else result = r;
    });
    if (failure) return undefined;
    return result;
  }

  private location(
    session: InspectorSession,
    fn: (...args: never[]) => unknown,
  ): FunctionLocation | undefined {
    const global = globalThis as unknown as Record<symbol, unknown>;
    global[PROBE] = fn;
    try {
      const evaluated = this.post<{ result: { objectId?: string } }>(session, 'Runtime.evaluate', {
        expression: `globalThis[Symbol.for(${JSON.stringify(PROBE.description)})]`,
        objectGroup: OBJECT_GROUP,
        silent: true,
      });
      const objectId = evaluated?.result.objectId;
      if (!objectId) return undefined;
      const props = this.post<PropertiesResult>(session, 'Runtime.getProperties', {
        objectId,
        ownProperties: true,
      });
      const loc = props?.internalProperties?.find((p) => p.name === '[[FunctionLocation]]');
      const value = loc?.value?.value as FunctionLocation | undefined;
      return value && typeof value.scriptId === 'string' ? value : undefined;
    } finally {
      delete global[PROBE];
      this.post(session, 'Runtime.releaseObjectGroup', { objectGroup: OBJECT_GROUP });
    }
  }

  /**
   * The URL and source of a script. They come from the Debugger domain, enabled for the moment
   * it takes: enabling it reports every script parsed so far (with its URL).
   */
  private readScript(session: InspectorSession, scriptId: string): Script {
    let url = '';
    const onScript = (message: { params: { scriptId: string; url: string } }) => {
      if (message.params.scriptId === scriptId) url = message.params.url;
    };
    session.on('Debugger.scriptParsed', onScript);
    let source: string | undefined;
    try {
      this.post(session, 'Debugger.enable');
      if (/^(file|data|https?):/.test(url)) {
        source = this.post<{ scriptSource: string }>(session, 'Debugger.getScriptSource', {
          scriptId,
        })?.scriptSource;
      }
      this.post(session, 'Debugger.disable');
    } finally {
      session.off('Debugger.scriptParsed', onScript);
    }
    if (source === undefined) return { url, exports: [], lineStarts: [] };
    const lineStarts = [0];
    for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1))
      lineStarts.push(i + 1);
    return { url, exports: exportedFunctions(source), lineStarts };
  }
}
