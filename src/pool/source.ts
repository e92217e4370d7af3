/**
 * What a function's source text needs from the scope it was written in. A function sent by
 * source is rebuilt in the worker from its text alone (as dill does for lambdas), so every name
 * it reads from outside must be a global there, or be passed in as a capture.
 *
 * acorn parses the text, eslint-scope resolves every identifier, and a small walk finds the
 * things scope analysis does not cover: `this`, `super`, `new.target` and `import.meta` taken
 * from the enclosing code.
 */
import { parse, type Node as AcornNode } from 'acorn';
import { analyze } from 'eslint-scope';
import type * as ESTree from 'estree';

/** How the text of `Function.prototype.toString` is turned back into a value. */
export type SourceKind = 'expression' | 'method';

export interface SourceAnalysis {
  /** `expression`: the text is an expression (`function`, arrow, `class`); `method`: a method. */
  kind: SourceKind;
  /** Identifiers read or written that no scope inside the function declares, sorted. */
  freeVariables: string[];
  /** Constructs that tie the function to where it was defined, as `this` in an arrow. */
  contextual: string[];
}

function parseWrapped(text: string): ESTree.Program {
  return parse(text, {
    ecmaVersion: 'latest',
    sourceType: 'module',
    allowSuperOutsideMethod: true,
    allowHashBang: false,
    ranges: true,
  }) as unknown as ESTree.Program;
}

/**
 * Parses a function's source and lists what it needs from outside. Throws a `SyntaxError` when
 * the text is not a function this module knows how to rebuild (for example a method using a
 * private field `#x`, which is only valid inside its class).
 *
 * The text is parsed inside a wrapper function, `(function () { return (TEXT); })`, so that
 * what is only valid inside a function (`new.target`, `super` in an arrow) parses and can be
 * reported; a method is wrapped in an object literal first.
 */
export function analyzeSource(source: string): SourceAnalysis {
  let program: ESTree.Program;
  let kind: SourceKind = 'expression';
  try {
    program = parseWrapped(`(function () { return (${source}\n); })`);
  } catch {
    // Method shorthand (`m(x) {}`, `async *m() {}`, `get x() {}`) only parses in an object.
    program = parseWrapped(`(function () { return ({${source}\n}); })`);
    kind = 'method';
  }
  const scopes = analyze(program, { ecmaVersion: 2022, sourceType: 'module' });
  const free = new Set<string>();
  for (const ref of scopes.globalScope?.through ?? []) free.add(ref.identifier.name);
  const wrapper = wrapperFunction(program);
  const top = topFunction(wrapper, kind);
  const contextual = contextualUses(top);
  // `arguments` that resolved to the wrapper belong to the code around an arrow function.
  const wrapperScope = scopes.acquire(wrapper);
  if (wrapperScope?.set.get('arguments')?.references.length) contextual.push('arguments');
  return { kind, freeVariables: [...free].sort(), contextual };
}

function wrapperFunction(program: ESTree.Program): ESTree.FunctionExpression {
  const stmt = program.body[0];
  if (stmt?.type !== 'ExpressionStatement' || stmt.expression.type !== 'FunctionExpression') {
    throw new SyntaxError('not a function');
  }
  return stmt.expression;
}

/** The function node the source text describes. */
function topFunction(wrapper: ESTree.FunctionExpression, kind: SourceKind): ESTree.Node {
  const ret = wrapper.body.body[0];
  if (ret?.type !== 'ReturnStatement' || !ret.argument || wrapper.body.body.length !== 1) {
    throw new SyntaxError('not a function');
  }
  const expr = ret.argument;
  if (kind === 'method') {
    if (expr.type !== 'ObjectExpression') throw new SyntaxError('not a method');
    const prop = expr.properties[0];
    if (prop?.type !== 'Property' || expr.properties.length !== 1) {
      throw new SyntaxError('not a method');
    }
    return prop.value;
  }
  return expr;
}

type Walkable = ESTree.Node | AcornNode;

function children(node: Walkable): ESTree.Node[] {
  const out: ESTree.Node[] = [];
  for (const key of Object.keys(node)) {
    if (key === 'type' || key === 'loc' || key === 'range') continue;
    const v = (node as unknown as Record<string, unknown>)[key];
    if (Array.isArray(v)) {
      for (const item of v) if (isNode(item)) out.push(item);
    } else if (isNode(v)) out.push(v);
  }
  return out;
}

function isNode(v: unknown): v is ESTree.Node {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

/**
 * The contextual constructs that refer to the code around the function:
 * `this` and `new.target` when the top function is an arrow (they belong to the enclosing
 * function), `super` anywhere its home object is the top function or outside it, and
 * `import.meta` (the defining module's) anywhere.
 */
function contextualUses(top: ESTree.Node): string[] {
  const found = new Set<string>();
  // `ownThis`: inside a non-arrow function (or class body) below the top, `this` is its own.
  // `ownSuper`: inside a method of a class or object literal below the top.
  const visit = (node: ESTree.Node, ownThis: boolean, ownSuper: boolean): void => {
    switch (node.type) {
      case 'ThisExpression':
        if (!ownThis) found.add('this');
        return;
      case 'Super':
        if (!ownSuper) found.add('super');
        return;
      case 'MetaProperty':
        if (node.meta.name === 'import') found.add('import.meta');
        else if (!ownThis) found.add('new.target');
        return;
      case 'FunctionExpression':
      case 'FunctionDeclaration':
        for (const c of children(node)) visit(c, true, ownSuper);
        return;
      case 'ClassBody':
        // Methods, fields and static blocks have their own `this` and `super`.
        for (const c of children(node)) visit(c, true, true);
        return;
      case 'Property':
        // An object literal's methods and accessors have their own home object.
        if (node.method || node.kind !== 'init') {
          visit(node.key, ownThis, ownSuper);
          visit(node.value, true, true);
          return;
        }
        for (const c of children(node)) visit(c, ownThis, ownSuper);
        return;
      default:
        for (const c of children(node)) visit(c, ownThis, ownSuper);
    }
  };
  const isArrow = top.type === 'ArrowFunctionExpression';
  // The top function's own `this` is fine unless it is an arrow; its `super` never is.
  if (top.type === 'ClassExpression') visit(top, true, false);
  else for (const c of children(top)) visit(c, !isArrow, false);
  return [...found];
}
