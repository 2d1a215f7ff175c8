/**
 * The closures analysed in this window, and the option costs of each configuration among them: what the sidebar
 * tree, the hover, the CodeLens and the status bar read. Nothing here runs on a hover or a tree expansion: option
 * costs are computed once per configuration, after "Show closure" (setting `nixClosureLens.optionCosts.automatic`)
 * or by the "Analyse option costs" command, and are then served from memory. A configuration analysed before
 * (same toplevel) is read back from the attribution cache on disk without running nix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CauseIndex } from '../core/attribution/causes';
import type { CounterfactualCost } from '../core/attribution/counterfactual';
import { measuredCosts, optionsJson } from '../core/attribution/report';
import type { OptionAttribution } from '../core/attribution/attribute';
import { AttributionService } from '../core/attribution/service';
import type { OptionEvaluation } from '../core/attribution/evaluate';
import type { LoadedClosure } from '../core/load/engine';
import { isClosureLensError } from '../core/errors';
import { NixRunner } from '../core/nix/runner';
import { OptionCostIndex } from '../core/attribution/optionCosts';
import type { ClosureService, CurrentClosure } from './closureService';
import type { ShownClosure } from './closureService';
import { Disposable } from './disposables';
import type { NixLog } from './nixLog';
import { OptionMeasurements, type MeasuredState } from './optionMeasurements';
import { optionCostSettings, readSettings } from './settings';
import { shortFile } from './displayPaths';
import { SunburstPanel } from './sunburstPanel';
import { panelTarget, targetKey, type ClosureTarget } from './targets';

/** How far the option costs of one analysed target are. */
export type OptionCostsState =
  | { readonly kind: 'not-a-configuration' }
  | { readonly kind: 'not-analysed' }
  | { readonly kind: 'running' }
  | { readonly kind: 'failed'; readonly message: string; readonly fix?: string }
  | { readonly kind: 'ready'; readonly index: OptionCostIndex; readonly evalMs: number; readonly fromCache: boolean };

export interface AnalysedTarget {
  readonly key: string;
  readonly target: ClosureTarget;
  readonly title: string;
  readonly loaded: LoadedClosure;
  readonly options: OptionCostsState;
}

/** What the sidebar and the hover need from "Show closure" (ClosureCommands). */
export interface ClosureShower {
  show(target: ClosureTarget, refresh: boolean): Promise<ShownClosure | undefined>;
  reopen(): Promise<ShownClosure | undefined>;
}

/** Closures kept for the tree and the hovers; older ones are dropped (each holds a whole graph). */
const KEPT = 6;
/** Maps a toplevel's out path to its drvPath, the key of the attribution cache. */
const DRV_OF_TOPLEVEL = 'nixClosureLens.optionCosts.drvOfToplevel';
const CONFIGURATION_OUTPUTS = new Set(['nixosConfigurations', 'homeConfigurations', 'darwinConfigurations']);

