/**
 * Which definitions reach each node of the closure (carry it or something that depends on it), and how far:
 * `OptionAttribution.reachingDefinitions` reads it (why a path is there, nearest definition first).
 */
import type { ClosureGraph } from '../../shared/graph';

/** CSR arrays: for node i, entries offsets[i] .. offsets[i+1] of ids (definitions) and dist (references away). */
export interface ReachIndex {
  readonly offsets: Int32Array;
  readonly ids: Int32Array;
  readonly dist: Int32Array;
}

/**
 * One breadth-first walk per definition that carries paths, recording (node, definition, distance);
 * then grouped by node (counting sort), nearest first. Built once, in typed arrays.
 */
export function buildReachIndex(
  g: ClosureGraph,
  definitions: readonly { readonly id: number; readonly nodes: readonly number[] }[],
): ReachIndex {
  const n = g.nodeCount;
  let cap = Math.max(1024, n * 4);
  let nodeOf = new Int32Array(cap);
  let idOf = new Int32Array(cap);
  let distOf = new Int32Array(cap);
  let count = 0;
  const dist = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  for (const def of definitions) {
    if (def.nodes.length === 0) continue;
    let tail = 0;
    for (const s of def.nodes) {
      if (dist[s] === -1) {
        dist[s] = 0;
        queue[tail++] = s;
      }
    }
    for (let head = 0; head < tail; head++) {
      const v = queue[head]!;
      for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
        const w = g.refTargets[e]!;
        if (dist[w] === -1) {
          dist[w] = dist[v]! + 1;
          queue[tail++] = w;
        }
      }
    }
    if (count + tail > cap) {
      cap = Math.max(cap * 2, count + tail);
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(cap);
        b.set(a.subarray(0, count));
        return b;
      };
      nodeOf = grow(nodeOf);
      idOf = grow(idOf);
      distOf = grow(distOf);
    }
    for (let k = 0; k < tail; k++) {
      const v = queue[k]!;
      nodeOf[count] = v;
      idOf[count] = def.id;
      distOf[count++] = dist[v]!;
      dist[v] = -1;
    }
  }
  const offsets = new Int32Array(n + 1);
  for (let k = 0; k < count; k++) offsets[nodeOf[k]! + 1]!++;
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
  const fill = offsets.slice(0, n);
  const ids = new Int32Array(count);
  const d = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const at = fill[nodeOf[k]!]!++;
    ids[at] = idOf[k]!;
    d[at] = distOf[k]!;
  }
  return { offsets, ids, dist: d };
}
