/**
 * What an option definition in a .nix file costs, looked up by position: the hover, the CodeLens and the
 * sidebar's "Options by cost" read it. It only reads an option attribution that exists already (computed once
 * per configuration by src/core/attribution), so a lookup is fast and never runs nix. No `vscode` import.
 *
 * Positions come from the same scanner that placed the definitions (src/core/attribution/scanner.ts), run on
 * the text as it is in the editor now: the binding under the cursor names the option, and the definition of
 * that option from that file is the one reported.
 */
import * as path from 'node:path';
import type { ClosureAnalysis } from '../analysis/closure';
import type { Definition, OptionAttribution } from './attribute';
import type { CostMethod } from './collectors';
import { tokenize } from '../nixSyntax/lexer';
import { bindingAt, type ListElement, type ScanResult, type ScannedBinding } from '../nixSyntax/scanner';

/** Where a hover (or a lens) is: a binding's name, its leaf value, or one element of its list value. */
export interface HoverSpot {
  readonly binding: ScannedBinding;
  /** The package (list element) under the cursor, when it is one. */
  readonly element?: ListElement;
  /** Source offsets of what the hover covers. */
  readonly start: number;
  readonly end: number;
}

/**
 * The spot at `offset` in a scanned file. The innermost binding around the offset counts when the offset is on
 * its attribute path, on one element of its list value, or anywhere in a value that is not a nested set (a
 * nested set's own bindings answer for themselves). Undefined elsewhere (comments, whitespace in sets, lets…).
 */
export function hoverSpotAt(src: string, scan: ScanResult, offset: number): HoverSpot | undefined {
  const b = bindingAt(scan, offset);
  if (!b) return undefined;
  if (b.inherited) return { binding: b, start: b.start, end: b.end };
  const element = b.elements.find((e) => e.start <= offset && offset < e.end);
  if (element) return { binding: b, element, start: element.start, end: element.end };
  if (offset < b.valueStart) {
    const end = nameEnd(src, b);
    return offset < end ? { binding: b, start: b.start, end } : undefined;
  }
  // A leaf value (`true`, a string, a call): on its tokens, never on the blanks or comments between them.
  // A list's blanks and comments are not its packages either.
  if (b.nested || b.elements.length > 0 || offset >= b.valueEnd) return undefined;
  return onToken(src, b.valueStart, b.valueEnd, offset)
    ? { binding: b, start: b.valueStart, end: b.valueEnd }
    : undefined;
}

/** Whether `offset` lies on a token (not a blank or a comment) of src[from, to). */
function onToken(src: string, from: number, to: number, offset: number): boolean {
  return tokenize(src.slice(from, to)).some((t) => t.start <= offset - from && offset - from < t.end);
}

/** End of a binding's attribute path: before the `=` and the blanks around it. */
function nameEnd(src: string, b: ScannedBinding): number {
  let end = b.valueStart;
  while (end > b.start && /[\s=]/.test(src[end - 1]!)) end--;
  return end;
}

