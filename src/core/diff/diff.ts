/**
 * Closure diff: what changed between two closures, grouped by package name as nvd, dix and
 * `nix store diff-closures` do, with the why-chain (and, when known, the option) behind each added path.
 */
import type { ClosureGraph } from '../../shared/graph';
import { distancesFrom } from '../../shared/analysis/why';
import type { OptionAttribution } from '../attribution/attribute';
import type { CauseIndex } from '../attribution/causes';

/** Where a path entered the configuration; filled in by option attribution when it is available. */
export interface OptionOrigin {
  /** Option path, e.g. `environment.systemPackages`. */
  readonly option: string;
  /** File of the definition; may be a flake.nix or missing when Nix could not tell (nix#11210). */
  readonly file?: string;
  /** 1-based line of the definition when known. */
  readonly line?: number;
}

/** Looks up the option definition that brought node `node` of `graph` in; `chain` runs root → node. */
export type OriginLookup = (graph: ClosureGraph, node: number, chain: readonly number[]) => OptionOrigin | undefined;

/**
 * Origins from option attribution (src/core/attribution): the definition that introduces the path nearest to it
 * on its chain, else the nearest definition whose value reaches it (user files first on a tie). Definitions that
 * carry the root itself (`system.build.toplevel`) explain nothing and are skipped. Only for the graph the
 * attribution was built on.
 *
 * With `causes` (counterfactual measurements of the user's definitions, causes.ts), the user's own line comes
 * first, as in the why panel: the line that carries the path, or the one without which it goes
 * (`boot.supportedFilesystems = [ "nfs" ]` for nfs-utils), before the module definition that carries it.
 */
export function originsFromAttribution(attribution: OptionAttribution, causes?: CauseIndex): OriginLookup {
  const graph = attribution.graph;
  const trivial = (id: number) => {
    const nodes = attribution.definitions[id]!.nodes;
    return graph.hasVirtualRoot ? graph.roots.some((r) => nodes.includes(r)) : nodes.includes(graph.root);
  };
  return (g, node, chain) => {
    if (g !== graph) return undefined;
    let cause = causes?.chainCauses(chain).find((c) => !c.mechanism && !trivial(c.definition))?.definition;
    cause ??= attribution.chainAttribution(chain).cause.find((id) => !trivial(id));
    if (cause === undefined) {
      const reaching = attribution.reachingDefinitions(node).filter((r) => !trivial(r.id));
      const nearest = reaching[0]?.distance;
      const tied = reaching.filter((r) => r.distance === nearest);
      cause = (tied.find((r) => attribution.definitions[r.id]!.inWorkspace) ?? tied[0])?.id;
    }
    if (cause === undefined) return undefined;
    const def = attribution.definitions[cause]!;
    return { option: def.option, file: def.file, ...(def.line !== null ? { line: def.line } : {}) };
  };
}

/** One side of the diff: a loaded closure and how the user named it. */
export interface DiffSide {
  readonly graph: ClosureGraph;
  /** What the user typed or picked: an installable, a store path, a generation, `HEAD~1:.#pkg`. */
  readonly label: string;
}

export interface DiffOptions {
  /** Attribution of added paths to option definitions; optional because it needs an evaluation. */
  readonly origin?: OriginLookup;
}

/** One store path of a package on one side. */
export interface PackageEntry {
  readonly path: string;
  readonly version: string;
  /** Output suffix, '' for the default output. */
  readonly output: string;
  readonly narSize: number;
}

export interface PackageSide {
  /** Sorted by version (Nix order), then output. */
  readonly entries: readonly PackageEntry[];
  readonly narSize: number;
}

/**
 * - `added` / `removed`: the package name exists on one side only.
 * - `upgraded` / `downgraded`: one version replaced by one newer / older version.
 * - `version-changed`: several versions came and went, or they do not compare.
 * - `count-changed`: the same versions, but more or fewer store paths of them (outputs, duplicates) — dix#107.
 * - `rebuilt`: the same versions and counts, with new store paths (a dependency or the recipe changed).
 */
export type ChangeKind =
  'added' | 'removed' | 'upgraded' | 'downgraded' | 'version-changed' | 'count-changed' | 'rebuilt';

export interface PackageDiff {
  readonly pname: string;
  readonly kind: ChangeKind;
  readonly before: PackageSide;
  readonly after: PackageSide;
  /** Versions present before and not after, as `nix store diff-closures` prints them left of the arrow. */
  readonly versionsRemoved: readonly string[];
  readonly versionsAdded: readonly string[];
  readonly sizeDelta: number;
  /** A direct dependency of the root (or of a NixOS system's `system-path`): what the user asked for. */
  readonly selected: boolean;
}

export interface AddedPath {
  readonly path: string;
  readonly pname: string;
  readonly narSize: number;
  /** Shortest chain of store paths from the root of the new closure to this path, both included. */
  readonly chain: readonly string[];
  readonly origin?: OptionOrigin;
}

