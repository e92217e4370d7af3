/**
 * What a call in the pickle would do in Python: whom it calls (a global, a name reached through
 * `getattr` or `__import__`, a `functools.partial`, or a value the scanner cannot name), how bad
 * that is, and what it returns — so that a later call on the result is judged by where it came
 * from. Calls whose meaning depends on their arguments (getattr, type, numpy's
 * `_ufunc_reconstruct`, `_codecs.encode`, `pickle.loads`, ...) are evaluated here.
 */
import { python3Name } from '../core/compat.js';
import type { Policy, Judgement } from './policy.js';
import { worst } from './policy.js';
import type { Severity } from './types.js';
import {
  bytesOf,
  describe,
  itemsOf,
  latin1,
  stringOf,
  type GlobalValue,
  type ObjectValue,
  type Value,
} from './values.js';

/** How the machine called: the opcode, and the shape Python gives the call. */
export type CallHow = 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'INST' | 'OBJ';

/** What the scanner needs from its surroundings to judge a call. */
export interface CallHost {
  readonly policy: Policy;
  /** Scans bytes Python would unpickle (`pickle.loads`) or load as a file; its worst severity. */
  scanNested(data: Uint8Array, callOffset: number, asFile: boolean): Severity | undefined;
  /** A finding about the call or a name it reaches. */
  report(finding: {
    offset: number;
    opcode: string;
    kind: 'import' | 'call';
    module: string;
    name: string;
    severity: Severity;
    reason: string;
  }): void;
}

export interface Call {
  readonly callee: Value;
  /** The positional arguments, or `undefined` when they are not a tuple the scanner can read. */
  readonly args: readonly Value[] | undefined;
  readonly offset: number;
  readonly how: CallHow;
}

/** A global reached at run time (getattr, __import__, ...), judged as if the pickle named it. */
function reached(host: CallHost, module: string, name: string, offset: number): GlobalValue {
  const j = host.policy.judge(module, name);
  return { kind: 'global', module, name, severity: j.severity, offset, evaluated: false };
}

/** A call's result: an object made by the callee, as untrusted as the call was. */
function result(call: Call, severity: Severity): ObjectValue {
  return {
    kind: 'object',
    callee: call.callee,
    args: call.args,
    severity,
    offset: call.offset,
    items: [],
  };
}

/** Modules whose `loads` unpickles its argument. */
const LOADS_MODULES = new Set(['pickle', '_pickle', 'cPickle', 'dill', 'cloudpickle', 'numpy']);

/** `module.name` as Python 3 finds it. */
function canonical(v: GlobalValue): string {
  const [m, n] = python3Name(v.module, v.name);
  return `${m}.${n}`;
}

/** The bytes a `pickle.load(io.BytesIO(b))`-style argument holds, if constant. */
function payloadOf(arg: Value | undefined): Uint8Array | undefined {
  const direct = bytesOf(arg);
  if (direct !== undefined) return direct;
  if (arg?.kind === 'object' && arg.callee.kind === 'global') {
    const name = `${arg.callee.module}.${arg.callee.name}`;
    if (/^(_?io|cStringIO|StringIO)\.(BytesIO|StringIO)$/.test(name)) return bytesOf(arg.args?.[0]);
  }
  return undefined;
}

/**
 * Evaluates a call the scanner knows by name. Returns the finding's judgement and the result,
 * or `undefined` when the call is an ordinary one.
 */
