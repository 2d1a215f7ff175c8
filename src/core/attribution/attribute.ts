/**
 * Option attribution on a closure graph: which option definitions put each path in the closure, the
 * definition behind each why-chain, and what each definition (or each module) costs.
 *
 * A definition *introduces* the store paths its value carries (attribution.nix). A path's introducers
 * are the definitions that introduce it. Removing a definition takes out the paths only it introduces
 * (other definitions still carry the rest): the derivation built from its option's value (the option's
 * collector, collectors.ts: system-path for environment.systemPackages) no longer references them, and
 * the closure loses what the root then no longer reaches — its removal cost. A path that something else
 * still references (w3m under nixos-help) stays. Where no collector is known the paths themselves are
 * taken as removed (an upper bound; `costMethod` says which). A path that two definitions introduce
 * costs neither of them anything; the combined cost of a module's definitions (the cost of enabling it)
 * counts paths that only that module's definitions introduce.
 */
import { readFileSync } from 'node:fs';
import type { ClosureGraph } from '../../shared/graph';
import { storeName } from '../../shared/storePath';
import { EdgeCutSize, type Removal } from '../analysis/cutOff';
import { Collectors, type CostMethod } from './collectors';
import type { DeclarationPosition, OptionEvaluation } from './evaluate';
import { StoreCopyMapper } from './pathMap';
import { buildReachIndex, type ReachIndex } from './reachIndex';
import { definitionsOf, scanNixFile, type ListElement, type ScanResult } from '../nixSyntax/scanner';

export interface Definition {
  /** Index in `OptionAttribution.definitions`. */
  readonly id: number;
  readonly option: string;
  readonly loc: readonly string[];
  readonly type: string | null;
  /** Position in the option's definitionsWithLocations (identifies it for counterfactual evaluation). */
  readonly index: number;
  /** The file as Nix reported it (a store copy for flakes). */
  readonly storeFile: string;
  /** The file in the workspace when it is one of the flake's own files; the store file otherwise. */
  readonly file: string;
  /** The definition comes from the flake's own files (the user's configuration). */
  readonly inWorkspace: boolean;
  /**
   * The option's default, matched to the closure by package name only (defaults are not read in full
   * unless asked): it keeps another definition from being counted as the only one carrying such a path.
   */
  readonly fromDefault: boolean;
  /** Line of the definition in `file` (1-based), from the scanner; null when not found. */
  readonly line: number | null;
  readonly column: number | null;
  /** Graph nodes of the closure that the value carries. */
  readonly nodes: readonly number[];
  /** Store paths the value carries that are not in the closure (unused defaults, build-time only, …). */
  readonly outsidePaths: readonly string[];
  /** Derivations in string context whose outputs could not be read from the string. */
  readonly unresolvedDrvs: readonly string[];
  readonly truncated: boolean;
  /** Where the option is declared (mapped like `file`). */
  readonly declarations: readonly DeclarationPosition[];
  /**
   * For a list definition of the user's with two or more elements whose source the scanner reads element by
   * element: each element (a package of environment.systemPackages), with its own place and what it carries.
   * Empty otherwise.
   */
  readonly elements: readonly DefinitionElement[];
}

/** One element of a list definition: `pkgs.htop` in `environment.systemPackages = [ pkgs.w3m pkgs.htop ]`. */
export interface DefinitionElement {
  /** Position in the definition's list value (what a counterfactual leaves out). */
  readonly element: number;
  /** Its source text, e.g. `pkgs.htop`. */
  readonly text: string;
  readonly line: number;
  readonly column: number;
  /** Graph nodes of the closure that the element carries. */
  readonly nodes: readonly number[];
}

export interface ChainAttribution {
  /** For each node of the chain (same order), the definitions that introduce it. */
  readonly steps: readonly { node: number; definitions: readonly number[] }[];
  /** The definitions introducing the node nearest to the dependency: the cause. Empty when none. */
  readonly cause: readonly number[];
  /** The chain's node that `cause` introduces; -1 when none. */
  readonly causeNode: number;
}

export interface ModuleCost {
  /** The module files (workspace-mapped) whose definitions are counted. */
  readonly files: readonly string[];
  readonly definitions: readonly number[];
  readonly bytes: number;
  /** Nodes that only these definitions introduce. */
  readonly exclusiveNodes: readonly number[];
}

export interface AttributionInput {
  readonly graph: ClosureGraph;
  readonly evaluation: OptionEvaluation;
  /** Reads a file's text for the line scanner (default: readFileSync); undefined when unreadable. */
  readonly readFile?: (file: string) => string | undefined;
}

