/**
 * What crosses the thread boundary between the host and the closure worker. The graph and the dominator tree are
 * typed arrays whose buffers are transferred (moved, not copied); a ClosureLensError keeps its code, message, fix,
 * detail and position, so the host shows the same message as an in-process load would.
 */
import { dominatorTreeOf, type DominatorArrays } from '../../shared/analysis/dominators';
import type { AnalysedClosure, PipelineInput } from '../load/pipeline';
import { ByteFeed } from '../load/byteFeed';
import { nextTurn } from '../../shared/eventLoop';
import type { LoadProgress } from '../load/engine';
import { ClosureLensError, type ErrorCode, type NixPosition } from '../errors';
import { ClosureGraph } from '../../shared/graph';
import type { SunburstPreview } from '../../shared/protocol';

/**
 * The host's messages: the request first; when nix's output comes as a feed (the request says `fed`), its chunks
 * follow as they arrive, then the end.
 */
export type WorkerMessage =
  WorkerRequest | { readonly type: 'chunk'; readonly bytes: Uint8Array } | { readonly type: 'end' };

type PathInfoInput = Extract<PipelineInput, { kind: 'path-info' }>;

export interface WorkerRequest {
  readonly type: 'request';
  /** The input, nix's output as a string or chunks; `fed`: the chunks follow as messages (json is then empty). */
  readonly input:
    | Exclude<PipelineInput, PathInfoInput>
    | (Omit<PathInfoInput, 'json'> & { readonly json: string | readonly Uint8Array[] });
  readonly fed: boolean;
  /** Post the sunburst's preview as soon as the dominator tree is known (only when the host listens: it costs ~50 ms). */
  readonly preview: boolean;
}

export type WorkerReply =
  | { readonly type: 'progress'; readonly progress: LoadProgress }
  /** The sunburst's preview, before the analysis is done (small: cloned, not transferred). */
  | { readonly type: 'preview'; readonly preview: SunburstPreview }
  | { readonly type: 'done'; readonly closure: TransferredClosure }
  | { readonly type: 'failed'; readonly error: TransferredError };

/** An AnalysedClosure as it crosses: the graph's and the dominator tree's arrays, the rest as it is. */
export interface TransferredClosure
  extends
    Pick<AnalysedClosure, 'closureSizes' | 'format' | 'notes' | 'rootPaths' | 'cacheFile' | 'notCached'>,
    Pick<
      ClosureGraph,
      | 'narSize'
      | 'refOffsets'
      | 'refTargets'
      | 'selfReference'
      | 'revOffsets'
      | 'revTargets'
      | 'hasVirtualRoot'
      | 'sizesKnown'
    >,
    DominatorArrays {
  /**
   * The store paths joined by "\n" as UTF-8 (one transferred buffer: 100,000 strings cloned one by one cost the
   * host ~80 ms to receive), or as an array when a path holds a line break.
   */
  readonly paths: Uint8Array | string[];
  readonly roots: number[];
}

export type TransferredError =
  | {
      readonly kind: 'closure-lens';
      readonly code: ErrorCode;
      readonly message: string;
      readonly fix: string;
      readonly detail: string | undefined;
      readonly position: NixPosition | undefined;
      readonly cause: { readonly name: string; readonly message: string } | undefined;
    }
  | { readonly kind: 'other'; readonly name: string; readonly message: string; readonly stack: string | undefined };

/** The request, with nix's output (its chunks) moved to the worker, not copied; a feed's chunks follow (chunkForTransfer). */
export function requestForTransfer(
  input: PipelineInput,
  preview = false,
): { message: WorkerRequest; transfer: ArrayBuffer[] } {
  const request = (i: WorkerRequest['input'], fed = false): WorkerRequest => ({
    type: 'request',
    input: i,
    fed,
    preview,
  });
  if (input.kind !== 'path-info') return { message: request(input), transfer: [] };
  if (typeof input.json === 'string') return { message: request({ ...input, json: input.json }), transfer: [] };
  if (input.json instanceof ByteFeed) return { message: request({ ...input, json: [] }, true), transfer: [] };
  const json = input.json.map(ownedBytes);
  return {
    message: request({ ...input, json }),
    transfer: [...new Set(json.map((b) => b.buffer as ArrayBuffer))],
  };
}

/** One chunk of a feed, moved to the worker. */
export function chunkForTransfer(chunk: Uint8Array): { message: WorkerMessage; transfer: ArrayBuffer[] } {
  const bytes = ownedBytes(chunk);
  return { message: { type: 'chunk', bytes }, transfer: [bytes.buffer as ArrayBuffer] };
}

