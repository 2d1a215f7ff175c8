/** Which chains `--precise` may read: a request from the webview names store paths, only edges of the closure. */
import type { ClosureGraph } from '../../shared/graph';

/** Why a chain from the webview may not be searched (a pair that is no edge of the closure), or undefined. */
export function chainProblem(graph: ClosureGraph, chain: readonly string[]): string | undefined {
  for (let k = 0; k + 1 < chain.length; k++) {
    const from = graph.indexOf(chain[k]!);
    const to = graph.indexOf(chain[k + 1]!);
    if (from === undefined || to === undefined) return `${chain[from === undefined ? k : k + 1]} is not in the closure`;
    if (!graph.references(from).includes(to)) return `${chain[k]} does not reference ${chain[k + 1]}`;
  }
  return undefined;
}