export class OptionAttribution {
  readonly graph: ClosureGraph;
  readonly evaluation: OptionEvaluation;
  readonly definitions: readonly Definition[];
  readonly mapper: StoreCopyMapper;
  /** introducers[node] = ids of the definitions that carry that path. */
  private readonly introducerOffsets: Int32Array;
  private readonly introducerIds: Int32Array;
  private readonly edgeCut: EdgeCutSize;
  private collectorIndex?: Collectors;
  private readonly costs: Float64Array;
  private reaching?: ReachIndex;

  constructor(input: AttributionInput) {
    const { graph, evaluation } = input;
    this.graph = graph;
    this.evaluation = evaluation;
    this.mapper = new StoreCopyMapper(evaluation.flake);
    const read = input.readFile ?? readText;
    const scans = new Map<string, ScanResult | undefined>();
    const scanOf = (file: string): ScanResult | undefined => {
      if (!scans.has(file)) {
        const text = read(file);
        scans.set(file, text === undefined ? undefined : scanNixFile(text));
      }
      return scans.get(file);
    };

    let names: Map<string, number[]> | undefined;
    const byName = (): Map<string, number[]> => {
      if (!names) {
        names = new Map();
        for (let i = 0; i < graph.nodeCount; i++) {
          const p = graph.paths[i]!;
          const name = storeName(p);
          const list = names.get(name);
          if (list) list.push(i);
          else names.set(name, [i]);
        }
      }
      return names;
    };

    const defs: Definition[] = [];
    for (const opt of evaluation.options) {
      const declarations = opt.declarations.map((d) => ({ ...d, file: this.mapper.toWorkspace(d.file).file }));
      // Several definitions of one option in one file (mkMerge parts) take that file's bindings in order.
      const seenPerFile = new Map<string, number>();
      for (const d of opt.definitions) {
        const mapped = this.mapper.toWorkspace(d.file);
        const nth = seenPerFile.get(d.file) ?? 0;
        seenPerFile.set(d.file, nth + 1);
        const sameFile = opt.definitions.filter((x) => x.file === d.file).length;
        const scan = scanOf(mapped.file);
        let line: number | null = null;
        let column: number | null = null;
        let scannedElements: readonly ListElement[] = [];
        if (scan) {
          const found = definitionsOf(scan, opt.loc);
          const b = found.length === sameFile ? found[nth] : found[0];
          // `x = mkMerge [ a b ]`: one binding, one definition per part, each on its own line.
          const part = found.length === 1 && sameFile > 1 && b?.parts.length === sameFile ? b.parts[nth] : undefined;
          if (part) {
            line = part.line;
            column = part.column;
            scannedElements = part.elements ?? [];
          } else if (b) {
            line = b.line;
            column = b.column;
            if (found.length === sameFile && b.parts.length === 0) scannedElements = b.elements;
          }
        }
        if (line === null) {
          // An option default: its definition is the declaration.
          const decl = declarations.find((x) => x.file === mapped.file && x.line !== null);
          if (decl) {
            line = decl.line;
            column = decl.column;
          }
        }
        const nodes: number[] = [];
        const outside: string[] = [];
        for (const p of d.paths) {
          const i = graph.indexOf(p);
          if (i === undefined) outside.push(p);
          else nodes.push(i);
        }
        // Elements only where the source lists exactly the value's elements (no `++ someList`, no optional that
        // is off): then the k-th scanned element is the k-th element of the value.
        const elements: DefinitionElement[] =
          mapped.inWorkspace && d.elements && d.elements.length === scannedElements.length
            ? scannedElements.map((e, k) => ({
                element: k,
                text: e.text,
                line: e.line,
                column: e.column,
                nodes: d.elements![k]!.paths.flatMap((p) => {
                  const i = graph.indexOf(p);
                  return i === undefined ? [] : [i];
                }),
              }))
            : [];
        defs.push({
          id: defs.length,
          option: opt.option,
          loc: opt.loc,
          type: opt.type,
          index: d.index,
          storeFile: d.file,
          file: mapped.file,
          inWorkspace: mapped.inWorkspace,
          line,
          column,
          nodes,
          outsidePaths: outside,
          unresolvedDrvs: d.drvs.filter((drv) => !d.paths.some((p) => sameName(p, drv))),
          truncated: d.truncated,
          declarations,
          fromDefault: false,
          elements,
        });
      }
      if (opt.defaultNames.length > 0) {
        const decl = declarations[0];
        const storeFile = opt.declarations[0]?.file ?? '<unknown-file>';
        const mapped = this.mapper.toWorkspace(storeFile);
        defs.push({
          id: defs.length,
          option: opt.option,
          loc: opt.loc,
          type: opt.type,
          index: 0,
          storeFile,
          file: mapped.file,
          inWorkspace: mapped.inWorkspace,
          line: decl?.line ?? null,
          column: decl?.column ?? null,
          nodes: opt.defaultNames.flatMap((name) => byName().get(name) ?? []),
          outsidePaths: [],
          unresolvedDrvs: [],
          truncated: false,
          declarations,
          fromDefault: true,
          elements: [],
        });
      }
    }
    this.definitions = defs;

    // CSR lists of introducers per node.
    const n = graph.nodeCount;
    const counts = new Int32Array(n + 1);
    for (const d of defs) for (const i of d.nodes) counts[i + 1]!++;
    for (let i = 0; i < n; i++) counts[i + 1]! += counts[i]!;
    const ids = new Int32Array(counts[n]!);
    const fill = counts.slice(0, n);
    for (const d of defs) for (const i of d.nodes) ids[fill[i]!++] = d.id;
    this.introducerOffsets = counts;
    this.introducerIds = ids;
    this.edgeCut = new EdgeCutSize(graph);
    this.costs = new Float64Array(defs.length).fill(-1);
  }

