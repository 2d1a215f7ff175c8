/**
 * What the sunburst's first drawing needs of a closure (issue 17): the part of the dominator tree the chart can
 * draw around the root at any size — every node within SUNBURST_MAX_DEPTH rings whose retained size reaches
 * SUNBURST_MIN_ANGLE of the circle — and, for each of those nodes, how many children (and bytes) were left out.
 * The layout merges those into its "N more" arcs just as it does from the whole tree, so the preview draws the
 * same arcs as the closure that follows it. At 10,000 paths it is a few KB where the whole closure is ~1 MB: it
 * crosses into the page and is drawn while the closure is still on its way. Pure; no DOM, no `vscode`.
 */
import type { DominatorArrays } from './analysis/dominators';
import type { ClosureGraph } from './graph';
import type { SunburstPreview } from './protocol';
import { CATEGORIES, categoryIndex } from './categories';
import { baseName, parseStorePath } from './storePath';

/** Rings the sunburst draws around its centre at most. */
export const SUNBURST_MAX_DEPTH = 7;
/** The narrowest arc the sunburst draws (radians); narrower ones are merged, at every chart size. */
export const SUNBURST_MIN_ANGLE = 0.004;

/** The preview of a closure with NAR sizes; undefined without them (the chart then counts paths). */
export function buildPreview(
  g: Pick<ClosureGraph, 'nodeCount' | 'paths' | 'narSize' | 'sizesKnown' | 'hasVirtualRoot'>,
  dom: Pick<DominatorArrays, 'retained' | 'childOffsets' | 'childTargets'>,
): SunburstPreview | undefined {
  if (!g.sizesKnown || g.nodeCount === 0) return undefined;
  const { retained, childOffsets, childTargets } = dom;
  const minValue = (SUNBURST_MIN_ANGLE / (2 * Math.PI)) * retained[0]!;
  // Breadth-first from the root: each node after its parent, each parent's children in the tree's (size) order.
  const nodes = [0];
  const parent = [-1];
  const depth = [0];
  const restCount: number[] = [];
  const restSize: number[] = [];
  for (let k = 0; k < nodes.length; k++) {
    const v = nodes[k]!;
    const end = childOffsets[v + 1]!;
    let e = childOffsets[v]!;
    if (depth[k]! < SUNBURST_MAX_DEPTH) {
      for (; e < end && retained[childTargets[e]!]! >= minValue; e++) {
        nodes.push(childTargets[e]!);
        parent.push(k);
        depth.push(depth[k]! + 1);
      }
    }
    let rest = 0;
    for (let x = e; x < end; x++) rest += retained[childTargets[x]!]!;
    restCount.push(end - e);
    restSize.push(rest);
  }
  const names = new TextEncoder().encode(nodes.map((v) => g.paths[v]!).join('\n'));
  // The legend's totals: every path's category, from its name (~1 µs a path; the worker makes the preview).
  const categoryTotals = new Float64Array(CATEGORIES.length);
  for (let i = g.hasVirtualRoot ? 1 : 0; i < g.nodeCount; i++)
    categoryTotals[categoryIndex(parseStorePath(baseName(g.paths[i]!)))]! += g.narSize[i]!;
  return {
    nodeCount: g.nodeCount,
    hasVirtualRoot: g.hasVirtualRoot,
    nodes: Int32Array.from(nodes),
    names,
    parent: Int32Array.from(parent),
    narSize: Float64Array.from(nodes, (v) => g.narSize[v]!),
    retained: Float64Array.from(nodes, (v) => retained[v]!),
    restCount: Int32Array.from(restCount),
    restSize: Float64Array.from(restSize),
    categoryTotals,
  };
}
