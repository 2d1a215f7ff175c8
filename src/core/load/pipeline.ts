/**
 * The one analysis pipeline of a load: closure JSON → parse → graph → dominator tree (→ the sunburst's preview) →
 * closure sizes → the graph cache file.
 * The CLI and the tests run it in-process; the extension host runs the same steps in a worker thread
 * (worker/closureWorker.ts) so that its event loop never waits for them.
 *
 * It is an async generator: each `yield` ends a step. In-process, the event loop runs between steps (a load then
 * stalls for its longest step, not for their sum); in the worker, a yield that carries a message is posted to the
 * host as progress.
 */
import { promises as fsp } from 'node:fs';
import { ClosureSizes, EAGER_CLOSURE_SIZE_LIMIT } from '../../shared/analysis/closureSize';
import { dominatorTree, type DominatorTree } from '../../shared/analysis/dominators';
import { encode } from './graphCache';
import { ClosureLensError, isClosureLensError } from '../errors';
import { nextTurn } from '../../shared/eventLoop';
import { ClosureGraph } from '../../shared/graph';
import type { SunburstPreview } from '../../shared/protocol';
import { buildPreview } from '../../shared/sunburstPreview';
import { ByteFeed } from './byteFeed';
import { parseClosureGraph, parseClosureValue, type ClosureFormat } from '../parse';
import type { GraphFromJson } from '../parse/pathInfoGraph';
import { PathInfoStream } from '../parse/pathInfoStream';
import { parseJsonText } from '../parse/json';

/** A step of a load, as shown in the progress notification and the log. */
export interface LoadProgress {
  readonly stage: 'resolving' | 'cache' | 'querying' | 'parsing' | 'analysing';
  readonly message: string;
}

export type PipelineInput =
  /**
   * What `nix path-info --recursive --size --json <roots>` printed; `source` is that command. With `cacheKey`, the
   * result also holds the graph cache file for that key (GraphCache.write), encoded here rather than by the caller.
   */
  | {
      readonly kind: 'path-info';
      /**
       * A string, the bytes in the chunks they arrived in, or a feed of the chunks as nix
       * writes them (read as they arrive; a failed nix call fails the feed, and the pipeline with its error).
       */
      readonly json: string | readonly Uint8Array[] | ByteFeed;
      readonly source: string;
      readonly roots: readonly string[];
      readonly cacheKey?: string;
    }
  /** A closure JSON file of any format parseClosureJson knows. */
  | { readonly kind: 'file'; readonly file: string };

export interface AnalysedClosure {
  readonly graph: ClosureGraph;
  readonly dominators: DominatorTree;
  /** Every node's closure size, when the graph is small enough to compute them all at once (and has sizes). */
  readonly closureSizes: Float64Array | undefined;
  readonly format: ClosureFormat;
  /** What a view should mention (an SBOM has no sizes, invalid paths were left out). */
  readonly notes: string[];
  /** The store paths of the graph's roots (a JSON file names its own). */
  readonly rootPaths: string[];
  /** The graph cache file (`encode`), when the input asked for it and the graph can be cached. */
  readonly cacheFile: Uint8Array | undefined;
  /** Why the graph cannot be cached, when the input asked for it. */
  readonly notCached: string | undefined;
}

