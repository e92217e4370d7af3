/**
 * Which functions a module exports, read from its source as V8 holds it: a function is sent by
 * reference only if its definition is exported, which is a fact of the module's text. Reading
 * the text (rather than importing the module to compare its exports) also works for a module
 * that is still running its top-level code, which an `import()` would wait for forever.
 */
import { parse } from 'acorn';
import type * as ESTree from 'estree';

/** Where V8 may place an exported function, and its export name. */
export interface ExportedFunction {
  positions: number[];
  name: string;
  /** Whether the export name is the function's own (local) name, preferred when there are several. */
  own: boolean;
}

type FunctionNode =
  ESTree.FunctionDeclaration | ESTree.FunctionExpression | ESTree.ArrowFunctionExpression;

function asFunction(node: ESTree.Node | null | undefined): FunctionNode | undefined {
  if (!node) return undefined;
  if (
    node.type === 'FunctionDeclaration' ||
    node.type === 'FunctionExpression' ||
    node.type === 'ArrowFunctionExpression'
  ) {
    return node;
  }
  // esbuild's keepNames (tsx) writes `const f = __name(() => ..., "f")`.
  if (
    node.type === 'CallExpression' &&
    node.callee.type === 'Identifier' &&
    node.callee.name === '__name'
  ) {
    return asFunction(node.arguments[0] as ESTree.Node | undefined);
  }
  return undefined;
}

const range = (node: ESTree.Node): { start: number; end: number } =>
  node as unknown as { start: number; end: number };

/** The exported functions of a module's source; empty if it does not parse as a module. */
export function exportedFunctions(source: string): ExportedFunction[] {
  let program: ESTree.Program;
  try {
    program = parse(source, {
      ecmaVersion: 'latest',
      sourceType: 'module',
      allowHashBang: true,
      allowAwaitOutsideFunction: true,
    }) as unknown as ESTree.Program;
  } catch {
    return [];
  }
  // Top-level functions by local name, and the names each local is exported as.
  const locals = new Map<string, FunctionNode>();
  const exportedAs = new Map<string, string[]>();
  const out: ExportedFunction[] = [];
  const add = (fn: FunctionNode | undefined, name: string, local?: string) => {
    // V8 places an async arrow at its start, other functions at their parameter list.
    if (fn) {
      out.push({
        positions: [parameterList(source, fn), range(fn).start],
        name,
        own: name === local,
      });
    }
  };
  const declare = (decl: ESTree.Node | null | undefined, exported: boolean) => {
    if (!decl) return;
    if (decl.type === 'FunctionDeclaration' && decl.id) {
      locals.set(decl.id.name, decl);
      if (exported) add(decl, decl.id.name, decl.id.name);
    } else if (decl.type === 'VariableDeclaration') {
      for (const d of decl.declarations) {
        if (d.id.type !== 'Identifier') continue;
        const fn = asFunction(d.init);
        if (!fn) continue;
        locals.set(d.id.name, fn);
        if (exported) add(fn, d.id.name, d.id.name);
      }
    }
  };
  for (const stmt of program.body) {
    if (stmt.type === 'ExportNamedDeclaration') {
      declare(stmt.declaration, true);
      if (!stmt.source) {
        for (const s of stmt.specifiers) {
          if (s.local.type !== 'Identifier') continue;
          const name =
            s.exported.type === 'Identifier' ? s.exported.name : String(s.exported.value);
          exportedAs.set(s.local.name, [...(exportedAs.get(s.local.name) ?? []), name]);
        }
      }
    } else if (stmt.type === 'ExportDefaultDeclaration') {
      const d = stmt.declaration as ESTree.Node;
      if (d.type === 'Identifier')
        exportedAs.set(d.name, [...(exportedAs.get(d.name) ?? []), 'default']);
      else add(asFunction(d), 'default');
    } else {
      declare(stmt, false);
    }
  }
  for (const [local, names] of exportedAs) {
    for (const name of names) add(locals.get(local), name, local);
  }
  return out;
}

/**
 * Where V8's `[[FunctionLocation]]` points for a function: the start of its parameter list
 * (the `(`, or the lone parameter of `x => x`).
 */
function parameterList(source: string, fn: FunctionNode): number {
  const first = fn.params[0] ? range(fn.params[0]).start : range(fn.body).start;
  const from =
    fn.type === 'ArrowFunctionExpression'
      ? range(fn).start
      : fn.id
        ? range(fn.id).end
        : range(fn).start;
  const paren = source.indexOf('(', from);
  return paren >= 0 && paren < first ? paren : first;
}

/** The export name of the function V8 places at `offset`, if that function is exported. */
export function exportAt(table: readonly ExportedFunction[], offset: number): string | undefined {
  const matches = table.filter((e) => e.positions.includes(offset));
  return (matches.find((e) => e.own) ?? matches[0])?.name;
}
