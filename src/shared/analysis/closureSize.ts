/**
 * Closure size per path: the NAR sizes of everything the path reaches, itself included, each counted once.
 * This is exactly `nix path-info --closure-size` (self-references are not edges in the graph, so they cannot
 * double count). Computed here instead of asking Nix, whose `-S` is quadratic over a whole closure.
 */
import type { ClosureGraph } from '../graph';
import { condense, type ReferenceGraph } from './condensation';

/**
 * Up to this many nodes, the views compute every closure size up front (snapshot, graph cache); beyond, they ask
 * `of` for the paths they show.
 */
export const EAGER_CLOSURE_SIZE_LIMIT = 20_000;

/**
 * Closure sizes already known for a graph (computed for it earlier, or read with it from the graph cache);
 * a ClosureSizes made for that graph starts from them.
 */
const knownSizes = new WeakMap<ClosureGraph, Float64Array>();

/** Records `sizes` (one per node, exact) as the closure sizes of `g`. */
export function rememberClosureSizes(g: ClosureGraph, sizes: Float64Array): void {
  if (sizes.length === g.nodeCount) knownSizes.set(g, sizes);
}

/** The closure sizes recorded for `g`, if any. */
export function rememberedClosureSizes(g: ClosureGraph): Float64Array | undefined {
  return knownSizes.get(g);
}

export class ClosureSizes {
  private readonly sizes: Float64Array;
  private readonly known: Uint8Array;
  /** Walk marks: `stamp[j] === epoch` means j was already counted in the current walk. */
  private readonly stamp: Int32Array;
  private readonly queue: Int32Array;
  private epoch = 0;
  private allKnown = false;

