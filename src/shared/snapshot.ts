/**
 * Turns an analysed closure into the compact payload that the sunburst webview receives
 * (`ClosureSnapshot` in src/protocol.ts): typed arrays and the string table as one UTF-8 byte array, never an
 * object per path, so that posting it costs the host no per-path serialisation.
 * Pure: no `vscode`, no I/O.
 */
import { EAGER_CLOSURE_SIZE_LIMIT } from './analysis/closureSize';
import type { DominatorTree } from './analysis/dominators';
import { ClosureGraph } from './graph';
import { storeName } from './storePath';
import type { AttributionPayload, ClosureSnapshot, OptionDefinition } from './protocol';
import { runInSlices, runToEnd, type Steps } from './slices';

/**
 * One definition as the attribution engine reports it (`closure-lens options --json`'s `definitions[]`): the
 * protocol's OptionDefinition, with the counterfactual as the engine reports it and the store paths the
 * definition's value carries (the paths it introduces).
 */
export interface AttributionDefinitionInput extends Pick<
  OptionDefinition,
  | 'option'
  | 'file'
  | 'fileLabel'
  | 'line'
  | 'column'
  | 'removalCost'
  | 'inWorkspace'
  | 'fromDefault'
  | 'moduleCost'
  | 'enabledBy'
  | 'costMethod'
  | 'measuring'
> {
  readonly paths?: readonly string[];
  readonly counterfactual?:
    | {
        readonly removedBytes: number;
        readonly addedPaths?: readonly string[];
        readonly addedSizes?: readonly (number | null)[];
      }
    | { readonly error: string };
}

/** Most paths a definition's "brings back" names in the why panel. */
const MAX_BROUGHT_BACK = 20;

/** What comes back without a definition, by store name and NAR size (null: not in the store). */
function broughtBackOf(d: AttributionDefinitionInput): OptionDefinition['broughtBack'] {
  const cf = d.counterfactual;
  if (!cf || !('removedBytes' in cf) || !cf.addedPaths || cf.addedPaths.length === 0) return undefined;
  return cf.addedPaths.slice(0, MAX_BROUGHT_BACK).map((p, k) => ({
    name: storeName(p),
    bytes: cf.addedSizes?.[k] ?? null,
  }));
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
  /** Every cause of each path with its kind (`options --json`'s `causes`): the `enables` ones are sent. */
  readonly causes?: Readonly<Record<string, readonly { readonly definition: number; readonly kind: string }[]>>;
  /** Labels of same-named paths by store path (`options --json`'s `labels`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** The path through which definition k's value references `path` (its collector), when known. */
  readonly collectorOf?: (definition: number, path: string) => string | undefined;
}

