/**
 * What `closure-lens options` prints (JSON and text), led by the user's own definitions: each with its true
 * cost (counterfactual when measured, else the edge cut), the module definitions it brings in folded under
 * it, and for every store path every cause with its kind (causes.ts).
 */
import * as path from 'node:path';
import type { ClosureAnalysis } from '../analysis/closure';
import { formatBytes, renderTable } from '../../shared/format';
import { storeName } from '../../shared/storePath';
import { targetKey } from './counterfactualService';
import type { Definition, DefinitionElement, OptionAttribution } from './attribute';
import { CauseIndex, type CauseKind } from './causes';
import type { CostMethod } from './collectors';
import type { CounterfactualCost } from './counterfactual';
import { sameNameLabels } from './sameName';

/** A counterfactual cost, or why it could not be computed. */
export type CounterfactualResult = CounterfactualCost | { readonly error: string };

export interface OptionsReport {
  readonly attribution: OptionAttribution;
  readonly analysis: ClosureAnalysis;
  readonly evalMs: number;
  readonly fromCache: boolean;
  readonly counterfactuals: ReadonlyMap<number, CounterfactualResult>;
  /** Counterfactuals of single list elements, by `targetKey` (`<definition>:<element>`). */
  readonly elementCounterfactuals?: ReadonlyMap<string, CounterfactualResult>;
  /** Wall time of the counterfactual run, when one ran. */
  readonly counterfactualMs?: number;
}

/** How a removal cost is known: measured by evaluating without the definition, or estimated on the graph. */
export type RemovalCostMethod = 'counterfactual' | CostMethod;

export interface OptionsJson {
  toplevel: string;
  closureSize: number;
  evalSeconds: number;
  evalFromCache: boolean;
  /** Seconds the counterfactual run took (absent with --fast). */
  counterfactualSeconds?: number;
  definitions: {
    option: string;
    file: string;
    line: number | null;
    column: number | null;
    /** The definition is in the flake's own files. */
    inWorkspace: boolean;
    /** The option's default, matched to the closure by package name (see --defaults for exact paths). */
    fromDefault: boolean;
    /** Store paths of the closure that the definition's value carries. */
    paths: string[];
    /** The best cost known: what the closure loses without the definition. */
    removalCost: number;
    /**
     * How removalCost is known: 'counterfactual' (the configuration was evaluated without the definition and
     * the closures compared: the true cost, also of switches and of values that flow through other options),
     * 'edge-cut' (the references from the derivation built from the option's value, such as system-path, are
     * cut: exact for package lists) or 'node-removal' (no such derivation found: the paths are taken out with
     * every reference to them, so the cost may be too high).
     */
    costMethod: RemovalCostMethod;
    /** The graph estimate, when removalCost is the counterfactual one. */
    edgeCutCost?: number;
    /** Paths only this definition carries. */
    exclusivePaths: number;
    /** For an option that enables a module: the combined cost of the definitions of the declaring file(s). */
    moduleCost?: { files: string[]; bytes: number };
    /** Evaluated without the definition. */
    counterfactual?: { removedBytes: number; addedPaths: string[]; removedPaths: number } | { error: string };
    /** For a user definition: the module definitions it brings in (indices), what the ranking folds under it. */
    mechanism?: number[];
    /** For a list definition of the user's: each element, with its own place and the cost of removing just it. */
    elements?: OptionsJsonElement[];
  }[];
  /** The user's definitions, most costly first (true cost), then the module definitions by removal cost. */
  ranking: number[];
  /**
   * The rows of the user's ranking as the table shows them: each definition and each element of a list
   * definition (`element`, its position in the list), most costly first by true cost.
   */
  rows: { definition: number; element?: number; removalCost: number; costMethod: RemovalCostMethod }[];
  /** For every closure path: every definition that caused it (indices), the user's first, nearest first. */
  paths: Record<string, number[]>;
  /** Paths that share a store name, labelled by what tells them apart: `user-environment (alice)`. */
  labels: Record<string, string>;
  /**
   * The same causes with how each caused the path; for a list definition of the user's that carries it, `elements`
   * names the elements (positions in `definitions[i].elements`) through which it does.
   */
  causes: Record<
    string,
    { definition: number; kind: CauseKind; distance: number; mechanism: boolean; elements?: number[] }[]
  >;
}

