/**
 * Loads closures: a flake installable, a store path or a JSON file becomes a ClosureAnalysis.
 * nix → analysis pipeline (closurePipeline.ts: parse → graph → closure sizes → dominator tree → cache file; in this
 * thread or in a worker thread, as the ClosureAnalyser decides) → analysis, with the graph cached by its (immutable)
 * root store path: on disk (GraphCache, with the dominator tree) and in memory (the last few analyses, whose
 * computed sizes and dominators are kept too). Two loads of the same target at the same time share one nix run.
 */
import * as path from 'node:path';
import { ClosureAnalysis } from '../analysis/closure';
import { rememberClosureSizes } from '../../shared/analysis/closureSize';
import type { SunburstPreview } from '../../shared/protocol';
import type { GraphCache } from './graphCache';
import { LruMap } from './lruMap';
import { inProcessAnalyser, type AnalysedClosure, type ClosureAnalyser, type LoadProgress } from './pipeline';
import { ByteFeed } from './byteFeed';
import { ClosureLensError, isClosureLensError } from '../errors';
import type { NixRunner, RunResult } from '../nix/runner';
import { parseNixVersion, pathInfoJsonFlags } from '../nix/version';
import { LoadTimeline, type TimelineMark } from './timeline';
import { parseJsonText } from '../parse/json';
import { listPathInfoPaths } from '../parse/pathInfo';
import { realiseInstallable, type RealiseOptions, type RealiseProgress } from '../nix/build';
import { SharedRuns } from './sharedRuns';
import { resolveStorePath } from './storePaths';

export type Target =
  | { readonly kind: 'installable'; readonly installable: string; readonly cwd?: string }
  | { readonly kind: 'store-path'; readonly path: string }
  | { readonly kind: 'json-file'; readonly file: string };

export type { LoadProgress } from './pipeline';

export interface LoadOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: LoadProgress) => void;
  /**
   * The sunburst's preview, when nix is asked (a cached closure needs none): before the closure sizes and the cache
   * file. Only the load that starts a run hears it, not one that joins it.
   */
  readonly onPreview?: (preview: SunburstPreview) => void;
  /** Ignore the caches and ask nix again (the result replaces the cached graph). */
  readonly refresh?: boolean;
}

export interface LoadedClosure {
  /**
   * The root store path. When the closure has several roots (a multi-output installable, a JSON file with several
   * top-level paths) the graph has a virtual root and this is the installable or the file instead.
   */
  readonly rootPath: string;
  readonly analysis: ClosureAnalysis;
  /** True when no nix call was needed for the graph (memory or disk cache). */
  readonly fromCache: boolean;
  /** Where the graph came from: the nix command or the file. */
  readonly source: string;
  readonly format: string;
  /** What a view should mention (an SBOM has no sizes, a reference was folded, the cache could not be written). */
  readonly notes: readonly string[];
  /** Where the load's time went (nix started, first and last byte, parsed, analysed, cached). */
  readonly timeline: readonly TimelineMark[];
}

export interface ClosureEngineOptions {
  readonly nix: NixRunner;
  /** Without one, every load of a store path asks nix. */
  readonly cache?: GraphCache;
  /** Loaded closures kept in memory; default 4. */
  readonly memoryEntries?: number;
  /**
   * The store whose closures are read (`--store`, e.g. `ssh-ng://host`); default the local one. Installables are
   * still evaluated locally (`--eval-store auto`), only their outputs are looked up there.
   */
  readonly store?: string;
  /**
   * Where nix's JSON becomes a graph, closure sizes and a dominator tree: in this thread (the default; the CLI) or
   * in a worker thread (`WorkerAnalyser`, the extension host, whose event loop must not wait for it).
   */
  readonly analyser?: ClosureAnalyser;
}

export class ClosureEngine {
  readonly nix: NixRunner;
  readonly cache: GraphCache | undefined;
  readonly store: string | undefined;
  readonly analyser: ClosureAnalyser;
  private readonly memory: LruMap<
    string,
    { analysis: ClosureAnalysis; source: string; format: string; notes: readonly string[] }
  >;
  private readonly inflight = new SharedRuns();
  /** The `nix --version` line, once known (see pathInfoJsonFlags). */
  private versionLine: string | undefined;

  constructor(options: ClosureEngineOptions) {
    this.nix = options.nix;
    this.cache = options.cache;
    this.store = options.store && options.store.trim() !== '' ? options.store.trim() : undefined;
    this.memory = new LruMap(options.memoryEntries ?? 4);
    this.analyser = options.analyser ?? inProcessAnalyser;
  }

