/**
 * The two trees the sunburst can draw over the closure DAG, in one CSR shape:
 * - the dominator tree (each path under the one path that alone keeps it; a node's size is its retained size),
 * - the shortest-chain tree (each path under its parent on a shortest why-chain; a node's size is its subtree).
 * Both partition the closure, so the arcs of one ring always add up to their parent.
 */
import type { ClosureSnapshot, TreeMode } from '../../src/shared/protocol';

export interface ViewTree {
  readonly mode: TreeMode;
  readonly root: number;
  /** Parent of each node in this tree; -1 for the root (and for nodes outside the closure). */
  readonly parent: Int32Array;
  /** Each node's own weight: its NAR size, or 1 per path when the input has no sizes. */
  readonly own: Float64Array;
  /** Own weight plus the weights of every descendant. */
  readonly size: Float64Array;
  /** Children of i are childTargets[childOffsets[i] .. childOffsets[i+1]), largest size first. */
  readonly childOffsets: Int32Array;
  readonly childTargets: Int32Array;
  /** True when the sizes are path counts, not bytes. */
  readonly countsPaths: boolean;
  /**
   * Only in a preview's tree (webview/preview.ts), which lists each node's children only as far as they can be drawn:
   * how many children of each node are not listed, and their size together.
   */
  readonly restCount?: Int32Array;
  readonly restSize?: Float64Array;
}

/** Node weights for drawing: bytes when known, else one per path (a virtual root weighs nothing). */
export function nodeWeights(s: ClosureSnapshot): Float64Array {
  if (s.sizesKnown) return s.narSize;
  const w = new Float64Array(s.narSize.length).fill(1);
  if (s.hasVirtualRoot) w[0] = 0;
  return w;
}

export function dominatorViewTree(s: ClosureSnapshot): ViewTree {
  if (s.sizesKnown) {
    // The host already sent the tree with retained sizes: use it as is.
    return {
      mode: 'dominator',
      root: 0,
      parent: s.idom,
      own: s.narSize,
      size: s.retained,
      childOffsets: s.childOffsets,
      childTargets: s.childTargets,
      countsPaths: false,
    };
  }
  return treeFromParents('dominator', s.idom, nodeWeights(s), true);
}

/**
 * Parent of each node on a shortest chain from the root: the first referrer one step closer. Referrers are
 * scanned in index order and the graph interns breadth-first from the root, so this is the BFS parent.
 */
export function chainViewTree(s: ClosureSnapshot, revOffsets: Int32Array, revTargets: Int32Array): ViewTree {
  const n = s.distance.length;
  const parent = new Int32Array(n).fill(-1);
  for (let v = 0; v < n; v++) {
    const d = s.distance[v]!;
    if (d <= 0) continue;
    let best = -1;
    for (let e = revOffsets[v]!; e < revOffsets[v + 1]!; e++) {
      const u = revTargets[e]!;
      if (s.distance[u] === d - 1 && (best === -1 || u < best)) best = u;
    }
    parent[v] = best;
  }
  return treeFromParents('chain', parent, nodeWeights(s), !s.sizesKnown);
}

/** Builds children lists, subtree sums and the size order from a parent array rooted at 0. */
export function treeFromParents(mode: TreeMode, parent: Int32Array, own: Float64Array, countsPaths: boolean): ViewTree {
  const n = parent.length;
  const childOffsets = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) if (parent[v]! >= 0) childOffsets[parent[v]! + 1]!++;
  for (let i = 0; i < n; i++) childOffsets[i + 1]! += childOffsets[i]!;
  const fill = childOffsets.slice(0, n);
  const childTargets = new Int32Array(childOffsets[n]!);
  for (let v = 0; v < n; v++) if (parent[v]! >= 0) childTargets[fill[parent[v]!]!++] = v;
  // Preorder from the root; reversed, it visits children before parents.
  const order = new Int32Array(n);
  let len = 0;
  if (n > 0) order[len++] = 0;
  for (let h = 0; h < len; h++) {
    const v = order[h]!;
    for (let e = childOffsets[v]!; e < childOffsets[v + 1]!; e++) order[len++] = childTargets[e]!;
  }
  const size = new Float64Array(n);
  for (let k = len - 1; k >= 0; k--) {
    const v = order[k]!;
    size[v]! += own[v]!;
    if (parent[v]! >= 0) size[parent[v]!]! += size[v]!;
  }
  for (let v = 0; v < n; v++) {
    const a = childOffsets[v]!;
    const b = childOffsets[v + 1]!;
    if (b - a > 1) {
      const kids = Array.from(childTargets.subarray(a, b)).sort((x, y) => size[y]! - size[x]! || x - y);
      childTargets.set(kids, a);
    }
  }
  return { mode, root: 0, parent, own, size, childOffsets, childTargets, countsPaths };
}

export function children(t: ViewTree, i: number): Int32Array {
  return t.childTargets.subarray(t.childOffsets[i]!, t.childOffsets[i + 1]!);
}

/** The nodes from the root down to i, both included. */
export function ancestry(t: ViewTree, i: number): number[] {
  const out: number[] = [];
  for (let v = i, guard = 0; v >= 0 && guard <= t.parent.length; v = t.parent[v]!, guard++) out.push(v);
  return out.reverse();
}