  constructor(private readonly g: ClosureGraph) {
    const remembered = knownSizes.get(g);
    this.sizes = remembered ?? new Float64Array(g.nodeCount);
    this.known = new Uint8Array(g.nodeCount);
    if (remembered) {
      this.known.fill(1);
      this.allKnown = true;
    }
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

  /**
   * Every node's closure size, in one bottom-up pass (bitset unions over the graph, or over its condensation when
   * the graph has cycles or is large). Throws ClosureTooLargeError rather than run for minutes: no answer is ever
   * cut short.
   */
  all(): Float64Array {
    if (this.allKnown) return this.sizes;
    this.sizes.set(allClosureSizes(this.g));
    this.known.fill(1);
    this.allKnown = true;
    knownSizes.set(this.g, this.sizes);
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

/** Closure sizes would take more work or memory than `all()` allows (a pathological `--from-json` input). */
export class ClosureTooLargeError extends Error {
  constructor(readonly nodeCount: number) {
    super(`computing the closure sizes of these ${nodeCount} paths would take too long or too much memory`);
    this.name = 'ClosureTooLargeError';
  }
}

/**
 * Work and memory bounds of the bitset pass, in 32-bit words. A real 100,000-path closure needs well under 1% of
 * the work bound; a 100,000-path chain with a shared dependency needs about 5 × 10^8 words (half a second).
 */
export const BITSET_WORK_LIMIT = 4e9;
const BITSET_LIVE_WORDS_LIMIT = 64 * 1024 * 1024;
const BITSET_MAX_NODES = 1_000_000;

/** What bitsets read: references (CSR) and the number of referrers of each node. */
interface BitsetInput extends ReferenceGraph {
  readonly revOffsets: Int32Array;
}

/**
 * Every node's closure size. Small acyclic graphs take one bitset pass directly; otherwise the graph is condensed
 * (each cycle one node), a component with at most one reference is its NAR plus that reference's closure (exact
 * on a DAG: chains cost nothing), and only when some component has several references do bitsets run, bounded.
 */
export function allClosureSizes(g: ClosureGraph, workLimit = BITSET_WORK_LIMIT): Float64Array {
  if (g.nodeCount <= EAGER_CLOSURE_SIZE_LIMIT) {
    const direct = closureSizesByBitsets(g);
    if (direct) return direct;
  }
  const c = condense(g);
  const m = c.nodeCount;
  let componentSizes: Float64Array = new Float64Array(m);
  let shortcutsSuffice = true;
  for (let k = 0; k < m && shortcutsSuffice; k++) {
    const degree = c.refOffsets[k + 1]! - c.refOffsets[k]!;
    if (degree === 0) componentSizes[k] = c.narSize[k]!;
    else if (degree === 1) componentSizes[k] = c.narSize[k]! + componentSizes[c.refTargets[c.refOffsets[k]!]!]!;
    else shortcutsSuffice = false;
  }
  if (!shortcutsSuffice) {
    const identity = new Int32Array(m);
    for (let k = 0; k < m; k++) identity[k] = k; // condense() numbers components references first
    componentSizes = bitsetClosureSizes(c, identity, workLimit);
  }
  const sizes = new Float64Array(g.nodeCount);
  for (let v = 0; v < g.nodeCount; v++) sizes[v] = componentSizes[c.componentOf[v]!]!;
  return sizes;
}

/**
 * All closure sizes at once for an acyclic graph; undefined on cyclic input (postorder is then not a valid order).
 */
export function closureSizesByBitsets(g: ClosureGraph): Float64Array | undefined {
  const order = referencesFirstOrder(g);
  return order && bitsetClosureSizes(g, order, Infinity);
}

/**
 * Rows of all nodes together up to this many 32-bit words (32 MiB) go into one array, none freed: at 10,000 paths
 * they take about a million words, and one array costs a fraction of 10,000 typed arrays allocated and collected
 * one by one (bench/RESULTS.md, closure section). Larger passes free each row after its last referrer.
 */
const ARENA_WORDS_LIMIT = 8 * 1024 * 1024;

/**
 * Each node's closure as a bitset, the union of its references' bitsets, built in `order` (references first).
 * Sizes are summed 4 bits at a time from per-nibble lookup tables. Throws ClosureTooLargeError past `workLimit`
 * words of rows built, or past BITSET_LIVE_WORDS_LIMIT words held at once.
 */
function bitsetClosureSizes(g: BitsetInput, order: Int32Array, workLimit: number): Float64Array {
  const n = g.nodeCount;
  // The lookup tables alone take 32 bytes per node; past this many nodes a bounded pass would not fit anyway.
  if (Number.isFinite(workLimit) && n > BITSET_MAX_NODES) throw new ClosureTooLargeError(n);
  // Bit k stands for the node at place k of the order (not for node k): everything a node reaches has a smaller
  // place, so its row ends at its own word, and a closure met early in the order is a short row. A row spans the
  // words from lo (the lowest of its references' rows) to its own place's word.
  const position = new Int32Array(n);
  for (let k = 0; k < n; k++) position[order[k]!] = k;
  const lo = new Int32Array(n);
  let totalWords = 0;
  for (let k = 0; k < n; k++) {
    const v = order[k]!;
    let rlo = k >>> 5;
    for (let e = g.refOffsets[v]!, end = g.refOffsets[v + 1]!; e < end; e++) {
      const l = lo[g.refTargets[e]!]!;
      if (l < rlo) rlo = l;
    }
    lo[v] = rlo;
    totalWords += (k >>> 5) - rlo + 1;
  }
  const pass: BitsetPass = { g, order, position, lo, sums: nibbleSums(g, order), workLimit };
  return totalWords <= ARENA_WORDS_LIMIT ? sizesInArena(pass, totalWords) : sizesInFreedRows(pass);
}

interface BitsetPass {
  readonly g: BitsetInput;
  readonly order: Int32Array;
  readonly position: Int32Array;
  readonly lo: Int32Array;
  readonly sums: Float64Array;
  readonly workLimit: number;
}

/** sums[c * 16 + mask] = NAR bytes of the nodes at places c*4 + b for each bit b set in mask. */
function nibbleSums(g: BitsetInput, order: Int32Array): Float64Array {
  const n = g.nodeCount;
  const nibbles = ((n + 31) >>> 5) * 8; // whole words, so the last word has all eight tables
  const sums = new Float64Array(nibbles * 16);
  for (let c = 0; c < nibbles; c++) {
    const base = c * 16;
    for (let mask = 1; mask < 16; mask++) {
      const low = 31 - Math.clz32(mask & -mask);
      const place = c * 4 + low;
      sums[base + mask] = sums[base + (mask & (mask - 1))]! + (place < n ? g.narSize[order[place]!]! : 0);
    }
  }
  return sums;
}

/** NAR bytes of the places set in rows[from, from + length), whose first word is word `firstWord` of a row. */
function rowSum(rows: Uint32Array, from: number, length: number, firstWord: number, sums: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < length; k++) {
    const word = rows[from + k]!;
    if (word === 0) continue;
    const base = (firstWord + k) * 128;
    sum +=
      sums[base + (word & 15)]! +
      sums[base + 16 + ((word >>> 4) & 15)]! +
      sums[base + 32 + ((word >>> 8) & 15)]! +
      sums[base + 48 + ((word >>> 12) & 15)]! +
      sums[base + 64 + ((word >>> 16) & 15)]! +
      sums[base + 80 + ((word >>> 20) & 15)]! +
      sums[base + 96 + ((word >>> 24) & 15)]! +
      sums[base + 112 + (word >>> 28)]!;
  }
  return sum;
}

/**
 * The places of v's references, largest first, in `places` (grown as needed; returned). Taking references in
 * this order, a reference whose bit is already set is inside a closure already unioned and is skipped (most
 * references of a real closure are such shortcuts, e.g. to glibc). Insertion sort: degrees are small.
 */
function referencePlaces(p: BitsetPass, v: number, places: Int32Array): Int32Array {
  const first = p.g.refOffsets[v]!;
  const degree = p.g.refOffsets[v + 1]! - first;
  if (places.length < degree) places = new Int32Array(degree * 2);
  for (let k = 0; k < degree; k++) {
    const place = p.position[p.g.refTargets[first + k]!]!;
    let j = k;
    for (; j > 0 && places[j - 1]! < place; j--) places[j] = places[j - 1]!;
    places[j] = place;
  }
  return places;
}

/** Every row in one array, at rowStart[v]; rows are never freed (their total fits ARENA_WORDS_LIMIT). */
function sizesInArena(p: BitsetPass, totalWords: number): Float64Array {
  const { g, order, lo, sums, workLimit } = p;
  const n = g.nodeCount;
  const rows = new Uint32Array(totalWords);
  const rowStart = new Int32Array(n);
  const sizes = new Float64Array(n);
  let work = 0;
  let next = 0;
  let places: Int32Array = new Int32Array(16);
  for (let k = 0; k < n; k++) {
    const v = order[k]!;
    const rlo = lo[v]!;
    const length = (k >>> 5) - rlo + 1;
    const at = next;
    next += length;
    rowStart[v] = at;
    work += 2 * length; // building the row and summing it
    if (work > workLimit) throw new ClosureTooLargeError(n);
    rows[at + length - 1]! |= 1 << (k & 31);
    places = referencePlaces(p, v, places);
    const degree = g.refOffsets[v + 1]! - g.refOffsets[v]!;
    for (let d = 0; d < degree; d++) {
      const pw = places[d]!;
      if ((rows[at + (pw >>> 5) - rlo]! & (1 << (pw & 31))) !== 0) continue;
      const w = order[pw]!;
      const from = rowStart[w]!;
      const childLength = (pw >>> 5) - lo[w]! + 1;
      const offset = at + lo[w]! - rlo;
      for (let c = 0; c < childLength; c++) rows[offset + c]! |= rows[from + c]!;
      work += childLength;
    }
    sizes[v] = rowSum(rows, at, length, rlo, sums);
  }
  return sizes;
}

/** Each row its own array, freed once the last referrer has used it; bounded by BITSET_LIVE_WORDS_LIMIT. */
function sizesInFreedRows(p: BitsetPass): Float64Array {
  const { g, order, lo, sums, workLimit } = p;
  const n = g.nodeCount;
  let work = 0;
  let liveWords = 0;
  const pendingReferrers = new Int32Array(n);
  for (let v = 0; v < n; v++) pendingReferrers[v] = g.revOffsets[v + 1]! - g.revOffsets[v]!;
  const rows: (Uint32Array | undefined)[] = new Array<Uint32Array | undefined>(n);
  const sizes = new Float64Array(n);
  let places: Int32Array = new Int32Array(16);
  for (let k = 0; k < n; k++) {
    const v = order[k]!;
    const rlo = lo[v]!;
    const length = (k >>> 5) - rlo + 1;
    work += 2 * length; // building the row and summing it
    if (work > workLimit) throw new ClosureTooLargeError(n);
    const row = new Uint32Array(length);
    row[length - 1]! |= 1 << (k & 31);
    places = referencePlaces(p, v, places);
    const degree = g.refOffsets[v + 1]! - g.refOffsets[v]!;
    for (let d = 0; d < degree; d++) {
      const pw = places[d]!;
      const w = order[pw]!;
      const child = rows[w]!;
      if ((row[(pw >>> 5) - rlo]! & (1 << (pw & 31))) === 0) {
        const offset = lo[w]! - rlo;
        for (let c = 0; c < child.length; c++) row[offset + c]! |= child[c]!;
        work += child.length;
      }
      if (--pendingReferrers[w]! === 0) {
        liveWords -= child.length;
        rows[w] = undefined;
      }
    }
    sizes[v] = rowSum(row, 0, length, rlo, sums);
    if (pendingReferrers[v]! > 0) {
      rows[v] = row;
      liveWords += length;
      if (liveWords > BITSET_LIVE_WORDS_LIMIT) throw new ClosureTooLargeError(n);
    }
  }
  return sizes;
}

/** Every node, references before referrers (a DFS postorder); undefined when the graph has a cycle. */
export function referencesFirstOrder(g: ClosureGraph): Int32Array | undefined {
  const n = g.nodeCount;
  const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
  const order = new Int32Array(n);
  const stackNode = new Int32Array(n);
  const stackEdge = new Int32Array(n);
  let len = 0;
  for (let start = 0; start < n; start++) {
    if (state[start] !== 0) continue;
    let sp = 0;
    stackNode[sp] = start;
    stackEdge[sp] = g.refOffsets[start]!;
    sp++;
    state[start] = 1;
    while (sp > 0) {
      const v = stackNode[sp - 1]!;
      const e = stackEdge[sp - 1]!;
      if (e === g.refOffsets[v + 1]!) {
        state[v] = 2;
        order[len++] = v;
        sp--;
        continue;
      }
      stackEdge[sp - 1] = e + 1;
      const w = g.refTargets[e]!;
      if (state[w] === 1) return undefined;
      if (state[w] === 0) {
        state[w] = 1;
        stackNode[sp] = w;
        stackEdge[sp] = g.refOffsets[w]!;
        sp++;
      }
    }
  }
  return order;
}
