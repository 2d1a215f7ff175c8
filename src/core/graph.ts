/**
 * The closure as a compact graph: store paths interned as integers, edges in CSR typed arrays.
 * Every analysis reads this; nothing mutates it after `ClosureGraph.build`.
 */
import { parseStorePath, type StorePathName } from './storePath';

/** One store object as every parser reports it, whatever the input format. */
export interface PathRecord {
  /** Full store path, `/nix/store/<hash>-<name>`. */
  readonly path: string;
  /** NAR size in bytes; null when the input has no sizes (a CycloneDX SBOM). */
  readonly narSize: number | null;
  /** Full store paths; may include the path itself (a self-reference). */
  readonly references: readonly string[];
  readonly narHash?: string;
  readonly deriver?: string;
}

export class ClosureGraph {
  /** Node count, the virtual root included when there is one. */
  readonly nodeCount: number;
  /** Index → full store path. A virtual root has the path ''. */
  readonly paths: readonly string[];
  readonly narSize: Float64Array;
  /** References of node i are refTargets[refOffsets[i] .. refOffsets[i+1]), self-references excluded. */
  readonly refOffsets: Int32Array;
  readonly refTargets: Int32Array;
  /** Referrers (reverse edges) in the same layout. */
  readonly revOffsets: Int32Array;
  readonly revTargets: Int32Array;
  readonly selfReference: Uint8Array;
  /** The node every analysis starts from. */
  readonly root: number;
  /** The requested roots; one element unless the input had several (then `root` is virtual). */
  readonly roots: readonly number[];
  readonly hasVirtualRoot: boolean;
  /** False when the input carried no sizes; sizes are then 0. */
  readonly sizesKnown: boolean;
  /** References to paths that the input did not describe; they are dropped from the graph. */
  readonly danglingReferences: readonly { from: string; to: string }[];

  private index: Map<string, number> | undefined;
  private readonly nameCache: (StorePathName | undefined)[];

  private constructor(init: {
    paths: string[];
    narSize: Float64Array;
    refOffsets: Int32Array;
    refTargets: Int32Array;
    selfReference: Uint8Array;
    root: number;
    roots: number[];
    hasVirtualRoot: boolean;
    sizesKnown: boolean;
    danglingReferences: { from: string; to: string }[];
  }) {
    this.paths = init.paths;
    this.nodeCount = init.paths.length;
    this.narSize = init.narSize;
    this.refOffsets = init.refOffsets;
    this.refTargets = init.refTargets;
    this.selfReference = init.selfReference;
    this.root = init.root;
    this.roots = init.roots;
    this.hasVirtualRoot = init.hasVirtualRoot;
    this.sizesKnown = init.sizesKnown;
    this.danglingReferences = init.danglingReferences;
    this.nameCache = new Array(this.nodeCount);
    [this.revOffsets, this.revTargets] = reverseEdges(this.nodeCount, this.refOffsets, this.refTargets);
  }

