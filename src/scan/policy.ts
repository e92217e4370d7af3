/**
 * Judging a global: `dangerous` when the denylist names it (or its module), `safe` when the
 * allowlist names it exactly, `suspicious` otherwise — Python would import a module the scanner
 * does not know (running its top-level code) and call something it cannot vouch for.
 */
import { python3Name } from '../core/compat.js';
import { ALLOWED_GLOBALS, EVALUATED_GLOBALS } from './allowlist.js';
import {
  DANGEROUS_ATTRIBUTES,
  DANGEROUS_METHODS,
  DANGEROUS_MODULES,
  DANGEROUS_NAMES,
} from './denylist.js';
import type { GlobalSpec, Severity } from './types.js';

export interface Judgement {
  readonly severity: Severity;
  readonly reason: string;
}

/** `module:qualname` patterns (`module:*` for a whole module), parsed once. */
class NameSet {
  private readonly exact = new Set<string>();
  private readonly modules = new Set<string>();

  constructor(specs: readonly GlobalSpec[] = []) {
    for (const spec of specs) {
      const [module, name] = typeof spec === 'string' ? splitSpec(spec) : spec;
      if (name === '*') this.modules.add(module);
      else this.exact.add(`${module}\n${name}`);
    }
  }

  has(module: string, name: string): boolean {
    return this.exact.has(`${module}\n${name}`) || moduleMatches(this.modules, module);
  }
}

function splitSpec(spec: string): [string, string] {
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) {
    throw new TypeError(`a global must be written 'module:qualname' or 'module:*', not '${spec}'`);
  }
  return [spec.slice(0, colon), spec.slice(colon + 1)];
}

/** Whether `module` or one of its parent packages is in `set`. */
function moduleMatches(set: ReadonlySet<string>, module: string): boolean {
  let m = module;
  for (;;) {
    if (set.has(m)) return true;
    const dot = m.lastIndexOf('.');
    if (dot < 0) return false;
    m = m.slice(0, dot);
  }
}

function dangerousModuleReason(module: string): string | undefined {
  let m = module;
  for (;;) {
    if (Object.hasOwn(DANGEROUS_MODULES, m)) return DANGEROUS_MODULES[m];
    const dot = m.lastIndexOf('.');
    if (dot < 0) return undefined;
    m = m.slice(0, dot);
  }
}

function listed(table: Readonly<Record<string, readonly string[]>>, module: string, name: string) {
  return Object.hasOwn(table, module) && table[module]!.includes(name);
}

const DANGEROUS_MODULE_SET = new Set(Object.keys(DANGEROUS_MODULES));

/** A name is a "dunder" (`__x__`). */
function isDunder(part: string): boolean {
  return part.length > 4 && part.startsWith('__') && part.endsWith('__');
}

/** The policy the scanner judges globals with: the built-in lists plus the user's. */
export class Policy {
  private readonly userAllow: NameSet;
  private readonly userDeny: NameSet;

  constructor(options: { allow?: readonly GlobalSpec[]; deny?: readonly GlobalSpec[] } = {}) {
    this.userAllow = new NameSet(options.allow);
    this.userDeny = new NameSet(options.deny);
  }

  /** Whether calls of this global are evaluated by the scanner (getattr, ...). */
  isEvaluated(module: string, name: string): boolean {
    const [m, n] = python3Name(module, name);
    return listed(EVALUATED_GLOBALS, m, n);
  }

  /**
   * Judges `module.name` as Python would find it: under its own name and under the Python 3
   * name `_compat_pickle` maps a Python 2 name to (the worse of the two counts).
   */
  judge(module: string, name: string): Judgement {
    const own = this.judgeOne(module, name);
    const [m3, n3] = python3Name(module, name);
    if (m3 === module && n3 === name) return own;
    // A Python 2 name: Python 3 imports the mapped name; Python 2 the name itself (judged on
    // its own only when that is worse: both are the same object in the standard library).
    if (own.severity === 'dangerous') return own;
    const mapped = this.judgeOne(m3, n3);
    return mapped.severity === 'suspicious'
      ? mapped
      : {
          severity: mapped.severity,
          reason: `${mapped.reason} (Python 3 reads it as ${m3}.${n3})`,
        };
  }

  private judgeOne(module: string, name: string): Judgement {
    const parts = name.split('.');
    const attr = parts.slice(1).find((p) => DANGEROUS_ATTRIBUTES.has(p) || isDunder(p));
    if (attr !== undefined) {
      return {
        severity: 'dangerous',
        reason: `reaches the special attribute ${attr}, a way out to code and modules`,
      };
    }
    const method = parts.slice(1).find((p) => DANGEROUS_METHODS.has(p));
    if (method !== undefined) {
      return {
        severity: 'dangerous',
        reason: `reaches the method ${method}, which does I/O or runs code`,
      };
    }
    if (module === '' || !/^[A-Za-z_][\w.]*$/.test(module)) {
      return { severity: 'suspicious', reason: `'${module}' is not a module name Python imports` };
    }
    if (this.userDeny.has(module, name)) {
      return { severity: 'dangerous', reason: 'on the denylist given to the scanner' };
    }
    const first = parts[0]!;
    const nameReason =
      Object.hasOwn(DANGEROUS_NAMES, module) && Object.hasOwn(DANGEROUS_NAMES[module]!, first)
        ? DANGEROUS_NAMES[module]![first]
        : undefined;
    if (nameReason !== undefined) return { severity: 'dangerous', reason: nameReason };
    if (listed(ALLOWED_GLOBALS, module, name)) {
      return { severity: 'safe', reason: 'on the allowlist of data-only constructors' };
    }
    const moduleReason = dangerousModuleReason(module);
    if (moduleReason !== undefined) return { severity: 'dangerous', reason: moduleReason };
    if (this.userAllow.has(module, name)) {
      return { severity: 'safe', reason: 'on the allowlist given to the scanner' };
    }
    if (listed(EVALUATED_GLOBALS, module, name)) {
      return { severity: 'safe', reason: 'each call of it is judged by what it reaches' };
    }
    return {
      severity: 'suspicious',
      reason: `not on the allowlist: importing ${module} runs its code, and what ${name} does is unknown`,
    };
  }

  /** Judges a module object (what `__import__` returns) by the modules it is or contains. */
  judgeModule(module: string): Judgement {
    const reason = dangerousModuleReason(module);
    if (reason !== undefined || moduleMatches(DANGEROUS_MODULE_SET, module)) {
      return { severity: 'dangerous', reason: reason ?? 'a dangerous module' };
    }
    return {
      severity: 'suspicious',
      reason: `the module ${module} itself, not a data constructor`,
    };
  }
}

const RANKS: Readonly<Record<Severity, number>> = { safe: 0, suspicious: 1, dangerous: 2 };

/** Orders severities: safe < suspicious < dangerous. */
export function rank(severity: Severity): number {
  return RANKS[severity];
}

/** The worse of two severities. */
export function worst(a: Severity, b: Severity): Severity {
  return rank(a) >= rank(b) ? a : b;
}