export function closureForTransfer(r: AnalysedClosure): { message: TransferredClosure; transfer: ArrayBuffer[] } {
  const g = r.graph;
  const d = r.dominators;
  const joined = g.paths.join('\n');
  const paths = joined.split('\n').length === g.nodeCount ? new TextEncoder().encode(joined) : [...g.paths];
  const message: TransferredClosure = {
    paths,
    narSize: g.narSize,
    refOffsets: g.refOffsets,
    refTargets: g.refTargets,
    selfReference: g.selfReference,
    revOffsets: g.revOffsets,
    revTargets: g.revTargets,
    roots: [...g.roots],
    hasVirtualRoot: g.hasVirtualRoot,
    sizesKnown: g.sizesKnown,
    idom: d.idom,
    retained: d.retained,
    childOffsets: d.childOffsets,
    childTargets: d.childTargets,
    closureSizes: r.closureSizes,
    format: r.format,
    notes: r.notes,
    rootPaths: r.rootPaths,
    cacheFile: r.cacheFile && ownedBytes(r.cacheFile),
    notCached: r.notCached,
  };
  const arrays = [
    g.narSize,
    g.refOffsets,
    g.refTargets,
    g.selfReference,
    g.revOffsets,
    g.revTargets,
    d.idom,
    d.retained,
    d.childOffsets,
    d.childTargets,
  ];
  if (r.closureSizes) arrays.push(r.closureSizes);
  if (paths instanceof Uint8Array) arrays.push(paths);
  if (message.cacheFile) arrays.push(message.cacheFile);
  // A buffer may back two views; each is listed once.
  return { message, transfer: [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))] };
}

/** The worker's result on the host; the event loop runs between receiving it, decoding the paths and building the graph. */
export async function closureFromTransfer(t: TransferredClosure): Promise<AnalysedClosure> {
  await nextTurn();
  const paths = t.paths instanceof Uint8Array ? splitPaths(t.paths, t.narSize.length) : t.paths;
  await nextTurn();
  const graph = ClosureGraph.fromArrays({
    paths,
    narSize: t.narSize,
    refOffsets: t.refOffsets,
    refTargets: t.refTargets,
    selfReference: t.selfReference,
    revOffsets: t.revOffsets,
    revTargets: t.revTargets,
    roots: t.roots,
    hasVirtualRoot: t.hasVirtualRoot,
    sizesKnown: t.sizesKnown,
  });
  const dominators = dominatorTreeOf({
    idom: t.idom,
    retained: t.retained,
    childOffsets: t.childOffsets,
    childTargets: t.childTargets,
  });
  return {
    graph,
    dominators,
    closureSizes: t.closureSizes,
    format: t.format,
    notes: t.notes,
    rootPaths: t.rootPaths,
    cacheFile: t.cacheFile,
    notCached: t.notCached,
  };
}

export function errorForTransfer(e: unknown): TransferredError {
  if (e instanceof ClosureLensError) {
    const cause = e.cause instanceof Error ? { name: e.cause.name, message: e.cause.message } : undefined;
    return {
      kind: 'closure-lens',
      code: e.code,
      message: e.message,
      fix: e.fix,
      detail: e.detail,
      position: e.position,
      cause,
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'other', name: err.name, message: err.message, stack: err.stack };
}

export function errorFromTransfer(t: TransferredError): Error {
  if (t.kind === 'closure-lens') {
    let cause: Error | undefined;
    if (t.cause) {
      cause = new Error(t.cause.message);
      cause.name = t.cause.name;
    }
    return new ClosureLensError(t.code, t.message, {
      fix: t.fix,
      ...(t.detail !== undefined ? { detail: t.detail } : {}),
      ...(t.position !== undefined ? { position: t.position } : {}),
      ...(cause ? { cause } : {}),
    });
  }
  const err = new Error(t.message);
  err.name = t.name;
  if (t.stack !== undefined) err.stack = t.stack;
  return err;
}

/**
 * Bytes whose buffer can be moved to another thread: the whole buffer is theirs (a view into a larger one, such as
 * Node's shared pool of small Buffers, is copied first).
 */
function ownedBytes(b: Uint8Array): Uint8Array {
  if (
    b.byteOffset === 0 &&
    b.byteLength === b.buffer.byteLength &&
    !(b.buffer instanceof SharedArrayBuffer) &&
    b.byteLength >= 4096
  )
    return b;
  return b.slice();
}

function splitPaths(bytes: Uint8Array, count: number): string[] {
  const paths = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').split('\n');
  if (paths.length !== count) throw new Error(`the worker sent ${paths.length} paths for ${count} nodes`);
  return paths;
}
