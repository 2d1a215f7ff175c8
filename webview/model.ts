/**
 * The closure on the webview side: the snapshot as received, plus what is derived from it on demand
 * (the ClosureGraph for why-chains and search, closure sizes, categories). Nothing expensive runs before
 * the first draw.
 */
import type { AttributionPayload, ClosureSnapshot, OptionDefinition, TreeMode } from '../src/shared/protocol';
import { graphFromSnapshot, snapshotNames } from '../src/shared/snapshot';
import type { ClosureGraph } from '../src/shared/graph';
import { ClosureSizes } from '../src/shared/analysis/closureSize';
import { allChains, type ChainSet } from '../src/shared/analysis/why';
import { whyGraph, type WhyGraph } from '../src/shared/analysis/whyGraph';
import { findByName } from '../src/shared/analysis/names';
import type { Steps } from '../src/shared/slices';
import { displayName, parseStorePath, ROOTS_NAME, type StorePathName } from '../src/shared/storePath';
import { CATEGORIES, categoryIndex } from '../src/shared/categories';
import { chainViewTree, dominatorViewTree, type ViewTree } from './chart/viewTree';

export class ClosureModel {
  readonly names: string[];
  readonly nodeCount: number;
  private parsed: (StorePathName | undefined)[];
  private categories: Int8Array;
  private graphCache: ClosureGraph | undefined;
  private sizesCache: ClosureSizes | undefined;
  private trees = new Map<TreeMode, ViewTree>();
  private readonly chainCache = new Map<string, ChainSet>();
  private whyGraphCache: WhyGraph | undefined;
  attribution: AttributionPayload | undefined;
  /** broughtBy's answers (-2: not yet known), for the attribution they were computed from. */
  private brought: Int32Array | undefined;
  private broughtFor: AttributionPayload | undefined;

  constructor(readonly snapshot: ClosureSnapshot) {
    this.names = snapshotNames(snapshot);
    this.nodeCount = this.names.length;
    if (snapshot.narSize.length !== this.nodeCount || snapshot.idom.length !== this.nodeCount) {
      throw new Error(`malformed closure payload: ${this.nodeCount} names but ${snapshot.narSize.length} sizes`);
    }
    this.parsed = new Array(this.nodeCount);
    this.categories = new Int8Array(this.nodeCount).fill(-1);
    this.attribution = snapshot.attribution;
  }

  get graph(): ClosureGraph {
    return (this.graphCache ??= graphFromSnapshot(this.snapshot, this.names));
  }

  get sizesKnown(): boolean {
    return this.snapshot.sizesKnown;
  }

  tree(mode: TreeMode): ViewTree {
    let t = this.trees.get(mode);
    if (!t) {
      t =
        mode === 'dominator'
          ? dominatorViewTree(this.snapshot)
          : chainViewTree(this.snapshot, this.graph.revOffsets, this.graph.revTargets);
      this.trees.set(mode, t);
    }
    return t;
  }

  isVirtual(i: number): boolean {
    return this.snapshot.hasVirtualRoot && i === 0;
  }

  path(i: number): string {
    if (this.isVirtual(i)) return '';
    return this.snapshot.storeDir ? `${this.snapshot.storeDir}/${this.names[i]}` : this.names[i]!;
  }

  indexOf(path: string): number | undefined {
    return this.graph.indexOf(path);
  }

  parsedName(i: number): StorePathName {
    let p = this.parsed[i];
    if (!p) {
      p = this.isVirtual(i) ? ROOTS_NAME : parseStorePath(this.names[i]!);
      this.parsed[i] = p;
    }
    return p;
  }

  /** A path's display name; for a path that shares its name with another, what tells it apart (`user-environment (alice)`). */
  label(i: number): string {
    const a = this.attribution;
    if (a?.labelNodes && a.labelTexts) {
      if (this.labelsFor !== a) {
        this.labelsFor = a;
        this.labels = new Map(Array.from(a.labelNodes, (node, k) => [node, a.labelTexts![k]!]));
      }
      const l = this.labels.get(i);
      if (l !== undefined) return l;
    }
    return displayName(this.parsedName(i));
  }
  private labelsFor: AttributionPayload | undefined;
  private labels = new Map<number, string>();

  category(i: number): number {
    let c = this.categories[i]!;
    if (c < 0) {
      c = categoryIndex(this.parsedName(i));
      this.categories[i] = c;
    }
    return c;
  }

  /**
   * What the legend, search and why-chains need for every path (its category, the graph), as sliced work
   * (src/core/slices.ts) for after the first draw: on 100,000 paths the page stays responsive meanwhile.
   */
  *prepareSteps(): Steps<void> {
    for (let i = 0; i < this.nodeCount; i++) {
      if (!this.isVirtual(i)) this.category(i);
      if ((i & 1023) === 1023) yield;
    }
    yield;
    void this.graph;
  }

  /** Bytes (or path count) per category over the whole closure, for the legend. */
  categoryTotals(): Float64Array {
    const totals = new Float64Array(CATEGORIES.length);
    const w = this.snapshot.narSize;
    for (let i = 0; i < this.nodeCount; i++) {
      if (this.isVirtual(i)) continue;
      totals[this.category(i)]! += this.sizesKnown ? w[i]! : 1;
    }
    return totals;
  }

  closureSize(i: number): number {
    const eager = this.snapshot.closureSize?.[i];
    if (eager !== undefined && !Number.isNaN(eager)) return eager;
    return (this.sizesCache ??= new ClosureSizes(this.graph)).of(i);
  }

  referrerCount(i: number): number {
    return this.graph.referrers(i).length;
  }

