/**
 * Why is a path in the closure: shortest chains (breadth-first, so never longer than `nix why-depends`, whose
 * pointer-ordered queue sometimes prints a longer one) and all chains, shortest first and bounded, over the
 * subgraph that `nix why-depends --all` shows.
 */
import type { ClosureGraph } from '../graph';
import { referencesFirstOrder } from './closureSize';

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
        for (let x = to; x !== from;) {
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
  /**
   * True when the search over a cyclic input (never a real Nix closure) ran out of its work budget before it
   * listed `limit` chains: the chains listed are true, but some others may be missing.
   */
  incomplete?: boolean;
}

/**
 * Work budget for cyclic (malformed) inputs only, in steps: there partial chains can dead-end and their number can
 * grow exponentially. On a DAG every partial chain completes, so the search is bounded by limit × chain length and
 * needs no budget: a budget there would change answers (a 10,001-path chain read as "does not depend").
 */
const STEPS_ON_CYCLIC_INPUT_BASE = 2_000_000;
/** The budget grows with the graph, so that a long cycle still gets its chains listed in full. */
const STEPS_ON_CYCLIC_INPUT_PER_EDGE = 8;

/**
 * All chains from → to, shortest first. Runs a best-first search over partial chains whose priority is the
 * prefix length plus the exact remaining distance, so complete chains come out in length order and almost no
 * work is wasted; the count of all chains is a path-counting DP over the subgraph, so it never enumerates.
 */
export function allChains(g: ClosureGraph, from: number, to: number, limit = 100): ChainSet {
  const ws = workspaceOf(g);
  const fromRoot = from === g.root && ws.rootReachesAll;
  if (fromRoot && limit === 1 && from !== to && ws.chainsFromRoot) {
    // The common query (one chain from the root) needs neither the subgraph nor a count walk: a BFS gives
    // the chain, the per-graph DP the count, and the nodes are computed only if someone reads them.
    const chain = shortestChain(g, from, to)!;
    const total = ws.chainsFromRoot[to]!;
    let nodes: Int32Array | undefined;
    return {
      chains: [chain],
      truncated: total > 1,
      totalChains: total,
      get nodes() {
        return (nodes ??= coreach(g, to));
      },
    };
  }
  const epoch = ws.nextEpoch();
  const { toDist, mark, queue } = ws;
  // Distance from every node to `to`, walking referrers; mark[v] === epoch means v reaches `to`.
  let head = 0;
  let tail = 0;
  toDist[to] = 0;
  mark[to] = epoch;
  queue[tail++] = to;
  while (head < tail) {
    const v = queue[head++]!;
    const d = toDist[v]! + 1;
    for (let e = g.revOffsets[v]!, end = g.revOffsets[v + 1]!; e < end; e++) {
      const w = g.revTargets[e]!;
      if (mark[w] !== epoch) {
        mark[w] = epoch;
        toDist[w] = d;
        queue[tail++] = w;
      }
    }
  }
  if (mark[from] !== epoch) return { chains: [], truncated: false, totalChains: 0, nodes: new Int32Array(0) };

  // Nodes reachable from `from` through nodes that reach `to`: reach(from) ∩ coreach(to), which in a DAG are
  // exactly the nodes on some from → to path. From a root that reaches everything, that is coreach(to) itself.
  let nodes: Int32Array;
  let onPath: Int32Array;
  let onPathEpoch: number;
  if (fromRoot) {
    nodes = collectMarked(mark, epoch, tail);
    onPath = mark;
    onPathEpoch = epoch;
  } else {
    onPathEpoch = ws.nextEpoch();
    onPath = ws.mark2;
    const list = ws.queue2;
    let len = 0;
    list[len++] = from;
    onPath[from] = onPathEpoch;
    for (let h = 0; h < len; h++) {
      const v = list[h]!;
      for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
        const w = g.refTargets[e]!;
        if (mark[w] === epoch && onPath[w] !== onPathEpoch) {
          onPath[w] = onPathEpoch;
          list[len++] = w;
        }
      }
    }
    nodes = collectMarked(onPath, onPathEpoch, len);
  }
  if (from === to) return { chains: [[from]], truncated: false, totalChains: 1, nodes };

  const isOnPath = (v: number) => onPath[v] === onPathEpoch;
  const { chains, exhausted, stopped } = enumerateShortestFirst(g, from, to, toDist, isOnPath, limit, ws.acyclic);
  // `from` reaches `to`, so a shortest chain exists (and is simple): never answer "does not depend".
  if (chains.length === 0) chains.push(shortestChain(g, from, to)!);
  if (stopped) {
    return { chains, truncated: true, totalChains: chains.length, nodes, incomplete: true };
  }
  // Once the search has run dry, the listed chains are all there are.
  const counted = exhausted
    ? chains.length
    : fromRoot && ws.chainsFromRoot
      ? ws.chainsFromRoot[to]!
      : countChains(g, from, to, isOnPath, ws);
  const totalChains = counted ?? chains.length;
  return { chains, truncated: !exhausted && (counted === undefined || counted > chains.length), totalChains, nodes };
}

