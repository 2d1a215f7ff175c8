/** Small pieces the text renderers share. */
import type { ClosureAnalysis } from '../../core/analysis/closure';
import type { ChainSet } from '../../shared/analysis/why';
import { nodesByPath } from '../../shared/graph';

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The engine names a closure by its root path, or by the file or installable when it has several roots. */
export function describeRoot(rootPath: string): string {
  return rootPath === '' ? 'the closure' : rootPath;
}

/** The real nodes by retained size, largest first; equal sizes in path order. */
export function realNodesByRetained(a: ClosureAnalysis, byPath: Int32Array = nodesByPath(a.graph)): number[] {
  const g = a.graph;
  const retained = a.dominators.retained;
  const nodes: number[] = [];
  for (const i of byPath) if (!g.isVirtual(i)) nodes.push(i);
  // A stable sort: nodes of equal size keep their path order.
  return nodes.sort((x, y) => retained[y]! - retained[x]!);
}

/** Chains as store paths; a virtual root (several roots in the input) is left out of them. */
export function chainPaths(a: ClosureAnalysis, set: ChainSet): string[][] {
  const g = a.graph;
  return set.chains.map((c) =>
    (g.hasVirtualRoot && c[0] === g.root && c.length > 1 ? c.slice(1) : c).map((i) => g.paths[i]!),
  );
}
