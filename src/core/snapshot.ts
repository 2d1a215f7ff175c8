/**
 * Turns an analysed closure into the compact payload that the sunburst webview receives
 * (`ClosureSnapshot` in src/protocol.ts): a string table and typed arrays, never an object per path.
 * Pure: no `vscode`, no I/O.
 */
import type { DominatorTree } from './analysis/dominators';
import { ClosureGraph } from './graph';
import type { AttributionPayload, ClosureSnapshot, OptionDefinition } from '../protocol';

/** One definition as the attribution engine reports it (`closure-lens options --json`'s `definitions[]`). */
export interface AttributionDefinitionInput {
  readonly option: string;
  readonly file: string;
  readonly line: number | null;
  readonly column?: number | null;
  readonly removalCost: number;
  readonly inWorkspace?: boolean;
  readonly fromDefault?: boolean;
  /** Store paths that the definition's value carries: the paths it introduces. */
  readonly paths?: readonly string[];
  readonly moduleCost?: { readonly files: readonly string[]; readonly bytes: number };
  readonly counterfactual?: { readonly removedBytes: number } | { readonly error: string };
  readonly enabledBy?: string;
}

/**
 * Option attribution as the attribution engine reports it (the shape of `closure-lens options --json`, which
 * can be passed as is). When the definitions list their `paths`, those say which definition introduced which
 * path; otherwise the per-path map does.
 */
export interface AttributionInput {
  readonly definitions: readonly AttributionDefinitionInput[];
  readonly paths?: Readonly<Record<string, readonly number[]>> | ReadonlyMap<string, readonly number[]>;
  readonly evalMs?: number;
  readonly evalSeconds?: number;
}

/** The part of `ClosureAnalysis` (src/core/analysis/closure.ts) that a snapshot reads. */
export interface AnalysedClosure {
  readonly graph: ClosureGraph;
  readonly dominators: DominatorTree;
  /** BFS distances from the root. */
  readonly distances: Int32Array;
  closureSize(i: number): number;
}

export interface SnapshotOptions {
  /** Compute every closure size up front when the closure has at most this many nodes. */
  readonly eagerClosureSizesUpTo?: number;
  readonly attribution?: AttributionInput;
}

const DEFAULT_EAGER_CLOSURE_SIZES = 20_000;

export function buildSnapshot(analysis: AnalysedClosure, options: SnapshotOptions = {}): ClosureSnapshot {
  const g = analysis.graph;
  const n = g.nodeCount;
  const storeDir = commonStoreDir(g.paths, g.hasVirtualRoot);
  const cut = storeDir === '' ? 0 : storeDir.length + 1;
  const names = g.paths.map((p) => p.slice(cut)).join('\n');

  const dom = analysis.dominators;
  let closureSize: Float64Array | undefined;
  if (n <= (options.eagerClosureSizesUpTo ?? DEFAULT_EAGER_CLOSURE_SIZES)) {
    closureSize = new Float64Array(n);
    for (let i = 0; i < n; i++) closureSize[i] = analysis.closureSize(i);
  }
  // Fresh copies: each array gets its own buffer, so the clone carries exactly these bytes and the
  // host's analysis (and its caches) never shares memory with a message in flight.
  return {
    storeDir,
    names,
    narSize: g.narSize.slice(),
    refOffsets: g.refOffsets.slice(),
    refTargets: g.refTargets.slice(),
    selfReference: g.selfReference.slice(),
    roots: [...g.roots],
    hasVirtualRoot: g.hasVirtualRoot,
    sizesKnown: g.sizesKnown,
    idom: dom.idom.slice(),
    retained: dom.retained.slice(),
    childOffsets: dom.childOffsets.slice(),
    childTargets: dom.childTargets.slice(),
    distance: analysis.distances.slice(),
    ...(closureSize && { closureSize }),
    ...(options.attribution && { attribution: buildAttribution(analysis, options.attribution) }),
  };
}