export interface OptionsJsonElement {
  element: number;
  /** Its source text, e.g. `pkgs.htop`. */
  text: string;
  line: number;
  column: number;
  /** Store paths of the closure that the element carries. */
  paths: string[];
  removalCost: number;
  costMethod: RemovalCostMethod;
  counterfactual?: CounterfactualJson;
}

export type CounterfactualJson =
  | {
      removedBytes: number;
      /** Paths that come back without it, and their sizes (null: not in the store, so unknown). */
      addedPaths: string[];
      addedSizes: (number | null)[];
      removedPaths: number;
    }
  | { error: string };

function counterfactualJson(cf: CounterfactualResult): CounterfactualJson {
  if ('error' in cf) return { error: cf.error };
  return {
    removedBytes: cf.bytes,
    addedPaths: [...cf.addedPaths],
    addedSizes: cf.addedPaths.map((_, k) => cf.addedSizes?.[k] ?? null),
    removedPaths: cf.lostNodes.length,
  };
}

/** A row of the user's ranking: a definition, or one element of a list definition. */
interface UserRow {
  readonly definition: Definition;
  readonly element?: DefinitionElement;
  readonly cf: CounterfactualResult | undefined;
  readonly best: { bytes: number; method: RemovalCostMethod };
}

/** The best cost known for element k of definition `id`, and how it is known. */
function bestElementCost(
  a: OptionAttribution,
  id: number,
  k: number,
  cf: CounterfactualResult | undefined,
): { bytes: number; method: RemovalCostMethod } {
  if (cf && !('error' in cf)) return { bytes: cf.bytes, method: 'counterfactual' };
  const e = a.elementCost(id, k);
  return { bytes: e.bytes, method: a.definitions[id]!.nodes.length === 0 ? 'edge-cut' : a.costMethod(id) };
}

/** The user's definitions and each element of their list definitions, by true cost, most costly first. */
function userRows(r: OptionsReport): UserRow[] {
  const a = r.attribution;
  const rows: UserRow[] = [];
  for (const d of a.definitions) {
    if (!d.inWorkspace || d.fromDefault || d.option === '') continue;
    const cf = r.counterfactuals.get(d.id);
    rows.push({ definition: d, cf, best: bestCost(a, d.id, cf) });
    for (const e of d.elements) {
      const ecf = r.elementCounterfactuals?.get(targetKey({ definition: d.id, element: e.element }));
      rows.push({ definition: d, element: e, cf: ecf, best: bestElementCost(a, d.id, e.element, ecf) });
    }
  }
  return rows.sort(
    (x, y) =>
      y.best.bytes - x.best.bytes ||
      x.definition.id - y.definition.id ||
      (x.element?.element ?? -1) - (y.element?.element ?? -1),
  );
}

/** The measured costs among counterfactual results, by definition id (the failures left out): what CauseIndex reads. */
export function measuredCosts(results: ReadonlyMap<number, CounterfactualResult>): Map<number, CounterfactualCost> {
  const out = new Map<number, CounterfactualCost>();
  for (const [id, cf] of results) if (!('error' in cf)) out.set(id, cf);
  return out;
}

/** The best cost known for a definition, and how it is known. */
export function bestCost(
  a: OptionAttribution,
  id: number,
  cf: CounterfactualResult | undefined,
): { bytes: number; method: RemovalCostMethod } {
  if (cf && !('error' in cf)) return { bytes: cf.bytes, method: 'counterfactual' };
  // A definition that carries no store path: cutting what it carries cuts nothing.
  if (a.definitions[id]!.nodes.length === 0) return { bytes: 0, method: 'edge-cut' };
  return { bytes: a.removalCost(id), method: a.costMethod(id) };
}

/** User definitions by true cost, then module definitions that carry paths by removal cost. */
function ranking(r: OptionsReport): number[] {
  const a = r.attribution;
  const cost = (d: Definition): number => bestCost(a, d.id, r.counterfactuals.get(d.id)).bytes;
  const mine = a.definitions.filter((d) => d.inWorkspace && !d.fromDefault && d.option !== '');
  const modules = a.definitions.filter((d) => !d.inWorkspace && d.nodes.length > 0 && d.option !== '');
  const order = (xs: Definition[]): number[] => xs.sort((x, y) => cost(y) - cost(x) || x.id - y.id).map((d) => d.id);
  return [...order(mine), ...order(modules)];
}