  load(target: Target, opts: LoadOptions = {}): Promise<LoadedClosure> {
    const key = `${targetKey(target)}${opts.refresh ? '\0refresh' : ''}`;
    return this.inflight.run<LoadedClosure, LoadProgress>(key, opts, (signal, emit) =>
      this.loadNow(target, opts.refresh ?? false, signal, emit, new LoadTimeline(), opts.onPreview),
    );
  }

  /**
   * Builds an installable (`nix build --no-link --json --log-format internal-json`) and returns its output paths,
   * reporting builds done/expected and the derivation building now.
   */
  realise(installable: string, opts: RealiseOptions = {}): Promise<string[]> {
    const key = `realise\0${opts.cwd ?? ''}\0${installable}`;
    return this.inflight.run<string[], RealiseProgress>(key, opts, (signal, emit) =>
      realiseInstallable(this.nix, installable, opts, signal, emit),
    );
  }

  private async loadNow(
    target: Target,
    refresh: boolean,
    signal: AbortSignal,
    emit: (p: LoadProgress) => void,
    timeline: LoadTimeline,
    onPreview?: (preview: SunburstPreview) => void,
  ): Promise<LoadedClosure> {
    const loadStorePaths = (roots: string[], label: string) =>
      this.loadStorePaths(roots, label, refresh, signal, emit, timeline, onPreview);
    switch (target.kind) {
      case 'json-file':
        return this.loadFile(target.file, signal, emit, timeline);
      case 'store-path': {
        const storePath = await resolveStorePath(target.path);
        return loadStorePaths([storePath], storePath);
      }
      case 'installable': {
        emit({ stage: 'resolving', message: `evaluating ${target.installable}…` });
        const paths = await this.resolveInstallable(target.installable, target.cwd, signal);
        timeline.mark('evaluated');
        const label = paths.length === 1 ? paths[0]! : target.installable;
        return loadStorePaths(paths, label);
      }
    }
  }

  /** The output paths of an installable (no build): `nix path-info --json <installable>`. */
  private async resolveInstallable(
    installable: string,
    cwd: string | undefined,
    signal: AbortSignal,
  ): Promise<string[]> {
    const { args, result: r } = await this.pathInfo(this.storeArgs(true), [installable], {
      signal,
      ...(cwd ? { cwd } : {}),
    });
    const source = `\`nix ${args.join(' ')}\``;
    const { valid, invalid } = listPathInfoPaths(parseJsonText(r.stdout, source), source);
    if (invalid.length > 0 && this.store) {
      throw new ClosureLensError(
        'not-built',
        `${installable} is not in the store ${this.store} (${invalid.join(', ')} is missing there)`,
        {
          fix: `build or copy it there first (\`nix copy --to ${this.store} ${installable}\`), or clear the store setting to read the local store`,
        },
      );
    }
    if (invalid.length > 0) {
      throw new ClosureLensError(
        'not-built',
        `${installable} is not built yet (${invalid.join(', ')} is not in the store)`,
        {
          fix: `build it first (\`nix build --no-link ${installable}\`) — closure-lens only reads closures, it does not build them unless asked`,
        },
      );
    }
    if (valid.length === 0) {
      throw new ClosureLensError('bad-installable', `${installable} names no store path`, {
        fix: 'use an installable that evaluates to a derivation, e.g. `.#hello` or `.#nixosConfigurations.host.config.system.build.toplevel`',
      });
    }
    return valid;
  }