  /**
   * The definitions written at a line of a file (workspace path, as in `Definition.file`): what a hover
   * on that line is about. Several when mkMerge parts share a line.
   */
  definitionsAt(file: string, line: number): Definition[] {
    return this.definitions.filter((d) => d.file === file && d.line === line && !d.fromDefault);
  }

  /**
   * One package of a list definition (`environment.systemPackages = with pkgs; [ git ]`), from the
   * element's source text (`git`, `pkgs.git`, `pkgs.python3Packages.requests`): the paths of the
   * definition whose package name matches its last attribute, and what the closure loses without them.
   * Undefined when no carried path matches the name.
   */
  packageCost(id: number, elementText: string): { nodes: number[]; bytes: number } | undefined {
    const attr = elementText.replace(/\s+/g, '').split('.').pop() ?? '';
    const key = normalizePackageName(attr);
    if (key === '') return undefined;
    const d = this.definitions[id]!;
    const nodes = d.nodes.filter((i) => normalizePackageName(this.graph.name(i).pname) === key);
    if (nodes.length === 0) return undefined;
    const exclusive = nodes.filter((i) => this.introducers(i).length === 1);
    return { nodes, bytes: this.edgeCut.bytes(this.removalsOf(exclusive)) };
  }

  /**
   * Graph estimate of what element k of definition `id` costs: the paths it carries that no other definition and
   * no other element of the same list carries, cut like `removalCost`.
   */
  elementCost(id: number, k: number): { bytes: number; exclusiveNodes: number[] } {
    const d = this.definitions[id]!;
    const e = d.elements[k];
    if (!e) return { bytes: 0, exclusiveNodes: [] };
    const others = new Set(d.elements.filter((x) => x !== e).flatMap((x) => x.nodes));
    const exclusiveNodes = e.nodes.filter((i) => !others.has(i) && this.introducers(i).length === 1);
    return { bytes: this.edgeCut.bytes(this.removalsOf(exclusiveNodes)), exclusiveNodes };
  }

  /** Definitions whose values carry node i directly. */
  introducers(i: number): Int32Array {
    return this.introducerIds.subarray(this.introducerOffsets[i]!, this.introducerOffsets[i + 1]!);
  }

  /** Nodes that only definition `id` introduces. */
  exclusiveNodes(id: number): number[] {
    return this.definitions[id]!.nodes.filter((i) => this.introducers(i).length === 1);
  }

  /**
   * Bytes the closure loses without definition `id`: its option's collector no longer references the
   * paths only it carries, and whatever the root then no longer reaches goes. Memoised.
   */
  removalCost(id: number): number {
    let c = this.costs[id]!;
    if (c < 0) {
      c = this.edgeCut.bytes(this.removalsOf(this.exclusiveNodes(id)));
      this.costs[id] = c;
    }
    return c;
  }

  /** Bytes the closure loses without all of `ids` together. */
  combinedCost(ids: readonly number[]): { bytes: number; exclusiveNodes: number[] } {
    const set = new Set(ids);
    const nodes = new Set<number>();
    for (const id of set) {
      for (const i of this.definitions[id]!.nodes) {
        if (Array.from(this.introducers(i)).every((x) => set.has(x))) nodes.add(i);
      }
    }
    const exclusiveNodes = [...nodes];
    return { bytes: this.edgeCut.bytes(this.removalsOf(exclusiveNodes)), exclusiveNodes };
  }