function evaluateKnown(
  host: CallHost,
  call: Call,
  fn: GlobalValue,
  name: string,
): { judgement: Judgement; result: Value } | undefined {
  const args = call.args;
  const a0 = args?.[0];
  const a1 = args?.[1];
  switch (name) {
    case 'builtins.getattr': {
      const attr = stringOf(a1);
      if (attr === undefined) {
        return {
          judgement: {
            severity: 'dangerous',
            reason: 'getattr with a name the scanner cannot compute',
          },
          result: result(call, 'dangerous'),
        };
      }
      if (a0?.kind === 'global' && a0.module !== '') {
        const target = reached(host, a0.module, `${a0.name}.${attr}`, call.offset);
        if (a0.severity !== 'safe') {
          // An unknown global may be a module (collections._sys is sys): from there, anything.
          return {
            judgement: {
              severity: 'dangerous',
              reason: `getattr(${describe(a0)}, '${attr}'): an attribute of a global the scanner cannot vouch for (it may be a module)`,
            },
            result: { ...target, severity: worst(target.severity, 'suspicious') },
          };
        }
        return { judgement: judgementOf(host, target, 'getattr reaches'), result: target };
      }
      if (a0?.kind === 'module') {
        const target = reached(host, a0.module, attr, call.offset);
        return { judgement: judgementOf(host, target, 'getattr reaches'), result: target };
      }
      return {
        judgement: {
          severity: 'dangerous',
          reason: `getattr(${describe(a0)}, '${attr}') reaches an attribute of a value the scanner cannot name`,
        },
        result: result(call, 'dangerous'),
      };
    }
    case 'builtins.type': {
      if (args?.length === 1 && a0 !== undefined) {
        const typeName =
          a0.kind === 'const' && a0.py === 'none'
            ? 'NoneType'
            : a0.kind === 'global' && (a0.name === 'Ellipsis' || a0.name === 'NotImplemented')
              ? a0.name === 'Ellipsis'
                ? 'ellipsis'
                : 'NotImplementedType'
              : undefined;
        if (typeName !== undefined) {
          return {
            judgement: {
              severity: 'safe',
              reason: `type(${describe(a0)}) is the class ${typeName}`,
            },
            result: { ...reached(host, 'builtins', 'object', call.offset), name: typeName },
          };
        }
      }
      return {
        judgement: {
          severity: 'dangerous',
          reason:
            'type() with these arguments builds a class or reaches one the scanner cannot name',
        },
        result: result(call, 'dangerous'),
      };
    }
    case 'numpy.core._ufunc_reconstruct':
    case 'numpy._core._ufunc_reconstruct': {
      // __import__(module) then getattr(module, name): a GLOBAL in disguise.
      const module = stringOf(a0);
      const attr = stringOf(a1);
      if (module === undefined || attr === undefined) {
        return {
          judgement: {
            severity: 'dangerous',
            reason: `${name} imports a module the scanner cannot compute`,
          },
          result: result(call, 'dangerous'),
        };
      }
      const target = reached(host, module, attr, call.offset);
      host.report({
        offset: call.offset,
        opcode: call.how,
        kind: 'import',
        module,
        name: attr,
        severity: target.severity,
        reason: `imported by ${name}: ${host.policy.judge(module, attr).reason}`,
      });
      return { judgement: judgementOf(host, target, `${name} imports`), result: target };
    }
    case 'builtins.__import__':
    case 'importlib.import_module':
    case 'importlib.__import__': {
      const module = stringOf(a0);
      const fromlist = name.endsWith('__import__') ? args?.[3] : undefined;
      const wantsLeaf =
        name === 'importlib.import_module' ||
        (fromlist !== undefined && (itemsOf(fromlist)?.length ?? 0) > 0);
      const own = host.policy.judge(fn.module, fn.name);
      if (module === undefined) {
        return {
          judgement: {
            severity: 'dangerous',
            reason: `${own.reason}, with a name the scanner cannot compute`,
          },
          result: result(call, 'dangerous'),
        };
      }
      const imported = wantsLeaf ? module : module.split('.')[0]!;
      const j = host.policy.judgeModule(module);
      return {
        judgement: {
          severity: worst('dangerous', j.severity),
          reason: `${own.reason}: imports ${module}`,
        },
        result: { kind: 'module', module: imported, severity: j.severity },
      };
    }
    case 'pkgutil.resolve_name':
    case 'pydoc.locate': {
      const spec = stringOf(a0);
      const own = host.policy.judge(fn.module, fn.name);
      if (spec === undefined) {
        return {
          judgement: { severity: 'dangerous', reason: own.reason },
          result: result(call, 'dangerous'),
        };
      }
      const colon = spec.indexOf(':');
      const dot = spec.lastIndexOf('.');
      const [module, attr] =
        colon >= 0
          ? [spec.slice(0, colon), spec.slice(colon + 1)]
          : dot >= 0
            ? [spec.slice(0, dot), spec.slice(dot + 1)]
            : [spec, ''];
      const target =
        attr === ''
          ? ({
              kind: 'module',
              module,
              severity: host.policy.judgeModule(module).severity,
            } as const)
          : reached(host, module, attr, call.offset);
      return {
        judgement: { severity: 'dangerous', reason: `${own.reason}: resolves '${spec}'` },
        result: target,
      };
    }
    case '_codecs.encode':
    case 'codecs.encode': {
      const text = stringOf(a0);
      const encoding = (stringOf(a1) ?? 'utf-8').toLowerCase().replace(/[-_]/g, '');
      let bytes: Uint8Array | undefined;
      if (text !== undefined && ['latin1', 'iso88591', 'l1'].includes(encoding))
        bytes = latin1(text);
      else if (text !== undefined && ['utf8', 'ascii'].includes(encoding))
        bytes = new TextEncoder().encode(text);
      if (bytes === undefined) return undefined;
      return {
        judgement: host.policy.judge(fn.module, fn.name),
        result: { kind: 'const', py: 'bytes', value: bytes },
      };
    }
    case 'builtins.bytes':
    case 'builtins.bytearray': {
      const text = stringOf(a0);
      const bytes = text !== undefined && args?.length === 2 ? latin1(text) : bytesOf(a0);
      if (bytes === undefined) return undefined;
      return {
        judgement: host.policy.judge(fn.module, fn.name),
        result: {
          kind: 'const',
          py: name === 'builtins.bytes' ? 'bytes' : 'bytearray',
          value: bytes,
        },
      };
    }
    case 'torch.storage._load_from_bytes': {
      const data = bytesOf(a0);
      if (data === undefined) {
        return {
          judgement: {
            severity: 'dangerous',
            reason: 'torch.load of bytes the scanner cannot see (they are computed)',
          },
          result: result(call, 'dangerous'),
        };
      }
      const inner = host.scanNested(data, call.offset, true) ?? 'dangerous';
      return {
        judgement: {
          severity: inner,
          reason:
            inner === 'safe'
              ? 'torch.load of a nested checkpoint, scanned: safe'
              : `torch.load of a nested checkpoint, scanned: ${inner}`,
        },
        result: result(call, inner),
      };
    }
  }
  const [module, fname] = name.split(/\.(?=[^.]+$)/) as [string, string];
  if ((fname === 'loads' || fname === '_loads' || fname === 'load') && LOADS_MODULES.has(module)) {
    const own = host.policy.judge(fn.module, fn.name);
    const data = payloadOf(a0);
    if (data === undefined) {
      return {
        judgement: { severity: 'dangerous', reason: `${own.reason}: bytes the scanner cannot see` },
        result: result(call, 'dangerous'),
      };
    }
    const inner = host.scanNested(data, call.offset, false);
    return {
      judgement: {
        severity: 'dangerous',
        reason: `${own.reason}: a nested pickle of ${data.length} bytes${inner === undefined ? ' (too deep to scan)' : `, scanned: ${inner}`}`,
      },
      result: result(call, 'dangerous'),
    };
  }
  return undefined;
}