  private async loadStorePaths(
    roots: string[],
    label: string,
    refresh: boolean,
    signal: AbortSignal,
    emitProgress: (p: LoadProgress) => void,
    timeline: LoadTimeline,
    onPreview?: (preview: SunburstPreview) => void,
  ): Promise<LoadedClosure> {
    const emit = (p: LoadProgress): void => {
      if (p.stage === 'analysing') timeline.markOnce('parsed');
      emitProgress(p);
    };
    const key = roots.length === 1 ? roots[0]! : `multi:${[...roots].sort().join(' ')}`;
    if (!refresh) {
      const kept = this.memory.get(key);
      if (kept) {
        timeline.mark('in memory');
        return { rootPath: label, ...kept, fromCache: true, timeline: timeline.marks };
      }
      const cached = await this.cache?.get(key);
      if (cached) {
        timeline.mark('read from the cache');
        emit({ stage: 'cache', message: `read ${cached.graph.pathCount} paths from the cache` });
        const analysis = new ClosureAnalysis(cached.graph, { dominators: cached.dominators });
        return this.keep(key, label, analysis, cached.source, cached.format, cached.notes, true, timeline);
      }
    }
    emit({
      stage: 'querying',
      message: `querying the closure of ${roots.length === 1 ? roots[0] : `${roots.length} paths`}…`,
    });
    const command = await this.pathInfoCommand(['--recursive', '--size', ...this.storeArgs(false)], roots, signal);
    const source = `nix ${command.args.join(' ')}`;
    // nix's output goes to the analyser (and with a worker analyser, to its thread undecoded) as nix writes it, so
    // that reading it overlaps nix's own output.
    const json = new ByteFeed();
    const cacheKey = this.cache ? { cacheKey: key } : {};
    const analysing = this.analyser.analyse(
      { kind: 'path-info', json, source, roots, ...cacheKey },
      {
        signal,
        onProgress: emit,
        ...(onPreview && {
          onPreview: (preview: SunburstPreview) => {
            timeline.mark('preview');
            onPreview(preview);
          },
        }),
      },
    );
    // Awaited below, once nix is done; until then a failure of the analysis must not count as unhandled.
    analysing.catch(() => undefined);
    try {
      timeline.mark('nix started');
      await this.runPathInfo(command, {
        signal,
        onStdoutChunk: (chunk) => {
          timeline.markOnce('first byte');
          json.push(chunk);
        },
      });
      timeline.mark('nix done');
      json.end();
    } catch (e) {
      json.fail(e);
    }
    const result = await analysing;
    timeline.mark('analysed');
    const notes = [...result.notes];
    if (this.cache && result.notCached !== undefined) notes.push(`not cached: ${result.notCached}`);
    if (this.cache && result.cacheFile) {
      try {
        await this.cache.write(key, result.cacheFile);
      } catch (e) {
        if (!isClosureLensError(e)) throw e;
        notes.push(`not cached: ${e.oneLine()}`);
      }
      timeline.mark('cached');
    }
    return this.keep(key, label, analysisOf(result), source, result.format, notes, false, timeline);
  }

  private async loadFile(
    file: string,
    signal: AbortSignal,
    emit: (p: LoadProgress) => void,
    timeline: LoadTimeline,
  ): Promise<LoadedClosure> {
    const result = await this.analyser.analyse({ kind: 'file', file }, { signal, onProgress: emit });
    timeline.mark('analysed');
    return {
      timeline: timeline.marks,
      rootPath: result.rootPaths.length === 1 ? result.rootPaths[0]! : file,
      analysis: analysisOf(result),
      fromCache: false,
      source: file,
      format: result.format,
      notes: result.notes,
    };
  }

  private keep(
    key: string,
    label: string,
    analysis: ClosureAnalysis,
    source: string,
    format: string,
    notes: readonly string[],
    fromCache: boolean,
    timeline: LoadTimeline,
  ): LoadedClosure {
    this.memory.set(key, { analysis, source, format, notes });
    return { rootPath: label, analysis, fromCache, source, format, notes, timeline: timeline.marks };
  }

  /**
   * `nix path-info <options> <json flags> <paths>`. path-info starts first: it is the long one, and `nix --version`
   * (when this Nix's version is not known yet) runs while it does.
   */
  private async pathInfo(
    options: readonly string[],
    paths: readonly string[],
    opts: { signal: AbortSignal; cwd?: string },
  ): Promise<{ args: string[]; result: RunResult }> {
    const command = await this.pathInfoCommand(options, paths, opts.signal);
    return { args: command.args, result: await this.runPathInfo(command, opts) };
  }

  private async pathInfoCommand(
    options: readonly string[],
    paths: readonly string[],
    signal: AbortSignal,
  ): Promise<PathInfoCommand> {
    const { flags, learn } = await this.pathInfoJsonFlags(signal);
    // `--`: installables may come from a file (a rules target); nix must never read one as an option.
    return { args: ['path-info', ...options, ...flags, '--', ...paths], learn };
  }

  private async runPathInfo(
    command: PathInfoCommand,
    opts: { signal: AbortSignal; cwd?: string; onStdoutChunk?: (chunk: Buffer) => void },
  ): Promise<RunResult> {
    const running = this.runWithFlagFallback(command.args, opts);
    const learning = command.learn();
    const result = await running;
    await learning;
    return result;
  }

