/**
 * The why-graph: every reason at once. For a hub such as glibc the chains from the root explode (≥ 2^53 on a
 * 3,000-path system), so instead of listing chains we return the subgraph they all run through — every node on
 * some from → to path, each once, with its edges — which is exactly what `nix why-depends --all` draws. The chains
 * are still listed (shortest first, bounded) and counted exactly, without enumerating them.
 *
 * Cost: two breadth-first walks, one Kahn pass over the subgraph with BigInt additions, and the bounded chain
 * enumeration of allChains; near-linear in the subgraph.
 */
import type { ClosureGraph } from '../graph';
import { allChains } from './why';

/** How many chains exist: exact, or this marker when there are more than 2^MAX_COUNT_BITS (or a cycle). */
export type ChainCount = bigint | 'too many to count';

export const TOO_MANY_TO_COUNT = 'too many to count';

/**
 * Counts saturate here: past 2^1024 (more than a double can hold) an exact figure says nothing more, and capping
 * keeps every BigInt addition cheap on graphs with astronomically many chains (a 100,000-node .drv graph).
 */
const MAX_COUNT_BITS = 1024;
const COUNT_CAP = 1n << BigInt(MAX_COUNT_BITS);

export interface WhyGraph {
  readonly from: number;
  readonly to: number;
  /**
   * Every node on some from → to path (`from` and `to` included), in layer order: by edge distance from `from`,
   * then by index. Empty when `from` does not reach `to`.
   */
  readonly nodes: Int32Array;
  /** Edge distance from `from` of each entry of `nodes` (the layer a drawing puts it in). */
  readonly layer: Int32Array;
  /** Every edge between two nodes of the subgraph, as [referrer, reference] pairs flattened; each edge once. */
  readonly edges: Int32Array;
  /** Chains from → … → to, shortest first, at most `limit`. */
  readonly chains: number[][];
  /** Number of distinct chains: exact, or 'too many to count'. 0n when `from` does not reach `to`. */
  readonly chainCount: ChainCount;
  /** True when more chains exist than are listed. Nodes and edges are never cut. */
  readonly truncated: boolean;
  /**
   * log2 of the number of chains through each entry of `nodes` (chains from → v times chains v → to), for ranking
   * the nodes most chains run through; a double, so it never overflows.
   */
  readonly chainsThroughLog2: Float64Array;
}

/**
 * The why-graph from `from` to `to`, with up to `limit` chains listed. A self-query (`from === to`) is the one-node
 * graph with the one-element chain.
 */
export function whyGraph(g: ClosureGraph, from: number, to: number, limit = 100): WhyGraph {
  const set = allChains(g, from, to, limit);
  const nodes = set.nodes;
  if (nodes.length === 0) {
    return {
      from,
      to,
      nodes,
      layer: new Int32Array(0),
      edges: new Int32Array(0),
      chains: [],
      chainCount: 0n,
      truncated: false,
      chainsThroughLog2: new Float64Array(0),
    };
  }
  // Position of every subgraph node in `nodes` (index order), -1 outside: the subgraph's own numbering.
  const local = new Int32Array(g.nodeCount).fill(-1);
  for (let k = 0; k < nodes.length; k++) local[nodes[k]!] = k;
  const m = nodes.length;
  const edgeList: number[] = [];
  const inDegree = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const v = nodes[k]!;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      const lw = local[w]!;
      if (lw < 0) continue;
      edgeList.push(v, w);
      inDegree[lw]++;
    }
  }
  const order = kahnOrder(g, nodes, local, inDegree);
  const fromCount = new Array<bigint>(m).fill(0n);
  const toCount = new Array<bigint>(m).fill(0n);
  let chainCount: ChainCount;
  if (order === undefined) {
    // Malformed cyclic input (never a real Nix closure): counting simple paths is intractable.
    chainCount = TOO_MANY_TO_COUNT;
  } else {
    fromCount[local[from]!] = 1n;
    for (const k of order) {
      const c = fromCount[k]!;
      if (c === 0n) continue;
      const v = nodes[k]!;
      for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
        const lw = local[g.refTargets[e]!]!;
        if (lw >= 0) fromCount[lw] = saturatingAdd(fromCount[lw]!, c);
      }
    }
    toCount[local[to]!] = 1n;
    for (let i = order.length - 1; i >= 0; i--) {
      const k = order[i]!;
      const v = nodes[k]!;
      let c = toCount[k]!;
      for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
        const lw = local[g.refTargets[e]!]!;
        if (lw >= 0) c = saturatingAdd(c, toCount[lw]!);
      }
      toCount[k] = c;
    }
    const total = toCount[local[from]!]!;
    chainCount = from === to ? 1n : total >= COUNT_CAP ? TOO_MANY_TO_COUNT : total;
  }
  const through = new Float64Array(m);
  for (let k = 0; k < m; k++) through[k] = order ? log2(fromCount[k]!) + log2(toCount[k]!) : 0;

  const dist = layersFrom(g, from, local, m);
  const layered = Array.from(nodes.keys()).sort((a, b) => dist[a]! - dist[b]! || nodes[a]! - nodes[b]!);
  // Past the cap there are surely more chains than listed; on a cycle only the search knows.
  const truncated = chainCount !== TOO_MANY_TO_COUNT ? chainCount > set.chains.length : order ? true : set.truncated;
  return {
    from,
    to,
    nodes: Int32Array.from(layered, (k) => nodes[k]!),
    layer: Int32Array.from(layered, (k) => dist[k]!),
    edges: Int32Array.from(edgeList),
    chains: set.chains,
    chainCount,
    truncated,
    chainsThroughLog2: Float64Array.from(layered, (k) => through[k]!),
  };
}

