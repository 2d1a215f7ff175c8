/**
 * Why is a path in the closure: shortest chains (breadth-first, so never longer than `nix why-depends`, whose
 * pointer-ordered queue sometimes prints a longer one) and all chains, shortest first and bounded, over the
 * subgraph that `nix why-depends --all` shows.
 */
import type { ClosureGraph } from '../graph';

/** Edge count from `from` to every node; -1 where `from` does not reach. */
export function distancesFrom(g: ClosureGraph, from: number): Int32Array {
  const dist = new Int32Array(g.nodeCount).fill(-1);
  const queue = new Int32Array(g.nodeCount);
  let head = 0;
  let tail = 0;
  dist[from] = 0;
  queue[tail++] = from;
  while (head < tail) {
    const v = queue[head++]!;
    const d = dist[v]! + 1;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      if (dist[w] === -1) {
        dist[w] = d;
        queue[tail++] = w;
      }
    }
  }
  return dist;
}

/** A shortest chain from → … → to (both included), or null when `from` does not reach `to`. */
export function shortestChain(g: ClosureGraph, from: number, to: number): number[] | null {
  if (from === to) return [from];
  const n = g.nodeCount;
  const pred = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  pred[from] = from;
  queue[tail++] = from;
  while (head < tail) {
    const v = queue[head++]!;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      if (pred[w] !== -1) continue;
      pred[w] = v;
      if (w === to) {
        const chain = [to];
        for (let x = to; x !== from; ) {
          x = pred[x]!;
          chain.push(x);
        }
        return chain.reverse();
      }
      queue[tail++] = w;
    }
  }
  return null;
}

/** The referrers of node i inside the closure (self-references excluded). */
export function referrersOf(g: ClosureGraph, i: number): number[] {
  return Array.from(g.referrers(i));
}

export interface ChainSet {
  /** Chains from → … → to, shortest first, at most `limit` of them. */
  chains: number[][];
  /** True when more chains exist than are listed. */
  truncated: boolean;
  /**
   * How many distinct chains exist, counted exactly up to Number.MAX_SAFE_INTEGER (then capped there).
   * 0 when `from` does not reach `to`. On cyclic input (never a real Nix closure) counting simple paths is
   * intractable, so it is then a lower bound: the chains found.
   */
  totalChains: number;
  /** Every node on some from → to path: reachable from `from` and reaching `to` (what `why-depends --all` shows). */
  nodes: Int32Array;
}

/** Safety net for malformed (cyclic) inputs, where partial chains can dead-end; Nix closures are acyclic. */
const MAX_EXPANSIONS_PER_CHAIN = 10_000;

/**
 * All chains from → to, shortest first. Runs a best-first search over partial chains whose priority is the
 * prefix length plus the exact remaining distance, so complete chains come out in length order and almost no
 * work is wasted; the count of all chains is a path-counting DP over the subgraph, so it never enumerates.
 */
export function allChains(g: ClosureGraph, from: number, to: number, limit = 100): ChainSet {
  const n = g.nodeCount;
  // Distance from every node to `to`, walking referrers; -1 = does not reach `to`.
  const toDist = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  toDist[to] = 0;
  queue[tail++] = to;
  while (head < tail) {
    const v = queue[head++]!;
    for (let e = g.revOffsets[v]!, end = g.revOffsets[v + 1]!; e < end; e++) {
      const w = g.revTargets[e]!;
      if (toDist[w] === -1) {
        toDist[w] = toDist[v]! + 1;
        queue[tail++] = w;
      }
    }
  }
  if (toDist[from] === -1) return { chains: [], truncated: false, totalChains: 0, nodes: new Int32Array(0) };

  // Nodes reachable from `from` through nodes that reach `to`: reach(from) ∩ coreach(to), which in a DAG are
  // exactly the nodes on some from → to path.
  const onPath = new Uint8Array(n);
  const nodesList: number[] = [from];
  onPath[from] = 1;
  for (let h = 0; h < nodesList.length; h++) {
    const v = nodesList[h]!;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      if (toDist[w] !== -1 && !onPath[w]) {
        onPath[w] = 1;
        nodesList.push(w);
      }
    }
  }
  const nodes = Int32Array.from(nodesList).sort();
  if (from === to) return { chains: [[from]], truncated: false, totalChains: 1, nodes };

  const { chains, exhausted } = enumerateShortestFirst(g, from, to, toDist, onPath, limit);
  // Once the search has run dry, the listed chains are all there are.
  const counted = exhausted ? chains.length : countChains(g, from, to, onPath);
  const totalChains = counted ?? chains.length;
  return { chains, truncated: !exhausted && (counted === undefined || counted > chains.length), totalChains, nodes };
}

