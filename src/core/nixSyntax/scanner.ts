/* eslint-disable max-lines -- one recursive-descent reader; see the header */
/**
 * Finds the attribute paths that a NixOS-style module file defines, with their lines.
 *
 * Nix's module system reports which *file* defined an option (definitionsWithLocations), never the line.
 * This scanner reads the file's structure: nested sets (`a = { b.c = …; }`), `rec`, `let … in`, `with`,
 * `assert`, function headers, strings with interpolation, comments, `inherit`, `imports`, and the
 * property functions of the module system (mkIf, mkMerge, mkDefault, mkForce, mkOverride, mkBefore,
 * mkAfter, mkOrder, optionalAttrs, `//`), and reports each binding's full path below `config`.
 * It is tolerant: syntax it does not understand is skipped, never thrown.
 *
 * One file past 500 lines because it is one thing: a recursive-descent reader of Nix expressions whose
 * productions (sets, let, with, functions, property functions) call each other over one token cursor.
 */
import { tokenize, type Token } from './lexer';

export type BindingKind = 'definition' | 'declaration';

export interface ScannedBinding {
  /** Full attribute path, e.g. ['services', 'nginx', 'enable'], without a leading `config`/`options`. */
  readonly path: readonly string[];
  readonly kind: BindingKind;
  /** 1-based line and column of the binding's first attribute name. */
  readonly line: number;
  readonly column: number;
  /** Source offsets of the whole binding (`a.b = …;`) and of its value expression. */
  readonly start: number;
  readonly end: number;
  readonly valueStart: number;
  readonly valueEnd: number;
  /** True when the value is a set that the scanner descended into (its own bindings are reported too). */
  readonly nested: boolean;
  /** For list values (possibly after `with x;`): each element's text and range, e.g. the packages. */
  readonly elements: readonly ListElement[];
  /**
   * For a value `mkMerge [ a b … ]`: each part's text and range. The module system makes each part a
   * definition of its own (definitionsWithLocations lists them in this order), so each gets its own line.
   */
  readonly parts: readonly ListElement[];
  /** `inherit` bindings. */
  readonly inherited: boolean;
}

export interface ListElement {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
  /** For a part of `mkMerge [ … ]` that is a list: its elements (each a row of its own, like a binding's). */
  readonly elements?: readonly ListElement[];
}

export interface ScannedImport {
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

export interface ScanResult {
  readonly bindings: readonly ScannedBinding[];
  readonly imports: readonly ScannedImport[];
  /** True when the module body is a set with `config`/`options` (structured), false for shorthand. */
  readonly structured: boolean;
}

/** Functions whose last argument is config content (and mkMerge, whose argument is a list of contents). */
const PROPERTY_FUNCTIONS: Record<string, number> = {
  mkIf: 2,
  mkMerge: 1,
  mkDefault: 1,
  mkForce: 1,
  mkOverride: 2,
  mkOptionDefault: 1,
  mkBefore: 1,
  mkAfter: 1,
  mkOrder: 2,
  mkVMOverride: 1,
  mkImageMediaOverride: 1,
  optionalAttrs: 2,
};

/** Top-level module attributes that are not option definitions. */
const MODULE_META = new Set(['imports', '_file', 'key', 'disabledModules', 'meta', '_class', 'freeformType']);

export function scanNixFile(src: string): ScanResult {
  return new Scanner(tokenize(src)).scanModule();
}

class Scanner {
  private readonly bindings: ScannedBinding[] = [];
  private readonly imports: ScannedImport[] = [];

  constructor(private readonly t: Token[]) {}

  scanModule(): ScanResult {
    // The module is a set, or property functions around sets (`lib.mkMerge [ { … } { … } ]`).
    let bodies = this.contentSets(this.skipHeaders(0), this.t.length);
    if (bodies.length === 0) {
      const body = this.moduleBody(0, this.t.length);
      bodies = body ? [body] : [];
    }
    let structured = false;
    for (const body of bodies) {
      const names = this.topLevelNames(body.open + 1, body.close);
      const isStructured = names.has('config') || names.has('options');
      structured ||= isStructured;
      this.bindingsOf(body.open + 1, body.close, [], isStructured ? 'module-structured' : 'module-shorthand');
    }
    const sorted = [...this.bindings].sort((a, b) => a.start - b.start);
    return { bindings: sorted, imports: this.imports, structured };
  }