  /** Chains from the root, shortest first; the last few answers are kept (the side pane re-renders often). */
  chains(node: number, limit: number): ChainSet {
    const key = `${node}:${limit}`;
    let set = this.chainCache.get(key);
    if (!set) {
      set = allChains(this.graph, this.graph.root, node, limit);
      if (this.chainCache.size >= 16) this.chainCache.delete(this.chainCache.keys().next().value!);
      this.chainCache.set(key, set);
    }
    return set;
  }

  /** The why-graph from the root to `node` (the last one is kept: the side pane re-renders often). */
  whyGraph(node: number): WhyGraph {
    if (this.whyGraphCache?.to !== node) this.whyGraphCache = whyGraph(this.graph, this.graph.root, node, 0);
    return this.whyGraphCache;
  }

  find(query: string): number[] {
    return findByName(this.graph, query);
  }

  /** Definitions that introduced node i (indices into attribution.definitions). */
  definitionsOf(i: number): number[] {
    const a = this.attribution;
    if (!a) return [];
    return Array.from(a.defTargets.subarray(a.defOffsets[i]!, a.defOffsets[i + 1]!));
  }

  /**
   * The definition that brought node i in (an index into attribution.definitions), -1 when none is known: its
   * own definition, or else the nearest one up its shortest chain (as `chainDefinitions` picks the cause).
   */
  broughtBy(i: number): number {
    const a = this.attribution;
    if (!a) return -1;
    if (this.broughtFor !== a || !this.brought) {
      this.brought = new Int32Array(this.nodeCount).fill(-2);
      this.broughtFor = a;
    }
    const memo = this.brought;
    const parent = this.tree('chain').parent;
    const walked: number[] = [];
    let v = i;
    let found = -1;
    while (v >= 0) {
      if (memo[v] !== -2) {
        found = memo[v]!;
        break;
      }
      walked.push(v);
      if (a.defOffsets[v + 1]! > a.defOffsets[v]!) {
        found = a.defTargets[a.defOffsets[v]!]!;
        break;
      }
      v = parent[v]!;
    }
    for (const w of walked) memo[w] = found;
    return found;
  }

  /**
   * The causes of a chain, its own: walking from the dependency back to the root, the first node that some
   * definition carries; of its carriers those whose collector is the chain's step before it (alice's packages
   * on the chain through alice's profile), the user's own first. When none of those is the user's, the user's
   * definition without which a node of the chain goes (it `enables` what carries it) names the cause. The
   * module definitions that carry the node are the mechanism, shown behind the cause.
   */
  chainDefinitions(chain: readonly number[]): {
    cause?: OptionDefinition & { index: number; via: number; kind: 'carries' | 'enables' };
    mechanism: (OptionDefinition & { index: number })[];
    others: number[];
  } {
    const a = this.attribution;
    if (!a) return { mechanism: [], others: [] };
    const def = (d: number) => ({ ...a.definitions[d]!, index: d });
    let carriers: number[] = [];
    let via = -1;
    for (let k = chain.length - 1; k >= 0 && carriers.length === 0; k--) {
      const node = chain[k]!;
      const from = a.defOffsets[node]!;
      const all = this.definitionsOf(node);
      if (all.length === 0) continue;
      via = node;
      const referrer = k > 0 ? chain[k - 1]! : -1;
      const own = a.defCollectors ? all.filter((_, x) => a.defCollectors![from + x] === referrer) : [];
      carriers = own.length > 0 ? own : all;
    }
    const enablers: number[] = [];
    if (a.enableOffsets && a.enableTargets) {
      for (let k = chain.length - 1; k > 0; k--) {
        const node = chain[k]!;
        for (let x = a.enableOffsets[node]!; x < a.enableOffsets[node + 1]!; x++) {
          const d = a.enableTargets[x]!;
          if (!enablers.includes(d) && !carriers.includes(d)) enablers.push(d);
        }
      }
    }
    // A carrier measured without it that still keeps the path (zfs.nix's boot.initrd.packages: zfs-user stays in
    // systemPackages) is how the path gets there, not why: a user definition without which it goes comes first.
    const keeps = (d: number) => {
      const x = a.definitions[d]!;
      return x.costMethod === 'counterfactual' && via >= 0 && x.removalCost < this.snapshot.narSize[via]!;
    };
    const mine = carriers.filter((d) => a.definitions[d]!.inWorkspace);
    const strong = mine.filter((d) => !keeps(d));
    const modules = carriers.filter(
      (d) => !a.definitions[d]!.inWorkspace || (strong.length === 0 && enablers.length > 0),
    );
    let cause: (OptionDefinition & { index: number; via: number; kind: 'carries' | 'enables' }) | undefined;
    if (strong.length > 0) cause = { ...def(strong[0]!), via, kind: 'carries' };
    else if (enablers.length > 0)
      cause = { ...def(enablers[0]!), via: enablerVia(chain, a, enablers[0]!), kind: 'enables' };
    else if (mine.length > 0) cause = { ...def(mine[0]!), via, kind: 'carries' };
    else if (modules.length > 0) cause = { ...def(modules[0]!), via, kind: 'carries' };
    if (!cause) return { mechanism: [], others: [] };
    const causeIndex = cause.index;
    const others = [...mine, ...enablers].filter((d) => d !== causeIndex && !modules.includes(d));
    return { cause, mechanism: modules.filter((d) => d !== causeIndex).map(def), others };
  }
}

/** The chain's node nearest the dependency that the enabling definition `d` takes away. */
function enablerVia(chain: readonly number[], a: AttributionPayload, d: number): number {
  for (let k = chain.length - 1; k > 0; k--) {
    const node = chain[k]!;
    for (let x = a.enableOffsets![node]!; x < a.enableOffsets![node + 1]!; x++)
      if (a.enableTargets![x] === d) return node;
  }
  return chain[chain.length - 1]!;
}