/**
 * Number of from → to paths inside `onPath`, by a DP over a DFS postorder; capped at MAX_SAFE_INTEGER.
 * Undefined when the subgraph has a cycle.
 */
function countChains(g: ClosureGraph, from: number, to: number, onPath: Uint8Array): number | undefined {
  const n = g.nodeCount;
  const count = new Float64Array(n);
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const stackNode: number[] = [from];
  const stackEdge: number[] = [g.refOffsets[from]!];
  state[from] = 1;
  let cyclic = false;
  while (stackNode.length > 0) {
    const top = stackNode.length - 1;
    const v = stackNode[top]!;
    const e = stackEdge[top]!;
    if (v === to || e === g.refOffsets[v + 1]!) {
      let c = 0;
      if (v === to) c = 1;
      else {
        for (let k = g.refOffsets[v]!; k < g.refOffsets[v + 1]!; k++) {
          const w = g.refTargets[k]!;
          if (onPath[w]) c += count[w]!;
        }
      }
      count[v] = Math.min(c, Number.MAX_SAFE_INTEGER);
      state[v] = 2;
      stackNode.pop();
      stackEdge.pop();
      continue;
    }
    stackEdge[top] = e + 1;
    const w = g.refTargets[e]!;
    if (!onPath[w]) continue;
    if (state[w] === 1) cyclic = true;
    if (state[w] !== 0) continue;
    state[w] = 1;
    stackNode.push(w);
    stackEdge.push(g.refOffsets[w]!);
  }
  return cyclic ? undefined : count[from]!;
}

function enumerateShortestFirst(
  g: ClosureGraph,
  from: number,
  to: number,
  toDist: Int32Array,
  onPath: Uint8Array,
  limit: number,
): { chains: number[][]; exhausted: boolean } {
  const chains: number[][] = [];
  if (limit <= 0) return { chains, exhausted: false };
  // Partial chains form a tree: entry k ends in node[k], its prefix ends in prev[k].
  const node: number[] = [from];
  const prev: number[] = [-1];
  const len: number[] = [0];
  const heap = new MinHeap();
  // Among equal lengths the deepest prefix goes first, so chains complete depth-first instead of the search
  // widening over every prefix of a long tie.
  const priority = (total: number, prefix: number) => total * 65536 - prefix;
  heap.push(priority(toDist[from]!, 0), 0);
  let expansions = 0;
  const budget = MAX_EXPANSIONS_PER_CHAIN * limit;
  while (heap.size > 0 && chains.length < limit && expansions < budget) {
    const k = heap.pop();
    const v = node[k]!;
    if (v === to) {
      const chain: number[] = [];
      for (let x = k; x !== -1; x = prev[x]!) chain.push(node[x]!);
      chains.push(chain.reverse());
      continue;
    }
    expansions++;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      if (!onPath[w] || onPrefix(node, prev, k, w)) continue;
      const id = node.length;
      node.push(w);
      prev.push(k);
      len.push(len[k]! + 1);
      heap.push(priority(len[k]! + 1 + toDist[w]!, len[k]! + 1), id);
    }
  }
  return { chains, exhausted: heap.size === 0 };
}

/** Chains stay simple even on malformed cyclic input. */
function onPrefix(node: number[], prev: number[], k: number, w: number): boolean {
  for (let x = k; x !== -1; x = prev[x]!) if (node[x] === w) return true;
  return false;
}

/** Binary min-heap of (priority, id); ties pop in insertion order so results are deterministic. */
class MinHeap {
  private pri: number[] = [];
  private ids: number[] = [];
  get size(): number {
    return this.ids.length;
  }
  push(p: number, id: number): void {
    const pri = this.pri;
    const ids = this.ids;
    let i = ids.length;
    pri.push(p);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(p, id, pri[parent]!, ids[parent]!)) break;
      pri[i] = pri[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    pri[i] = p;
    ids[i] = id;
  }
  pop(): number {
    const pri = this.pri;
    const ids = this.ids;
    const top = ids[0]!;
    const lastP = pri.pop()!;
    const lastId = ids.pop()!;
    const n = ids.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && this.less(pri[c + 1]!, ids[c + 1]!, pri[c]!, ids[c]!)) c++;
        if (!this.less(pri[c]!, ids[c]!, lastP, lastId)) break;
        pri[i] = pri[c]!;
        ids[i] = ids[c]!;
        i = c;
      }
      pri[i] = lastP;
      ids[i] = lastId;
    }
    return top;
  }
  private less(p1: number, id1: number, p2: number, id2: number): boolean {
    return p1 < p2 || (p1 === p2 && id1 < id2);
  }
}
