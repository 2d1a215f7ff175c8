/**
 * Collectors and edge cuts: what the closure really loses when a definition goes.
 *
 * An option's merged value is built into some derivation, its *collector*: system-path for
 * environment.systemPackages, the fonts directory for fonts.packages, the user's profile for
 * users.users.<name>.packages. Removing a definition removes the collector's references to the paths
 * that only it carried — not the paths themselves: nixos-help still references w3m when the user's
 * `environment.systemPackages = [ pkgs.w3m ]` goes, so w3m stays. The lost bytes are those the root no
 * longer reaches once those edges are cut.
 *
 * A collector of a path p carried by option O is a referrer of p that also references other paths
 * carried by O (the derivation built from O's whole value references most of them); among those, the one
 * referencing the most of O's paths, then the one whose references are most of all O's paths, then the
 * nearest to the root (then the first store path, for a stable choice). A path with no such referrer (an option
 * whose value is one package, `services.nginx.package`) has no known collector: it is then treated as
 * removed itself (every reference to it cut), the node-removal estimate, an upper bound.
 */
import type { ClosureGraph } from '../../shared/graph';

/** How a cost was estimated: by cutting collector edges, or (some path without a collector) by removing paths. */
export type CostMethod = 'edge-cut' | 'node-removal';

export class Collectors {
  /** option → (carried node → its collector node). Nodes without a collector are absent. */
  private readonly byOption = new Map<string, Map<number, number>>();

  /** `carried`: for each option, every node that some definition of it carries (duplicates allowed). */
  constructor(g: ClosureGraph, carried: ReadonlyMap<string, readonly number[]>) {
    const depth = distancesFromRoot(g);
    const count = new Int32Array(g.nodeCount);
    for (const [option, nodes] of carried) {
      const own = [...new Set(nodes)];
      const touched: number[] = [];
      for (const p of own) {
        for (const r of g.referrers(p)) {
          if (g.isVirtual(r)) continue;
          if (count[r] === 0) touched.push(r);
          count[r]!++;
        }
      }
      const outDegree = (v: number): number => g.refOffsets[v + 1]! - g.refOffsets[v]!;
      // More of O's paths; then more specific to O (a larger share of its references are O's paths: alice's
      // profile rather than system-path for her packages); then nearer the root; then the first store path.
      const better = (r: number, b: number): boolean => {
        if (count[r] !== count[b]) return count[r]! > count[b]!;
        const share = count[r]! * outDegree(b) - count[b]! * outDegree(r);
        if (share !== 0) return share > 0;
        if (depth[r] !== depth[b]) return depth[r]! < depth[b]!;
        return g.paths[r]! < g.paths[b]!;
      };
      const map = new Map<number, number>();
      for (const p of own) {
        let best = -1;
        for (const r of g.referrers(p)) {
          if (g.isVirtual(r) || count[r]! < 2) continue;
          if (best < 0 || better(r, best)) best = r;
        }
        if (best >= 0) map.set(p, best);
      }
      for (const r of touched) count[r] = 0;
      if (map.size > 0) this.byOption.set(option, map);
    }
  }

  /** The node whose reference to `node` the option's value makes; undefined when none is known. */
  of(option: string, node: number): number | undefined {
    return this.byOption.get(option)?.get(node);
  }

  /** Every collector of the option (distinct nodes). */
  all(option: string): number[] {
    return [...new Set(this.byOption.get(option)?.values() ?? [])].sort((a, b) => a - b);
  }
}

function distancesFromRoot(g: ClosureGraph): Int32Array {
  const dist = new Int32Array(g.nodeCount).fill(0x7fffffff);
  const queue = new Int32Array(g.nodeCount);
  let tail = 0;
  dist[g.root] = 0;
  queue[tail++] = g.root;
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    for (const w of g.references(v)) {
      if (dist[w] === 0x7fffffff) {
        dist[w] = dist[v]! + 1;
        queue[tail++] = w;
      }
    }
  }
  return dist;
}
