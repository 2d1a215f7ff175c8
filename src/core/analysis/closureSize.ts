/**
 * Closure size per path: the NAR sizes of everything the path reaches, itself included, each counted once.
 * This is exactly `nix path-info --closure-size` (self-references are not edges in the graph, so they cannot
 * double count). Computed here instead of asking Nix, whose `-S` is quadratic over a whole closure.
 */
import type { ClosureGraph } from '../graph';

/** Up to this many nodes, `all()` is cheap enough to run eagerly (one stamped walk per node). */
export const EAGER_CLOSURE_SIZE_LIMIT = 20_000;

export class ClosureSizes {
  private readonly sizes: Float64Array;
  private readonly known: Uint8Array;
  /** Walk marks: `stamp[j] === epoch` means j was already counted in the current walk. */
  private readonly stamp: Int32Array;
  private readonly queue: Int32Array;
  private epoch = 0;

  constructor(private readonly g: ClosureGraph) {
    this.sizes = new Float64Array(g.nodeCount);
    this.known = new Uint8Array(g.nodeCount);
    this.stamp = new Int32Array(g.nodeCount);
    this.queue = new Int32Array(g.nodeCount);
  }

  /** Closure size of node i in bytes (memoised). */
  of(i: number): number {
    if (this.known[i]) return this.sizes[i]!;
    const s = this.walk(i);
    this.sizes[i] = s;
    this.known[i] = 1;
    return s;
  }

  /** Every node's closure size. Lazy callers on huge graphs should prefer `of` for the nodes they show. */
  all(): Float64Array {
    for (let i = 0; i < this.g.nodeCount; i++) this.of(i);
    return this.sizes;
  }

  private walk(start: number): number {
    const { refOffsets, refTargets, narSize } = this.g;
    const stamp = this.stamp;
    const queue = this.queue;
    if (++this.epoch === 0x7fffffff) {
      stamp.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    stamp[start] = epoch;
    let total = 0;
    while (head < tail) {
      const v = queue[head++]!;
      total += narSize[v]!;
      for (let e = refOffsets[v]!, end = refOffsets[v + 1]!; e < end; e++) {
        const w = refTargets[e]!;
        if (stamp[w] !== epoch) {
          stamp[w] = epoch;
          queue[tail++] = w;
        }
      }
    }
    return total;
  }
}
