/**
 * Every analysis of one closure behind one object, each computed on first use and kept.
 * Uses only the ClosureGraph arrays, so the webview bundle can run it in the browser too.
 */
import type { ClosureGraph } from '../../shared/graph';
import { ClosureSizes, ClosureTooLargeError } from '../../shared/analysis/closureSize';
import { dominatorTree, type DominatorTree } from '../../shared/analysis/dominators';
import { duplicateSteps, findDuplicates, type DuplicateGroup } from './duplicates';
import { runInSlices } from '../../shared/slices';
import { findByName, resolveName, type NameResolution } from '../../shared/analysis/names';
import { allChains, distancesFrom, type ChainSet } from '../../shared/analysis/why';
import { whyGraph, type WhyGraph } from '../../shared/analysis/whyGraph';
import { ClosureLensError } from '../errors';

export interface WhyOptions {
  /** List every chain (up to `limit`) instead of one shortest chain. */
  all?: boolean;
  /** Most chains to list with `all`; default 100. */
  limit?: number;
  /** Start of the chains; default the root. */
  from?: number;
}

export class ClosureAnalysis {
  private sizes?: ClosureSizes;
  private dom?: DominatorTree;
  private dist?: Int32Array;
  private dups?: DuplicateGroup[];
  private dupsInSlices?: Promise<DuplicateGroup[]>;

  /**
   * `known.dominators`: the graph's dominator tree when it was computed already (in a worker thread, or read from
   * the graph cache), so that the first view does not compute it again.
   */
  constructor(
    readonly graph: ClosureGraph,
    known: { readonly dominators?: DominatorTree | undefined } = {},
  ) {
    if (known.dominators && known.dominators.idom.length !== graph.nodeCount)
      throw new Error('the dominator tree is not of this graph');
    this.dom = known.dominators;
  }

  get dominators(): DominatorTree {
    return (this.dom ??= dominatorTree(this.graph));
  }

  /** Edge distance of every node from the root. */
  get distances(): Int32Array {
    return (this.dist ??= distancesFrom(this.graph, this.graph.root));
  }

  get closureSizes(): ClosureSizes {
    return (this.sizes ??= new ClosureSizes(this.graph));
  }

  /**
   * Every path's closure size in one pass; a graph too large or too tangled for that is the user's input, so
   * it is a 'too-large' error, never an answer cut short.
   */
  allClosureSizes(): Float64Array {
    try {
      return this.closureSizes.all();
    } catch (e) {
      if (!(e instanceof ClosureTooLargeError)) throw e;
      throw new ClosureLensError('too-large', `${e.message}`, {
        fix: 'ask for the heaviest paths only (`--top N`), or analyse the closure of a single root',
        cause: e,
      });
    }
  }

  /** Bytes of node i's closure, exactly `nix path-info -S`. */
  closureSize(i: number): number {
    return this.closureSizes.of(i);
  }

  /** Bytes that leave the closure if nothing referenced node i any more. */
  retainedSize(i: number): number {
    return this.dominators.retained[i]!;
  }

  /** Total closure size: every NAR once. */
  get totalSize(): number {
    return this.graph.totalNarSize();
  }

  /**
   * Why the root (or `from`) depends on `dep`. Without `all`, the one shortest chain; with it, up to `limit`
   * chains shortest first. `nodes` and `totalChains` always describe every chain.
   */
  why(dep: number, options: WhyOptions = {}): ChainSet {
    const from = options.from ?? this.graph.root;
    const limit = options.all ? (options.limit ?? 100) : 1;
    return allChains(this.graph, from, dep, limit);
  }

  /**
   * Every reason at once: the subgraph of all root (or `from`) → `dep` chains, each node once, with its edges,
   * the exact chain count and up to `limit` chains (default 100) shortest first.
   */
  whyGraph(dep: number, options: Omit<WhyOptions, 'all'> = {}): WhyGraph {
    return whyGraph(this.graph, options.from ?? this.graph.root, dep, options.limit ?? 100);
  }

  referrers(i: number): number[] {
    return Array.from(this.graph.referrers(i));
  }

  duplicates(): DuplicateGroup[] {
    return (this.dups ??= findDuplicates(this.graph, this.dominators));
  }

  /**
   * The same duplicates, computed in slices between which the event loop runs (src/core/slices.ts): what the
   * extension host asks for, so that a 100,000-path closure does not freeze the editor. One result for both.
   */
  duplicatesInSlices(): Promise<DuplicateGroup[]> {
    if (this.dups) return Promise.resolve(this.dups);
    return (this.dupsInSlices ??= runInSlices(duplicateSteps(this.graph, this.dominators)).then(
      (d) => (this.dups ??= d),
      (e: unknown) => {
        this.dupsInSlices = undefined;
        throw e;
      },
    ));
  }

  /** The duplicates if they were computed already (nothing is computed here). */
  get knownDuplicates(): DuplicateGroup[] | undefined {
    return this.dups;
  }

  find(query: string): number[] {
    return findByName(this.graph, query);
  }

  resolve(query: string): NameResolution {
    return resolveName(this.graph, query);
  }

  /** The n paths with the largest retained size, the root and a virtual root left out. */
  heaviest(n: number): number[] {
    const retained = this.dominators.retained;
    const idom = this.dominators.idom;
    const k = Math.max(0, n);
    if (k === 0) return [];
    // One pass keeping the k best in order (O(nodes + k·log k) on a real closure), not a sort of every node:
    // the sidebar asks this on every refresh.
    const before = (a: number, b: number) => retained[a]! > retained[b]! || (retained[a] === retained[b] && a < b);
    const top: number[] = [];
    for (let i = 0; i < this.graph.nodeCount; i++) {
      if (i === this.graph.root || idom[i] === -1) continue;
      if (top.length === k && !before(i, top[k - 1]!)) continue;
      let lo = 0;
      let hi = top.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (before(top[mid]!, i)) lo = mid + 1;
        else hi = mid;
      }
      top.splice(lo, 0, i);
      if (top.length > k) top.pop();
    }
    return top;
  }
}