  /**
   * The `path-info --json` flags for this Nix. The version decides them (2.33+ takes `--json-format 2`), and it is
   * remembered in the cache directory for the exact nix binary (path, inode, size, mtime). When it is not known yet,
   * plain `--json` is used (every version accepts it and the parsers read every shape) while `nix --version` runs
   * alongside, so that a cold load waits for one nix process, not two in a row. `learn` starts that (when needed) and
   * settles when the version is remembered; its failure is not the load's failure (the path-info run reports a
   * missing nix itself).
   */
  private async pathInfoJsonFlags(signal: AbortSignal): Promise<{ flags: string[]; learn: () => Promise<void> }> {
    const line = await this.knownVersionLine();
    if (line !== undefined) return { flags: pathInfoJsonFlags(parseNixVersion(line)), learn: () => Promise.resolve() };
    return { flags: ['--json'], learn: () => this.learnNixVersion(signal) };
  }

  /** The remembered `nix --version` line of this binary, when there is one that parses. */
  private async knownVersionLine(): Promise<string | undefined> {
    // With a cache the file is asked each time: it notices a nix upgraded in place (a new binary identity).
    const line = this.cache ? await this.cache.nixVersionLine(this.nix.binary) : this.versionLine;
    if (line === undefined) return undefined;
    try {
      parseNixVersion(line);
      this.versionLine = line;
      return line;
    } catch {
      return undefined; // a damaged entry: ask nix
    }
  }

  /**
   * Runs `nix --version` and remembers it, unless it is remembered already. The extension calls it while the user
   * still types a store path, so that a first load of the session runs one nix process, not two at once. One run at
   * a time: a load that starts meanwhile joins it. Never fails (the load itself reports a missing nix).
   */
  learnNixVersion(signal?: AbortSignal): Promise<void> {
    return (this.learning ??= (async () => {
      try {
        if ((await this.knownVersionLine()) !== undefined) return;
        const version = await this.nix.version(signal ? { signal } : {});
        this.versionLine = version.raw;
        await this.cache?.rememberNixVersionLine(this.nix.binary, version.raw);
      } catch {
        // the path-info run reports a missing or broken nix itself
      } finally {
        this.learning = undefined;
      }
    })());
  }
  private learning: Promise<void> | undefined;

  /** `--store` for the configured store; an evaluation keeps the local store for its derivations. */
  private storeArgs(evaluates: boolean): string[] {
    if (!this.store) return [];
    return evaluates ? ['--eval-store', 'auto', '--store', this.store] : ['--store', this.store];
  }

  /**
   * Runs nix; if this Nix rejects `--json-format` (a version that was misread), runs again without it (nix rejects
   * a flag before it writes anything, so no output was passed on yet).
   */
  private async runWithFlagFallback(
    args: string[],
    opts: { signal: AbortSignal; cwd?: string; onStdoutChunk?: (chunk: Buffer) => void },
  ) {
    let wrote = false;
    const onStdoutChunk = opts.onStdoutChunk;
    const first = onStdoutChunk
      ? {
          ...opts,
          onStdoutChunk: (chunk: Buffer) => {
            wrote = true;
            onStdoutChunk(chunk);
          },
        }
      : opts;
    try {
      return await this.nix.run(args, first);
    } catch (e) {
      const i = args.indexOf('--json-format');
      if (i < 0 || wrote || !isClosureLensError(e, 'unsupported-flag') || !/--json-format/.test(e.message)) throw e;
      const without = [...args.slice(0, i), ...args.slice(i + 2)];
      return this.nix.run(without, opts);
    }
  }
}

/** A `nix path-info` command line, and what learns this Nix's version while it runs (see pathInfoJsonFlags). */
interface PathInfoCommand {
  readonly args: string[];
  readonly learn: () => Promise<void>;
}

/** The analysis of a pipeline's result, with what the pipeline computed (closure sizes, dominators) seeded in. */
export function analysisOf(result: AnalysedClosure): ClosureAnalysis {
  if (result.closureSizes) rememberClosureSizes(result.graph, result.closureSizes);
  return new ClosureAnalysis(result.graph, { dominators: result.dominators });
}

function targetKey(t: Target): string {
  switch (t.kind) {
    case 'installable':
      return `installable\0${t.cwd ?? ''}\0${t.installable}`;
    case 'store-path':
      return `store-path\0${t.path}`;
    case 'json-file':
      return `json-file\0${path.resolve(t.file)}`;
  }
}