export class AnalysedTargets extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  /** Fires when a target is added or its option costs change: views re-read. */
  readonly onDidChange = this.changed.event;
  /** Most recently shown first. */
  private targets: AnalysedTarget[] = [];
  private currentKey: string | undefined;
  private attributionService: { runner: NixRunner; service: AttributionService } | undefined;
  private readonly running = new Map<string, Promise<OptionCostsState>>();
  /** The true costs of the user's definitions, measured in the background (optionMeasurements.ts). */
  readonly measurements: OptionMeasurements;
  private readonly abort = new AbortController();
  /** Editor paths → real paths, where they differ (undefined while unknown or equal). */
  private readonly realPaths = new Map<string, string | undefined>();

  constructor(
    private readonly service: ClosureService,
    private readonly shower: ClosureShower,
    private readonly deps: {
      readonly runner: () => unknown;
      readonly cacheDir: () => string;
      readonly state: vscode.Memento;
      readonly log: NixLog;
    },
  ) {
    super();
    this.register({ dispose: () => this.abort.abort() });
    this.measurements = this.register(new OptionMeasurements(deps.log));
    this.register(this.measurements.onDidChange(() => this.changed.fire()));
    this.register(this.measurements.onDidFinish((key) => this.pushToSunburst(key)));
    this.register(service.onDidChangeCurrent((c) => c && this.closureShown(c)));
    const learn = (doc: vscode.TextDocument) => {
      if (doc.uri.scheme === 'file' && doc.languageId === 'nix' && !this.realPaths.has(doc.uri.fsPath))
        this.learnRealPath(doc.uri.fsPath);
    };
    this.register(vscode.workspace.onDidOpenTextDocument(learn));
    vscode.workspace.textDocuments.forEach(learn);
    if (service.current) this.closureShown(service.current);
  }

  list(): readonly AnalysedTarget[] {
    return this.targets;
  }

  get(key: string): AnalysedTarget | undefined {
    return this.targets.find((t) => t.key === key);
  }

  /** The target shown last ("Show closure"). */
  get current(): AnalysedTarget | undefined {
    return this.currentKey === undefined ? undefined : this.get(this.currentKey);
  }

  /**
   * The path under which the option costs know an editor's file. Nix runs in the flake's directory with symlinks
   * resolved (`/etc/nixos` → `~/nixos-config`), so definitions name real paths; an editor may name the link.
   */
  resolveFile(file: string): string {
    if (this.targets.some((t) => t.options.kind === 'ready' && t.options.index.hasFile(file))) return file;
    const real = this.realPaths.get(file);
    if (real === undefined && !this.realPaths.has(file)) this.learnRealPath(file);
    return real ?? file;
  }

  /** Resolves a file's real path in the background (a hover never waits for I/O); later lookups use it. */
  private learnRealPath(file: string): void {
    this.realPaths.set(file, undefined);
    fs.promises.realpath(file).then(
      (real) => {
        if (real === file) return;
        this.realPaths.set(file, real);
        this.changed.fire();
      },
      () => undefined,
    );
  }

  /** Option cost indexes of the configurations that have definitions from `file`, the current one first. */
  indexesFor(file: string): { target: AnalysedTarget; index: OptionCostIndex }[] {
    const out: { target: AnalysedTarget; index: OptionCostIndex }[] = [];
    for (const t of this.targets) {
      if (t.options.kind === 'ready' && t.options.index.hasFile(file)) out.push({ target: t, index: t.options.index });
    }
    return out;
  }

  /** Configurations whose flake holds `file` but that have no option costs (yet): for the hover's "run it" link. */
  configurationsWithout(file: string): AnalysedTarget[] {
    return this.targets.filter(
      (t) =>
        t.options.kind !== 'ready' &&
        t.options.kind !== 'not-a-configuration' &&
        t.target.kind === 'flake-output' &&
        isInside(t.target.flake.dir, file),
    );
  }

  private closureShown(c: CurrentClosure): void {
    const key = targetKey(c.target);
    const previous = this.get(key);
    const sameClosure = previous && previous.loaded.rootPath === c.loaded.rootPath;
    let options: OptionCostsState = isConfiguration(c.target)
      ? { kind: 'not-analysed' }
      : { kind: 'not-a-configuration' };
    if (sameClosure && previous.options.kind !== 'failed') options = this.rebind(previous.options, c);
    const entry: AnalysedTarget = { key, target: c.target, title: c.title, loaded: c.loaded, options };
    this.targets = [entry, ...this.targets.filter((t) => t.key !== key)].slice(0, KEPT);
    this.currentKey = key;
    if (entry.options.kind === 'not-analysed') {
      // Analysed before (same toplevel): read the attribution cache, no nix call.
      const cached = this.fromDiskCache(entry);
      if (cached) this.update(key, cached);
      else if (optionCostSettings().automatic && vscode.workspace.isTrusted) void this.analyse(key);
    }
    if (entry.options.kind === 'ready' && optionCostSettings().automatic && vscode.workspace.isTrusted)
      this.measure(key);
    this.changed.fire();
    // The sunburst gets its closure right after this event: give it the definitions after that.
    if (this.get(key)?.options.kind === 'ready') setTimeout(() => this.pushToSunburst(key), 0);
  }

  /** The option costs of a closure with the same root, on the graph loaded now (node numbers may differ). */
  private rebind(s: OptionCostsState, c: CurrentClosure): OptionCostsState {
    // A store path stays without options when shown again (it became "not analysed" before, and offered an analysis).
    if (s.kind !== 'ready')
      return s.kind === 'running' || s.kind === 'not-a-configuration' ? s : { kind: 'not-analysed' };
    if (s.index.analysis === c.loaded.analysis) return s;
    const attribution = this.attribution().service.attribute(s.index.attribution.evaluation, c.loaded.analysis.graph);
    return { ...s, index: new OptionCostIndex(c.title, attribution, c.loaded.analysis) };
  }

  /**
   * "Analyse option costs": one `nix eval` of the configuration's option definitions (src/core/attribution),
   * with progress in the status bar. Later calls for the same target share the run.
   */
  analyse(key: string, opts: { refresh?: boolean } = {}): Promise<OptionCostsState> {
    const t = this.get(key);
    if (!t)
      return Promise.resolve({
        kind: 'failed',
        message: 'That closure is no longer loaded.',
        fix: 'Run "Show closure" again.',
      });
    if (t.options.kind === 'not-a-configuration') return Promise.resolve(t.options);
    if (t.options.kind === 'ready' && !opts.refresh) return Promise.resolve(t.options);
    let run = this.running.get(key);
    if (!run) {
      run = this.evaluate(t, opts.refresh === true).finally(() => this.running.delete(key));
      this.running.set(key, run);
      this.update(key, { kind: 'running' });
    }
    return run;
  }

  private async evaluate(t: AnalysedTarget, refresh: boolean): Promise<OptionCostsState> {
    if (t.target.kind !== 'flake-output') return { kind: 'not-a-configuration' };
    const { flake, output } = t.target;
    let state: OptionCostsState;
    try {
      if (!vscode.workspace.isTrusted) {
        throw Object.assign(
          new Error(
            'This workspace is not trusted, so option costs are not evaluated: evaluating a flake runs the code in it.',
          ),
          {
            fix: 'Trust the workspace (Manage Workspace Trust), then run "Analyse option costs" again.',
          },
        );
      }
      const { service } = this.attribution();
      const ev = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Nix Closure Lens: option costs of ${t.title}…` },
        () =>
          service.evaluate(output.installable, {
            cwd: flake.dir,
            signal: this.abort.signal,
            timeoutMs: readSettings().timeoutMs,
            refresh,
          }),
      );
      state = this.index(this.get(t.key) ?? t, ev, ev.fromCache);
      if (state.kind === 'ready')
        this.deps.log.info(
          `${t.title}: option costs of ${state.index.attribution.definitions.length} definitions (nix eval ${(ev.evalMs / 1000).toFixed(1)} s)`,
        );
    } catch (err) {
      if (isClosureLensError(err, 'cancelled') || this.abort.signal.aborted) {
        state = { kind: 'not-analysed' };
      } else {
        const e = err as { message?: string; fix?: string };
        this.deps.log.error(
          `option costs of ${t.title} failed`,
          isClosureLensError(err) ? `${err.oneLine()}\n${err.detail ?? ''}` : err,
        );
        state = { kind: 'failed', message: e.message ?? String(err), ...(e.fix !== undefined && { fix: e.fix }) };
      }
    }
    this.update(t.key, state);
    if (state.kind === 'ready') this.pushToSunburst(t.key);
    return state;
  }

  /** Builds the cost index of an evaluation on the target's graph, if it is the evaluation of that very closure. */
  private index(t: AnalysedTarget, ev: OptionEvaluation, fromCache: boolean): OptionCostsState {
    const outPath = ev.root?.outPath;
    if (outPath && outPath !== t.loaded.rootPath) {
      return {
        kind: 'failed',
        message: `The configuration evaluates to ${outPath} now, but the closure shown is ${t.loaded.rootPath}: the flake changed since it was built.`,
        fix: 'Run "Refresh" to build and show the current configuration.',
      };
    }
    if (ev.root?.drvPath && outPath) void this.rememberDrv(outPath, ev.root.drvPath);
    const attribution = this.attribution().service.attribute(ev, t.loaded.analysis.graph);
    return {
      kind: 'ready',
      index: new OptionCostIndex(t.title, attribution, t.loaded.analysis),
      evalMs: ev.evalMs,
      fromCache,
    };
  }

  private fromDiskCache(t: AnalysedTarget): OptionCostsState | undefined {
    const drvs = this.deps.state.get<Record<string, string>>(DRV_OF_TOPLEVEL, {});
    const drv = drvs[t.loaded.rootPath];
    if (!drv) return undefined;
    try {
      const ev = this.attribution().service.cached(drv);
      return ev ? this.index(t, ev, true) : undefined;
    } catch {
      return undefined;
    }
  }

  private async rememberDrv(outPath: string, drvPath: string): Promise<void> {
    const drvs = { ...this.deps.state.get<Record<string, string>>(DRV_OF_TOPLEVEL, {}) };
    if (drvs[outPath] === drvPath) return;
    drvs[outPath] = drvPath;
    // Bounded: the oldest entries go first.
    const entries = Object.entries(drvs);
    await this.deps.state.update(DRV_OF_TOPLEVEL, Object.fromEntries(entries.slice(Math.max(0, entries.length - 200))));
  }

  private attribution(): { runner: NixRunner; service: AttributionService } {
    const runner = this.deps.runner();
    if (!(runner instanceof NixRunner)) throw new Error("option costs need the extension's nix runner");
    if (this.attributionService?.runner !== runner) {
      this.attributionService = {
        runner,
        service: new AttributionService(runner, { cacheDir: path.join(this.deps.cacheDir(), 'options') }),
      };
    }
    return this.attributionService;
  }

  private update(key: string, options: OptionCostsState): void {
    this.targets = this.targets.map((t) => (t.key === key ? { ...t, options } : t));
    if (options.kind === 'ready' && optionCostSettings().automatic && vscode.workspace.isTrusted) this.measure(key);
    this.changed.fire();
  }

  /** Measures the true cost of every definition in the user's files, in the background (cached by the engine). */
  measure(key: string): void {
    const t = this.get(key);
    if (t?.options.kind !== 'ready' || t.target.kind !== 'flake-output') return;
    this.measurements.start(key, t.title, t.options.index.attribution, this.attribution().service, {
      cwd: t.target.flake.dir,
      timeoutMs: readSettings().timeoutMs,
    });
  }

  /** A definition's true cost (counterfactual), 'measuring' while it runs, undefined when not measured. */
  measured(key: string, attribution: OptionAttribution, id: number): MeasuredState | undefined {
    return this.measurements.of(key, attribution, id);
  }

  /**
   * What causes each path of the target, from the true costs measured so far (the user's enabling lines), as the
   * why panel names them; undefined until the options are ready.
   */
  causes(key: string): CauseIndex | undefined {
    const t = this.get(key);
    if (t?.options.kind !== 'ready') return undefined;
    const a = t.options.index.attribution;
    const results = this.measurements.results(key, a);
    // The same index until a measurement arrives: callers compare it to know when to look again.
    const kept = this.causeIndexes.get(a);
    if (kept?.measured === results.size) return kept.index;
    const index = new CauseIndex(a, measuredCosts(results));
    this.causeIndexes.set(a, { measured: results.size, index });
    return index;
  }
  private readonly causeIndexes = new WeakMap<OptionAttribution, { measured: number; index: CauseIndex }>();

  /** Element k of a list definition: its true cost, 'measuring' while it runs, undefined when not measured. */
  measuredElement(key: string, attribution: OptionAttribution, id: number, k: number): MeasuredState | undefined {
    return this.measurements.ofElement(key, attribution, id, k);
  }

  /** The sunburst of this target shows the definitions in its why panel. */
  private pushToSunburst(key: string): void {
    const t = this.get(key);
    if (t?.options.kind !== 'ready') return;
    const wanted = JSON.stringify(panelTarget(t.target));
    const panels = SunburstPanel.panels().filter((p) => JSON.stringify(p.target) === wanted);
    if (panels.length === 0) return;
    const a = t.options.index.attribution;
    const g = a.graph;
    const json = optionsJson({
      attribution: a,
      analysis: t.loaded.analysis,
      evalMs: t.options.evalMs,
      fromCache: t.options.fromCache,
      counterfactuals: this.measurements.results(key, a),
    });
    const input = {
      ...json,
      definitions: json.definitions.map((d, id) => ({
        ...d,
        fileLabel: shortFile(d.file),
        ...(this.measurements.of(key, a, id) === 'measuring' ? { measuring: true } : {}),
      })),
      // Each chain names its own cause: the definition whose collector is the chain's step (alice's packages).
      collectorOf: (id: number, storePath: string) => {
        const node = g.indexOf(storePath);
        const c = node === undefined ? undefined : a.collectorOf(a.definitions[id]!.option, node);
        return c === undefined ? undefined : g.paths[c];
      },
    };
    for (const p of panels) {
      try {
        p.setAttribution(input);
      } catch (err) {
        this.deps.log.warn(
          `sunburst: option definitions not shown: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  /**
   * "Evaluate without it" (a hover link, or with automatic measuring off): measures every definition of the
   * user's files of that target, `id` among them, and resolves with its cost.
   */
  async counterfactual(key: string, id: number): Promise<CounterfactualCost | undefined> {
    const t = this.get(key);
    if (t?.options.kind !== 'ready' || t.target.kind !== 'flake-output') return undefined;
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        'Nix Closure Lens: this workspace is not trusted, so the configuration is not evaluated again.',
      );
      return undefined;
    }
    const a = t.options.index.attribution;
    const known = this.measurements.of(key, a, id);
    if (known === undefined || (typeof known === 'object' && 'error' in known)) {
      this.measurements.cancel(key);
      this.measure(key);
    }
    for (;;) {
      const now = this.measurements.of(key, a, id);
      if (now === undefined) return undefined;
      if (now !== 'measuring') return 'error' in now ? undefined : now;
      await new Promise<void>((resolve) => {
        const sub = this.measurements.onDidChange(() => {
          sub.dispose();
          resolve();
        });
      });
    }
  }

  /** "Show in sunburst": the target's sunburst (loaded from the caches when it is not the current one), on `storePath`. */
  async showInSunburst(key: string, storePath: string): Promise<boolean> {
    const t = await this.makeCurrent(key);
    if (!t) return false;
    const wanted = JSON.stringify(panelTarget(t.target));
    const panel = SunburstPanel.panels().find((p) => JSON.stringify(p.target) === wanted);
    if (!panel) return false;
    panel.select(storePath);
    return true;
  }

  /** "Why depends": the chains from the target's root to `storePath`. */
  async whyDepends(key: string, storePath: string): Promise<void> {
    if (!(await this.makeCurrent(key))) return;
    await vscode.commands.executeCommand('nixClosureLens.whyDepends', storePath);
  }

  private async makeCurrent(key: string): Promise<AnalysedTarget | undefined> {
    const t = this.get(key);
    if (!t) {
      void vscode.window.showWarningMessage(
        'Nix Closure Lens: that closure is no longer loaded. Run "Show closure" again.',
      );
      return undefined;
    }
    if (this.currentKey === key && this.service.current) await this.shower.reopen();
    else await this.shower.show(t.target, false);
    return this.currentKey === key ? this.get(key) : undefined;
  }
}

function isConfiguration(t: ClosureTarget): boolean {
  return t.kind === 'flake-output' && CONFIGURATION_OUTPUTS.has(t.output.attrPath[0] ?? '');
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
