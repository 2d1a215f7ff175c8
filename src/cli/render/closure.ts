/** `closure`'s outputs: the JSON of src/cli/outputs and the text table. Pure (unit-tested). */
import type { ClosureAnalysis } from '../../core/analysis/closure';
import { formatBytes, renderTable, type SizeStyle } from '../../shared/format';
import { nodesByPath, type ClosureGraph } from '../../shared/graph';
import { OUTPUT_VERSION, type ClosureJson } from '../outputs';
import { describeRoot, plural, realNodesByRetained } from './common';

/**
 * The closure as JSON: every path (or the `top` heaviest), heaviest retained size first, so the root comes
 * first. `references` are as Nix lists them: full paths, sorted, a self-reference included.
 */
export function closureJson(a: ClosureAnalysis, rootPath: string, top?: number): ClosureJson {
  const g = a.graph;
  const byPath = nodesByPath(g);
  const nodes = realNodesByRetained(a, byPath);
  const shown = top === undefined ? nodes : nodes.slice(0, top);
  if (top === undefined && g.sizesKnown) a.allClosureSizes(); // one pass, not a walk per path
  const known = g.sizesKnown;
  const refs = referencesInNixOrder(g, byPath);
  const retained = a.dominators.retained;
  return {
    version: OUTPUT_VERSION,
    root: g.hasVirtualRoot ? null : rootPath,
    pathCount: g.pathCount,
    closureSize: known ? a.totalSize : null,
    paths: shown.map((i) => {
      const references: string[] = [];
      for (let e = refs.offsets[i]!, end = refs.offsets[i + 1]!; e < end; e++)
        references.push(g.paths[refs.targets[e]!]!);
      return {
        path: g.paths[i]!,
        narSize: known ? g.narSize[i]! : null,
        closureSize: known ? a.closureSize(i) : null,
        retainedSize: known ? retained[i]! : null,
        references,
      };
    }),
  };
}

export function renderClosureText(a: ClosureAnalysis, rootPath: string, top: number, style: SizeStyle = 'iec'): string {
  const g = a.graph;
  const size = (n: number) => (g.sizesKnown ? formatBytes(n, style) : '-');
  const nodes = realNodesByRetained(a).filter((i) => i !== g.root);
  const shown = nodes.slice(0, top);
  const head = [
    `${describeRoot(rootPath)}`,
    g.sizesKnown
      ? `${plural(g.pathCount, 'path')}, closure size ${formatBytes(a.totalSize, style)}`
      : `${plural(g.pathCount, 'path')}; sizes unknown (the input has none, e.g. an SBOM)`,
    '',
  ];
  const rows = [['PATH', 'NAR', 'CLOSURE', 'RETAINED']];
  for (const i of shown) {
    rows.push([g.paths[i]!, size(g.narSize[i]!), size(a.closureSize(i)), size(a.retainedSize(i))]);
  }
  const lines = [...head, ...renderTable(rows, ['left', 'right', 'right', 'right'])];
  if (nodes.length > shown.length) lines.push(`… ${nodes.length - shown.length} more paths (--top N shows more)`);
  return lines.join('\n') + '\n';
}

/**
 * Every node's references as Nix lists them (sorted by path, a self-reference included), as CSR: the nodes are
 * visited once in path order and each is appended to its referrers' lists, so no list needs a sort of its own.
 */
function referencesInNixOrder(g: ClosureGraph, byPath: Int32Array): { offsets: Int32Array; targets: Int32Array } {
  const n = g.nodeCount;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    offsets[i + 1] = offsets[i]! + (g.refOffsets[i + 1]! - g.refOffsets[i]!) + (g.selfReference[i] ? 1 : 0);
  const targets = new Int32Array(offsets[n]!);
  const fill = offsets.slice(0, n);
  for (const j of byPath) {
    if (g.selfReference[j]) targets[fill[j]!++] = j;
    for (let e = g.revOffsets[j]!, end = g.revOffsets[j + 1]!; e < end; e++) targets[fill[g.revTargets[e]!]!++] = j;
  }
  return { offsets, targets };
}
