/**
 * The dominator tree of the closure from its root, and the retained size of every path: the bytes that leave
 * the closure if nothing references the path any more (its subtree in the dominator tree). This is nix-tree's
 * "added size", computed in near-linear time with Lengauer–Tarjan (path compression) instead of one walk per
 * path. Works on any directed graph (cycles included), not only on DAGs.
 */
import type { ClosureGraph } from '../graph';

export interface DominatorTree {
  /** Immediate dominator of each node; -1 for the root and for nodes the root does not reach. */
  readonly idom: Int32Array;
  /** Sum of the NAR sizes of each node's dominator subtree; 0 for unreachable nodes. */
  readonly retained: Float64Array;
  /** Children of node i are childTargets[childOffsets[i] .. childOffsets[i+1]), by retained size, largest first. */
  readonly childOffsets: Int32Array;
  readonly childTargets: Int32Array;
  children(i: number): Int32Array;
}

/** The arrays of a dominator tree, e.g. as computed in a worker thread or read from the graph cache. */
export type DominatorArrays = Pick<DominatorTree, 'idom' | 'retained' | 'childOffsets' | 'childTargets'>;

/** A DominatorTree over arrays computed elsewhere (they must come from `dominatorTree` of the same graph). */
export function dominatorTreeOf(a: DominatorArrays): DominatorTree {
  const { idom, retained, childOffsets, childTargets } = a;
  return {
    idom,
    retained,
    childOffsets,
    childTargets,
    children: (i: number) => childTargets.subarray(childOffsets[i]!, childOffsets[i + 1]!),
  };
}

export function dominatorTree(g: ClosureGraph): DominatorTree {
  const n = g.nodeCount;
  const idom = immediateDominators(g);
  const retained = new Float64Array(n);
  const order = preorderOfDominatorTree(g, idom);
  // Reverse preorder visits every child before its parent.
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k]!;
    retained[v]! += g.narSize[v]!;
    const p = idom[v]!;
    if (p >= 0) retained[p]! += retained[v]!;
  }
  const [childOffsets, childTargets] = childrenByRetained(n, idom, retained);
  return {
    idom,
    retained,
    childOffsets,
    childTargets,
    children: (i: number) => childTargets.subarray(childOffsets[i]!, childOffsets[i + 1]!),
  };
}

/**
 * Lengauer–Tarjan, the "simple" variant (path compression without balancing: O(E log N)), iterative so that
 * deep closures cannot overflow the stack. Everything inside runs on DFS preorder numbers.
 */
