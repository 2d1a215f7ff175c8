/**
 * The persistent graph cache. A store path never changes, so its closure graph is computed once and kept,
 * keyed by the root store path; the file also records the cache format and parser versions, and a graph made
 * by another version is ignored and rebuilt.
 *
 * One file per root, compact (a string table and typed arrays, not an object per node) so that a 100,000-path
 * graph loads in milliseconds:
 *
 *   "NCLG" | u32 format version | u32 parser version | u32 header bytes | header JSON | pad to 8
 *   | store-path base names joined by "\n" | pad | f64 narSize[n] | i32 refOffsets[n+1] | i32 refTargets[e]
 *   | u8 selfReference[n] | pad | f64 closureSize[n] (when the header says closureSizes)
 *   | f64 retainedSize[n] (when the header says retainedSizes)
 *   | i32 idom[n] | i32 childOffsets[n+1] | i32 childTargets[m] (the dominator tree, when the header says dominators)
 *   | sha256 of everything before (32 bytes)
 *
 * Closure sizes are kept when they were computed for the graph before it was stored (up to ~20k paths, where the
 * engine computes them all), and so is the dominator tree, so that a warm load computes neither.
 *
 * Writes go to a temporary file that is fsynced and then renamed over the old one, so a reader sees the old
 * file or the new one, never a partial one; a failed write (ENOSPC, …) leaves the old file as it was.
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import { defaultCacheDir } from '../cacheDir';
import * as path from 'node:path';
import { ClosureLensError } from '../errors';
import { removeStaleTemporaries } from '../staleTemporaries';
import { readRegularFile } from './regularFile';
import {
  MAX_VERSIONS_FILE_BYTES,
  NIX_VERSIONS_FILE,
  binaryIdentity,
  graphCacheFile,
  versionLineIn,
} from './cacheFiles';
import { nextTurn } from '../../shared/eventLoop';
import { rememberClosureSizes, rememberedClosureSizes } from '../../shared/analysis/closureSize';
import { dominatorTreeOf, type DominatorTree } from '../../shared/analysis/dominators';
import { ClosureGraph } from '../../shared/graph';
import { csrProblem, within } from '../../shared/protocol';
import { PARSER_VERSION } from '../parse/types';

export const CACHE_FORMAT_VERSION = 4;
const MAGIC = 0x474c434e; // "NCLG" little-endian
const PREFIX_BYTES = 16;
const HASH_BYTES = 32;

export interface CachedGraph {
  readonly graph: ClosureGraph;
  /** Where the graph came from, e.g. `nix path-info -rs --json /nix/store/…`. */
  readonly source: string;
  readonly format: string;
  readonly notes: readonly string[];
  /** Milliseconds since the epoch. */
  readonly storedAt: number;
  /** The dominator tree, when it was stored with the graph. */
  readonly dominators: DominatorTree | undefined;
}

export interface GraphMeta {
  readonly source: string;
  readonly format?: string;
  readonly notes?: readonly string[];
}

/** Analyses computed for a graph that are stored with it (default: those remembered for the graph, if any). */
export interface GraphAnalyses {
  readonly closureSizes?: Float64Array | undefined;
  readonly dominators?: DominatorTree | undefined;
}

interface Header {
  rootPath: string;
  storeDir: string;
  nodeCount: number;
  edgeCount: number;
  stringBytes: number;
  roots: number[];
  hasVirtualRoot: boolean;
  sizesKnown: boolean;
  /** Whether the file holds every node's closure size. */
  closureSizes: boolean;
  /** Whether the file holds every node's retained size (dominator subtree). */
  retainedSizes: boolean;
  /** Whether the file holds the dominator tree (idom and children); then retainedSizes is true too. */
  dominators: boolean;
  /** Edges of the dominator tree (childTargets' length). */
  dominatorEdges: number;
  source: string;
  format: string;
  notes: string[];
  storedAt: number;
}