export interface RemovedPath {
  readonly path: string;
  readonly pname: string;
  readonly narSize: number;
}

export interface SideSummary {
  readonly label: string;
  readonly roots: readonly string[];
  readonly pathCount: number;
  /** Sum of NAR sizes of the whole closure (= `nix path-info -S` of the root). */
  readonly closureSize: number;
}

export interface ClosureDiff {
  readonly before: SideSummary;
  readonly after: SideSummary;
  readonly sizeDelta: number;
  readonly pathCountDelta: number;
  /** Sorted by kind (version changes, count changes, added, removed, rebuilt), then by |size delta|. */
  readonly packages: readonly PackageDiff[];
  /** Paths only in the new closure, heaviest first. */
  readonly addedPaths: readonly AddedPath[];
  readonly removedPaths: readonly RemovedPath[];
}

export const KIND_ORDER: readonly ChangeKind[] = [
  'upgraded',
  'downgraded',
  'version-changed',
  'count-changed',
  'added',
  'removed',
  'rebuilt',
];

export function diffClosures(before: DiffSide, after: DiffSide, options: DiffOptions = {}): ClosureDiff {
  const a = groupByPname(before.graph);
  const b = groupByPname(after.graph);
  const selected = selectedPaths(after.graph);
  for (const p of selectedPaths(before.graph)) selected.add(p);

  const packages: PackageDiff[] = [];
  const names = new Set([...a.keys(), ...b.keys()]);
  for (const pname of names) {
    const d = diffPackage(pname, a.get(pname) ?? [], b.get(pname) ?? [], selected);
    if (d) packages.push(d);
  }
  packages.sort(
    (x, y) =>
      KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind) ||
      Math.abs(y.sizeDelta) - Math.abs(x.sizeDelta) ||
      compareStrings(x.pname, y.pname),
  );

  const beforeSummary = summarize(before);
  const afterSummary = summarize(after);
  return {
    before: beforeSummary,
    after: afterSummary,
    sizeDelta: afterSummary.closureSize - beforeSummary.closureSize,
    pathCountDelta: afterSummary.pathCount - beforeSummary.pathCount,
    packages,
    addedPaths: addedPaths(before.graph, after.graph, options.origin),
    removedPaths: removedPaths(before.graph, after.graph),
  };
}

function summarize(side: DiffSide): SideSummary {
  const g = side.graph;
  return {
    label: side.label,
    roots: g.roots.map((r) => g.paths[r]!),
    pathCount: g.pathCount,
    closureSize: g.totalNarSize(),
  };
}

function groupByPname(g: ClosureGraph): Map<string, PackageEntry[]> {
  const groups = new Map<string, PackageEntry[]>();
  for (let i = 0; i < g.nodeCount; i++) {
    if (g.isVirtual(i)) continue;
    const n = g.name(i);
    let list = groups.get(n.pname);
    if (!list) groups.set(n.pname, (list = []));
    list.push({ path: g.paths[i]!, version: n.version, output: n.output, narSize: g.narSize[i]! });
  }
  for (const list of groups.values()) {
    list.sort(
      (x, y) =>
        compareVersions(x.version, y.version) || compareStrings(x.output, y.output) || compareStrings(x.path, y.path),
    );
  }
  return groups;
}

/** The paths a user selects: direct references of the roots, and of a NixOS toplevel's `system-path`. */
function selectedPaths(g: ClosureGraph): Set<string> {
  const out = new Set<string>();
  const direct = g.hasVirtualRoot ? [...g.roots] : [g.root];
  for (const r of direct) {
    for (const c of g.references(r)) {
      out.add(g.paths[c]!);
      if (g.name(c).pname === 'system-path') for (const s of g.references(c)) out.add(g.paths[s]!);
    }
  }
  return out;
}

function diffPackage(
  pname: string,
  before: PackageEntry[],
  after: PackageEntry[],
  selected: Set<string>,
): PackageDiff | undefined {
  const beforeCounts = countVersions(before);
  const afterCounts = countVersions(after);
  const versionsRemoved = [...beforeCounts.keys()].filter((v) => !afterCounts.has(v)).sort(compareVersions);
  const versionsAdded = [...afterCounts.keys()].filter((v) => !beforeCounts.has(v)).sort(compareVersions);
  const kind = classify(before, after, beforeCounts, afterCounts, versionsRemoved, versionsAdded);
  if (!kind) return undefined;
  const side = (entries: PackageEntry[]): PackageSide => ({ entries, narSize: sum(entries) });
  return {
    pname,
    kind,
    before: side(before),
    after: side(after),
    versionsRemoved,
    versionsAdded,
    sizeDelta: sum(after) - sum(before),
    selected: before.some((e) => selected.has(e.path)) || after.some((e) => selected.has(e.path)),
  };
}

