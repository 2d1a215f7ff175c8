/**
 * Path-info JSON straight into a ClosureGraph, without PathRecords in between: the scan's offsets (fastPathInfo.ts)
 * become the graph's arrays, and a reference is resolved from its bytes to a record number, so no string is made
 * for a reference and nothing hashes store path strings (at 10^5 paths the records' strings and their resolution
 * cost more than reading the JSON). The graph is the one ClosureGraph.build makes from parseClosureJson's records:
 * same node order (breadth-first from the roots), edges, sizes and roots; whatever the fast path does not cover
 * (duplicates, references to paths not listed, other formats…) declines, and the caller builds the usual way.
 */
import { breadthFirstLayout, ClosureGraph } from '../../shared/graph';
import { attempt, decline, scanPathInfo, scanPathInfoBytes, SHAPES, type Scan } from './fastPathInfo';
import { HASH_LENGTH } from '../../shared/storePath';
import type { ClosureFormat } from './types';

/** Characters of the hash part that the table hashes; all 32 when those collide (made-up hashes). */
const HASHED_PREFIX = 12;

export interface GraphFromJson {
  readonly graph: ClosureGraph;
  /** The roots the graph was built from: as given, or the paths nothing else references. */
  readonly roots: string[];
  readonly format: ClosureFormat;
  readonly storeDir: string;
  readonly invalidPaths: string[];
}

/**
 * The graph of path-info JSON from `rootPaths`, or from the paths nothing references when `rootPaths` is undefined;
 * undefined when the fast path declines. Give the bytes when there are any (nothing then decodes the whole text),
 * else the text.
 */
export function pathInfoGraphFast(
  input: { readonly text: string } | { readonly bytes: Uint8Array },
  rootPaths: readonly string[] | undefined,
): GraphFromJson | undefined {
  const scanned = 'bytes' in input ? scanPathInfoBytes(input.bytes, true) : scanPathInfo(input.text, undefined, true);
  if (scanned === undefined) return undefined;
  const b = scanned.bytes;
  return attempt(() => graphOf(Buffer.from(b.buffer, b.byteOffset, b.byteLength), scanned.scan, rootPaths));
}

