/**
 * Which arcs to draw around a centre node, and where: the view tree is pruned to the arcs that are big
 * enough to see (biggest first, at most `maxArcs`), the rest of each parent's children are merged into one
 * "N more" arc, and d3-hierarchy's partition lays the pruned tree out. Pure; no DOM.
 */
import { hierarchy, partition } from 'd3-hierarchy';
import { SUNBURST_MAX_DEPTH, SUNBURST_MIN_ANGLE } from '../../src/shared/sunburstPreview';
import type { ViewTree } from './viewTree';

export interface LayoutOptions {
  readonly maxArcs: number;
  /** Rings drawn around the centre. */
  readonly maxDepth: number;
  /** Arcs narrower than this (radians) are merged into their parent's "more" arc. */
  readonly minAngle: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = {
  maxArcs: 2500,
  maxDepth: SUNBURST_MAX_DEPTH,
  minAngle: SUNBURST_MIN_ANGLE,
};

/** One drawn arc. Angles are in radians from 12 o'clock, clockwise; depth 0 is the centre disc. */
export interface Arc {
  /** Stable across layouts: `n<node>` for a path, `m<parent>` for a parent's "more" arc. */
  readonly key: string;
  /** The path this arc stands for; -1 for a "more" arc. */
  readonly node: number;
  /** The node whose ring this arc sits in (the centre for depth 1). */
  readonly parentNode: number;
  readonly depth: number;
  readonly x0: number;
  readonly x1: number;
  /** Weight the angle stands for (the node's subtree size, or the merged siblings' total). */
  readonly value: number;
  /** For a "more" arc: the parent's children from this index on (they are sorted by size) are merged. */
  readonly moreFrom?: number;
  readonly moreCount?: number;
  /** True when the node has children that are not drawn because of the depth limit. */
  readonly hasHiddenChildren: boolean;
}

interface Pruned {
  node: number;
  parentNode: number;
  own: number;
  children: Pruned[];
  moreFrom?: number;
  moreCount?: number;
  hidden: boolean;
  depth: number;
}

/** A small max-heap keyed by size, for expanding the biggest arcs first. */
class MaxHeap {
  private keys: number[] = [];
  private items: Pruned[] = [];
  get size(): number {
    return this.items.length;
  }
  push(k: number, item: Pruned): void {
    const { keys, items } = this;
    let i = items.length;
    keys.push(k);
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! >= k) break;
      keys[i] = keys[p]!;
      items[i] = items[p]!;
      i = p;
    }
    keys[i] = k;
    items[i] = item;
  }
  pop(): Pruned {
    const { keys, items } = this;
    const top = items[0]!;
    const k = keys.pop()!;
    const it = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && keys[c + 1]! > keys[c]!) c++;
        if (keys[c]! <= k) break;
        keys[i] = keys[c]!;
        items[i] = items[c]!;
        i = c;
      }
      keys[i] = k;
      items[i] = it;
    }
    return top;
  }
}

export function layoutSunburst(tree: ViewTree, center: number, opts: LayoutOptions = DEFAULT_LAYOUT): Arc[] {
  const total = tree.size[center]!;
  const { childOffsets, childTargets, size, own, restCount, restSize } = tree;
  const rootItem: Pruned = { node: center, parentNode: -1, own: total, children: [], hidden: false, depth: 0 };
  const arcs: Arc[] = [];
  if (!(total > 0)) {
    arcs.push({
      key: `n${center}`,
      node: center,
      parentNode: -1,
      depth: 0,
      x0: 0,
      x1: 2 * Math.PI,
      value: 0,
      hasHiddenChildren: false,
    });
    return arcs;
  }
  const minValue = (opts.minAngle / (2 * Math.PI)) * total;
  const heap = new MaxHeap();
  heap.push(total, rootItem);
  let count = 0;
  while (heap.size > 0) {
    const item = heap.pop();
    const depth = item.depth;
    const v = item.node;
    const a = childOffsets[v]!;
    const b = childOffsets[v + 1]!;
    // A preview's tree lists only the children big enough to draw; the rest it counts (sunburstPreview.ts).
    const restN = restCount?.[v] ?? 0;
    if (a === b && restN === 0) {
      item.own = size[v]!;
      continue;
    }
    if (depth >= opts.maxDepth || count >= opts.maxArcs) {
      item.own = size[v]!;
      item.hidden = true;
      continue;
    }
    item.own = own[v]!;
    let e = a;
    for (; e < b && count < opts.maxArcs - 1; e++) {
      const c = childTargets[e]!;
      if (size[c]! < minValue) break;
      const child: Pruned = { node: c, parentNode: v, own: size[c]!, children: [], hidden: false, depth: depth + 1 };
      item.children.push(child);
      count++;
      heap.push(size[c]!, child);
    }
    if (e < b || restN > 0) {
      let rest = 0;
      for (let k = e; k < b; k++) rest += size[childTargets[k]!]!;
      rest += restSize?.[v] ?? 0;
      // A "more" arc too thin to see or click would only draw a stray line: its share stays a gap (counted in
      // the parent's own value, so every angle keeps its exact proportion).
      if (rest >= minValue && rest > 0) {
        item.children.push({
          node: -1,
          parentNode: v,
          own: rest,
          children: [],
          moreFrom: e - a,
          moreCount: b - e + restN,
          hidden: false,
          depth: depth + 1,
        });
        count++;
      } else {
        item.own += rest;
      }
    }
  }

  const root = hierarchy<Pruned>(rootItem, (d) => d.children).sum((d) => d.own);
  // Children are already in size order ("more" last); no re-sort, so the arc order matches the child lists.
  partition<Pruned>().size([2 * Math.PI, 1])(root);
  root.each((h) => {
    const d = h.data;
    const x0 = (h as unknown as { x0: number }).x0;
    const x1 = (h as unknown as { x1: number }).x1;
    arcs.push({
      key: d.node >= 0 ? `n${d.node}` : `m${d.parentNode}`,
      node: d.node,
      parentNode: d.parentNode,
      depth: h.depth,
      x0,
      x1,
      value: h.value ?? 0,
      ...(d.moreFrom !== undefined && { moreFrom: d.moreFrom, moreCount: d.moreCount! }),
      hasHiddenChildren: d.hidden,
    });
  });
  return arcs;
}
