/**
 * Turns a target into a loaded closure: the flake output's store path (from the fingerprinted cache, else built),
 * then the graph (from the engine's cache, else `nix path-info`). Shows progress, honours cancellation and
 * Workspace Trust, reports errors with "Show log" and puts evaluation errors on their lines.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { analysisOf, type ClosureEngine, type LoadedClosure } from '../core/load/engine';
import { LoadTimeline } from '../core/load/timeline';
import type { SunburstPreview } from '../shared/protocol';
import type { NixCommandRunner } from './flakeOutputs';
import type { Settings } from './settings';
import { closureFromSubstituters, configuredSubstituters, evalOutPath } from './substituters';
import { isClosureLensError, type ClosureLensError } from '../core/errors';
import { Disposable } from './disposables';
import { flakeFingerprint, type FlakeOutputCache } from './flakeOutputCache';
import type { NixDiagnostics } from './nixDiagnostics';
import type { NixLog } from './nixLog';
import { targetKey, targetTitle, type ClosureTarget } from './targets';

type FlakeOutputTarget = Extract<ClosureTarget, { kind: 'flake-output' }>;
import { withDelayedProgress } from './delayedProgress';
import { explainUntrusted, requireTrust, UntrustedWorkspaceError } from './trust';

export interface CurrentClosure {
  readonly target: ClosureTarget;
  readonly title: string;
  readonly loaded: LoadedClosure;
}

export interface LoadOptions {
  /** Ignore every cache: evaluate, build and query again. */
  readonly refresh?: boolean;
  /** Do not pop up an error notification (the caller shows the error, e.g. in a restored panel). */
  readonly quiet?: boolean;
  /**
   * Called with the loaded closure before the window hears of it (`onDidChangeCurrent`: the status bar, the
   * sidebar, duplicates, option costs): what the user waits for (the sunburst's payload) goes out first.
   */
  readonly beforeAnnounce?: (closure: CurrentClosure) => void;
  /** The sunburst's preview, when the closure is read from nix (see ClosureEngine's LoadOptions). */
  readonly onPreview?: (preview: SunburstPreview) => void;
}

export type LoadResult =
  | { readonly kind: 'loaded'; readonly closure: CurrentClosure }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'failed'; readonly message: string; readonly fix?: string };

