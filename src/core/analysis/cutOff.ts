/**
 * What the root stops reaching when nodes are removed or edges cut. Duplicates (the cost of the extra copies)
 * and option attribution (the cost of a definition) both ask this.
 */
import type { ClosureGraph } from '../../shared/graph';

/** A carried path taken out: the collector edges into it that go (`from`), or, when `from` is null, every edge. */
export interface Removal {
  readonly node: number;
  readonly from: readonly number[] | null;
}

/**
 * Bytes (and paths) the root no longer reaches once the given edges are cut and the given nodes removed.
 * Store graphs are acyclic, so a path is lost exactly when every one of its referrers is lost or its edge
 * from the referrer is cut: counting lost referrers visits only what is lost (and its references).
 */
export class EdgeCutSize {
  private readonly stamp: Int32Array;
  private readonly lostReferrers: Int32Array;
  private readonly queue: Int32Array;
  private epoch = 0;

  constructor(private readonly g: ClosureGraph) {
    this.stamp = new Int32Array(g.nodeCount);
    this.lostReferrers = new Int32Array(g.nodeCount);
    this.queue = new Int32Array(g.nodeCount);
  }

  bytes(removals: readonly Removal[]): number {
    const lost = this.walk(removals);
    let sum = 0;
    for (let k = 0; k < lost; k++) sum += this.g.narSize[this.queue[k]!]!;
    return sum;
  }

  /** The lost nodes, ascending. */
  nodes(removals: readonly Removal[]): number[] {
    const lost = this.walk(removals);
    return Array.from(this.queue.subarray(0, lost)).sort((a, b) => a - b);
  }

  /** Leaves the lost nodes in queue[0, returned count). */
  private walk(removals: readonly Removal[]): number {
    const { g, stamp, lostReferrers, queue } = this;
    // stamp[v] === epoch: v's counter belongs to this call; === -epoch: v is lost.
    const epoch = ++this.epoch;
    const cutInto = new Map<number, Set<number>>();
    for (const r of removals) {
      if (r.from === null) continue;
      let s = cutInto.get(r.node);
      if (!s) cutInto.set(r.node, (s = new Set()));
      for (const c of r.from) s.add(c);
    }
    let tail = 0;
    const lose = (v: number): void => {
      stamp[v] = -epoch;
      queue[tail++] = v;
    };
    const referrersOf = (w: number): number => g.revOffsets[w + 1]! - g.revOffsets[w]!;
    for (const r of removals) {
      if (r.from === null && stamp[r.node] !== -epoch) lose(r.node);
    }
    for (const [w, from] of cutInto) {
      if (stamp[w] === -epoch) continue;
      let cut = 0;
      for (const v of g.referrers(w)) if (from.has(v)) cut++;
      stamp[w] = epoch;
      lostReferrers[w] = cut;
      if (cut > 0 && cut === referrersOf(w)) lose(w);
    }
    for (let head = 0; head < tail; head++) {
      const v = queue[head]!;
      for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
        const w = g.refTargets[e]!;
        if (stamp[w] === -epoch) continue;
        if (cutInto.get(w)?.has(v)) continue; // already counted as cut
        if (stamp[w] !== epoch) {
          stamp[w] = epoch;
          lostReferrers[w] = 0;
        }
        if (++lostReferrers[w]! === referrersOf(w)) lose(w);
      }
    }
    return tail;
  }
}