  /**
   * Builds the closure of `rootPaths` from `records`. Records that the roots do not reach are left out.
   * Several roots get a virtual root (path '', size 0) that references each of them.
   * Throws when a root is not among the records.
   */
  static build(records: readonly PathRecord[], rootPaths: readonly string[]): ClosureGraph {
    // One hash lookup per reference: paths resolve to record numbers once, and the breadth-first walk
    // writes the CSR rows in node order as it goes (node order is BFS order, so row i is written at step i).
    const recordOf = new Map<string, number>();
    for (let r = 0; r < records.length; r++) recordOf.set(records[r]!.path, r);
    if (rootPaths.length === 0) throw new Error('a closure needs at least one root');
    const uniqueRoots = [...new Set(rootPaths)];
    for (const r of uniqueRoots) {
      if (!recordOf.has(r)) throw new Error(`the root ${r} is not in the closure data`);
    }
    const hasVirtualRoot = uniqueRoots.length > 1;
    const nodeOfRecord = new Int32Array(records.length).fill(-1);
    const recordOfNode: number[] = [];
    const paths: string[] = [];
    if (hasVirtualRoot) {
      paths.push('');
      recordOfNode.push(-1);
    }
    const roots: number[] = [];
    for (const r of uniqueRoots) {
      const rec = recordOf.get(r)!;
      nodeOfRecord[rec] = paths.length;
      roots.push(paths.length);
      paths.push(r);
      recordOfNode.push(rec);
    }
    let edgeCapacity = uniqueRoots.length;
    for (const rec of records) edgeCapacity += rec.references.length;
    let refTargets = new Int32Array(Math.max(16, edgeCapacity));
    const refOffsetList: number[] = [];
    const lastSeenBy = new Int32Array(records.length).fill(-1);
    const dangling: { from: string; to: string }[] = [];
    const narSizeList: number[] = [];
    const selfList: number[] = [];
    let sizesKnown = true;
    let e = 0;
    for (let i = 0; i < paths.length; i++) {
      refOffsetList.push(e);
      const recNo = recordOfNode[i]!;
      if (recNo < 0) {
        for (const r of roots) refTargets[e++] = r;
        narSizeList.push(0);
        continue;
      }
      const rec = records[recNo]!;
      if (rec.narSize === null) sizesKnown = false;
      narSizeList.push(rec.narSize ?? 0);
      for (const ref of rec.references) {
        const target = recordOf.get(ref);
        if (target === undefined) {
          dangling.push({ from: rec.path, to: ref });
          continue;
        }
        if (lastSeenBy[target] === i) continue;
        lastSeenBy[target] = i;
        let j = nodeOfRecord[target]!;
        if (j < 0) {
          j = paths.length;
          nodeOfRecord[target] = j;
          paths.push(ref);
          recordOfNode.push(target);
        }
        if (j === i) selfList.push(i);
        else refTargets[e++] = j;
      }
    }
    const n = paths.length;
    refOffsetList.push(e);
    const refOffsets = Int32Array.from(refOffsetList);
    const narSize = Float64Array.from(narSizeList);
    const selfReference = new Uint8Array(n);
    for (const i of selfList) selfReference[i] = 1;
    refTargets = refTargets.slice(0, e);
    return new ClosureGraph({
      paths,
      narSize,
      refOffsets,
      refTargets,
      selfReference,
      root: 0,
      roots,
      hasVirtualRoot,
      sizesKnown,
      danglingReferences: dangling,
    });
  }

  /**
   * Rebuilds a graph from the arrays of another one (for example after they crossed to the webview
   * or were read from the cache) without re-interning anything.
   */
  static fromArrays(a: {
    paths: string[];
    narSize: Float64Array;
    refOffsets: Int32Array;
    refTargets: Int32Array;
    selfReference: Uint8Array;
    roots: number[];
    hasVirtualRoot: boolean;
    sizesKnown: boolean;
  }): ClosureGraph {
    return new ClosureGraph({ ...a, root: 0, danglingReferences: [] });
  }

  /** Number of real store paths (the virtual root excluded). */
  get pathCount(): number {
    return this.hasVirtualRoot ? this.nodeCount - 1 : this.nodeCount;
  }

  indexOf(path: string): number | undefined {
    // Built on first use: loading a closure should not pay for a second hash of every path.
    this.index ??= new Map(this.paths.map((p, i) => [p, i]));
    return this.index.get(path);
  }

  isVirtual(i: number): boolean {
    return this.hasVirtualRoot && i === 0;
  }

  references(i: number): Int32Array {
    return this.refTargets.subarray(this.refOffsets[i]!, this.refOffsets[i + 1]!);
  }

  referrers(i: number): Int32Array {
    return this.revTargets.subarray(this.revOffsets[i]!, this.revOffsets[i + 1]!);
  }

  name(i: number): StorePathName {
    let n = this.nameCache[i];
    if (n === undefined) {
      n = this.isVirtual(i)
        ? { hash: '', name: '(roots)', pname: '(roots)', version: '', output: '' }
        : parseStorePath(this.paths[i]!);
      this.nameCache[i] = n;
    }
    return n;
  }

  /** Sum of all NAR sizes: the closure size of the root. */
  totalNarSize(): number {
    let s = 0;
    for (let i = 0; i < this.nodeCount; i++) s += this.narSize[i]!;
    return s;
  }
}

function reverseEdges(n: number, offsets: Int32Array, targets: Int32Array): [Int32Array, Int32Array] {
  const revOffsets = new Int32Array(n + 1);
  for (let e = 0; e < targets.length; e++) revOffsets[targets[e]! + 1]!++;
  for (let i = 0; i < n; i++) revOffsets[i + 1]! += revOffsets[i]!;
  const fill = revOffsets.slice(0, n);
  const revTargets = new Int32Array(targets.length);
  for (let i = 0; i < n; i++) {
    for (let e = offsets[i]!; e < offsets[i + 1]!; e++) revTargets[fill[targets[e]!]!++] = i;
  }
  return [revOffsets, revTargets];
}