/** Runs the pipeline's steps for `input`; yields between steps (with a progress message when there is one). */
export async function* closurePipeline(
  input: PipelineInput,
  hooks: PipelineHooks = {},
): AsyncGenerator<LoadProgress | undefined, AnalysedClosure, void> {
  let graph: ClosureGraph;
  let format: ClosureFormat;
  const notes: string[] = [];
  if (input.kind === 'path-info') {
    // path-info --recursive is closed by construction and the roots are known: nix's bytes go straight into the graph
    // (a root nix calls invalid is an 'invalid-path' error there).
    const source = `\`${input.source}\``;
    let fromJson: GraphFromJson & { readonly notes: string[] };
    if (input.json instanceof ByteFeed) {
      const stream = new PathInfoStream();
      for await (const chunk of input.json) stream.push(chunk);
      yield { stage: 'parsing', message: 'reading the closure…' };
      fromJson = stream.finish(source, input.roots);
    } else {
      yield { stage: 'parsing', message: 'reading the closure…' };
      fromJson = parseClosureGraph(
        typeof input.json === 'string' ? input.json : Buffer.concat(input.json),
        source,
        input.roots,
      );
    }
    yield { stage: 'analysing', message: `analysing ${fromJson.graph.pathCount} paths…` };
    graph = fromJson.graph;
    format = fromJson.format;
    notes.push(...fromJson.notes);
    if (graph.danglingReferences.length > 0) {
      const d = graph.danglingReferences[0]!;
      throw new ClosureLensError(
        'malformed-json',
        `\`${input.source}\` is not a whole closure: ${d.from} references ${d.to}, which it does not describe`,
        {
          fix: 'run the same nix command in a terminal; the store may be damaged (`nix store verify --all`)',
        },
      );
    }
  } else {
    const text = await readClosureFile(input.file);
    yield { stage: 'parsing', message: `reading ${input.file}…` };
    const doc = parseJsonText(text, input.file);
    yield undefined;
    const parsed = parseClosureValue(doc, input.file);
    if (parsed.records.length === 0) {
      throw new ClosureLensError(
        'invalid-path',
        `${input.file} lists only invalid paths (${parsed.invalidPaths.join(', ')})`,
        {
          fix: 'make the file for paths that are in the store',
        },
      );
    }
    if (parsed.roots.length === 0) {
      throw new ClosureLensError(
        'malformed-json',
        `${input.file}: every path is referenced by another one, so there is no root`,
        {
          fix: 'a Nix closure has no cycles; regenerate the file with `nix path-info --recursive --size --json <path>`',
        },
      );
    }
    notes.push(...parsed.notes);
    if (parsed.invalidPaths.length > 0) notes.push(`invalid paths left out: ${parsed.invalidPaths.join(', ')}`);
    yield { stage: 'analysing', message: `analysing ${parsed.records.length} paths…` };
    graph = ClosureGraph.build(parsed.records, parsed.roots);
    format = parsed.format;
  }
  // Every view shows closure sizes and the dominator tree (sunburst, heaviest paths): computed once here, they go
  // into the graph cache with the graph. The dominator tree first: the sunburst's preview needs only it, and goes
  // out before the closure sizes and the cache file are made.
  yield undefined;
  const dominators = dominatorTree(graph);
  if (hooks.onPreview) {
    const preview = buildPreview(graph, dominators);
    if (preview) hooks.onPreview(preview);
  }
  let closureSizes: Float64Array | undefined;
  if (graph.sizesKnown && graph.nodeCount <= EAGER_CLOSURE_SIZE_LIMIT) {
    yield undefined;
    closureSizes = new ClosureSizes(graph).all();
  }
  let cacheFile: Uint8Array | undefined;
  let notCached: string | undefined;
  if (input.kind === 'path-info' && input.cacheKey !== undefined) {
    yield undefined;
    try {
      cacheFile = encode(input.cacheKey, graph, { source: input.source, format, notes }, { closureSizes, dominators });
    } catch (e) {
      if (!isClosureLensError(e)) throw e;
      notCached = e.oneLine();
    }
  }
  const rootPaths = graph.roots.map((i) => graph.paths[i]!);
  return { graph, dominators, closureSizes, format, notes, rootPaths, cacheFile, notCached };
}

/**
 * The longest string V8 makes (2^29 − 24 UTF-16 units): a closure file is parsed as one string, so a larger one
 * cannot be read at all. 512 MiB of JSON is about 2 million paths, far past any real system.
 */
const MAX_CLOSURE_FILE_BYTES = 0x1fffffe8;

function closureFileTooLarge(file: string, bytes: number | undefined, cause?: unknown): ClosureLensError {
  const mib = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return new ClosureLensError(
    'too-large',
    `${file}${bytes === undefined ? '' : ` is ${mib(bytes)}:`} too large to read; the limit is ${mib(MAX_CLOSURE_FILE_BYTES)} of JSON`,
    {
      fix: 'write the closure of a single root (`nix path-info --recursive --size --json <path> > closure.json`), or load the store path itself',
      ...(cause ? { cause } : {}),
    },
  );
}

async function readClosureFile(file: string): Promise<string> {
  try {
    // A pipe (`--from-json <(nix path-info …)`) has no size to check; its read fails with ERR_STRING_TOO_LONG below.
    const st = await fsp.stat(file);
    if (st.isFile() && st.size > MAX_CLOSURE_FILE_BYTES) throw closureFileTooLarge(file, st.size);
    return await fsp.readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof ClosureLensError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_STRING_TOO_LONG' || e instanceof RangeError) throw closureFileTooLarge(file, undefined, e);
    throw new ClosureLensError(
      'file-not-found',
      `cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}`,
      {
        fix: 'check the file name (make one with `nix path-info --recursive --size --json <path> > closure.json`)',
        cause: e,
      },
    );
  }
}

/** Where the pipeline runs: in this thread (the default) or in a worker thread (worker/analyseInWorker.ts). */
export interface ClosureAnalyser {
  analyse(input: PipelineInput, opts?: AnalyseOptions): Promise<AnalysedClosure>;
}

export interface AnalyseOptions extends PipelineHooks {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: LoadProgress) => void;
}

export interface PipelineHooks {
  /** The sunburst's preview (src/shared/sunburstPreview.ts), as soon as the dominator tree is known. */
  readonly onPreview?: (preview: SunburstPreview) => void;
}

/** Runs the pipeline on this thread, letting the event loop run between its steps. */
export const inProcessAnalyser: ClosureAnalyser = {
  async analyse(input, opts = {}) {
    const steps = closurePipeline(input, opts.onPreview ? { onPreview: opts.onPreview } : {});
    for (;;) {
      if (opts.signal?.aborted) throw loadCancelled();
      const step = await steps.next();
      if (step.done) return step.value;
      if (step.value) opts.onProgress?.(step.value);
      // Other callbacks get their turn between steps, and the progress message just emitted gets out first.
      await nextTurn();
    }
  },
};

export function loadCancelled(): ClosureLensError {
  return new ClosureLensError('cancelled', 'loading the closure was cancelled', {
    fix: 'run it again when you need it',
  });
}