function graphOf(b: Buffer, scan: Scan, rootPaths: readonly string[] | undefined): GraphFromJson {
  const count = scan.pathStart.length;
  const starts = scan.pathStart.a;
  const ends = scan.pathEnd.a;
  const storeDir = b.toString('latin1', scan.storeDirStart, scan.storeDirEnd);
  if (storeDir.charCodeAt(0) !== 47) decline(); // the generic closure check rejects a relative store dir
  const v2 = scan.shape === SHAPES.v2;
  // The paths as the text spells them, one after another, each followed by a newline: for comparing references
  // (a few MB instead of all of the text), and, split, for the paths' strings (which then keep no text alive).
  let size = 0;
  for (let r = 0; r < count; r++) size += ends[r]! - starts[r]! + 1;
  const compact = Buffer.allocUnsafe(size);
  for (let r = 0, at = 0; r < count; r++) {
    at += b.copy(compact, at, starts[r]!, ends[r]!);
    compact[at++] = 10;
  }
  const spelled = compact.toString('latin1', 0, size - 1);
  const paths = v2 ? `${storeDir}/${spelled.split('\n').join(`\n${storeDir}/`)}`.split('\n') : spelled.split('\n');
  if (paths.length !== count) decline();

  // Records are the valid entries, in text order (as parseClosureJson lists them).
  const invalid = scan.invalid.a;
  const recordEntry: number[] = [];
  const invalidPaths: string[] = [];
  const offsets = new Int32Array(count);
  const lengths = new Int32Array(count);
  let records = 0;
  for (let r = 0, at = 0; r < count; r++) {
    const length = ends[r]! - starts[r]!;
    if (invalid[r]) invalidPaths.push(paths[r]!);
    else {
      recordEntry.push(r);
      offsets[records] = at;
      lengths[records++] = length;
    }
    at += length + 1;
  }
  if (records === 0) decline();
  const table = new PathTable(
    b,
    compact,
    v2 ? 0 : storeDir.length + 1,
    offsets.subarray(0, records),
    lengths.subarray(0, records),
  );
  const refFirst = scan.refFirst.a;
  const refStart = scan.refStart.a;
  const refEnd = scan.refEnd.a;
  const refTotal = scan.refStart.length;
  // References as record numbers, in the records' order: refRecord[recordRefStart[i] .. recordRefStart[i+1]).
  const recordRefStart = new Int32Array(records + 1);
  let total = 0;
  for (let i = 0; i < records; i++) {
    const r = recordEntry[i]!;
    recordRefStart[i] = total;
    total += (r + 1 < count ? refFirst[r + 1]! : refTotal) - refFirst[r]!;
  }
  recordRefStart[records] = total;
  const refRecord = new Int32Array(total);
  for (let i = 0, k = 0; i < records; i++) {
    const r = recordEntry[i]!;
    for (let x = refFirst[r]!, end = r + 1 < count ? refFirst[r + 1]! : refTotal; x < end; x++) {
      const at = refStart[x]!;
      // Full paths in the array and object shapes, base names in v2; anything else goes the generic way.
      if ((b[at] === 47) === v2) decline();
      const target = table.find(at, refEnd[x]!);
      if (target < 0) decline(); // a path the JSON does not describe: the generic parser reports it
      refRecord[k++] = target;
    }
  }

  const roots =
    rootPaths === undefined
      ? unreferenced(records, recordRefStart, refRecord)
      : findRoots(rootPaths, recordEntry, paths);
  const graph = breadthFirst(records, recordRefStart, refRecord, roots, recordEntry, paths, scan.narSize);
  const format: ClosureFormat =
    scan.shape === SHAPES.array
      ? scan.sawPathInfoField
        ? 'path-info-array'
        : 'closure-info'
      : v2
        ? 'path-info-v2'
        : 'path-info-object';
  return { graph, roots: roots.map((i) => paths[recordEntry[i]!]!), format, storeDir, invalidPaths };
}

/** Records that no other record references (as the closure check finds the roots), in record order. */
function unreferenced(records: number, refStart: Int32Array, refRecord: Int32Array): number[] {
  const referenced = new Uint8Array(records);
  for (let i = 0; i < records; i++) {
    for (let k = refStart[i]!; k < refStart[i + 1]!; k++) if (refRecord[k] !== i) referenced[refRecord[k]!] = 1;
  }
  const roots: number[] = [];
  for (let i = 0; i < records; i++) if (!referenced[i]) roots.push(i);
  if (roots.length === 0) decline(); // a cycle through every path: ClosureGraph.build says so
  return roots;
}

/** The records of the given root paths (each once, first mention first). */
function findRoots(rootPaths: readonly string[], recordEntry: readonly number[], paths: readonly string[]): number[] {
  const unique = [...new Set(rootPaths)];
  if (unique.length === 0) decline();
  return unique.map((root) => {
    for (let i = 0; i < recordEntry.length; i++) if (paths[recordEntry[i]!] === root) return i;
    return decline(); // not in the closure: ClosureGraph.build says so
  });
}

/** As ClosureGraph.build: nodes in breadth-first order from the roots (a virtual root 0 over several). */
function breadthFirst(
  records: number,
  refStart: Int32Array,
  refRecord: Int32Array,
  rootRecords: readonly number[],
  recordEntry: readonly number[],
  paths: readonly string[],
  entrySize: readonly number[],
): ClosureGraph {
  const layout = breadthFirstLayout(records, refStart, refRecord, rootRecords);
  const n = layout.nodeCount;
  const narSize = new Float64Array(n);
  const nodePaths: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const rec = layout.recordOfNode[i]!;
    nodePaths[i] = rec < 0 ? '' : paths[recordEntry[rec]!]!;
    if (rec >= 0) narSize[i] = entrySize[recordEntry[rec]!]!;
  }
  return ClosureGraph.fromArrays({
    paths: nodePaths,
    narSize,
    refOffsets: layout.refOffsets,
    refTargets: layout.refTargets,
    selfReference: layout.selfReference,
    roots: layout.roots,
    hasVirtualRoot: layout.hasVirtualRoot,
    sizesKnown: true,
  });
}