/** The report as JSON: every definition, and for every closure path its causes. */
export function optionsJson(r: OptionsReport): OptionsJson {
  const a = r.attribution;
  const g = a.graph;
  const costs = measuredCosts(r.counterfactuals);
  const index = new CauseIndex(a, costs);
  const paths: Record<string, number[]> = {};
  const causes: OptionsJson['causes'] = {};
  for (let i = 0; i < g.nodeCount; i++) {
    if (g.isVirtual(i)) continue;
    const found = index.causesOf(i);
    if (found.length === 0) continue;
    paths[g.paths[i]!] = found.map((c) => c.definition);
    causes[g.paths[i]!] = found.map((c) => {
      const elements = c.kind === 'carries' && !c.mechanism ? index.elementsReaching(c.definition, i) : [];
      return elements.length > 0 ? { ...c, elements } : { ...c };
    });
  }
  return {
    toplevel: g.paths[g.root]!,
    closureSize: r.analysis.totalSize,
    evalSeconds: Math.round(r.evalMs) / 1000,
    evalFromCache: r.fromCache,
    ...(r.counterfactualMs !== undefined ? { counterfactualSeconds: Math.round(r.counterfactualMs) / 1000 } : {}),
    definitions: a.definitions.map((d) => {
      const mod = isModuleSwitch(d) ? a.moduleCost(d.option) : undefined;
      const cf = r.counterfactuals.get(d.id);
      const best = bestCost(a, d.id, cf);
      const cost = costs.get(d.id);
      return {
        option: d.option,
        file: d.file,
        line: d.line,
        column: d.column,
        inWorkspace: d.inWorkspace,
        fromDefault: d.fromDefault,
        paths: d.nodes.map((i) => g.paths[i]!),
        removalCost: best.bytes,
        costMethod: best.method,
        ...(best.method === 'counterfactual' ? { edgeCutCost: a.removalCost(d.id) } : {}),
        exclusivePaths: a.exclusiveNodes(d.id).length,
        ...(mod ? { moduleCost: { files: [...mod.files], bytes: mod.bytes } } : {}),
        ...(cf ? { counterfactual: counterfactualJson(cf) } : {}),
        ...(cost ? { mechanism: index.mechanismOf(cost) } : {}),
        ...(d.elements.length > 0
          ? {
              elements: d.elements.map((e): OptionsJsonElement => {
                const ecf = r.elementCounterfactuals?.get(targetKey({ definition: d.id, element: e.element }));
                const ebest = bestElementCost(a, d.id, e.element, ecf);
                return {
                  element: e.element,
                  text: e.text,
                  line: e.line,
                  column: e.column,
                  paths: e.nodes.map((i) => g.paths[i]!),
                  removalCost: ebest.bytes,
                  costMethod: ebest.method,
                  ...(ecf ? { counterfactual: counterfactualJson(ecf) } : {}),
                };
              }),
            }
          : {}),
      };
    }),
    ranking: ranking(r),
    rows: userRows(r).map((row) => ({
      definition: row.definition.id,
      ...(row.element ? { element: row.element.element } : {}),
      removalCost: row.best.bytes,
      costMethod: row.best.method,
    })),
    paths,
    causes,
    labels: Object.fromEntries([...sameNameLabels(g, a)].map(([i, label]) => [g.paths[i]!, label])),
  };
}

/** `services.nginx.enable = true` and friends: a boolean that switches a module on. */
function isModuleSwitch(d: Definition): boolean {
  return d.type === 'bool' && d.loc[d.loc.length - 1] === 'enable' && d.nodes.length === 0;
}

/** `systemd-minimal-255.4 (+2.0 MiB), rsync-3.3 (size unknown: not built)`: what comes back without a definition. */
export function bringsBack(cf: CounterfactualCost, max = 3): string {
  const shown = cf.addedPaths.slice(0, max).map((p, k) => {
    const size = cf.addedSizes?.[k];
    return `${storeName(p)} (${size === null || size === undefined ? 'size unknown: not built' : `+${formatBytes(size)}`})`;
  });
  const more = cf.addedPaths.length > max ? ` +${cf.addedPaths.length - max} more` : '';
  return `${shown.join(', ')}${more}`;
}

