/**
 * The engine behind `pyRepr` and `show`: one loop over an explicit stack, so a value nested a
 * million deep prints without recursion. A `PrintStyle` says how one value prints: its text, or
 * its parts (text around its children). The engine walks the children, spots cycles, and lays out
 * the classes that print themselves through `[reprSymbol]`. A value reached again inside itself
 * prints as the style says (`[...]`), or again in full where Python's repr has no guard.
 *
 * A `[reprSymbol](repr)` method expects `repr(child)` to return the child's text. The engine
 * hands it a placeholder instead, cuts the method's text at the placeholders and prints the
 * children in their places from the same loop: an `OrderedDict` of `OrderedDict`s a million deep
 * prints without recursion too. A method that does more with a child's text than embed it once,
 * as it came (drops it, repeats it, cuts it, changes its case), is called again with the real
 * text: that path recurses, one level per such object. (A method that measures the text, or
 * edits it in a way that leaves the placeholder whole, measures or edits the placeholder.)
 */
import { reprSymbol } from './repr-symbol.js';

/** Where a style puts the parts of a value, in order: literal text, and children. */
export interface PrintParts {
  text(text: string): void;
  /** A value printed here, one level down. */
  child(value: unknown): void;
}

/** How a printer prints one value; the engine does the rest. */
export interface PrintStyle {
  /**
   * The text of `value`; or, when it has children to print, `undefined` after giving its parts
   * to `parts`. `level` counts the levels left above a depth limit (`Infinity` for none):
   * children print at `level - 1`. Not called for an object with a `[reprSymbol]` method, nor
   * for one reached again inside itself (unless it prints again: see `reprintsInCycle`).
   */
  layout(value: unknown, level: number, parts: PrintParts): string | undefined;
  /** The text of `value` reached again while it is being printed (`[...]`). */
  cycle(value: object): string;
  /**
   * Whether `value`, reached again while it is being printed, prints again in full: true for a
   * class whose Python repr has no recursion guard (a namedtuple). A guarded object between the
   * two (a list) then stops the cycle, as in Python; with none between, the cycle would never
   * end (Python raises RecursionError), so `cycle` gives the text. Defaults to false: every
   * object is guarded.
   */
  reprintsInCycle?(value: object): boolean;
}

/**
 * The objects being printed around the value being printed: each with the number of guarded
 * objects (see `PrintStyle.reprintsInCycle`) around it when it was entered. A nested print shares
 * it, so that cycles are seen across both.
 */
export interface PrintPath {
  /** Each object on the path, with `guards` as it was when the object was entered last. */
  readonly active: Map<object, number>;
  /** How many guarded objects are on the path. */
  guards: number;
}

/** An empty path, for a print of its own. */
export function newPrintPath(): PrintPath {
  return { active: new Map(), guards: 0 };
}

/** A class that prints itself: `repr` gives the text of the values it holds. */
export interface SelfPrinting {
  [reprSymbol](repr: (value: unknown) => string): string;
}

/** Whether `value` prints itself through `[reprSymbol]`. */
export function isSelfPrinting(value: object): value is SelfPrinting {
  return typeof (value as Partial<SelfPrinting>)[reprSymbol] === 'function';
}

/** Text gathered before a piece is yielded: large enough that yielding costs nothing. */
const CHUNK = 0xffff;

// Placeholders for children: noncharacters (which no repr prints as they are) around letters of
// both cases (so that a method that changes the case of its children's text is caught) and the
// child's number.
const START = '\ufdd0';
const END = '\ufdd1';
const placeholder = (i: number) => `${START}Ph${i}${END}`;
const PLACEHOLDER = /\ufdd0Ph(\d+)\ufdd1/g;

/**
 * On the stack, above the object whose parts are all printed and what `path.active` held for it
 * before (`undefined`, or its entry further out when it prints again inside itself).
 */
const LEAVE = Symbol('leave');
/** As `LEAVE`, for a guarded object. */
const LEAVE_GUARDED = Symbol('leave guarded');

/**
 * The text of `value` printed in `style`, piece by piece (about 64 KiB at a time). `level` is the
 * top value's (see `PrintStyle.layout`). `path` holds the objects being printed around this
 * value: a nested print shares it, so that cycles are seen.
 */
