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
import { findByName } from '../src/shared/analysis/names';
import type { Steps } from '../src/shared/slices';
import { displayName, parseStorePath, type StorePathName } from '../src/shared/storePath';
import { CATEGORIES, CATEGORY_INDEX, categorize } from './chart/categories';
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
      p = this.isVirtual(i)
        ? { hash: '', name: '(roots)', pname: '(roots)', version: '', output: '' }
        : parseStorePath(this.names[i]!);
      this.parsed[i] = p;
    }
    return p;
  }

  label(i: number): string {
    return displayName(this.parsedName(i));
  }

  category(i: number): number {
    let c = this.categories[i]!;
    if (c < 0) {
      c = CATEGORY_INDEX[categorize(this.parsedName(i))];
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
   * The definitions behind a chain: walking from the dependency back to the root, the first node that some
   * definition introduced names the cause; the rest are listed after it. When the cause comes from a module,
   * `enabler` is the definition that switched that module on (one whose module cost covers the cause's file).
   */
  chainDefinitions(chain: readonly number[]): {
    cause?: OptionDefinition & { index: number; via: number };
    enabler?: OptionDefinition & { index: number };
    others: number[];
  } {
    const a = this.attribution;
    if (!a) return { others: [] };
    const seen = new Set<number>();
    let cause: (OptionDefinition & { index: number; via: number }) | undefined;
    for (let k = chain.length - 1; k >= 0; k--) {
      for (const d of this.definitionsOf(chain[k]!)) {
        if (!cause) cause = { ...a.definitions[d]!, index: d, via: chain[k]! };
        seen.add(d);
      }
    }
    if (!cause) return { others: [] };
    seen.delete(cause.index);
    const causeFile = cause.file;
    const e = cause.inWorkspace ? -1 : a.definitions.findIndex((d) => d.moduleCost?.files.includes(causeFile) ?? false);
    return { cause, ...(e >= 0 && { enabler: { ...a.definitions[e]!, index: e } }), others: [...seen] };
  }
}
