/**
 * The closure as a compact graph: store paths interned as integers, edges in CSR typed arrays.
 * Every analysis reads this; nothing mutates it after `ClosureGraph.build`.
 */
import { NIX_BASE32_ALPHABET, parseStorePath, ROOTS_NAME, type StorePathName } from './storePath';

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

  private index: { table: PathIndex; order: Int32Array | undefined } | undefined;
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
    /** The records' path index and record → node map, when every record became a node (saves indexing twice). */
    index?: { table: PathIndex; order: Int32Array } | undefined;
    /** The reverse edges, when they were computed already (by another thread). */
    reverse?: { revOffsets: Int32Array; revTargets: Int32Array } | undefined;
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
    this.index = init.index;
    [this.revOffsets, this.revTargets] = init.reverse
      ? [init.reverse.revOffsets, init.reverse.revTargets]
      : reverseEdges(this.nodeCount, this.refOffsets, this.refTargets);
  }

  /**
   * Builds the closure of `rootPaths` from `records`. Records that the roots do not reach are left out.
   * Several roots get a virtual root (path '', size 0) that references each of them.
   * Throws when a root is not among the records.
   */
  static build(records: readonly PathRecord[], rootPaths: readonly string[]): ClosureGraph {
    // References resolve to record numbers once (shared with the parser's closure check), and the breadth-first
    // walk writes the CSR rows in node order as it goes (node order is BFS order, so row i is written at step i).
    const resolved = resolveRecords(records);
    const { index, refStart, refRecord } = resolved;
    if (rootPaths.length === 0) throw new Error('a closure needs at least one root');
    const uniqueRoots = [...new Set(rootPaths)];
    const rootRecords: number[] = [];
    for (const r of uniqueRoots) {
      const rec = index.get(r);
      if (rec < 0) throw new Error(`the root ${r} is not in the closure data`);
      rootRecords.push(rec);
    }
    const dangling: { from: string; to: string }[] = [];
    const layout = breadthFirstLayout(records.length, refStart, refRecord, rootRecords, (recNo, k) => {
      const rec = records[recNo]!;
      dangling.push({ from: rec.path, to: rec.references[k - refStart[recNo]!]! });
    });
    const { nodeCount: n, recordOfNode } = layout;
    const narSize = new Float64Array(n);
    const paths: string[] = new Array(n);
    let sizesKnown = true;
    for (let i = 0; i < n; i++) {
      const recNo = recordOfNode[i]!;
      if (recNo < 0) {
        paths[i] = '';
        continue;
      }
      const rec = records[recNo]!;
      paths[i] = rec.path;
      if (rec.narSize === null) sizesKnown = false;
      else narSize[i] = rec.narSize;
    }
    return new ClosureGraph({
      paths,
      narSize,
      refOffsets: layout.refOffsets,
      refTargets: layout.refTargets,
      selfReference: layout.selfReference,
      root: 0,
      roots: layout.roots,
      hasVirtualRoot: layout.hasVirtualRoot,
      sizesKnown,
      danglingReferences: dangling,
      index:
        resolved.duplicates === 0 && n === records.length ? { table: index, order: layout.nodeOfRecord } : undefined,
    });
  }

  /**
   * Rebuilds a graph from the arrays of another one (for example after they crossed to the webview
   * or were read from the cache) without re-interning anything. `revOffsets`/`revTargets` are the other graph's
   * reverse edges, when they came along (they are computed otherwise).
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
    revOffsets?: Int32Array;
    revTargets?: Int32Array;
  }): ClosureGraph {
    const { revOffsets, revTargets, ...rest } = a;
    const reverse = revOffsets && revTargets ? { revOffsets, revTargets } : undefined;
    return new ClosureGraph({ ...rest, root: 0, danglingReferences: [], reverse });
  }

  /** Number of real store paths (the virtual root excluded). */
  get pathCount(): number {
    return this.hasVirtualRoot ? this.nodeCount - 1 : this.nodeCount;
  }

  indexOf(path: string): number | undefined {
    // Built on first use (unless build() could hand over the records' index): loading a closure should not pay
    // for a second hash of every path.
    this.index ??= { table: new PathIndex(this.paths), order: undefined };
    const k = this.index.table.get(path);
    if (k < 0) return undefined;
    return this.index.order ? this.index.order[k]! : k;
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
      n = this.isVirtual(i) ? ROOTS_NAME : parseStorePath(this.paths[i]!);
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

/** A character's place in nix-base32, which is in ASCII order: places order like the characters. */
const BASE32_PLACE = new Int8Array(128).fill(-1);
for (let k = 0; k < NIX_BASE32_ALPHABET.length; k++) BASE32_PLACE[NIX_BASE32_ALPHABET.charCodeAt(k)] = k;
/** Nodes a sort key holds beside the hash prefix: 30 bits of prefix and 20 of node stay below 2^53. */
const KEYED_NODES_MAX = 2 ** 20;

/**
 * Every node in the order of its path (as Nix lists paths: by string), the virtual root first. Store paths in one
 * store directory order by their hash, 32 nix-base32 characters: the first six (30 bits) and the node number form
 * one number, which a native sort orders without calling back into JavaScript (a comparator sort of 5,000 path
 * strings took 8–15 ms in a fresh process); nodes that share those six characters are then ordered by their paths.
 * Paths of any other shape (another directory, a hash of other characters) are sorted as strings.
 */
export function nodesByPath(g: ClosureGraph): Int32Array {
  const n = g.nodeCount;
  const first = g.hasVirtualRoot ? 1 : 0;
  const sample = g.paths[first] ?? '';
  const hashAt = sample.lastIndexOf('/') + 1;
  const storeDir = sample.slice(0, hashAt);
  const keys = new Float64Array(n - first);
  let keyed = hashAt > 1 && n <= KEYED_NODES_MAX;
  for (let i = first; keyed && i < n; i++) {
    const p = g.paths[i]!;
    let prefix = 0;
    for (let k = 0; k < 6; k++) {
      const c = p.charCodeAt(hashAt + k);
      const place = c < 128 ? BASE32_PLACE[c]! : -1;
      if (place < 0) keyed = false;
      prefix = prefix * 32 + place;
    }
    if (!p.startsWith(storeDir)) keyed = false;
    keys[i - first] = prefix * KEYED_NODES_MAX + i;
  }
  const order = new Int32Array(n);
  for (let i = 0; i < first; i++) order[i] = i;
  const byString = (x: number, y: number): number =>
    g.paths[x]! < g.paths[y]! ? -1 : g.paths[x]! > g.paths[y]! ? 1 : 0;
  if (!keyed) {
    const real = Array.from({ length: n - first }, (_, k) => k + first).sort(byString);
    order.set(real, first);
    return order;
  }
  keys.sort();
  for (let k = 0; k < keys.length; k++) order[first + k] = keys[k]! % KEYED_NODES_MAX;
  // Runs that share a prefix (rare: 5,000 random hashes share six characters with probability ~1%)
  for (let start = 0; start < keys.length;) {
    const prefix = Math.floor(keys[start]! / KEYED_NODES_MAX);
    let end = start + 1;
    while (end < keys.length && Math.floor(keys[end]! / KEYED_NODES_MAX) === prefix) end++;
    if (end - start > 1)
      order.set(Array.from(order.subarray(first + start, first + end)).sort(byString), first + start);
    start = end;
  }
  return order;
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

/**
 * Store path → position in a list, for up to millions of paths. A Map<string, number> hashes every whole path
 * string once per string object, and JSON.parse makes a new object for every reference; this table hashes only
 * the first characters of the store hash (after the common store directory), which are already random, and
 * confirms a hit by comparing the strings. Any string works as a key; only the speed depends on the shape.
 */
export class PathIndex {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly offset: number;
  /** Characters hashed after `offset`: a prefix of the store hash, or (when that collides, as in made-up paths) all. */
  private span = 12;
  /** Positions that held a path already listed before them (the later one wins, as with Map.set). */
  readonly duplicates: number[] = [];

  constructor(private readonly keys: readonly string[]) {
    let size = 16;
    while (size < keys.length * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    const first = keys.find((k) => k !== '') ?? '';
    this.offset = first.lastIndexOf('/') + 1;
    if (!this.fill(8 * keys.length + 64)) {
      this.span = Infinity;
      this.fill(Infinity);
    }
  }

  /** The position of `key` (the last one, if listed twice), or -1. */
  get(key: string): number {
    let h = this.hash(key);
    for (;;) {
      const at = this.slots[h]!;
      if (at < 0 || this.keys[at] === key) return at;
      h = (h + 1) & this.mask;
    }
  }

  /** Inserts every key; false when probing took longer than `maxProbes` (the hashed characters collide). */
  private fill(maxProbes: number): boolean {
    const { keys, slots, mask } = this;
    slots.fill(-1);
    this.duplicates.length = 0;
    let probes = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      let h = this.hash(key);
      for (;;) {
        const at = slots[h]!;
        if (at < 0) {
          slots[h] = i;
          break;
        }
        if (keys[at] === key) {
          this.duplicates.push(i);
          slots[h] = i;
          break;
        }
        h = (h + 1) & mask;
        if (++probes > maxProbes) return false;
      }
    }
    return true;
  }

  private hash(key: string): number {
    const end = Math.min(key.length, this.offset + this.span);
    let h = 0x811c9dc5 ^ key.length;
    for (let i = this.offset; i < end; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h & this.mask;
  }
}

/** Every record's references as record numbers: refRecord[refStart[r] .. refStart[r+1]), -1 for a path not listed. */
export interface ResolvedRecords {
  readonly index: PathIndex;
  readonly refStart: Int32Array;
  readonly refRecord: Int32Array;
  /** Paths listed more than once. */
  readonly duplicates: number;
}

const resolvedCache = new WeakMap<readonly PathRecord[], { length: number; resolved: ResolvedRecords }>();

/**
 * Resolves the references of `records` to record numbers. Remembered per records array, so that the parser's
 * closure check and ClosureGraph.build hash each reference once between them.
 */
export function resolveRecords(records: readonly PathRecord[]): ResolvedRecords {
  const kept = resolvedCache.get(records);
  if (kept && kept.length === records.length) return kept.resolved;
  const paths: string[] = new Array(records.length);
  let total = 0;
  for (let r = 0; r < records.length; r++) {
    paths[r] = records[r]!.path;
    total += records[r]!.references.length;
  }
  const index = new PathIndex(paths);
  const refStart = new Int32Array(records.length + 1);
  const refRecord = new Int32Array(total);
  let k = 0;
  for (let r = 0; r < records.length; r++) {
    refStart[r] = k;
    const refs = records[r]!.references;
    for (let m = 0; m < refs.length; m++) refRecord[k++] = index.get(refs[m]!);
  }
  refStart[records.length] = k;
  const resolved = { index, refStart, refRecord, duplicates: index.duplicates.length };
  resolvedCache.set(records, { length: records.length, resolved });
  return resolved;
}

/** The node layout of a closure: CSR rows in node order, nodes numbered breadth-first from the roots. */
export interface BreadthFirstLayout {
  readonly nodeCount: number;
  /** The record of each node; -1 for the virtual root (node 0 when there are several roots). */
  readonly recordOfNode: Int32Array;
  /** The node of each record; -1 for records the roots do not reach. */
  readonly nodeOfRecord: Int32Array;
  readonly refOffsets: Int32Array;
  readonly refTargets: Int32Array;
  readonly selfReference: Uint8Array;
  readonly roots: number[];
  readonly hasVirtualRoot: boolean;
}

/**
 * Numbers the records the roots reach breadth-first (a virtual root first when there are several roots) and writes
 * the CSR rows as it goes: row i is written at step i. References are record numbers (`refRecord`, each record's
 * from `refStart`); a negative one is a reference the data does not describe, reported to `onDangling` and left out.
 * ClosureGraph.build and the parser that goes from bytes straight to the graph share it, so both number nodes alike.
 */
export function breadthFirstLayout(
  records: number,
  refStart: Int32Array,
  refRecord: Int32Array,
  rootRecords: readonly number[],
  onDangling?: (record: number, k: number) => void,
): BreadthFirstLayout {
  const hasVirtualRoot = rootRecords.length > 1;
  const nodeOfRecord = new Int32Array(records).fill(-1);
  const maxNodes = records + (hasVirtualRoot ? 1 : 0);
  const recordOfNode = new Int32Array(maxNodes);
  let n = 0;
  if (hasVirtualRoot) recordOfNode[n++] = -1;
  const roots: number[] = [];
  for (const rec of rootRecords) {
    nodeOfRecord[rec] = n;
    roots.push(n);
    recordOfNode[n++] = rec;
  }
  const refTargets = new Int32Array(Math.max(16, refRecord.length + rootRecords.length));
  const refOffsets = new Int32Array(maxNodes + 1);
  const lastSeenBy = new Int32Array(records).fill(-1);
  const selfList: number[] = [];
  let e = 0;
  for (let i = 0; i < n; i++) {
    refOffsets[i] = e;
    const recNo = recordOfNode[i]!;
    if (recNo < 0) {
      for (const r of roots) refTargets[e++] = r;
      continue;
    }
    for (let k = refStart[recNo]!, end = refStart[recNo + 1]!; k < end; k++) {
      const target = refRecord[k]!;
      if (target < 0) {
        onDangling?.(recNo, k);
        continue;
      }
      if (lastSeenBy[target] === i) continue;
      lastSeenBy[target] = i;
      let j = nodeOfRecord[target]!;
      if (j < 0) {
        j = n++;
        nodeOfRecord[target] = j;
        recordOfNode[j] = target;
      }
      if (j === i) selfList.push(i);
      else refTargets[e++] = j;
    }
  }
  refOffsets[n] = e;
  const selfReference = new Uint8Array(n);
  for (const i of selfList) selfReference[i] = 1;
  return {
    nodeCount: n,
    recordOfNode: recordOfNode.subarray(0, n),
    nodeOfRecord,
    refOffsets: n === maxNodes ? refOffsets : refOffsets.slice(0, n + 1),
    refTargets: refTargets.slice(0, e),
    selfReference,
    roots,
    hasVirtualRoot,
  };
}
