/**
 * The sunburst drawn from a `preview` (src/shared/sunburstPreview.ts) while the whole closure is still on its way:
 * the same arcs, labels, colours, centre and footer as the closure's first drawing (the layout merges what the
 * preview leaves out exactly as it merges small children), but nothing to click yet. The closure that follows is
 * drawn into the same chart: its arcs have the same keys, so nothing on screen moves.
 */
import type { SunburstPreview, WebviewState } from '../src/shared/protocol';
import { baseName, displayName, parseStorePath, ROOTS_NAME } from '../src/shared/storePath';
import { categoryIndex } from '../src/shared/categories';
import type { ChartSource } from './chart/chartModel';
import type { ViewTree } from './chart/viewTree';

/** A preview is drawn only where the closure's first drawing would be its dominator tree around the root. */
export function previewApplies(state: Readonly<WebviewState>): boolean {
  return state.mode === 'dominator' && state.view !== 'table' && state.zoom === undefined;
}

export class PreviewModel implements ChartSource {
  readonly tree: ViewTree;
  private readonly paths = new Map<number, string>();

  constructor(readonly preview: SunburstPreview) {
    const paths = new TextDecoder().decode(preview.names).split('\n');
    preview.nodes.forEach((v, k) => this.paths.set(v, paths[k]!));
    this.tree = previewTree(preview);
  }

  /** Paths in the closure (a virtual root is not one). */
  get pathCount(): number {
    return this.preview.hasVirtualRoot ? this.preview.nodeCount - 1 : this.preview.nodeCount;
  }

  private isVirtual(i: number): boolean {
    return this.preview.hasVirtualRoot && i === 0;
  }

  parsedName(i: number) {
    return this.isVirtual(i) ? ROOTS_NAME : parseStorePath(baseName(this.paths.get(i) ?? ''));
  }

  label(i: number): string {
    return displayName(this.parsedName(i));
  }

  path(i: number): string {
    return this.isVirtual(i) ? '' : (this.paths.get(i) ?? '');
  }

  category(i: number): number {
    return categoryIndex(this.parsedName(i));
  }
}

/**
 * The preview's tree over the closure's node ids (arrays of the whole closure's length, so that arcs keep the keys
 * the closure's drawing gives them); nodes outside the preview stay empty and are never reached from the root.
 */
export function previewTree(p: SunburstPreview): ViewTree {
  const n = p.nodeCount;
  const k = p.nodes.length;
  const parent = new Int32Array(n).fill(-1);
  const own = new Float64Array(n);
  const size = new Float64Array(n);
  const restCount = new Int32Array(n);
  const restSize = new Float64Array(n);
  const childOffsets = new Int32Array(n + 1);
  for (let e = 0; e < k; e++) {
    const v = p.nodes[e]!;
    own[v] = p.narSize[e]!;
    size[v] = p.retained[e]!;
    restCount[v] = p.restCount[e]!;
    restSize[v] = p.restSize[e]!;
    if (e > 0) {
      parent[v] = p.nodes[p.parent[e]!]!;
      childOffsets[parent[v] + 1]!++;
    }
  }
  for (let i = 0; i < n; i++) childOffsets[i + 1]! += childOffsets[i]!;
  const fill = childOffsets.slice(0, n);
  const childTargets = new Int32Array(Math.max(0, k - 1));
  // Entries come breadth-first with each node's children in the tree's order: filling in entry order keeps it.
  for (let e = 1; e < k; e++) childTargets[fill[parent[p.nodes[e]!]!]!++] = p.nodes[e]!;
  return {
    mode: 'dominator',
    root: 0,
    parent,
    own,
    size,
    childOffsets,
    childTargets,
    countsPaths: false,
    restCount,
    restSize,
  };
}
