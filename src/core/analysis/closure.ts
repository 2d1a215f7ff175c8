/**
 * Every analysis of one closure behind one object, each computed on first use and kept.
 * Uses only the ClosureGraph arrays, so the webview bundle can run it in the browser too.
 */
import type { ClosureGraph } from '../graph';
import { ClosureSizes } from './closureSize';
import { dominatorTree, type DominatorTree } from './dominators';
import { findDuplicates, type DuplicateGroup } from './duplicates';
import { findByName, resolveName, type NameResolution } from './names';
import { allChains, distancesFrom, type ChainSet } from './why';

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

  /**
   * `known.dominators`: the graph's dominator tree when it was computed already (in a worker thread, or read from
   * the graph cache), so that the first view does not compute it again.
   */
  constructor(
    readonly graph: ClosureGraph,
    known: { readonly dominators?: DominatorTree | undefined } = {},
  ) {
    if (known.dominators && known.dominators.idom.length !== graph.nodeCount) throw new Error('the dominator tree is not of this graph');
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

  referrers(i: number): number[] {
    return Array.from(this.graph.referrers(i));
  }

  duplicates(): DuplicateGroup[] {
    return (this.dups ??= findDuplicates(this.graph, this.dominators));
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
    const candidates: number[] = [];
    for (let i = 0; i < this.graph.nodeCount; i++) {
      if (i !== this.graph.root && idom[i] !== -1) candidates.push(i);
    }
    candidates.sort((a, b) => retained[b]! - retained[a]! || a - b);
    return candidates.slice(0, Math.max(0, n));
  }
}
