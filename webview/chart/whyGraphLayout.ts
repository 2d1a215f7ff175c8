/**
 * Where the why-graph's drawing puts each node: layers by the longest chain from the root, so every edge points
 * down, the root is alone on top and the selected path alone at the bottom (every other node reaches it). A hub
 * has thousands of nodes, so each layer draws only the nodes most chains run through, up to a share of a node
 * budget, and folds the rest into one "+N more" node that grows by a step on each click. Edges to folded nodes
 * are drawn once to their layer's "+N more"; edges between two folds are left out. Within a layer, nodes sit under the mean position of their drawn
 * referrers (one top-down barycentre sweep), which keeps most edges short and uncrossed.
 */
import type { WhyGraph } from '../../src/shared/analysis/whyGraph';

/** Nodes drawn in total before layers fold (roughly; each layer draws at least MIN_PER_LAYER). */
export const NODE_BUDGET = 48;
const MIN_PER_LAYER = 2;
const MAX_PER_LAYER = 8;
/** Nodes a click on "+N more" adds to its layer. */
export const EXPAND_STEP = 8;

export const NODE_WIDTH = 124;
export const NODE_HEIGHT = 24;
const GAP_X = 14;
const GAP_Y = 46;
const MARGIN = 6;

/** A drawn node: a path (`node` ≥ 0) or a layer's fold (`node` = -1, `hidden` paths behind it). */
export interface DrawnNode {
  readonly key: string;
  readonly node: number;
  readonly layer: number;
  /** Position in its layer, left to right. */
  readonly slot: number;
  readonly x: number;
  readonly y: number;
  readonly hidden: number;
}

/** A drawn edge between two drawn nodes; `real` when both ends are paths (an edge of the closure). */
export interface DrawnEdge {
  readonly from: DrawnNode;
  readonly to: DrawnNode;
  readonly real: boolean;
}

export interface WhyGraphDrawing {
  readonly nodes: DrawnNode[];
  readonly edges: DrawnEdge[];
  /** Drawn nodes per layer, left to right. */
  readonly layers: DrawnNode[][];
  readonly width: number;
  readonly height: number;
}

/**
 * The layer of each entry of `wg.nodes` by the longest chain from `wg.from` (a virtual root's layer is dropped:
 * its stored roots form the top layer); -1 for the virtual root. On malformed cyclic input the engine's breadth-
 * first layers are used, with the selected path put below all others.
 */
export function longestPathLayers(wg: WhyGraph, isVirtual: (v: number) => boolean): Int32Array {
  const m = wg.nodes.length;
  const local = new Map<number, number>();
  wg.nodes.forEach((v, k) => local.set(v, k));
  const out: number[][] = Array.from({ length: m }, () => []);
  const inDegree = new Int32Array(m);
  for (let e = 0; e < wg.edges.length; e += 2) {
    const a = local.get(wg.edges[e]!)!;
    const b = local.get(wg.edges[e + 1]!)!;
    out[a]!.push(b);
    inDegree[b]!++;
  }
  const layer = new Int32Array(m);
  const queue: number[] = [];
  for (let k = 0; k < m; k++) if (inDegree[k] === 0) queue.push(k);
  let seen = 0;
  for (let q = 0; q < queue.length; q++) {
    const k = queue[q]!;
    seen++;
    for (const b of out[k]!) {
      if (layer[k]! + 1 > layer[b]!) layer[b] = layer[k]! + 1;
      if (--inDegree[b]! === 0) queue.push(b);
    }
  }
  if (seen < m) {
    layer.set(wg.layer);
    const bottom = Math.max(...wg.layer) + 1;
    wg.nodes.forEach((v, k) => {
      if (v === wg.to) layer[k] = bottom;
    });
  }
  const shift = m > 0 && isVirtual(wg.from) ? 1 : 0;
  wg.nodes.forEach((v, k) => (layer[k] = isVirtual(v) ? -1 : layer[k]! - shift));
  return layer;
}

/** Node indices per layer, most chains through first (ties by index). */
export function rankedLayers(wg: WhyGraph, layerOf: Int32Array): number[][] {
  const layers: { node: number; through: number }[][] = [];
  wg.nodes.forEach((v, k) => {
    const l = layerOf[k]!;
    if (l >= 0) (layers[l] ??= []).push({ node: v, through: wg.chainsThroughLog2[k]! });
  });
  return Array.from(layers, (l) =>
    (l ?? []).sort((a, b) => b.through - a.through || a.node - b.node).map((x) => x.node),
  );
}