/** The part of `ClosureAnalysis` (src/core/analysis/closure.ts) that a snapshot reads; named apart from the pipeline's AnalysedClosure. */
export interface SnapshotSource {
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

/** Paths per chunk of sliced work: a few milliseconds each at any closure size. */
const CHUNK = 4096;

/** The snapshot at once (tests, the CLI, the bench's step table). */
export function buildSnapshot(analysis: SnapshotSource, options: SnapshotOptions = {}): ClosureSnapshot {
  return runToEnd(snapshotSteps(analysis, options));
}

/**
 * The snapshot in slices between which the event loop runs (src/core/slices.ts): what the extension host uses, so
 * that showing a 100,000-path closure never freezes the editor. The dominator tree is the one step that cannot be
 * cut; it normally comes with the loaded closure.
 */
export function buildSnapshotInSlices(
  analysis: SnapshotSource,
  options: SnapshotOptions = {},
  signal?: AbortSignal,
): Promise<ClosureSnapshot> {
  return runInSlices(snapshotSteps(analysis, options), signal ? { signal } : {});
}

/** The snapshot as sliced work (src/core/slices.ts): `buildSnapshot` runs it at once, `buildSnapshotInSlices` in slices. */
export function* snapshotSteps(analysis: SnapshotSource, options: SnapshotOptions = {}): Steps<ClosureSnapshot> {
  const g = analysis.graph;
  const n = g.nodeCount;
  const dom = analysis.dominators;
  yield;
  const distance = analysis.distances.slice();
  yield;
  const storeDir = yield* storeDirSteps(g.paths, g.hasVirtualRoot);
  const names = yield* utf8Lines(g.paths, storeDir === '' ? 0 : storeDir.length + 1);
  let closureSize: Float64Array | undefined;
  if (n <= (options.eagerClosureSizesUpTo ?? EAGER_CLOSURE_SIZE_LIMIT)) {
    closureSize = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      closureSize[i] = analysis.closureSize(i);
      if ((i & 255) === 255) yield;
    }
  }
  yield;
  const attribution = options.attribution && buildAttribution(analysis, options.attribution);
  // Fresh copies: each array gets its own buffer, because postMessage carries a typed array's whole buffer
  // (VS Code sends `view.buffer` out of band), and the host's analysis never shares memory with a message in flight.
  return {
    storeDir,
    names,
    narSize: g.narSize.slice(),
    refOffsets: g.refOffsets.slice(),
    refTargets: g.refTargets.slice(),
    selfReference: g.selfReference.slice(),
    roots: Int32Array.from(g.roots),
    hasVirtualRoot: g.hasVirtualRoot,
    sizesKnown: g.sizesKnown,
    idom: dom.idom.slice(),
    retained: dom.retained.slice(),
    childOffsets: dom.childOffsets.slice(),
    childTargets: dom.childTargets.slice(),
    distance,
    ...(closureSize && { closureSize }),
    ...(attribution && { attribution }),
  };
}