  /** Finds the module's attribute set: after function headers, `let … in`, `with …;`, `assert …;`. */
  private moduleBody(from: number, to: number): { open: number; close: number } | null {
    let i = this.skipPrelude(from, to);
    while (i < to) {
      const tok = this.t[i]!;
      if (tok.text === '(') {
        const close = this.matching(i);
        const inner = this.moduleBody(i + 1, close);
        if (inner) return inner;
        i = close + 1;
        continue;
      }
      if (tok.text === 'rec' && this.t[i + 1]?.text === '{') i++;
      if (this.t[i]?.text === '{') {
        const close = this.matching(i);
        // A `{ … }:` is a function's argument pattern, not the body.
        if (this.t[close + 1]?.text === ':' || (this.t[close + 1]?.text === '@' && this.t[close + 3]?.text === ':')) {
          i = this.skipPrelude(close + 1, to);
          continue;
        }
        return { open: i, close };
      }
      i++;
    }
    return null;
  }

  /** Skips function headers with argument patterns (`{ pkgs, ... }:`, `args@{ … }:`) and the prelude. */
  private skipHeaders(i: number): number {
    for (;;) {
      const j = this.skipPrelude(i, this.t.length);
      if (this.t[j]?.text === '{') {
        const close = this.matching(j);
        const next = this.t[close + 1]?.text;
        if (next === ':') {
          i = close + 2;
          continue;
        }
        if (next === '@' && this.t[close + 3]?.text === ':') {
          i = close + 4;
          continue;
        }
      }
      return j;
    }
  }

  /** Skips `x:`, `x@{…}:`, `{…}:`, `let … in`, `with e;`, `assert e;` at position i. */
  private skipPrelude(i: number, to: number): number {
    for (;;) {
      const tok = this.t[i];
      if (!tok || i >= to) return i;
      if (tok.text === ':' || tok.text === '@') {
        i++;
      } else if (tok.kind === 'id' && (this.t[i + 1]?.text === ':' || this.t[i + 1]?.text === '@')) {
        i += 2;
      } else if (tok.text === 'let') {
        i = this.skipLet(i);
      } else if (tok.text === 'with' || tok.text === 'assert') {
        i = this.skipExpression(i + 1, to) + 1;
      } else {
        return i;
      }
    }
  }