/** The file operations a write needs; replaceable so a test can make the disk fail for real (e.g. /dev/full). */
export interface CacheIo {
  openForWrite(
    file: string,
  ): Promise<{ writeFile(data: Uint8Array): Promise<void>; sync(): Promise<void>; close(): Promise<void> }>;
  rename(from: string, to: string): Promise<void>;
}

const realIo: CacheIo = {
  openForWrite: (file) => fsp.open(file, 'wx', 0o644),
  rename: (from, to) => fsp.rename(from, to),
};

export interface GraphCacheOptions {
  /** Default: defaultCacheDir() ($XDG_CACHE_HOME/closure-lens). */
  readonly dir?: string;
  readonly io?: CacheIo;
}

export { defaultCacheDir };

/** Far above the graph of a 1,000,000-path closure: larger is not a file we wrote. */
const MAX_GRAPH_FILE_BYTES = 2 * 1024 ** 3 - 1;
/** The temporaries `write` and `rememberNixVersionLine` make: `<file>.<pid>-<12 hex>.tmp`. */
const STALE_TEMPORARY = /\.(\d+)-[0-9a-f]{12}\.tmp$/;

export class GraphCache {
  readonly dir: string;
  private readonly io: CacheIo;
  private swept = false;

  constructor(options: string | GraphCacheOptions = {}) {
    const o = typeof options === 'string' ? { dir: options } : options;
    this.dir = o.dir && o.dir !== '' ? path.resolve(o.dir) : defaultCacheDir();
    this.io = o.io ?? realIo;
  }

  /** The file that holds the graph of `rootPath`. */
  fileFor(rootPath: string): string {
    return graphCacheFile(this.dir, rootPath);
  }

  /** The cached graph, or undefined when there is none or the file is damaged, truncated or from another version. */
  async get(rootPath: string): Promise<CachedGraph | undefined> {
    let buf: Buffer;
    const file = this.fileFor(rootPath);
    // A cold load asks for a file that is not there: a stat that does not throw answers that without a failed read.
    try {
      if (!fs.statSync(file, { throwIfNoEntry: false })) return undefined;
      const read = await readRegularFile(file, MAX_GRAPH_FILE_BYTES);
      if (!read) return undefined;
      buf = read;
    } catch {
      return undefined;
    }
    try {
      // The same checks as decode(), spread over event-loop turns for the extension host: the checksum is computed
      // off this thread (WebCrypto hashes in libuv's pool), and the string table and the arrays in two turns.
      const { header, layout } = readLayout(buf, rootPath);
      const digest = Buffer.from(await webcrypto.subtle.digest('SHA-256', buf.subarray(0, layout.hash)));
      if (!digest.equals(buf.subarray(layout.hash))) return undefined;
      const paths = decodePaths(buf, header, layout);
      await nextTurn();
      return decodeSections(buf, header, layout, paths);
    } catch {
      return undefined;
    }
  }

  /**
   * Stores the graph atomically. Throws ClosureLensError 'cache-failed' when the disk refuses; the previous file,
   * if any, is then untouched.
   */
  async put(rootPath: string, graph: ClosureGraph, meta: GraphMeta, analyses?: GraphAnalyses): Promise<void> {
    await this.write(rootPath, encode(rootPath, graph, meta, analyses));
  }