export function renderOptionsText(r: OptionsReport, opts: { top: number; cwd: string }): string {
  const a = r.attribution;
  const g = a.graph;
  const costs = measuredCosts(r.counterfactuals);
  const index = new CauseIndex(a, costs);
  const where = (d: Definition): string => {
    const file = displayFile(opts.cwd, d.file);
    const at = d.line === null ? file : `${file}:${d.line}`;
    return d.fromDefault ? `${at} (default)` : at;
  };
  const labels = sameNameLabels(g, a);
  const names = (nodes: readonly number[]): string => {
    const shown = nodes.slice(0, 3).map((i) => labels.get(i) ?? g.name(i).name);
    return nodes.length > 3 ? `${shown.join(', ')} +${nodes.length - 3}` : shown.join(', ');
  };
  const modules = ranking(r)
    .map((id) => a.definitions[id]!)
    .filter((d) => !d.inWorkspace);
  const mine = userRows(r);
  const lines = [
    `${g.paths[g.root]}`,
    `closure ${formatBytes(r.analysis.totalSize)} in ${g.pathCount} paths; ${a.definitions.length} option definitions read in ${(r.evalMs / 1000).toFixed(1)} s${r.fromCache ? ' (cached)' : ''}` +
      (r.counterfactualMs !== undefined
        ? `; ${r.counterfactuals.size + (r.elementCounterfactuals?.size ?? 0)} of yours measured without them in ${(r.counterfactualMs / 1000).toFixed(1)} s`
        : ''),
    '',
  ];
  if (mine.length > 0) {
    lines.push('YOUR DEFINITIONS (and each element of your lists), by what the closure loses without them:');
    const rows = [['COST', 'OPTION', 'DEFINED AT', 'HOW']];
    for (const row of mine.slice(0, opts.top)) {
      const d = row.definition;
      const { cf, best } = row;
      const carried = row.element ? row.element.nodes : d.nodes;
      let how: string;
      if (cf && 'error' in cf) how = `not measured: ${cf.error.split('\n')[0]!.slice(0, 100)}; ${best.method} estimate`;
      else if (cf) {
        how = cf.unchanged ? 'changes nothing' : 'measured without it';
        if (cf.addedPaths.length > 0) how += `; removing it brings back ${bringsBack(cf)}`;
        const via = row.element ? [] : index.mechanismOf(cf).map((id) => a.definitions[id]!);
        if (via.length > 0) {
          const shown = via.slice(0, 3).map((m) => `${m.option} (${where(m)})`);
          how += `; via ${shown.join(', ')}${via.length > 3 ? ` +${via.length - 3}` : ''}`;
        }
      } else if (carried.length === 0) how = 'carries no store path itself; its true cost is measured without --fast';
      else how = `${best.method} estimate: carries ${names(carried)}`;
      const option = row.element ? `${d.option}: ${row.element.text}` : d.option;
      const at = row.element ? `${displayFile(opts.cwd, d.file)}:${row.element.line}:${row.element.column}` : where(d);
      rows.push([formatBytes(best.bytes), option, at, how]);
    }
    lines.push(...renderTable(rows, ['right', 'left', 'left', 'left']));
    if (mine.length > opts.top) lines.push(`… ${mine.length - opts.top} more of yours (--top N shows more)`);
    if (r.counterfactualMs === undefined)
      lines.push('(--fast: costs are graph estimates; without --fast each is measured by evaluating without it)');
    lines.push('');
  }
  const withPaths = modules.filter((d) => d.nodes.length > 0);
  if (withPaths.length > 0) {
    lines.push('MODULE DEFINITIONS (the mechanism that puts paths in the closure), by removal cost:');
    const shown = withPaths.slice(0, opts.top);
    lines.push(
      ...renderTable(
        [
          ['COST', 'OPTION', 'DEFINED AT', 'CARRIES'],
          ...shown.map((d) => [formatBytes(a.removalCost(d.id)), d.option, where(d), names(d.nodes)]),
        ],
        ['right', 'left', 'left', 'left'],
      ),
    );
    if (withPaths.length > shown.length)
      lines.push(`… ${withPaths.length - shown.length} more definitions (--top N shows more)`);
  }
  return lines.join('\n') + '\n';
}

/** A file below the working directory relative to it; a store file shortened; others as they are. */
function displayFile(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
  return shortStoreFile(file);
}

/** `/nix/store/<hash>-source/nixos/modules/x.nix` → `nixos/modules/x.nix`: the file within its source. */
function shortStoreFile(file: string): string {
  const m = /^\/nix\/store\/[0-9a-z]{32}-[^/]+\/(.*)$/.exec(file);
  return m ? m[1]! : file;
}
