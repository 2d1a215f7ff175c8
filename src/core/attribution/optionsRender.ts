/**
 * What `closure-lens options` prints (JSON and text), led by the user's own definitions: each with its true
 * cost (counterfactual when measured, else the edge cut), the module definitions it brings in folded under
 * it, and for every store path every cause with its kind (causes.ts).
 */
import * as path from 'node:path';
import type { ClosureAnalysis } from '../analysis/closure';
import { formatBytes, renderTable } from '../../shared/format';
import type { Definition, OptionAttribution } from './attribute';
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
  }[];
  /** The user's definitions, most costly first (true cost), then the module definitions by removal cost. */
  ranking: number[];
  /** For every closure path: every definition that caused it (indices), the user's first, nearest first. */
  paths: Record<string, number[]>;
  /** Paths that share a store name, labelled by what tells them apart: `user-environment (alice)`. */
  labels: Record<string, string>;
  /** The same causes with how each caused the path. */
  causes: Record<string, { definition: number; kind: CauseKind; distance: number; mechanism: boolean }[]>;
}

function measured(r: OptionsReport): Map<number, CounterfactualCost> {
  const out = new Map<number, CounterfactualCost>();
  for (const [id, cf] of r.counterfactuals) if (!('error' in cf)) out.set(id, cf);
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
  const costs = measured(r);
  const index = new CauseIndex(a, costs);
  const paths: Record<string, number[]> = {};
  const causes: OptionsJson['causes'] = {};
  for (let i = 0; i < g.nodeCount; i++) {
    if (g.isVirtual(i)) continue;
    const found = index.causesOf(i);
    if (found.length === 0) continue;
    paths[g.paths[i]!] = found.map((c) => c.definition);
    causes[g.paths[i]!] = found.map((c) => ({ ...c }));
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
        ...(cf
          ? {
              counterfactual:
                'error' in cf
                  ? { error: cf.error }
                  : { removedBytes: cf.bytes, addedPaths: [...cf.addedPaths], removedPaths: cf.lostNodes.length },
            }
          : {}),
        ...(cost ? { mechanism: index.mechanismOf(cost) } : {}),
      };
    }),
    ranking: ranking(r),
    paths,
    causes,
    labels: Object.fromEntries([...sameNameLabels(g, a)].map(([i, label]) => [g.paths[i]!, label])),
  };
}

/** `services.nginx.enable = true` and friends: a boolean that switches a module on. */
function isModuleSwitch(d: Definition): boolean {
  return d.type === 'bool' && d.loc[d.loc.length - 1] === 'enable' && d.nodes.length === 0;
}

const storeName = (p: string): string => p.slice(p.lastIndexOf('/') + 34);

export function renderOptionsText(r: OptionsReport, opts: { top: number; cwd: string }): string {
  const a = r.attribution;
  const g = a.graph;
  const costs = measured(r);
  const index = new CauseIndex(a, costs);
  const where = (d: Definition): string => {
    const file = displayFile(opts.cwd, d.file);
    const at = d.line === null ? file : `${file}:${d.line}`;
    return d.fromDefault ? `${at} (default)` : at;
  };
  const labels = sameNameLabels(g, a);
  const names = (d: Definition): string => {
    const shown = d.nodes.slice(0, 3).map((i) => labels.get(i) ?? g.name(i).name);
    return d.nodes.length > 3 ? `${shown.join(', ')} +${d.nodes.length - 3}` : shown.join(', ');
  };
  const order = ranking(r);
  const mine = order.map((id) => a.definitions[id]!).filter((d) => d.inWorkspace && !d.fromDefault);
  const modules = order.map((id) => a.definitions[id]!).filter((d) => !d.inWorkspace);
  const lines = [
    `${g.paths[g.root]}`,
    `closure ${formatBytes(r.analysis.totalSize)} in ${g.pathCount} paths; ${a.definitions.length} option definitions read in ${(r.evalMs / 1000).toFixed(1)} s${r.fromCache ? ' (cached)' : ''}` +
      (r.counterfactualMs !== undefined
        ? `; ${r.counterfactuals.size} of yours measured without them in ${(r.counterfactualMs / 1000).toFixed(1)} s`
        : ''),
    '',
  ];
  if (mine.length > 0) {
    lines.push('YOUR DEFINITIONS, by what the closure loses without them:');
    const rows = [['COST', 'OPTION', 'DEFINED AT', 'HOW']];
    for (const d of mine.slice(0, opts.top)) {
      const cf = r.counterfactuals.get(d.id);
      const best = bestCost(a, d.id, cf);
      let how: string;
      if (cf && 'error' in cf) how = `not measured: ${cf.error.split('\n')[0]!.slice(0, 100)}; ${best.method} estimate`;
      else if (cf) {
        how = cf.unchanged ? 'changes nothing' : 'measured without it';
        if (cf.addedPaths.length > 0) how += `; removing it brings back ${cf.addedPaths.map(storeName).join(', ')}`;
        const via = index.mechanismOf(cf).map((id) => a.definitions[id]!);
        if (via.length > 0) {
          const shown = via.slice(0, 3).map((m) => `${m.option} (${where(m)})`);
          how += `; via ${shown.join(', ')}${via.length > 3 ? ` +${via.length - 3}` : ''}`;
        }
      } else if (d.nodes.length === 0) how = 'carries no store path itself; its true cost is measured without --fast';
      else how = `${best.method} estimate: carries ${names(d)}`;
      rows.push([formatBytes(best.bytes), d.option, where(d), how]);
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
          ...shown.map((d) => [formatBytes(a.removalCost(d.id)), d.option, where(d), names(d)]),
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