/** The nodes stamped `epoch`, in index order (a scan is cheaper than sorting the visit order). */
function collectMarked(marks: Int32Array, epoch: number, count: number): Int32Array {
  const out = new Int32Array(count);
  let k = 0;
  for (let v = 0; k < count; v++) if (marks[v] === epoch) out[k++] = v;
  return out;
}

/**
 * Buffers reused by every query on one graph (a why query must stay well under a millisecond at 10,000
 * paths, so it allocates and clears nothing proportional to the graph). Marks are epoch stamps.
 */
class Workspace {
  readonly toDist: Int32Array;
  readonly mark: Int32Array;
  readonly mark2: Int32Array;
  readonly queue: Int32Array;
  readonly queue2: Int32Array;
  readonly count: Float64Array;
  readonly state: Int32Array;
  readonly stackNode: Int32Array;
  readonly stackEdge: Int32Array;
  /** True when the root reaches every node (always, for a graph built from its roots). */
  readonly rootReachesAll: boolean;
  /** Number of chains from the root to each node (capped at MAX_SAFE_INTEGER); undefined on cyclic input. */
  readonly chainsFromRoot: Float64Array | undefined;
  /** False for a graph with a cycle (malformed input: Nix closures have none). */
  readonly acyclic: boolean;
  private epoch = 0;

  constructor(g: ClosureGraph) {
    const n = g.nodeCount;
    this.toDist = new Int32Array(n);
    this.mark = new Int32Array(n);
    this.mark2 = new Int32Array(n);
    this.queue = new Int32Array(n);
    this.queue2 = new Int32Array(n);
    this.count = new Float64Array(n);
    this.state = new Int32Array(n);
    this.stackNode = new Int32Array(n);
    this.stackEdge = new Int32Array(n);
    const dist = distancesFrom(g, g.root);
    this.rootReachesAll = dist.every((d) => d >= 0);
    const order = referencesFirstOrder(g);
    this.acyclic = order !== undefined;
    this.chainsFromRoot = this.rootReachesAll && order ? countChainsFromRoot(g, order) : undefined;
  }

  /** A fresh stamp; on wrap-around every mark is cleared once. */
  nextEpoch(): number {
    if (this.epoch >= 0x3ffffffe) {
      this.mark.fill(0);
      this.mark2.fill(0);
      this.state.fill(0);
      this.epoch = 0;
    }
    return ++this.epoch;
  }
}

/** Paths from the root to every node, by one DP in topological order (referrers before references). */
function countChainsFromRoot(g: ClosureGraph, order: Int32Array): Float64Array {
  const count = new Float64Array(g.nodeCount);
  count[g.root] = 1;
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k]!;
    const c = count[v]!;
    if (c === 0) continue;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      count[w] = Math.min(count[w]! + c, Number.MAX_SAFE_INTEGER);
    }
  }
  return count;
}

/** Every node that reaches `to` (itself included), in index order. */
function coreach(g: ClosureGraph, to: number): Int32Array {
  const ws = workspaceOf(g);
  const epoch = ws.nextEpoch();
  const { mark, queue } = ws;
  let tail = 0;
  mark[to] = epoch;
  queue[tail++] = to;
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    for (let e = g.revOffsets[v]!, end = g.revOffsets[v + 1]!; e < end; e++) {
      const w = g.revTargets[e]!;
      if (mark[w] !== epoch) {
        mark[w] = epoch;
        queue[tail++] = w;
      }
    }
  }
  return collectMarked(mark, epoch, tail);
}

const workspaces = new WeakMap<ClosureGraph, Workspace>();
function workspaceOf(g: ClosureGraph): Workspace {
  let ws = workspaces.get(g);
  if (!ws) {
    ws = new Workspace(g);
    workspaces.set(g, ws);
  }
  return ws;
}

/**
 * Number of from → to paths on the subgraph, by a DP over a DFS postorder; capped at MAX_SAFE_INTEGER.
 * Undefined when the subgraph has a cycle.
 */