  /** `put` of a graph `encode` turned into bytes already (e.g. in a worker thread). */
  async write(rootPath: string, data: Uint8Array): Promise<void> {
    const file = this.fileFor(rootPath);
    const tmp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fsp.mkdir(this.dir, { recursive: true });
      // Once per cache: what a process killed mid-write left behind (up to 1 MB each) goes.
      this.swept ||= removeStaleTemporaries(this.dir, STALE_TEMPORARY) !== undefined;
      const fh = await this.io.openForWrite(tmp);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.io.rename(tmp, file);
    } catch (e) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      const code = (e as NodeJS.ErrnoException).code;
      throw new ClosureLensError('cache-failed', `cannot write the graph cache ${file}${code ? ` (${code})` : ''}`, {
        fix:
          code === 'ENOSPC'
            ? `free disk space, or point the cache elsewhere (nixClosureLens.cacheDirectory / --cache-dir)`
            : `check that ${this.dir} is writable, or point the cache elsewhere (nixClosureLens.cacheDirectory / --cache-dir)`,
        cause: e,
      });
    }
    // Make the rename itself durable; failing here only loses the entry after a crash, so it is not an error.
    try {
      const d = await fsp.open(this.dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // Some filesystems refuse to fsync a directory.
    }
  }

  /**
   * The first line of `nix --version` recorded for the binary `nixPath` names (a name looked up on PATH, or a
   * path), if that exact file (path, inode, size, mtime) was asked before. Never throws.
   */
  async nixVersionLine(nixPath: string): Promise<string | undefined> {
    try {
      const id = binaryIdentity(nixPath);
      if (id === undefined) return undefined;
      return versionLineIn(await readRegularFile(path.join(this.dir, NIX_VERSIONS_FILE), MAX_VERSIONS_FILE_BYTES), id);
    } catch {
      return undefined;
    }
  }

  /** Records `line` as the version of the binary `nixPath` names; best effort (a failure only costs a nix call). */
  async rememberNixVersionLine(nixPath: string, line: string): Promise<void> {
    const file = path.join(this.dir, NIX_VERSIONS_FILE);
    const tmp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    try {
      const id = binaryIdentity(nixPath);
      if (id === undefined) return;
      let known: Record<string, unknown> = {};
      try {
        known = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>;
      } catch {
        // none yet, or damaged: start afresh
      }
      // Old binaries (garbage-collected Nix versions) would pile up: keep the latest few.
      const entries = Object.entries({ ...known, [id]: line }).slice(-8);
      await fsp.mkdir(this.dir, { recursive: true });
      await fsp.writeFile(tmp, JSON.stringify(Object.fromEntries(entries)));
      await fsp.rename(tmp, file);
    } catch {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  async delete(rootPath: string): Promise<void> {
    await fsp.rm(this.fileFor(rootPath), { force: true });
  }
}

const pad8 = (n: number): number => (n + 7) & ~7;

export function encode(rootPath: string, g: ClosureGraph, meta: GraphMeta, analyses: GraphAnalyses = {}): Buffer {
  const storeDir = storeDirOf(g);
  const names = g.paths.map((p) => (p === '' ? '' : p.slice(storeDir.length + 1)));
  const strings = Buffer.from(names.join('\n'), 'utf8');
  const n = g.nodeCount;
  const e = g.refTargets.length;
  const closureSizes = analyses.closureSizes ?? rememberedClosureSizes(g);
  const dominators = analyses.dominators;
  if (dominators && dominators.idom.length !== n) throw new Error('the dominator tree is not of this graph');
  // Retained sizes are the dominator tree's: stored with it, never without it.
  const retainedSizes = dominators?.retained;
  const header: Header = {
    rootPath,
    storeDir,
    nodeCount: n,
    edgeCount: e,
    stringBytes: strings.length,
    roots: [...g.roots],
    hasVirtualRoot: g.hasVirtualRoot,
    sizesKnown: g.sizesKnown,
    closureSizes: closureSizes !== undefined,
    retainedSizes: retainedSizes !== undefined,
    dominators: dominators !== undefined,
    dominatorEdges: dominators?.childTargets.length ?? 0,
    source: meta.source,
    format: meta.format ?? '',
    notes: [...(meta.notes ?? [])],
    storedAt: Date.now(),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const layout = sections(headerBytes.length, header);
  const buf = Buffer.alloc(layout.total);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(CACHE_FORMAT_VERSION, 4);
  buf.writeUInt32LE(PARSER_VERSION, 8);
  buf.writeUInt32LE(headerBytes.length, 12);
  headerBytes.copy(buf, PREFIX_BYTES);
  strings.copy(buf, layout.strings);
  new Float64Array(buf.buffer, buf.byteOffset + layout.narSize, n).set(g.narSize);
  new Int32Array(buf.buffer, buf.byteOffset + layout.refOffsets, n + 1).set(g.refOffsets.subarray(0, n + 1));
  new Int32Array(buf.buffer, buf.byteOffset + layout.refTargets, e).set(g.refTargets);
  new Uint8Array(buf.buffer, buf.byteOffset + layout.selfReference, n).set(g.selfReference);
  if (closureSizes) new Float64Array(buf.buffer, buf.byteOffset + layout.closureSizes, n).set(closureSizes);
  if (retainedSizes) new Float64Array(buf.buffer, buf.byteOffset + layout.retainedSizes, n).set(retainedSizes);
  if (dominators) {
    new Int32Array(buf.buffer, buf.byteOffset + layout.idom, n).set(dominators.idom);
    new Int32Array(buf.buffer, buf.byteOffset + layout.childOffsets, n + 1).set(
      dominators.childOffsets.subarray(0, n + 1),
    );
    new Int32Array(buf.buffer, buf.byteOffset + layout.childTargets, header.dominatorEdges).set(
      dominators.childTargets,
    );
  }
  createHash('sha256').update(buf.subarray(0, layout.hash)).digest().copy(buf, layout.hash);
  return buf;
}

function sections(
  headerLength: number,
  h: Pick<
    Header,
    'nodeCount' | 'edgeCount' | 'stringBytes' | 'closureSizes' | 'retainedSizes' | 'dominators' | 'dominatorEdges'
  >,
) {
  const strings = pad8(PREFIX_BYTES + headerLength);
  const narSize = pad8(strings + h.stringBytes);
  const refOffsets = narSize + 8 * h.nodeCount;
  const refTargets = refOffsets + 4 * (h.nodeCount + 1);
  const selfReference = refTargets + 4 * h.edgeCount;
  const closureSizes = pad8(selfReference + h.nodeCount);
  const retainedSizes = closureSizes + (h.closureSizes ? 8 * h.nodeCount : 0);
  const idom = retainedSizes + (h.retainedSizes ? 8 * h.nodeCount : 0);
  const childOffsets = idom + (h.dominators ? 4 * h.nodeCount : 0);
  const childTargets = childOffsets + (h.dominators ? 4 * (h.nodeCount + 1) : 0);
  const hash = childTargets + (h.dominators ? 4 * h.dominatorEdges : 0);
  return {
    strings,
    narSize,
    refOffsets,
    refTargets,
    selfReference,
    closureSizes,
    retainedSizes,
    idom,
    childOffsets,
    childTargets,
    hash,
    total: hash + HASH_BYTES,
  };
}

/** Throws on anything that is not an intact file of this version for `rootPath`. */
export function decode(input: Buffer, rootPath: string): CachedGraph {
  const { header, layout } = readLayout(input, rootPath);
  const digest = createHash('sha256').update(input.subarray(0, layout.hash)).digest();
  if (!digest.equals(input.subarray(layout.hash))) throw new Error('checksum mismatch');
  return decodeSections(input, header, layout, decodePaths(input, header, layout));
}

type Layout = ReturnType<typeof sections>;

/** The header and the section offsets of a file of this version for `rootPath` (the checksum is checked apart). */
function readLayout(input: Buffer, rootPath: string): { header: Header; layout: Layout } {
  if (input.length < PREFIX_BYTES + HASH_BYTES) throw new Error('too short');
  if (input.readUInt32LE(0) !== MAGIC) throw new Error('not a graph cache file');
  if (input.readUInt32LE(4) !== CACHE_FORMAT_VERSION || input.readUInt32LE(8) !== PARSER_VERSION)
    throw new Error('other version');
  const headerLength = input.readUInt32LE(12);
  if (PREFIX_BYTES + headerLength > input.length) throw new Error('truncated header');
  const header = JSON.parse(input.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerLength)) as Header;
  const layout = sections(headerLength, header);
  if (layout.total !== input.length) throw new Error('truncated or padded');
  if (header.rootPath !== rootPath) throw new Error('another root');
  return { header, layout };
}

function decodePaths(input: Buffer, header: Header, layout: Layout): string[] {
  const names = input.toString('utf8', layout.strings, layout.strings + header.stringBytes).split('\n');
  if (names.length !== header.nodeCount) throw new Error('string table does not match the node count');
  const prefix = `${header.storeDir}/`;
  return names.map((b) => (b === '' ? '' : prefix + b));
}

function decodeSections(input: Buffer, header: Header, layout: Layout, paths: string[]): CachedGraph {
  // Typed-array views need aligned offsets; a Buffer from the pool may start anywhere.
  const buf = input.byteOffset % 8 === 0 ? input : Buffer.from(input);
  const n = header.nodeCount;
  const refOffsets = new Int32Array(buf.buffer, buf.byteOffset + layout.refOffsets, n + 1);
  const refTargets = new Int32Array(buf.buffer, buf.byteOffset + layout.refTargets, header.edgeCount);
  for (let i = 0; i < refTargets.length; i++) {
    if (refTargets[i]! < 0 || refTargets[i]! >= n) throw new Error('edge out of range');
  }
  if (refOffsets[0] !== 0 || refOffsets[n] !== header.edgeCount) throw new Error('bad offsets');
  const graph = ClosureGraph.fromArrays({
    paths,
    narSize: new Float64Array(buf.buffer, buf.byteOffset + layout.narSize, n),
    refOffsets,
    refTargets,
    selfReference: new Uint8Array(buf.buffer, buf.byteOffset + layout.selfReference, n),
    roots: header.roots,
    hasVirtualRoot: header.hasVirtualRoot,
    sizesKnown: header.sizesKnown,
  });
  if (header.closureSizes)
    rememberClosureSizes(graph, new Float64Array(buf.buffer, buf.byteOffset + layout.closureSizes, n));
  let dominators: DominatorTree | undefined;
  if (header.retainedSizes && header.dominators) {
    dominators = dominatorTreeOf({
      idom: new Int32Array(buf.buffer, buf.byteOffset + layout.idom, n),
      retained: new Float64Array(buf.buffer, buf.byteOffset + layout.retainedSizes, n),
      childOffsets: new Int32Array(buf.buffer, buf.byteOffset + layout.childOffsets, n + 1),
      childTargets: new Int32Array(buf.buffer, buf.byteOffset + layout.childTargets, header.dominatorEdges),
    });
    checkDominatorTree(dominators, n);
  }
  return {
    graph,
    source: header.source,
    format: header.format,
    notes: header.notes,
    storedAt: header.storedAt,
    dominators,
  };
}

/**
 * The checksum guards against damage; this guards the analyses against a tree that indexes outside the graph (the
 * same checks as the webview's of a payload's dominator tree).
 */
function checkDominatorTree(d: DominatorTree, n: number): void {
  if (!within(d.idom, -1, n)) throw new Error('dominator out of range');
  const bad = csrProblem(d.childOffsets, d.childTargets, n, 'childOffsets', 'childTargets');
  if (bad) throw new Error(`dominator tree: ${bad}`);
}

function storeDirOf(g: ClosureGraph): string {
  const first = g.paths.find((p) => p !== '');
  if (first === undefined) return '/nix/store';
  const dir = first.slice(0, first.lastIndexOf('/'));
  for (const p of g.paths) {
    if (p !== '' && !(p.startsWith(dir) && p.lastIndexOf('/') === dir.length)) {
      throw new ClosureLensError('cache-failed', `${p} is not in the store ${dir} like the rest of the closure`, {
        fix: 'report this: a closure should live in one store',
      });
    }
  }
  return dir;
}