/** Thrown inside a load when the user cancelled. */
class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export class ClosureService extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<CurrentClosure | undefined>());
  /** Fires when the closure shown last changes (status bar, tree). */
  readonly onDidChangeCurrent = this.changed.event;
  private currentClosure: CurrentClosure | undefined;
  /** One run per target at a time: a second request for the same target joins the first. */
  private readonly inFlight = new Map<string, Promise<CurrentClosure>>();

  private readonly engine: () => ClosureEngine;
  private readonly nix: () => NixCommandRunner;
  private readonly settings: () => Settings;
  private readonly outputCache: FlakeOutputCache;
  private readonly diagnostics: NixDiagnostics;
  private readonly log: NixLog;

  constructor(deps: {
    engine: () => ClosureEngine;
    nix: () => NixCommandRunner;
    settings: () => Settings;
    outputCache: FlakeOutputCache;
    diagnostics: NixDiagnostics;
    log: NixLog;
  }) {
    super();
    ({ engine: this.engine, nix: this.nix, settings: this.settings, outputCache: this.outputCache } = deps);
    ({ diagnostics: this.diagnostics, log: this.log } = deps);
  }

  /**
   * While the user still chooses what to show: learn this Nix's version now (once per binary; it is remembered), so
   * that the load runs one nix process, not `nix --version` beside the query.
   */
  prepareForLoad(): void {
    void this.engine().learnNixVersion();
  }

  get current(): CurrentClosure | undefined {
    return this.currentClosure;
  }

  /** Loads a target with a cancellable progress notification; a success becomes `current`. */
  async load(target: ClosureTarget, opts: LoadOptions = {}): Promise<LoadResult> {
    const key = `${targetKey(target)}${opts.refresh ? '\0refresh' : ''}`;
    let run = this.inFlight.get(key);
    if (!run) {
      run = this.loadWithProgress(target, opts).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, run);
    }
    try {
      const closure = await run;
      this.currentClosure = closure;
      opts.beforeAnnounce?.(closure);
      this.changed.fire(closure);
      return { kind: 'loaded', closure };
    } catch (err) {
      if (err instanceof CancelledError || isClosureLensError(err, 'cancelled')) {
        this.log.info(`${targetTitle(target)}: cancelled`);
        return { kind: 'cancelled' };
      }
      return this.fail(target, err, opts.quiet === true);
    }
  }

  private loadWithProgress(target: ClosureTarget, opts: LoadOptions): Promise<CurrentClosure> {
    const title = targetTitle(target);
    return withDelayedProgress(`Nix Closure Lens: ${title}`, async (report, signal) => {
      try {
        const loaded = await this.resolve(target, opts, signal, report);
        if (target.kind === 'flake-output') this.diagnostics.clear(target.flake.dir);
        return { target, title, loaded };
      } catch (err) {
        if (signal.aborted) throw new CancelledError();
        throw err;
      }
    });
  }

  private async resolve(
    target: ClosureTarget,
    opts: LoadOptions,
    signal: AbortSignal,
    report: (message: string) => void,
  ): Promise<LoadedClosure> {
    if (target.kind === 'store-path') {
      report('querying the store…');
      return this.engine().load(
        { kind: 'store-path', path: target.path },
        { signal, refresh: opts.refresh, onProgress: (p) => report(p.message), onPreview: opts.onPreview },
      );
    }
    const { flake, output } = target;
    requireTrust('evaluate or build flake outputs');
    const fingerprint = await flakeFingerprint(flake.dir);
    if (!opts.refresh) {
      const known = await this.outputCache.storePath(flake.dir, fingerprint, output.installable);
      // A cached path may have been garbage-collected since; then it is built again below.
      if (known && this.mayBeInStore(known)) {
        this.log.info(`${output.label}: ${known} (flake unchanged, no evaluation)`);
        report('reading the closure…');
        try {
          return await this.engine().load(
            { kind: 'store-path', path: known },
            { signal, onProgress: (p) => report(p.message), onPreview: opts.onPreview },
          );
        } catch (err) {
          if (!isClosureLensError(err, 'invalid-path') && !isClosureLensError(err, 'not-built')) throw err;
          await this.outputCache.forgetStorePath(flake.dir, output.installable);
        }
      }
    }
    if (this.settings().querySubstituters) {
      const fromCache = await this.fromSubstituters(target, fingerprint, signal, report);
      if (fromCache) return fromCache;
    }
    report('evaluating and building…');
    const storePath = await this.realise(flake.dir, output.installable, signal, report);
    await this.rememberStorePath(target, fingerprint, storePath);
    report('reading the closure…');
    return this.engine().load(
      { kind: 'store-path', path: storePath },
      { signal, refresh: opts.refresh, onProgress: (p) => report(p.message), onPreview: opts.onPreview },
    );
  }

  /**
   * Whether a store path can be read without building. For the local store a look at the file system says it;
   * for a remote store (`nixClosureLens.store`) only the query can tell, so it is tried.
   */
  private mayBeInStore(storePath: string): boolean {
    return this.settings().store !== '' || fs.existsSync(storePath);
  }

  /** Remembers an output's store path, unless the flake changed while nix ran (then nobody knows which state it saw). */
  private async rememberStorePath(target: FlakeOutputTarget, fingerprint: string, storePath: string): Promise<void> {
    if ((await flakeFingerprint(target.flake.dir)) === fingerprint) {
      await this.outputCache.putStorePath(target.flake.dir, fingerprint, target.output.installable, storePath);
    }
  }

  /**
   * `nixClosureLens.querySubstituters`: evaluate the output's path without building it; if it is in the store
   * already, read it from there; else take the closure from the first substituter that has all of it.
   * Undefined means: build it as usual.
   */
  private async fromSubstituters(
    target: FlakeOutputTarget,
    fingerprint: string,
    signal: AbortSignal,
    report: (message: string) => void,
  ): Promise<LoadedClosure | undefined> {
    const timeoutMs = this.settings().timeoutMs;
    report('evaluating…');
    const outPath = await evalOutPath(this.nix(), target.flake.dir, target.output.attrPath, { signal, timeoutMs });
    await this.rememberStorePath(target, fingerprint, outPath);
    if (this.settings().store === '' && fs.existsSync(outPath)) {
      report('reading the closure…');
      return this.engine().load(
        { kind: 'store-path', path: outPath },
        { signal, onProgress: (p) => report(p.message) },
      );
    }
    report('asking the substituters…');
    const substituters = await configuredSubstituters(this.nix(), { signal, timeoutMs });
    const found = await closureFromSubstituters(this.nix(), outPath, substituters, {
      signal,
      timeoutMs,
      onMiss: (url, why) => this.log.info(`${url} cannot give the whole closure of ${outPath}: ${why}`),
    });
    if (!found) {
      this.log.info(`no substituter has every path of ${outPath}; building it`);
      return undefined;
    }
    // The engine's analyser: in the extension host a worker thread, so parsing a big closure does not stall it.
    const source = `nix path-info --store ${found.substituter}`;
    const timeline = new LoadTimeline();
    const result = await this.engine().analyser.analyse(
      { kind: 'path-info', json: found.json, source, roots: [outPath] },
      { signal },
    );
    timeline.mark('analysed');
    return {
      rootPath: outPath,
      analysis: analysisOf(result),
      fromCache: false,
      source,
      format: result.format,
      notes: [...result.notes, `Not built here: sizes from the substituter ${found.substituter}.`],
      timeline: timeline.marks,
    };
  }

  private async realise(
    cwd: string,
    installable: string,
    signal: AbortSignal,
    report: (message: string) => void,
  ): Promise<string> {
    const outputs = await this.engine().realise(installable, {
      cwd,
      signal,
      timeoutMs: this.settings().timeoutMs,
      onProgress: (p) => report(p.message),
    });
    const first = outputs[0];
    if (!first) throw new Error(`nix build ${installable} produced no output path`);
    return first;
  }

  /** Logs the failure, places diagnostics, and tells the user (unless quiet). */
  private async fail(target: ClosureTarget, err: unknown, quiet: boolean): Promise<LoadResult> {
    if (err instanceof UntrustedWorkspaceError) {
      if (!quiet) void explainUntrusted(err);
      return { kind: 'failed', message: err.message, fix: 'Trust this workspace to analyse its flake.' };
    }
    const lensError = isClosureLensError(err) ? err : undefined;
    this.log.error(
      `${targetTitle(target)} failed`,
      lensError ? `${lensError.oneLine()}\n${lensError.detail ?? ''}` : err,
    );
    let mapped: { nixFile: string; file: string }[] = [];
    if (
      lensError &&
      target.kind === 'flake-output' &&
      (lensError.code === 'eval-error' || lensError.code === 'build-failed')
    ) {
      mapped = await this.diagnostics.report(target.flake.dir, target.flake.folder.uri.fsPath, errorText(lensError));
    }
    // Name the user's file (`modules/web.nix:12:5`), not the store copy Nix evaluated.
    const local = (text: string) =>
      mapped.reduce((t, m) => t.split(m.nixFile).join(vscode.workspace.asRelativePath(m.file, true)), text);
    const message = local(lensError ? lensError.message : err instanceof Error ? err.message : String(err));
    const fix = lensError ? local(lensError.fix) : undefined;
    if (!quiet)
      void this.notify(fix ? `${message}. To fix: ${fix}.`.replace(/\.\./g, '.') : message, mapped.length > 0);
    return fix !== undefined ? { kind: 'failed', message, fix } : { kind: 'failed', message };
  }

  private async notify(message: string, withProblems: boolean): Promise<void> {
    const buttons = ['Show log', ...(withProblems ? ['Show problems'] : [])];
    const choice = await vscode.window.showErrorMessage(`Nix Closure Lens: ${message}`, ...buttons);
    if (choice === 'Show log') this.log.show();
    else if (choice === 'Show problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
  }
}

function errorText(e: ClosureLensError): string {
  return [e.detail ?? '', e.message].join('\n');
}

/** What the commands return, so that tests and other extensions can follow them. */
export interface ShownClosure {
  readonly title: string;
  readonly rootPath: string;
  readonly fromCache: boolean;
  readonly pathCount: number;
}