function judgementOf(host: CallHost, target: GlobalValue, verb: string): Judgement {
  const j = host.policy.judge(target.module, target.name);
  return { severity: j.severity, reason: `${verb} ${target.module}.${target.name}: ${j.reason}` };
}

/** Unwraps `functools.partial(f, *a)` objects: calling one calls `f(*a, *args)`. */
function unwrapPartial(call: Call): Call {
  let current = call;
  for (let i = 0; i < 100; i++) {
    const c = current.callee;
    if (c.kind !== 'object' || c.callee.kind !== 'global') return current;
    const [m, n] = python3Name(c.callee.module, c.callee.name);
    if (m !== 'functools' || n !== 'partial') return current;
    // partial pickles as partial(f) then BUILD (f, args, kwargs, dict); or partial(f, *args).
    const state = itemsOf(c.state);
    const func = state?.[0] ?? c.args?.[0];
    if (func === undefined) return current;
    const bound = state ? itemsOf(state[1]) : c.args?.slice(1);
    const args = bound && current.args ? [...bound, ...current.args] : undefined;
    current = { ...current, callee: func, args };
  }
  return current;
}

/** What calling `call.callee` does: the finding to report and the value it returns. */
export function judgeCall(
  host: CallHost,
  original: Call,
): { judgement: Judgement; module: string; name: string; result: Value } {
  const call = unwrapPartial(original);
  const callee = call.callee;
  const newobj = call.how === 'NEWOBJ' || call.how === 'NEWOBJ_EX';
  if (callee.kind === 'global') {
    const canon = canonical(callee);
    const known = newobj ? undefined : evaluateKnown(host, call, callee, canon);
    if (known !== undefined) {
      return {
        judgement: known.judgement,
        module: callee.module,
        name: callee.name,
        result: known.result,
      };
    }
    const j =
      callee.module === ''
        ? {
            severity: callee.severity,
            reason: `calls ${callee.name}, which the scanner cannot resolve`,
          }
        : host.policy.judge(callee.module, callee.name);
    const verb = newobj ? `${callee.name}.__new__` : callee.name;
    return {
      judgement: { severity: j.severity, reason: `${verb}(...): ${j.reason}` },
      module: callee.module,
      name: callee.name,
      result: result(call, j.severity === 'safe' ? 'safe' : j.severity),
    };
  }
  if (callee.kind === 'module') {
    return {
      judgement: {
        severity: worst('suspicious', callee.severity),
        reason: `calls the module ${callee.module}`,
      },
      module: callee.module,
      name: '',
      result: result(call, 'dangerous'),
    };
  }
  return {
    judgement: {
      severity: 'dangerous',
      reason: `calls ${describe(callee)}, a value the scanner cannot name: it may be anything the pickle built`,
    },
    module: '',
    name: describe(callee),
    result: result(call, 'dangerous'),
  };
}