function saturatingAdd(a: bigint, b: bigint): bigint {
  const s = a + b;
  return s > COUNT_CAP ? COUNT_CAP : s;
}

/** log2 of a non-negative BigInt as a double (exact enough for ranking; -Infinity for 0). */
function log2(x: bigint): number {
  if (x === 0n) return -Infinity;
  const bits = x.toString(2).length;
  if (bits <= 53) return Math.log2(Number(x));
  // the top 53 bits carry all a double can say
  return Math.log2(Number(x >> BigInt(bits - 53))) + (bits - 53);
}

/** A topological order (referrers first) of the subgraph's local numbers, or undefined on a cycle. */
function kahnOrder(
  g: ClosureGraph,
  nodes: Int32Array,
  local: Int32Array,
  inDegree: Int32Array,
): Int32Array | undefined {
  const m = nodes.length;
  const order = new Int32Array(m);
  let tail = 0;
  // On an acyclic from → to subgraph only `from` has no referrer inside it.
  for (let k = 0; k < m; k++) if (inDegree[k] === 0) order[tail++] = k;
  for (let head = 0; head < tail; head++) {
    const v = nodes[order[head]!]!;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const lw = local[g.refTargets[e]!]!;
      if (lw >= 0 && --inDegree[lw] === 0) order[tail++] = lw;
    }
  }
  return tail === m ? order : undefined;
}

/** Edge distance from `from` inside the subgraph, per local number. */
function layersFrom(g: ClosureGraph, from: number, local: Int32Array, m: number): Int32Array {
  const dist = new Int32Array(m).fill(-1);
  const queue = new Int32Array(m);
  let tail = 0;
  dist[local[from]!] = 0;
  queue[tail++] = from;
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    const d = dist[local[v]!]! + 1;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      const lw = local[w]!;
      if (lw >= 0 && dist[lw] === -1) {
        dist[lw] = d;
        queue[tail++] = w;
      }
    }
  }
  return dist;
}

/** One line of the why-graph drawn as a tree: the edge parent → node, at `depth` (the root's children are 1). */
export interface WhyTreeStep {
  readonly parent: number;
  readonly node: number;
  readonly depth: number;
  /** The parent's last child here (drawn └─── rather than ├───). */
  readonly last: boolean;
  /** Drawn before: not expanded again (Nix greys these). */
  readonly repeated: boolean;
}

/**
 * The why-graph in the order `nix why-depends --all` draws it: depth first from `from`, each node expanded at its
 * first appearance only, children nearest to `to` first (ties by store path, as Nix's sets are ordered). Every
 * edge of the graph is one step. Iterative, so a graph thousands of edges deep cannot overflow the stack.
 */
export function whyTreeSteps(g: ClosureGraph, wg: WhyGraph): WhyTreeStep[] {
  if (wg.nodes.length === 0) return [];
  const inside = new Set(wg.nodes);
  // distance to `to` inside the graph, walking referrers
  const toDist = new Map<number, number>([[wg.to, 0]]);
  const queue = [wg.to];
  for (let h = 0; h < queue.length; h++) {
    const v = queue[h]!;
    for (let e = g.revOffsets[v]!, end = g.revOffsets[v + 1]!; e < end; e++) {
      const w = g.revTargets[e]!;
      if (inside.has(w) && !toDist.has(w)) {
        toDist.set(w, toDist.get(v)! + 1);
        queue.push(w);
      }
    }
  }
  const childrenOf = (v: number): number[] => {
    const out: number[] = [];
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      if (inside.has(w)) out.push(w);
    }
    return out.sort((a, b) => toDist.get(a)! - toDist.get(b)! || compareStrings(g.paths[a]!, g.paths[b]!));
  };
  const steps: WhyTreeStep[] = [];
  const expanded = new Set<number>([wg.from]);
  const stack: { parent: number; node: number; depth: number; last: boolean }[] = [];
  const pushChildren = (v: number, depth: number) => {
    const cs = childrenOf(v);
    for (let k = cs.length - 1; k >= 0; k--) stack.push({ parent: v, node: cs[k]!, depth, last: k === cs.length - 1 });
  };
  pushChildren(wg.from, 1);
  while (stack.length > 0) {
    const s = stack.pop()!;
    const repeated = expanded.has(s.node);
    steps.push({ ...s, repeated });
    if (!repeated) {
      expanded.add(s.node);
      pushChildren(s.node, s.depth + 1);
    }
  }
  return steps;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