function countChains(
  g: ClosureGraph,
  from: number,
  to: number,
  onPath: (v: number) => boolean,
  ws: Workspace,
): number | undefined {
  const { count, state, stackNode, stackEdge } = ws;
  // state[v] === open: on the DFS stack; === done: counted.
  const open = ws.nextEpoch();
  const done = ws.nextEpoch();
  let sp = 0;
  stackNode[sp] = from;
  stackEdge[sp] = g.refOffsets[from]!;
  sp++;
  state[from] = open;
  let cyclic = false;
  while (sp > 0) {
    const v = stackNode[sp - 1]!;
    const e = stackEdge[sp - 1]!;
    if (v === to || e === g.refOffsets[v + 1]!) {
      let c = 0;
      if (v === to) c = 1;
      else {
        for (let k = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; k < end; k++) {
          const w = g.refTargets[k]!;
          if (state[w] === done) c += count[w]!;
        }
      }
      count[v] = Math.min(c, Number.MAX_SAFE_INTEGER);
      state[v] = done;
      sp--;
      continue;
    }
    stackEdge[sp - 1] = e + 1;
    const w = g.refTargets[e]!;
    if (!onPath(w)) continue;
    if (state[w] === open) cyclic = true;
    if (state[w] === open || state[w] === done) continue;
    state[w] = open;
    stackNode[sp] = w;
    stackEdge[sp] = g.refOffsets[w]!;
    sp++;
  }
  return cyclic ? undefined : count[from]!;
}

function enumerateShortestFirst(
  g: ClosureGraph,
  from: number,
  to: number,
  toDist: Int32Array,
  onPath: (v: number) => boolean,
  limit: number,
  acyclic: boolean,
): { chains: number[][]; exhausted: boolean; stopped: boolean } {
  const chains: number[][] = [];
  if (limit <= 0) return { chains, exhausted: false, stopped: false };
  // Partial chains form a tree: entry k ends in node[k], its prefix ends in prev[k].
  const node: number[] = [from];
  const prev: number[] = [-1];
  const len: number[] = [0];
  const heap = new MinHeap();
  // Among equal lengths the deepest prefix goes first, so chains complete depth-first instead of the search
  // widening over every prefix of a long tie.
  // Exact while nodeCount² < 2^53: a prefix (at most nodeCount long) never outweighs one step of total length.
  const scale = g.nodeCount + 1;
  const priority = (total: number, prefix: number) => total * scale - prefix;
  heap.push(priority(toDist[from]!, 0), 0);
  // Steps spent on cyclic input: expansions, and moves of the prefix marks from one partial chain to the next.
  let steps = 0;
  const budget = STEPS_ON_CYCLIC_INPUT_BASE + STEPS_ON_CYCLIC_INPUT_PER_EDGE * (g.nodeCount + g.refTargets.length);
  const prefix = acyclic ? undefined : new PrefixMarks(g.nodeCount, node, prev, len);
  while (heap.size > 0 && chains.length < limit) {
    if (!acyclic && steps > budget) return { chains, exhausted: false, stopped: true };
    const k = heap.pop();
    const v = node[k]!;
    if (v === to) {
      const chain: number[] = [];
      for (let x = k; x !== -1; x = prev[x]!) chain.push(node[x]!);
      chains.push(chain.reverse());
      continue;
    }
    steps++;
    if (prefix) steps += prefix.moveTo(k);
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const w = g.refTargets[e]!;
      if (!onPath(w)) continue;
      // In a DAG a chain cannot meet itself; only cyclic input needs the check.
      if (prefix?.has(w)) continue;
      steps++;
      const id = node.length;
      node.push(w);
      prev.push(k);
      len.push(len[k]! + 1);
      heap.push(priority(len[k]! + 1 + toDist[w]!, len[k]! + 1), id);
    }
  }
  return { chains, exhausted: heap.size === 0, stopped: false };
}

/**
 * Chains stay simple even on malformed cyclic input: the nodes of the partial chain being expanded are marked, and
 * moving to the next one unmarks and marks only the entries between them in the tree of partial chains, so a
 * search that dives (as ties make it) pays one step per entry, not the whole prefix for every edge.
 */
class PrefixMarks {
  private readonly marked: Uint8Array;
  private current = -1;
  private readonly pending: number[] = [];
  constructor(
    nodeCount: number,
    private readonly node: readonly number[],
    private readonly prev: readonly number[],
    private readonly len: readonly number[],
  ) {
    this.marked = new Uint8Array(nodeCount);
  }

  has(v: number): boolean {
    return this.marked[v] === 1;
  }

  /** Marks exactly the nodes of partial chain k; returns the number of entries it moved over. */
  moveTo(k: number): number {
    const { node, prev, len, marked, pending } = this;
    let a = this.current;
    let b = k;
    let moved = 0;
    while (a !== -1 && (b === -1 || len[a]! > len[b]!)) {
      marked[node[a]!] = 0;
      a = prev[a]!;
      moved++;
    }
    while (b !== -1 && (a === -1 || len[b]! > len[a]!)) {
      pending.push(b);
      b = prev[b]!;
    }
    while (a !== b) {
      marked[node[a]!] = 0;
      a = prev[a]!;
      pending.push(b);
      b = prev[b]!;
      moved++;
    }
    moved += pending.length;
    while (pending.length > 0) marked[node[pending.pop()!]!] = 1;
    this.current = k;
    return moved;
  }
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