export function* printChunks(
  value: unknown,
  style: PrintStyle,
  level = Infinity,
  path: PrintPath = newPrintPath(),
): Generator<string, void, undefined> {
  const noParts: PrintParts = {
    text() {
      throw new TypeError('a print style gave parts for a primitive value');
    },
    child() {
      throw new TypeError('a print style gave parts for a primitive value');
    },
  };
  if (typeof value !== 'object' || value === null) {
    yield style.layout(value, level, noParts)!;
    return;
  }
  const { active } = path;

  // The stack holds text to print, objects to print, and `object, entry, LEAVE` over an object
  // being printed. Flat, so that a task allocates nothing. An object's level is `level` less the
  // number of objects being printed around it (`depth`): its children print one level down.
  const stack: unknown[] = [value];
  let depth = 0;
  // The parts of the value being laid out, in order; pushed onto the stack in reverse.
  const partItems: unknown[] = [];
  const partIsChild: boolean[] = [];
  let partCount = 0;
  const parts: PrintParts = {
    text(text) {
      partItems[partCount] = text;
      partIsChild[partCount++] = false;
    },
    child(value) {
      partItems[partCount] = value;
      partIsChild[partCount++] = true;
    },
  };
  /**
   * Pushes the parts of `v` (in reverse, joining text) over its leaving, and puts it on the path;
   * `entry` is what the path held for it.
   */
  const enter = (v: object, level: number, entry: number | undefined) => {
    stack.push(v, entry, enterPath(path, v, style));
    let text = '';
    for (let i = partCount - 1; i >= 0; i--) {
      const item = partItems[i];
      partItems[i] = undefined;
      if (!partIsChild[i]) text = (item as string) + text;
      else if (typeof item !== 'object' || item === null) {
        // A primitive prints as text at once: no task, and it joins the text around it (up to
        // a chunk's worth, so that a long list of them still comes out piece by piece).
        text = style.layout(item, level - 1, noParts)! + text;
        if (text.length > CHUNK) {
          stack.push(text);
          text = '';
        }
      } else {
        if (text !== '') stack.push(text);
        text = '';
        stack.push(item);
      }
    }
    if (text !== '') stack.push(text);
    partCount = 0;
    depth++;
  };

  const out: string[] = [];
  let outLength = 0;
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === LEAVE || top === LEAVE_GUARDED) {
      const entry = stack.pop() as number | undefined;
      leavePath(path, stack.pop() as object, entry, top === LEAVE_GUARDED);
      depth--;
      continue;
    }
    const text = typeof top === 'string' ? top : objectText(top as object, level - depth);
    if (text === undefined) continue;
    out.push(text);
    outLength += text.length;
    if (outLength > CHUNK) {
      yield out.join('');
      out.length = outLength = 0;
    }
  }
  yield out.join('');

  /** The text of `v`, or `undefined` once its parts are on the stack. */
  function objectText(v: object, level: number): string | undefined {
    const entry = active.get(v);
    if (entry !== undefined && !(path.guards > entry && style.reprintsInCycle?.(v))) {
      return style.cycle(v);
    }
    if (isSelfPrinting(v)) {
      if (selfParts(v, parts)) {
        enter(v, level, entry);
        return undefined;
      }
      // The method uses its children's text: give it the text, printed by a nested loop.
      partCount = 0;
      const leave = enterPath(path, v, style);
      try {
        return v[reprSymbol]((x) => printText(x, style, level - 1, path));
      } finally {
        leavePath(path, v, entry, leave === LEAVE_GUARDED);
      }
    }
    const text = style.layout(v, level, parts);
    if (text === undefined) enter(v, level, entry);
    else partCount = 0;
    return text;
  }
}

/** Puts `v` on the path; gives the marker that takes it off (see `leavePath`). */
function enterPath(path: PrintPath, v: object, style: PrintStyle): symbol {
  path.active.set(v, path.guards);
  if (style.reprintsInCycle?.(v)) return LEAVE;
  path.guards++;
  return LEAVE_GUARDED;
}

/** Takes `v` off the path: `entry` is what `path.active` held for it before it was entered. */
function leavePath(path: PrintPath, v: object, entry: number | undefined, guarded: boolean): void {
  if (guarded) path.guards--;
  if (entry === undefined) path.active.delete(v);
  else path.active.set(v, entry);
}

/** The whole text of `value` printed in `style` (see `printChunks`). */
export function printText(
  value: unknown,
  style: PrintStyle,
  level = Infinity,
  path: PrintPath = newPrintPath(),
): string {
  let text = '';
  for (const piece of printChunks(value, style, level, path)) text += piece;
  return text;
}

/**
 * Gives `parts` a self-printing object's text, cut at each `repr(child)` it asked for. False
 * (and some parts given) unless the text holds each child's placeholder exactly once, whole, and
 * nothing else of the placeholders.
 */
function selfParts(v: SelfPrinting, parts: PrintParts): boolean {
  const children: unknown[] = [];
  const text = v[reprSymbol]((child) => placeholder(children.push(child) - 1));
  if (children.length === 0) {
    parts.text(text);
    return true;
  }
  // A cut or changed placeholder leaves a stray noncharacter: count them all.
  if (count(text, START) !== children.length || count(text, END) !== children.length) {
    return false;
  }
  const seen = new Array<boolean>(children.length).fill(false);
  let at = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const i = Number(match[1]);
    if (!(i < children.length) || seen[i]) return false;
    seen[i] = true;
    parts.text(text.slice(at, match.index));
    parts.child(children[i]);
    at = match.index + match[0].length;
  }
  if (seen.includes(false)) return false;
  parts.text(text.slice(at));
  return true;
}

/** How many times the character `c` occurs in `text`. */
function count(text: string, c: string): number {
  let n = 0;
  for (let at = text.indexOf(c); at >= 0; at = text.indexOf(c, at + 1)) n++;
  return n;
}