/** `paths` without their first `cut` characters, joined by '\n', as UTF-8: built a chunk at a time. */
function* utf8Lines(paths: readonly string[], cut: number): Steps<Uint8Array> {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let start = 0; start < paths.length; start += CHUNK) {
    const end = Math.min(paths.length, start + CHUNK);
    const lines = new Array<string>(end - start);
    for (let i = start; i < end; i++) lines[i - start] = paths[i]!.slice(cut);
    const bytes = encoder.encode((start > 0 ? '\n' : '') + lines.join('\n'));
    parts.push(bytes);
    total += bytes.length;
    yield;
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Maps attribution keyed by store path onto the graph's node indices, as CSR arrays. */
export function buildAttribution(analysis: SnapshotSource, input: AttributionInput): AttributionPayload {
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
  const collectorOf = input.collectorOf;
  let defCollectors: Int32Array | undefined;
  if (collectorOf) {
    defCollectors = new Int32Array(total).fill(-1);
    for (let i = 0; i < n; i++) {
      for (let x = defOffsets[i]!; x < defOffsets[i + 1]!; x++) {
        const c = collectorOf(defTargets[x]!, g.paths[i]!);
        const ci = c === undefined ? undefined : g.indexOf(c);
        if (ci !== undefined) defCollectors[x] = ci;
      }
    }
  }
  const enables = input.causes && enablersOf(g, input.causes, defs.length);
  const labels = input.labels && labelsOf(g, input.labels);
  const definitions: OptionDefinition[] = defs.map((d) => ({
    option: d.option,
    file: d.file,
    ...(d.fileLabel !== undefined && { fileLabel: d.fileLabel }),
    line: d.line,
    removalCost: d.removalCost,
    ...(d.column !== undefined && { column: d.column }),
    ...(d.inWorkspace !== undefined && { inWorkspace: d.inWorkspace }),
    ...(d.fromDefault !== undefined && { fromDefault: d.fromDefault }),
    ...(d.moduleCost && { moduleCost: { files: [...d.moduleCost.files], bytes: d.moduleCost.bytes } }),
    ...(d.counterfactual &&
      'removedBytes' in d.counterfactual && { counterfactualCost: d.counterfactual.removedBytes }),
    ...(d.enabledBy !== undefined && { enabledBy: d.enabledBy }),
    ...(d.costMethod !== undefined && { costMethod: d.costMethod }),
    ...(d.measuring === true && { measuring: true }),
    ...(broughtBackOf(d) && { broughtBack: broughtBackOf(d)! }),
  }));
  const evalMs = input.evalMs ?? (input.evalSeconds !== undefined ? input.evalSeconds * 1000 : undefined);
  return {
    definitions,
    defOffsets,
    defTargets,
    ...(evalMs !== undefined && { evalMs }),
    ...(defCollectors && { defCollectors }),
    ...(enables && { enableOffsets: enables.offsets, enableTargets: enables.targets }),
    ...(labels && { labelNodes: labels.nodes, labelTexts: labels.texts }),
  };
}

/** Per node, the definitions whose cause is of kind `enables`, in the engine's order (most specific first). */
function enablersOf(
  g: ClosureGraph,
  causes: NonNullable<AttributionInput['causes']>,
  definitions: number,
): { offsets: Int32Array; targets: Int32Array } {
  const perNode = new Map<number, number[]>();
  for (const [path, list] of Object.entries(causes)) {
    const i = g.indexOf(path);
    if (i === undefined) continue;
    const ids = list
      .filter((c) => c.kind === 'enables' && Number.isInteger(c.definition) && c.definition >= 0)
      .map((c) => c.definition)
      .filter((d) => d < definitions);
    if (ids.length > 0) perNode.set(i, [...new Set(ids)]);
  }
  const offsets = new Int32Array(g.nodeCount + 1);
  const targets: number[] = [];
  for (let i = 0; i < g.nodeCount; i++) {
    offsets[i] = targets.length;
    targets.push(...(perNode.get(i) ?? []));
  }
  offsets[g.nodeCount] = targets.length;
  return { offsets, targets: Int32Array.from(targets) };
}

function labelsOf(g: ClosureGraph, labels: Readonly<Record<string, string>>): { nodes: Int32Array; texts: string[] } {
  const nodes: number[] = [];
  const texts: string[] = [];
  for (const [path, label] of Object.entries(labels)) {
    const i = g.indexOf(path);
    if (i === undefined) continue;
    nodes.push(i);
    texts.push(label);
  }
  return { nodes: Int32Array.from(nodes), texts };
}

/** The directory every real path lives in (`/nix/store` almost always), or '' when they differ. */
export function commonStoreDir(paths: readonly string[], hasVirtualRoot: boolean): string {
  return runToEnd(storeDirSteps(paths, hasVirtualRoot));
}

function* storeDirSteps(paths: readonly string[], hasVirtualRoot: boolean): Steps<string> {
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
    if (i % CHUNK === 0) yield;
  }
  return dir;
}

/**
 * The string table back: one name per node (base names, or full paths when `storeDir` is ''). Invalid UTF-8
 * throws (a damaged payload), rather than turning into replacement characters that name no path.
 */
export function snapshotNames(s: Pick<ClosureSnapshot, 'names'>): string[] {
  return new TextDecoder('utf-8', { fatal: true }).decode(s.names).split('\n');
}

/** Full store paths back from a snapshot's string table (`names`: its `snapshotNames`, when already decoded). */
export function snapshotPaths(
  s: Pick<ClosureSnapshot, 'storeDir' | 'names' | 'hasVirtualRoot'>,
  names: readonly string[] = snapshotNames(s),
): string[] {
  if (s.storeDir === '') return [...names];
  return names.map((b, i) => (s.hasVirtualRoot && i === 0 ? '' : `${s.storeDir}/${b}`));
}

/** Rebuilds the `ClosureGraph` on the receiving side (the webview), so that the analyses run there too. */
export function graphFromSnapshot(s: ClosureSnapshot, names?: readonly string[]): ClosureGraph {
  return ClosureGraph.fromArrays({
    paths: snapshotPaths(s, names),
    narSize: s.narSize,
    refOffsets: s.refOffsets,
    refTargets: s.refTargets,
    selfReference: s.selfReference,
    roots: Array.from(s.roots),
    hasVirtualRoot: s.hasVirtualRoot,
    sizesKnown: s.sizesKnown,
  });
}