/** The attribute name a list element names: `pkgs.w3m` → `w3m`, `(pkgs.python3.withPackages …)` → `python3`. */
export function elementAttrName(text: string): string | undefined {
  const head = text.replace(/^\(+/, '').split(/[\s(]/)[0] ?? '';
  if (/[/"]/.test(head)) return undefined;
  const parts = head.split('.').filter((p) => p !== '');
  // `python3.withPackages`: the package is the part before a function-looking last part.
  while (
    parts.length > 1 &&
    /^(withPackages|override|overrideAttrs|overrideDerivation|out|bin|lib|dev|man)$/.test(parts[parts.length - 1]!)
  ) {
    parts.pop();
  }
  const last = parts[parts.length - 1];
  return last && /^[A-Za-z_][\w'-]*$/.test(last) ? last.replace(/^"|"$/g, '') : undefined;
}

export type CostKind =
  /** One definition: the paths its value carries. */
  | 'definition'
  /** Several definitions below a nested set (`services.nginx = { … }`), together. */
  | 'definitions'
  /** One package in a definition's list. */
  | 'package'
  /** `…enable = true`: the definitions of the module that it switches on. */
  | 'module';

export interface OptionCost {
  readonly kind: CostKind;
  /** The configuration's title, e.g. `nixosConfigurations.demo`. */
  readonly configuration: string;
  /** The option path shown, e.g. `environment.systemPackages`. */
  readonly option: string;
  /** The definitions the cost is of (for a module: the module's definitions). */
  readonly definitions: readonly Definition[];
  /** The definition(s) under the cursor (for a module switch: the `enable` definition itself). */
  readonly at: readonly Definition[];
  /** Bytes the closure loses without it. */
  readonly bytes: number;
  /** The closure's size, for the percentage. */
  readonly closureBytes: number;
  /** Every path the closure loses without it, largest NAR first (computed on first read: one walk of the graph). */
  readonly lostPaths: readonly number[];
  /** The paths it carries (introduces) that are in the closure. */
  readonly carried: readonly number[];
  /** Other definitions that carry the same paths (why a carried path costs nothing here). */
  readonly sharedWith: readonly Definition[];
  /** For a module switch: the module's files. */
  readonly moduleFiles?: readonly string[];
  /** For a package: the element's text, and whether a path of the closure matched it. */
  readonly packageText?: string;
  readonly packageMatched?: boolean;
  /**
   * For a definition that carries paths: how its removal cost was found. 'edge-cut' is exact (the derivation that
   * collects the option's values is known); 'node-removal' is an upper bound (its paths were taken out with all
   * they reference, and something else may still keep some).
   */
  readonly method?: CostMethod;
}

/** One analysed configuration's option attribution, indexed for lookups by file. */
export class OptionCostIndex {
  private readonly byFile = new Map<string, Definition[]>();
  private readonly memo = new Map<string, OptionCost>();
  private totalBytes: number | undefined;
  private sorted: OptionCost[] | undefined;

  constructor(
    readonly configuration: string,
    readonly attribution: OptionAttribution,
    readonly analysis: ClosureAnalysis,
  ) {
    for (const d of attribution.definitions) {
      const key = path.normalize(d.file);
      const list = this.byFile.get(key);
      if (list) list.push(d);
      else this.byFile.set(key, [d]);
    }
  }

  /** The files that hold definitions (workspace files where the flake is local). */
  files(): string[] {
    return [...this.byFile.keys()];
  }

  definitionsIn(file: string): readonly Definition[] {
    return this.byFile.get(path.normalize(file)) ?? [];
  }

  /** Whether the configuration has definitions from this file: whether the file is part of it. */
  hasFile(file: string): boolean {
    return this.byFile.has(path.normalize(file));
  }

  /** The cost of what is at `spot` in `file` (scanned from the editor's text), or undefined when no definition matches. */
  costAt(file: string, spot: HoverSpot, scan: ScanResult, src: string): OptionCost | undefined {
    const defs = this.definitionsAt(file, spot.binding, scan, src);
    if (defs.length === 0) return undefined;
    if (spot.element && defs.length === 1) return this.packageCost(defs[0]!, spot.element.text);
    if (defs.length === 1) {
      const d = defs[0]!;
      return isModuleSwitch(d) ? (this.moduleSwitchCost(d) ?? this.definitionCost(d.id)) : this.definitionCost(d.id);
    }
    return this.combined(spot.binding.path.join('.'), defs);
  }

  /**
   * The definitions from `file` that a binding of the editor's text stands for: those of exactly its option
   * (the n-th binding of a path for the n-th definition, when a file defines one option several times); else,
   * for a nested set or a binding above an option, every definition below it; else the option it is part of.
   */
  definitionsAt(file: string, b: ScannedBinding, scan: ScanResult, src: string): Definition[] {
    const inFile = this.definitionsIn(file);
    if (inFile.length === 0) return [];
    const exact = inFile.filter((d) => samePath(d.loc, b.path));
    if (exact.length === 1) return exact;
    if (exact.length > 1) {
      const byLine = exact.find((d) => d.line === b.line);
      if (byLine) return [byLine];
      const same = scan.bindings.filter((x) => x.kind === 'definition' && samePath(x.path, b.path));
      const nth = same.indexOf(b);
      return [exact[nth >= 0 && nth < exact.length ? nth : 0]!];
    }
    const below = inFile.filter((d) => d.loc.length > b.path.length && isPrefix(b.path, d.loc));
    if (below.length > 0) {
      // Only those whose own binding lies inside this one (another `services.x.y = …` elsewhere in the file is not).
      const lastLine = b.line + countNewlines(src, b.start, b.end);
      const inside = below.filter((d) => d.line === null || (d.line >= b.line && d.line <= lastLine));
      return inside.length > 0 ? inside : below;
    }
    const above = inFile.filter((d) => d.loc.length < b.path.length && isPrefix(d.loc, b.path));
    return above.length > 0 ? [above.find((d) => d.line === b.line) ?? above[0]!] : [];
  }

  /** What definition `id` costs: the paths only it carries, and what only they keep in the closure. */
  definitionCost(id: number): OptionCost {
    const key = `d${id}`;
    let c = this.memo.get(key);
    if (!c) {
      const a = this.attribution;
      const d = a.definitions[id]!;
      const exclusive = a.exclusiveNodes(id);
      const method = d.nodes.length > 0 ? { method: a.costMethod(id) } : {};
      c = this.make(
        'definition',
        d.option,
        [d],
        [d],
        a.removalCost(id),
        () => a.lostNodes(exclusive),
        d.nodes,
        this.sharers([d], d.nodes),
        method,
      );
      this.memo.set(key, c);
    }
    return c;
  }

  /** `services.nginx.enable = true`: what the module it switches on costs (its files' definitions together). */
  moduleSwitchCost(d: Definition): OptionCost | undefined {
    const key = `m${d.id}`;
    let c = this.memo.get(key);
    if (!c) {
      const mod = this.attribution.moduleCost(d.option);
      if (!mod) return undefined;
      const defs = mod.definitions.map((id) => this.attribution.definitions[id]!);
      const carried = [...new Set(defs.flatMap((x) => x.nodes))];
      const a = this.attribution;
      c = this.make('module', d.option, defs, [d], mod.bytes, () => a.lostNodes(mod.exclusiveNodes), carried, [], {
        moduleFiles: mod.files,
      });
      this.memo.set(key, c);
    }
    return c;
  }

  /** A package in a definition's list: the closure's path of that name, and what only it keeps. */
  packageCost(d: Definition, text: string): OptionCost {
    const key = `p${d.id}\u0000${text}`;
    let c = this.memo.get(key);
    if (!c) {
      const name = elementAttrName(text);
      // The attribution matches the name to the definition's paths and costs them (src/core/attribution).
      const found = name === undefined ? undefined : this.attribution.packageCost(d.id, name);
      if (!found) {
        const whole = this.definitionCost(d.id);
        c = this.make('definition', d.option, [d], [d], whole.bytes, () => whole.lostPaths, d.nodes, whole.sharedWith, {
          packageText: text,
          packageMatched: false,
        });
      } else {
        // The lost paths: what the root no longer reaches without the ones no other definition carries.
        const a = this.attribution;
        const exclusive = found.nodes.filter((i) => a.introducers(i).length === 1);
        c = this.make(
          'package',
          d.option,
          [d],
          [d],
          found.bytes,
          () => (exclusive.length > 0 ? a.lostNodes(exclusive) : []),
          found.nodes,
          this.sharers([d], found.nodes),
          {
            packageText: text,
            packageMatched: true,
          },
        );
      }
      this.memo.set(key, c);
    }
    return c;
  }

  /** Several definitions removed together. */
  combined(option: string, defs: readonly Definition[]): OptionCost {
    const { bytes, exclusiveNodes } = this.attribution.combinedCost(defs.map((d) => d.id));
    const carried = [...new Set(defs.flatMap((d) => d.nodes))];
    const a = this.attribution;
    return this.make(
      'definitions',
      option,
      defs,
      defs,
      bytes,
      () => a.lostNodes(exclusiveNodes),
      carried,
      this.sharers(defs, carried),
    );
  }

  /**
   * Every definition with what it costs, most expensive first: the definitions that carry paths by their
   * removal cost, and module switches (`…enable = true`) by their module's cost.
   */
  byCost(): readonly OptionCost[] {
    if (this.sorted) return this.sorted;
    const out: OptionCost[] = [];
    for (const d of this.attribution.definitions) {
      if (d.option === '') continue;
      if (d.nodes.length > 0) out.push(this.definitionCost(d.id));
      else if (isModuleSwitch(d) && d.inWorkspace) {
        const m = this.moduleSwitchCost(d);
        if (m) out.push(m);
      }
    }
    this.sorted = out.sort((x, y) => y.bytes - x.bytes || x.option.localeCompare(y.option));
    return this.sorted;
  }

  /** The definitions that carry node i or something that depends on it, nearest first (why it is there). */
  broughtBy(i: number): Definition[] {
    return this.attribution.reachingDefinitions(i).map((r) => this.attribution.definitions[r.id]!);
  }

  private sharers(defs: readonly Definition[], nodes: readonly number[]): Definition[] {
    const own = new Set(defs.map((d) => d.id));
    const others = new Set<number>();
    for (const i of nodes) for (const id of this.attribution.introducers(i)) if (!own.has(id)) others.add(id);
    return [...others].map((id) => this.attribution.definitions[id]!);
  }

  private make(
    kind: CostKind,
    option: string,
    definitions: readonly Definition[],
    at: readonly Definition[],
    bytes: number,
    lost: () => readonly number[],
    carried: readonly number[],
    sharedWith: readonly Definition[],
    extra: Pick<OptionCost, 'moduleFiles' | 'packageText' | 'packageMatched' | 'method'> = {},
  ): OptionCost {
    const g = this.attribution.graph;
    let lostPaths: number[] | undefined;
    return {
      kind,
      configuration: this.configuration,
      option,
      definitions,
      at,
      bytes,
      closureBytes: (this.totalBytes ??= this.analysis.totalSize),
      // The walk is only paid for by the hover that shows the paths, not by lists sorted by cost.
      get lostPaths(): readonly number[] {
        lostPaths ??= lost()
          .filter((i) => !g.isVirtual(i))
          .sort((x, y) => g.narSize[y]! - g.narSize[x]! || x - y);
        return lostPaths;
      },
      carried,
      sharedWith,
      ...extra,
    };
  }
}

/** `services.nginx.enable = true` and friends: a boolean that switches a module on and carries no path itself. */
export function isModuleSwitch(d: Definition): boolean {
  return (
    d.loc[d.loc.length - 1] === 'enable' &&
    d.nodes.length === 0 &&
    (d.type === null || d.type === 'bool' || d.type === 'boolean')
  );
}

function countNewlines(src: string, from: number, to: number): number {
  let n = 0;
  for (let i = src.indexOf('\n', from); i >= 0 && i < to; i = src.indexOf('\n', i + 1)) n++;
  return n;
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isPrefix(p: readonly string[], of: readonly string[]): boolean {
  return p.length <= of.length && p.every((x, i) => x === of[i]);
}