/**
 * The records' paths in an open-addressing table on their hash parts: a reference is found from its bytes (no
 * string) and confirmed by comparing it whole with the path. The paths are compared in a compact copy (each path
 * followed by a newline), a few MB instead of all of the text, and a slot holds what the comparison needs, so that
 * a lookup touches memory in as few places as it can: this runs for every reference.
 */
class PathTable {
  /** Per slot: the path's offset in `compact` (-1: empty), and (length << 20) | record number. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private span = HASHED_PREFIX;
  private readonly compactWords: DataView;
  private readonly textWords: DataView;

  constructor(
    private readonly text: Uint8Array,
    private readonly compact: Uint8Array,
    /** Offset of the hash part from the start of a path as the text spells it. */
    private readonly hashOffset: number,
    offsets: Int32Array,
    lengths: Int32Array,
  ) {
    const records = offsets.length;
    if (records >= 1 << 20) decline(); // record numbers share a slot word with the length
    let size = 16;
    while (size < records * 2) size *= 2;
    this.slots = new Int32Array(2 * size);
    this.mask = size - 1;
    this.compactWords = new DataView(compact.buffer, compact.byteOffset, compact.byteLength);
    this.textWords = new DataView(text.buffer, text.byteOffset, text.byteLength);
    if (!this.fill(offsets, lengths, 8 * records + 64)) {
      this.span = HASH_LENGTH;
      if (!this.fill(offsets, lengths, Infinity)) decline();
    }
  }

  /** False when probing took too long; declines when a path is listed twice (the generic parser reports it). */
  private fill(offsets: Int32Array, lengths: Int32Array, maxProbes: number): boolean {
    const { slots, mask, compact } = this;
    slots.fill(-1);
    let probes = 0;
    for (let i = 0; i < offsets.length; i++) {
      const at = offsets[i]!;
      const length = lengths[i]!;
      if (length >= 1 << 11) decline();
      if (this.lookup(compact, this.compactWords, at, length) >= 0) decline();
      let h = this.hashAt(compact, at + this.hashOffset);
      while (slots[2 * h]! >= 0) {
        h = (h + 1) & mask;
        if (++probes > maxProbes) return false;
      }
      slots[2 * h] = at;
      slots[2 * h + 1] = (length << 20) | i;
    }
    return true;
  }

  /** The record whose path the text spells exactly at [start, end), or -1. */
  find(start: number, end: number): number {
    return this.lookup(this.text, this.textWords, start, end - start);
  }

  private lookup(b: Uint8Array, words: DataView, start: number, length: number): number {
    const { slots, mask } = this;
    let h = this.hashAt(b, start + this.hashOffset);
    for (;;) {
      const at = slots[2 * h]!;
      if (at < 0) return -1;
      const v = slots[2 * h + 1]!;
      if (v >>> 20 === length && sameBytes(words, start, this.compactWords, at, length)) return v & 0xfffff;
      h = (h + 1) & mask;
    }
  }

  private hashAt(b: Uint8Array, at: number): number {
    let h = 0x811c9dc5;
    for (let k = 0; k < this.span; k++) h = Math.imul(h ^ (b[at + k]! | 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h & this.mask;
  }
}

/** Whether `length` bytes at `x` in `a` equal those at `y` in `b`, four at a time. */
function sameBytes(a: DataView, x: number, b: DataView, y: number, length: number): boolean {
  let k = 0;
  for (; k + 4 <= length; k += 4) if (a.getInt32(x + k) !== b.getInt32(y + k)) return false;
  for (; k < length; k++) if (a.getUint8(x + k) !== b.getUint8(y + k)) return false;
  return true;
}