function classify(
  before: PackageEntry[],
  after: PackageEntry[],
  beforeCounts: Map<string, number>,
  afterCounts: Map<string, number>,
  versionsRemoved: string[],
  versionsAdded: string[],
): ChangeKind | undefined {
  if (before.length === 0) return 'added';
  if (after.length === 0) return 'removed';
  if (versionsRemoved.length > 0 || versionsAdded.length > 0) {
    if (versionsRemoved.length === 1 && versionsAdded.length === 1) {
      const c = compareVersions(versionsAdded[0]!, versionsRemoved[0]!);
      if (c > 0) return 'upgraded';
      if (c < 0) return 'downgraded';
    }
    return 'version-changed';
  }
  for (const [v, n] of beforeCounts) if (afterCounts.get(v) !== n) return 'count-changed';
  const beforePaths = new Set(before.map((e) => e.path));
  if (after.some((e) => !beforePaths.has(e.path))) return 'rebuilt';
  return undefined;
}

function countVersions(entries: PackageEntry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) m.set(e.version, (m.get(e.version) ?? 0) + 1);
  return m;
}

function sum(entries: readonly PackageEntry[]): number {
  let s = 0;
  for (const e of entries) s += e.narSize;
  return s;
}

function addedPaths(before: ClosureGraph, after: ClosureGraph, origin: OriginLookup | undefined): AddedPath[] {
  const added: number[] = [];
  for (let i = 0; i < after.nodeCount; i++) {
    if (!after.isVirtual(i) && before.indexOf(after.paths[i]!) === undefined) added.push(i);
  }
  if (added.length === 0) return [];
  // One breadth-first search serves every added path: walking back along decreasing distance gives a shortest chain.
  const dist = distancesFrom(after, after.root);
  const result = added.map((i) => {
    const chainIdx = chainBack(after, dist, i);
    const chain = chainIdx.filter((j) => !after.isVirtual(j)).map((j) => after.paths[j]!);
    const o = origin?.(after, i, chainIdx);
    const entry: AddedPath = { path: after.paths[i]!, pname: after.name(i).pname, narSize: after.narSize[i]!, chain };
    return o ? { ...entry, origin: o } : entry;
  });
  result.sort((x, y) => y.narSize - x.narSize || compareStrings(x.path, y.path));
  return result;
}

/** Root → `to` along referrers whose distance is one less each step; the lowest index wins ties, so it is stable. */
function chainBack(g: ClosureGraph, dist: Int32Array, to: number): number[] {
  const chain = [to];
  let cur = to;
  while (dist[cur]! > 0) {
    let next = -1;
    for (const r of g.referrers(cur)) {
      if (dist[r] === dist[cur]! - 1 && (next < 0 || r < next)) next = r;
    }
    if (next < 0) break;
    chain.push(next);
    cur = next;
  }
  return chain.reverse();
}

function removedPaths(before: ClosureGraph, after: ClosureGraph): RemovedPath[] {
  const out: RemovedPath[] = [];
  for (let i = 0; i < before.nodeCount; i++) {
    if (before.isVirtual(i) || after.indexOf(before.paths[i]!) !== undefined) continue;
    out.push({ path: before.paths[i]!, pname: before.name(i).pname, narSize: before.narSize[i]! });
  }
  out.sort((x, y) => y.narSize - x.narSize || compareStrings(x.path, y.path));
  return out;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Nix's version order (`builtins.compareVersions`): components split at `.` and `-`, numbers numerically, `pre` lowest. */
export function compareVersions(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const [c1, ni] = nextComponent(a, i);
    const [c2, nj] = nextComponent(b, j);
    i = ni;
    j = nj;
    if (componentLess(c1, c2)) return -1;
    if (componentLess(c2, c1)) return 1;
  }
  return 0;
}

function nextComponent(s: string, start: number): [string, number] {
  let p = start;
  while (p < s.length && (s[p] === '.' || s[p] === '-')) p++;
  if (p >= s.length) return ['', p];
  const from = p;
  const digit = (ch: string) => ch >= '0' && ch <= '9';
  if (digit(s[p]!)) while (p < s.length && digit(s[p]!)) p++;
  else while (p < s.length && !digit(s[p]!) && s[p] !== '.' && s[p] !== '-') p++;
  return [s.slice(from, p), p];
}

function componentLess(c1: string, c2: string): boolean {
  const n1 = /^\d+$/.test(c1) ? Number(c1) : undefined;
  const n2 = /^\d+$/.test(c2) ? Number(c2) : undefined;
  if (n1 !== undefined && n2 !== undefined) return n1 < n2;
  if (c1 === '' && n2 !== undefined) return true;
  if (c1 === 'pre' && c2 !== 'pre') return true;
  if (c2 === 'pre') return false;
  // Nix assumes `2.3a` < `2.3.1`.
  if (n2 !== undefined) return true;
  if (n1 !== undefined) return false;
  return c1 < c2;
}