  /**
   * How `removalCost(id)` was estimated: 'edge-cut' when every path only it carries has a known collector
   * (exact for list-like options), 'node-removal' when some has none and was taken out with all its
   * references (the cost may then be too high: something else may still reference it).
   */
  costMethod(id: number): CostMethod {
    const d = this.definitions[id]!;
    const exclusive = this.exclusiveNodes(id);
    if (exclusive.length === 0) return this.collectors().all(d.option).length > 0 ? 'edge-cut' : 'node-removal';
    return this.removalsOf(exclusive).every((r) => r.from !== null) ? 'edge-cut' : 'node-removal';
  }

  /** The derivations built from an option's value that reference what its definitions carry (collectors.ts). */
  collectorsOf(option: string): number[] {
    return this.collectors().all(option);
  }

  /** The collector through which definitions of `option` reference `node`; undefined when none is known. */
  collectorOf(option: string, node: number): number | undefined {
    return this.collectors().of(option, node);
  }

  private collectors(): Collectors {
    if (!this.collectorIndex) {
      const carried = new Map<string, number[]>();
      for (const d of this.definitions) {
        const list = carried.get(d.option);
        if (list) list.push(...d.nodes);
        else carried.set(d.option, [...d.nodes]);
      }
      this.collectorIndex = new Collectors(this.graph, carried);
    }
    return this.collectorIndex;
  }

  /**
   * Carried paths taken out of every definition that carries them: the references their options'
   * collectors make to them are cut; a path with an introducer whose option has no known collector for
   * it (or with no introducer) is removed with every reference to it.
   */
  private removalsOf(nodes: readonly number[]): Removal[] {
    const collectors = this.collectors();
    return nodes.map((node) => {
      const intro = this.introducers(node);
      if (intro.length === 0) return { node, from: null };
      const from: number[] = [];
      for (const id of intro) {
        const c = collectors.of(this.definitions[id]!.option, node);
        if (c === undefined) return { node, from: null };
        from.push(c);
      }
      return { node, from };
    });
  }

  /**
   * Every node the root no longer reaches once the given carried paths are taken out of the definitions
   * that carry them (as in `removalCost`: their collectors' references cut, or the paths removed where no
   * collector is known), ascending: what a cost is made of. `lostNodes(exclusiveNodes(id))` sums to
   * `removalCost(id)`.
   */
  lostNodes(removed: readonly number[]): number[] {
    return this.edgeCut.nodes(this.removalsOf(removed));
  }

  /**
   * The cost of the module(s) that an option's declarations name: the combined cost of every definition
   * from those files, and of every definition of an option they declare (`services.nginx.package = …`
   * only matters while the module is enabled). For `services.nginx.enable = true`, what enabling nginx costs.
   */
  moduleCost(option: string): ModuleCost | undefined {
    const decl = this.definitions.find((d) => d.option === option)?.declarations ?? this.declarationsOf(option);
    if (!decl || decl.length === 0) return undefined;
    const files = [...new Set(decl.map((d) => d.file))];
    const definitions = this.definitions
      .filter((d) => files.includes(d.file) || d.declarations.some((x) => files.includes(x.file)))
      .map((d) => d.id);
    const { bytes, exclusiveNodes } = this.combinedCost(definitions);
    return { files, definitions, bytes, exclusiveNodes };
  }

  private declarationsOf(option: string): readonly DeclarationPosition[] | undefined {
    const o = this.evaluation.options.find((x) => x.option === option);
    return o?.declarations.map((d) => ({ ...d, file: this.mapper.toWorkspace(d.file).file }));
  }

  /**
   * Definitions whose values reach node i (carry it or something that depends on it), nearest first:
   * `distance` is the number of references from the nearest path the definition carries.
   */
  reachingDefinitions(i: number): { id: number; distance: number }[] {
    const r = this.reachIndex();
    const out: { id: number; distance: number }[] = [];
    for (let k = r.offsets[i]!; k < r.offsets[i + 1]!; k++) out.push({ id: r.ids[k]!, distance: r.dist[k]! });
    return out.sort((a, b) => a.distance - b.distance || a.id - b.id);
  }

  /** The definitions behind a why-chain (root → … → dependency). */
  chainAttribution(chain: readonly number[]): ChainAttribution {
    const steps = chain.map((node) => ({ node, definitions: Array.from(this.introducers(node)) }));
    for (let k = steps.length - 1; k >= 0; k--) {
      if (steps[k]!.definitions.length > 0) return { steps, cause: steps[k]!.definitions, causeNode: steps[k]!.node };
    }
    return { steps, cause: [], causeNode: -1 };
  }

  private reachIndex(): ReachIndex {
    this.reaching ??= buildReachIndex(this.graph, this.definitions);
    return this.reaching;
  }
}

function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `/nix/store/h-name` and `/nix/store/h2-name.drv` share the derivation name. */
function sameName(path: string, drv: string): boolean {
  return drv.endsWith('.drv') && storeName(drv).slice(0, -4) === storeName(path);
}