  /** From a `let`, returns the index after its matching `in`. */
  private skipLet(i: number): number {
    let depth = 0;
    for (let j = i; j < this.t.length; j++) {
      const s = this.t[j]!.text;
      if (this.t[j]!.kind !== 'op' && this.t[j]!.kind !== 'id' && this.t[j]!.kind !== 'interp-open') continue;
      if (s === '{' || s === '[' || s === '(' || this.t[j]!.kind === 'interp-open') j = this.matching(j);
      else if (s === 'let') depth++;
      else if (s === 'in') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return this.t.length;
  }

  /** Index of the bracket matching the opener at i (or the last token). */
  private matching(i: number): number {
    let depth = 0;
    for (let j = i; j < this.t.length; j++) {
      const tok = this.t[j]!;
      if (tok.kind === 'op' || tok.kind === 'interp-open') {
        const s = tok.text;
        if (s === '{' || s === '[' || s === '(' || s === '${') depth++;
        else if (s === '}' || s === ']' || s === ')') {
          depth--;
          if (depth === 0) return j;
        }
      }
    }
    return this.t.length - 1;
  }

  /** Returns the index of the `;` that ends the expression starting at i (or `to`/a closing bracket). */
  private skipExpression(i: number, to: number): number {
    let pending = 0; // `with`/`assert` inside the expression own the next `;`
    let lets = 0;
    for (let j = i; j < to; j++) {
      const tok = this.t[j]!;
      if (tok.kind === 'string' || tok.kind === 'path' || tok.kind === 'number' || tok.kind === 'uri') continue;
      const s = tok.text;
      if (tok.kind === 'interp-open' || s === '{' || s === '[' || s === '(') j = this.matching(j);
      else if (s === '}' || s === ']' || s === ')') return j;
      else if (tok.kind === 'id' && (s === 'with' || s === 'assert')) pending++;
      else if (tok.kind === 'id' && s === 'let') lets++;
      else if (tok.kind === 'id' && s === 'in' && lets > 0) lets--;
      else if (s === ';') {
        if (lets > 0) continue;
        if (pending > 0) pending--;
        else return j;
      }
    }
    return to;
  }

  private topLevelNames(from: number, to: number): Set<string> {
    const names = new Set<string>();
    let i = from;
    while (i < to) {
      const tok = this.t[i]!;
      if (tok.text === 'inherit') {
        i = this.skipExpression(i, to) + 1;
        continue;
      }
      const name = this.attrName(i);
      if (name !== null) names.add(name);
      i = this.skipExpression(i, to) + 1;
    }
    return names;
  }

  private attrName(i: number): string | null {
    const tok = this.t[i];
    if (!tok) return null;
    if (tok.kind === 'id') return tok.text;
    if (tok.kind === 'string') return tok.value;
    return null;
  }

  /**
   * Reads the bindings of a set body [from, to). `mode` says what the names mean: at the module's top
   * level, `config`/`options` are stripped (structured) and meta attributes are skipped.
   */
  private bindingsOf(
    from: number,
    to: number,
    prefix: readonly string[],
    mode: 'module-structured' | 'module-shorthand' | 'definition' | 'declaration',
  ): void {
    let i = from;
    while (i < to) {
      const first = this.t[i]!;
      if (first.text === 'inherit') {
        const end = this.skipExpression(i, to);
        this.inheritBindings(i + 1, end, prefix, mode);
        i = end + 1;
        continue;
      }
      // Attribute path up to `=`.
      const path: string[] = [];
      let j = i;
      let dynamic = false;
      while (j < to && this.t[j]!.text !== '=') {
        const tok = this.t[j]!;
        if (tok.kind === 'interp-open') {
          dynamic = true;
          j = this.matching(j) + 1;
          continue;
        }
        if (tok.text === '.') {
          j++;
          continue;
        }
        const name = this.attrName(j);
        if (name === null) {
          if (tok.kind !== 'string') break;
          dynamic = true;
        } else path.push(name);
        j++;
      }
      if (j >= to || this.t[j]!.text !== '=' || path.length === 0) {
        // Not a binding we understand: skip to the next `;`.
        i = this.skipExpression(i, to) + 1;
        continue;
      }
      const valueStart = j + 1;
      const end = this.skipExpression(valueStart, to);
      if (!dynamic) this.binding(i, path, valueStart, end, prefix, mode);
      i = end + 1;
    }
  }

  private inheritBindings(from: number, to: number, prefix: readonly string[], mode: string): void {
    let i = from;
    if (this.t[i]?.text === '(') i = this.matching(i) + 1;
    if (mode === 'module-structured' || mode === 'module-shorthand') return;
    const kind: BindingKind = mode === 'declaration' ? 'declaration' : 'definition';
    for (; i < to; i++) {
      const name = this.attrName(i);
      if (name === null) continue;
      const tok = this.t[i]!;
      this.bindings.push({
        path: [...prefix, name],
        kind,
        line: tok.line,
        column: tok.column,
        start: tok.start,
        end: tok.end,
        valueStart: tok.start,
        valueEnd: tok.end,
        nested: false,
        elements: [],
        parts: [],
        inherited: true,
      });
    }
  }

  private binding(
    first: number,
    attrPath: string[],
    valueStart: number,
    valueEnd: number,
    prefix: readonly string[],
    mode: 'module-structured' | 'module-shorthand' | 'definition' | 'declaration',
  ): void {
    let kind: BindingKind = mode === 'declaration' ? 'declaration' : 'definition';
    let path = [...prefix, ...attrPath];
    if (mode === 'module-structured' || mode === 'module-shorthand') {
      const head = attrPath[0]!;
      if (head === 'imports') {
        this.collectImports(valueStart, valueEnd);
        return;
      }
      if (MODULE_META.has(head)) return;
      if (mode === 'module-structured') {
        if (head === 'options') kind = 'declaration';
        else if (head !== 'config') return;
        path = attrPath.slice(1);
      }
    }
    const startTok = this.t[first]!;
    const endTok = this.t[Math.min(valueEnd, this.t.length - 1)]!;
    const lastValueTok = this.t[Math.max(valueStart, valueEnd - 1)]!;
    const record = (nested: boolean, elements: ListElement[]): void => {
      if (path.length === 0) return;
      this.bindings.push({
        path,
        kind,
        line: startTok.line,
        column: startTok.column,
        start: startTok.start,
        end: endTok.end,
        valueStart: this.t[valueStart]?.start ?? startTok.end,
        valueEnd: lastValueTok.end,
        nested,
        elements,
        parts: this.mergeParts(valueStart, valueEnd),
        inherited: false,
      });
    };
    // Inside an option declaration (mkOption { … }) nothing is an option path any more.
    if (kind === 'declaration' && this.isMkOptionCall(valueStart, valueEnd)) {
      record(false, []);
      return;
    }
    const sets = this.contentSets(valueStart, valueEnd);
    const childMode = kind === 'declaration' ? 'declaration' : 'definition';
    for (const s of sets) this.bindingsOf(s.open + 1, s.close, path, childMode);
    record(sets.length > 0, sets.length > 0 ? [] : this.listElements(valueStart, valueEnd));
  }

  private isMkOptionCall(from: number, to: number): boolean {
    for (let i = from; i < to; i++) {
      const tok = this.t[i]!;
      if (tok.kind === 'id' && /^(mkOption|mkEnableOption|mkPackageOption|mkSinkUndeclaredOptions)$/.test(tok.text))
        return true;
      if (tok.kind === 'op' && tok.text !== '.') return false;
    }
    return false;
  }

  /**
   * The attribute sets that an expression contributes as config content: a set literal, or the content
   * argument of mkIf/mkMerge/…, through parentheses, `let … in`, `with …;` and `//`.
   */
  private contentSets(from: number, to: number): { open: number; close: number }[] {
    let i = this.skipPrelude(from, to);
    if (i >= to) return [];
    // `a // b // c`: every operand at this level may contribute.
    const operands = this.splitTopLevel(i, to, '//');
    if (operands.length > 1) return operands.flatMap(([a, b]) => this.contentSets(a, b));
    const tok = this.t[i]!;
    if (tok.text === 'rec' && this.t[i + 1]?.text === '{') i++;
    const open = this.t[i]!;
    if (open.text === '{') {
      const close = this.matching(i);
      return close === to - 1 ? [{ open: i, close }] : [];
    }
    if (open.text === '(') {
      const close = this.matching(i);
      return close === to - 1 ? this.contentSets(i + 1, close) : [];
    }
    // A function application: head (a dotted identifier) and argument terms.
    if (open.kind !== 'id') return [];
    let j = i + 1;
    while (j + 1 < to && this.t[j]!.text === '.' && this.t[j + 1]!.kind === 'id') j += 2;
    const fn = this.t[j - 1]!.text;
    const arity = PROPERTY_FUNCTIONS[fn];
    if (arity === undefined) return [];
    const args = this.terms(j, to);
    if (args.length !== arity) return [];
    const [a, b] = args[arity - 1]!;
    if (fn === 'mkMerge') {
      if (this.t[a]!.text !== '[') return [];
      return this.terms(a + 1, b - 1).flatMap(([x, y]) => this.contentSets(x, y));
    }
    return this.contentSets(a, b);
  }

  /** Splits [from, to) into ranges of simple terms (application arguments). */
  private terms(from: number, to: number): [number, number][] {
    const out: [number, number][] = [];
    let i = from;
    while (i < to) {
      const tok = this.t[i]!;
      let end = i + 1;
      if (tok.text === '{' || tok.text === '[' || tok.text === '(' || tok.kind === 'interp-open') {
        end = this.matching(i) + 1;
      } else if (tok.text === 'rec' && this.t[i + 1]?.text === '{') {
        end = this.matching(i + 1) + 1;
      } else if (tok.kind === 'id' || tok.kind === 'string' || tok.kind === 'path') {
        // A selection chain: a.b.c, a.b or default, x."y"
        while (end + 1 < to && this.t[end]!.text === '.' && this.attrOrInterp(end + 1)) end += 2;
        if (this.t[end]?.text === 'or' && end + 1 < to) end += 2;
      } else if (tok.kind === 'op' && tok.text === '-') {
        end = i + 2;
      }
      out.push([i, end]);
      i = end;
    }
    return out;
  }

  private attrOrInterp(i: number): boolean {
    const tok = this.t[i];
    return !!tok && (tok.kind === 'id' || tok.kind === 'string');
  }

  private splitTopLevel(from: number, to: number, op: string): [number, number][] {
    const parts: [number, number][] = [];
    let start = from;
    for (let i = from; i < to; i++) {
      const tok = this.t[i]!;
      if (tok.text === '{' || tok.text === '[' || tok.text === '(' || tok.kind === 'interp-open') i = this.matching(i);
      else if (tok.kind === 'op' && tok.text === op) {
        parts.push([start, i]);
        start = i + 1;
      }
    }
    parts.push([start, to]);
    return parts;
  }

  /** The parts of `[lib.]mkMerge [ … ]` (after `with x;` and parentheses); none for any other value. */
  private mergeParts(from: number, to: number): ListElement[] {
    let s = this.skipPrelude(from, to);
    while (this.t[s]?.text === '(' && this.matching(s) === to - 1) s = this.skipPrelude(s + 1, to - 1);
    const args = this.terms(s, to);
    if (args.length !== 2 || !/(^|\.)mkMerge$/.test(this.t[args[0]![1] - 1]!.text)) return [];
    const [a] = args[1]!;
    if (this.t[a]?.text !== '[') return [];
    return this.terms(a + 1, this.matching(a)).map(([x, y]) => ({
      ...this.element(x, y),
      elements: this.listElements(x, y),
    }));
  }

  /** Elements of a list value (after `with x;`, and through `++`, lib.optional(s) and parentheses). */
  private listElements(from: number, to: number): ListElement[] {
    const i = this.skipPrelude(from, to);
    const out: ListElement[] = [];
    for (const [a, b] of this.splitTopLevel(i, to, '++')) {
      let s = this.skipPrelude(a, b);
      if (this.t[s]?.text === '(' && this.matching(s) === b - 1) {
        out.push(...this.listElements(s + 1, b - 1));
        continue;
      }
      // lib.optional cond x / lib.optionals cond [ … ]
      const args = this.terms(s, b);
      if (args.length >= 2 && /(^|\.)optionals?$/.test(this.t[args[0]![1] - 1]!.text)) {
        s = args[args.length - 1]![0];
      }
      if (this.t[s]?.text !== '[') {
        if (args.length >= 2 && /(^|\.)optional$/.test(this.t[args[0]![1] - 1]!.text)) {
          const [x, y] = args[args.length - 1]!;
          out.push(this.element(x, y));
        }
        continue;
      }
      const close = this.matching(s);
      for (const [x, y] of this.terms(s + 1, close)) out.push(this.element(x, y));
    }
    return out;
  }

  private element(a: number, b: number): ListElement {
    const first = this.t[a]!;
    const last = this.t[b - 1]!;
    return {
      text: this.t
        .slice(a, b)
        .map((x) => x.text)
        .join(''),
      start: first.start,
      end: last.end,
      line: first.line,
      column: first.column,
    };
  }

  private collectImports(from: number, to: number): void {
    const i = this.skipPrelude(from, to);
    for (const [a, b] of this.splitTopLevel(i, to, '++')) {
      const s = this.skipPrelude(a, b);
      if (this.t[s]?.text !== '[') continue;
      for (const [x, y] of this.terms(s + 1, this.matching(s))) {
        const tok = this.t[x]!;
        this.imports.push({
          text: this.t
            .slice(x, y)
            .map((k) => k.text)
            .join(''),
          line: tok.line,
          column: tok.column,
        });
      }
    }
  }
}

/**
 * The lines in a scanned file that define `option` (a full option path).
 * Exact matches first; otherwise bindings that define a part of the option (`users.users.alice = {…}`
 * for users.users.alice.packages is not a part, but `users.users = …` for users.users.alice.packages is).
 * Declarations are ignored.
 */
export function definitionsOf(scan: ScanResult, option: readonly string[]): ScannedBinding[] {
  const defs = scan.bindings.filter((b) => b.kind === 'definition');
  const exact = defs.filter((b) => samePath(b.path, option));
  if (exact.length > 0) return exact;
  // A binding above the option that holds its value as data (e.g. `users.users = { … }` via a function).
  const above = defs.filter((b) => !b.nested && b.path.length < option.length && isPrefix(b.path, option));
  if (above.length > 0) return above;
  // Bindings below it (an attrsOf option defined per attribute: environment.etc."a".source for environment.etc).
  return defs.filter((b) => b.path.length > option.length && isPrefix(option, b.path));
}

/** The innermost binding whose source range contains the offset. */
export function bindingAt(scan: ScanResult, offset: number): ScannedBinding | undefined {
  let best: ScannedBinding | undefined;
  for (const b of scan.bindings) {
    if (b.start <= offset && offset < b.end && (!best || b.end - b.start <= best.end - best.start)) best = b;
  }
  return best;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isPrefix(p: readonly string[], of: readonly string[]): boolean {
  return p.length <= of.length && p.every((x, i) => x === of[i]);
}
