/**
 * Turns an analysed closure into the compact payload that the sunburst webview receives
 * (`ClosureSnapshot` in src/protocol.ts): a string table and typed arrays, never an object per path.
 * Pure: no `vscode`, no I/O.
 */
import type { DominatorTree } from './analysis/dominators';
import { ClosureGraph } from './graph';
import type { AttributionPayload, ClosureSnapshot, OptionDefinition } from '../protocol';

/**
 * Option attribution as the attribution engine reports it (the shape of `closure-lens options --json`):
 * definitions, and for each store path the indices of the definitions that introduced it.
 */
export interface AttributionInput {
  readonly definitions: readonly (OptionDefinition & { readonly paths?: readonly string[] })[];
  readonly paths: Readonly<Record<string, readonly number[]>> | ReadonlyMap<string, readonly number[]>;
  readonly evalMs?: number;
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
  const entries: Iterable<[string, readonly number[]]> =
    input.paths instanceof Map ? input.paths.entries() : Object.entries(input.paths);
  const perNode: (readonly number[] | undefined)[] = new Array(n);
  const defCount = input.definitions.length;
  let total = 0;
  for (const [path, defs] of entries) {
    const i = g.indexOf(path);
    if (i === undefined) continue; // the option evaluation saw a path that this closure does not hold
    const valid = [...new Set(defs)].filter((d) => Number.isInteger(d) && d >= 0 && d < defCount);
    perNode[i] = valid;
    total += valid.length;
  }
  const defOffsets = new Int32Array(n + 1);
  const defTargets = new Int32Array(total);
  let e = 0;
  for (let i = 0; i < n; i++) {
    defOffsets[i] = e;
    for (const d of perNode[i] ?? []) defTargets[e++] = d;
  }
  defOffsets[n] = e;
  const definitions: OptionDefinition[] = input.definitions.map((d) => ({
    option: d.option,
    file: d.file,
    line: d.line,
    removalCost: d.removalCost,
    ...(d.costKind && { costKind: d.costKind }),
    ...(d.module !== undefined && { module: d.module }),
    ...(d.enabledBy !== undefined && { enabledBy: d.enabledBy }),
  }));
  return { definitions, defOffsets, defTargets, ...(input.evalMs !== undefined && { evalMs: input.evalMs }) };
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