function immediateDominators(g: ClosureGraph): Int32Array {
  const n = g.nodeCount;
  const { refOffsets, refTargets, revOffsets, revTargets } = g;
  const idomOut = new Int32Array(n).fill(-1);
  if (n === 0) return idomOut;

  const dfnum = new Int32Array(n).fill(-1); // node → preorder number
  const vertex = new Int32Array(n); // preorder number → node
  const parent = new Int32Array(n); // by number: DFS-tree parent's number
  // Iterative DFS that numbers nodes in preorder.
  const stackNode = new Int32Array(n);
  const stackEdge = new Int32Array(n);
  let count = 0;
  let sp = 0;
  dfnum[g.root] = count;
  vertex[count] = g.root;
  parent[count] = -1;
  count++;
  stackNode[sp] = g.root;
  stackEdge[sp] = refOffsets[g.root]!;
  sp++;
  while (sp > 0) {
    const v = stackNode[sp - 1]!;
    const e = stackEdge[sp - 1]!;
    if (e === refOffsets[v + 1]!) {
      sp--;
      continue;
    }
    stackEdge[sp - 1] = e + 1;
    const w = refTargets[e]!;
    if (dfnum[w] !== -1) continue;
    dfnum[w] = count;
    vertex[count] = w;
    parent[count] = dfnum[v]!;
    count++;
    stackNode[sp] = w;
    stackEdge[sp] = refOffsets[w]!;
    sp++;
  }

  const semi = new Int32Array(count);
  const label = new Int32Array(count);
  const ancestor = new Int32Array(count).fill(-1);
  const dom = new Int32Array(count);
  const bucketHead = new Int32Array(count).fill(-1);
  const bucketNext = new Int32Array(count).fill(-1);
  const compressStack = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    semi[i] = i;
    label[i] = i;
  }

  const evaluate = (v: number): number => {
    if (ancestor[v] === -1) return v;
    // Compress the ancestor chain of v; the recursive form processes the topmost ancestor first.
    let top = 0;
    let x = v;
    while (ancestor[ancestor[x]!] !== -1) {
      compressStack[top++] = x;
      x = ancestor[x]!;
    }
    while (top > 0) {
      const y = compressStack[--top]!;
      const a = ancestor[y]!;
      if (semi[label[a]!]! < semi[label[y]!]!) label[y] = label[a]!;
      ancestor[y] = ancestor[a]!;
    }
    return label[v]!;
  };

  for (let w = count - 1; w > 0; w--) {
    const node = vertex[w]!;
    for (let e = revOffsets[node]!, end = revOffsets[node + 1]!; e < end; e++) {
      const v = dfnum[revTargets[e]!]!;
      if (v === -1) continue; // a referrer the root does not reach
      const u = evaluate(v);
      if (semi[u]! < semi[w]!) semi[w] = semi[u]!;
    }
    const s = semi[w]!;
    bucketNext[w] = bucketHead[s]!;
    bucketHead[s] = w;
    const p = parent[w]!;
    ancestor[w] = p;
    for (let v = bucketHead[p]!; v !== -1; v = bucketNext[v]!) {
      const u = evaluate(v);
      dom[v] = semi[u]! < semi[v]! ? u : p;
    }
    bucketHead[p] = -1;
  }
  for (let w = 1; w < count; w++) {
    if (dom[w] !== semi[w]) dom[w] = dom[dom[w]!]!;
  }
  for (let w = 1; w < count; w++) idomOut[vertex[w]!] = vertex[dom[w]!]!;
  return idomOut;
}

/** Nodes of the dominator tree, parents before children (reachable nodes only). */
function preorderOfDominatorTree(g: ClosureGraph, idom: Int32Array): Int32Array {
  const n = g.nodeCount;
  const offsets = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) if (idom[v]! >= 0) offsets[idom[v]! + 1]!++;
  for (let v = 0; v < n; v++) offsets[v + 1]! += offsets[v]!;
  const fill = offsets.slice(0, n);
  const kids = new Int32Array(offsets[n]!);
  for (let v = 0; v < n; v++) if (idom[v]! >= 0) kids[fill[idom[v]!]!++] = v;
  const order = new Int32Array(offsets[n]! + (n > 0 ? 1 : 0));
  if (n === 0) return order;
  let len = 0;
  order[len++] = g.root;
  // Breadth-first is enough: every parent is emitted before its children.
  for (let head = 0; head < len; head++) {
    const v = order[head]!;
    for (let e = offsets[v]!; e < offsets[v + 1]!; e++) order[len++] = kids[e]!;
  }
  return order.subarray(0, len);
}

function childrenByRetained(n: number, idom: Int32Array, retained: Float64Array): [Int32Array, Int32Array] {
  const childOffsets = new Int32Array(n + 1);
  let m = 0;
  for (let v = 0; v < n; v++) {
    if (idom[v]! >= 0) {
      childOffsets[idom[v]! + 1]!++;
      m++;
    }
  }
  for (let v = 0; v < n; v++) childOffsets[v + 1]! += childOffsets[v]!;
  // One global sort, then a stable bucket fill keeps every segment sorted.
  const sorted = new Int32Array(m);
  let k = 0;
  for (let v = 0; v < n; v++) if (idom[v]! >= 0) sorted[k++] = v;
  sorted.sort((a, b) => retained[b]! - retained[a]! || a - b);
  const fill = childOffsets.slice(0, n);
  const childTargets = new Int32Array(m);
  for (const v of sorted) childTargets[fill[idom[v]!]!++] = v;
  return [childOffsets, childTargets];
}