/** How many nodes each layer draws before any click. */
export function defaultShown(layerCount: number): number {
  return Math.max(MIN_PER_LAYER, Math.min(MAX_PER_LAYER, Math.floor(NODE_BUDGET / Math.max(1, layerCount))));
}

/**
 * The drawing of `ranked` (from rankedLayers) with `shown[l]` nodes drawn in layer l, and the edges of `wg` among
 * them (an edge from or to a folded node goes to its layer's fold, once).
 */
export function layoutWhyGraph(wg: WhyGraph, ranked: readonly number[][], shown: readonly number[]): WhyGraphDrawing {
  const keyOf = new Map<number, string>();
  const foldKey = (l: number) => `more-${l}`;
  const layerOfNode = new Map<number, number>();
  ranked.forEach((layer, l) =>
    layer.forEach((v, k) => {
      layerOfNode.set(v, l);
      keyOf.set(v, k < shown[l]! ? `n${v}` : foldKey(l));
    }),
  );
  // referrers of each drawn key, for the barycentre sweep
  const referrers = new Map<string, Set<string>>();
  const edgeKeys = new Set<string>();
  const edgePairs: [string, string, boolean][] = [];
  for (let e = 0; e < wg.edges.length; e += 2) {
    const a = keyOf.get(wg.edges[e]!);
    const b = keyOf.get(wg.edges[e + 1]!);
    if (a === undefined || b === undefined) continue; // the virtual root
    const id = `${a} ${b}`;
    // between two folds an edge says nothing a reader can follow, and on a hub they would drown the rest
    if (edgeKeys.has(id) || (a.startsWith('more-') && b.startsWith('more-'))) continue;
    edgeKeys.add(id);
    edgePairs.push([a, b, a.startsWith('n') && b.startsWith('n')]);
    (referrers.get(b) ?? referrers.set(b, new Set()).get(b)!).add(a);
  }
  const xOf = new Map<string, number>();
  const layers: DrawnNode[][] = [];
  const byKey = new Map<string, DrawnNode>();
  const slotsOf = (layer: readonly number[], l: number) =>
    Math.min(layer.length, shown[l]!) + (layer.length > shown[l]! ? 1 : 0);
  const widest = Math.max(1, ...ranked.map(slotsOf));
  // each layer centred under the widest one
  const xAt = (slot: number, slots: number) => MARGIN + ((widest - slots) / 2 + slot) * (NODE_WIDTH + GAP_X);
  ranked.forEach((layer, l) => {
    const slots = slotsOf(layer, l);
    const visible = layer.slice(0, shown[l]);
    const rank = new Map(visible.map((v, k) => [v, k]));
    const centre = (v: number) => {
      const rs = [...(referrers.get(`n${v}`) ?? [])].map((r) => xOf.get(r)).filter((x) => x !== undefined);
      return rs.length === 0 ? Infinity : rs.reduce((s, x) => s + x, 0) / rs.length;
    };
    const order = visible
      .map((v) => ({ v, c: centre(v) }))
      .sort((a, b) => a.c - b.c || rank.get(a.v)! - rank.get(b.v)!);
    const drawn: DrawnNode[] = order.map(({ v }, slot) => ({
      key: `n${v}`,
      node: v,
      layer: l,
      slot,
      x: xAt(slot, slots),
      y: MARGIN + l * (NODE_HEIGHT + GAP_Y),
      hidden: 0,
    }));
    if (layer.length > visible.length) {
      const slot = drawn.length;
      drawn.push({
        key: foldKey(l),
        node: -1,
        layer: l,
        slot,
        x: xAt(slot, slots),
        y: MARGIN + l * (NODE_HEIGHT + GAP_Y),
        hidden: layer.length - visible.length,
      });
    }
    for (const d of drawn) {
      xOf.set(d.key, d.x);
      byKey.set(d.key, d);
    }
    layers.push(drawn);
  });
  const edges = edgePairs
    .filter(([a, b]) => a !== b)
    .map(([a, b, real]) => ({ from: byKey.get(a)!, to: byKey.get(b)!, real }));
  return {
    nodes: layers.flat(),
    edges,
    layers,
    width: 2 * MARGIN + widest * (NODE_WIDTH + GAP_X) - GAP_X,
    height: 2 * MARGIN + layers.length * (NODE_HEIGHT + GAP_Y) - GAP_Y,
  };
}