/** Maps attribution keyed by store path onto the graph's node indices, as CSR arrays. */
export function buildAttribution(analysis: AnalysedClosure, input: AttributionInput): AttributionPayload {
  const g = analysis.graph;
  const n = g.nodeCount;
  const defs = input.definitions;
  const perNode: number[][] = new Array(n);
  const add = (path: string, d: number) => {
    const i = g.indexOf(path);
    if (i === undefined) return; // the evaluation saw a path that this closure does not hold
    (perNode[i] ??= []).push(d);
  };
  if (defs.some((d) => d.paths !== undefined)) {
    defs.forEach((d, k) => d.paths?.forEach((p) => add(p, k)));
  } else if (input.paths) {
    const entries: Iterable<[string, readonly number[]]> =
      input.paths instanceof Map ? input.paths.entries() : Object.entries(input.paths);
    for (const [path, ks] of entries) {
      for (const k of ks) if (Number.isInteger(k) && k >= 0 && k < defs.length) add(path, k);
    }
  }
  // The user's own definitions first, option defaults last: the first one names the cause.
  const rank = (k: number) => (defs[k]!.inWorkspace ? 0 : defs[k]!.fromDefault ? 2 : 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const list = perNode[i];
    if (!list) continue;
    perNode[i] = [...new Set(list)].sort((a, b) => rank(a) - rank(b) || a - b);
    total += perNode[i]!.length;
  }
  const defOffsets = new Int32Array(n + 1);
  const defTargets = new Int32Array(total);
  let e = 0;
  for (let i = 0; i < n; i++) {
    defOffsets[i] = e;
    for (const d of perNode[i] ?? []) defTargets[e++] = d;
  }
  defOffsets[n] = e;
  const definitions: OptionDefinition[] = defs.map((d) => ({
    option: d.option,
    file: d.file,
    line: d.line,
    removalCost: d.removalCost,
    ...(d.column !== undefined && { column: d.column }),
    ...(d.inWorkspace !== undefined && { inWorkspace: d.inWorkspace }),
    ...(d.fromDefault !== undefined && { fromDefault: d.fromDefault }),
    ...(d.moduleCost && { moduleCost: { files: [...d.moduleCost.files], bytes: d.moduleCost.bytes } }),
    ...(d.counterfactual && 'removedBytes' in d.counterfactual && { counterfactualCost: d.counterfactual.removedBytes }),
    ...(d.enabledBy !== undefined && { enabledBy: d.enabledBy }),
  }));
  const evalMs = input.evalMs ?? (input.evalSeconds !== undefined ? input.evalSeconds * 1000 : undefined);
  return { definitions, defOffsets, defTargets, ...(evalMs !== undefined && { evalMs }) };
}

/** The directory every real path lives in (`/nix/store` almost always), or '' when they differ. */
export function commonStoreDir(paths: readonly string[], hasVirtualRoot: boolean): string {
  const first = paths[hasVirtualRoot ? 1 : 0];
  if (first === undefined) return '';
  const slash = first.lastIndexOf('/');
  if (slash <= 0) return '';
  const dir = first.slice(0, slash);
  for (let i = hasVirtualRoot ? 1 : 0; i < paths.length; i++) {
    const p = paths[i]!;
    if (p.length <= slash + 1 || p.charCodeAt(slash) !== 47 || !p.startsWith(dir) || p.indexOf('/', slash + 1) >= 0) {
      return '';
    }
  }
  return dir;
}

/** Full store paths back from a snapshot's string table. */
export function snapshotPaths(s: Pick<ClosureSnapshot, 'storeDir' | 'names' | 'hasVirtualRoot'>): string[] {
  const names = s.names.split('\n');
  if (s.storeDir === '') return names;
  return names.map((b, i) => (s.hasVirtualRoot && i === 0 ? '' : `${s.storeDir}/${b}`));
}

/** Rebuilds the `ClosureGraph` on the receiving side (the webview), so that the analyses run there too. */
export function graphFromSnapshot(s: ClosureSnapshot): ClosureGraph {
  return ClosureGraph.fromArrays({
    paths: snapshotPaths(s),
    narSize: s.narSize,
    refOffsets: s.refOffsets,
    refTargets: s.refTargets,
    selfReference: s.selfReference,
    roots: [...s.roots],
    hasVirtualRoot: s.hasVirtualRoot,
    sizesKnown: s.sizesKnown,
  });
}
