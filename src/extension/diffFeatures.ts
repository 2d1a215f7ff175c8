/**
 * Wires the closure diff, the rules diagnostics and the compressed-size estimate to the rest of the
 * extension: they follow the closure the user loads. One object, so `activate` adds one line.
 */
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { OptionAttribution } from '../core/attribution/attribute';
import type { CauseIndex } from '../core/attribution/causes';
import { parseConfigurationInstallable } from '../core/attribution/evaluate';
import { AttributionService } from '../core/attribution/service';
import { originsFromAttribution, type OriginLookup } from '../core/diff/diff';
import type { LoadedClosure, Target } from '../core/load/engine';
import type { ClosureGraph } from '../shared/graph';
import { isClosureLensError } from '../core/errors';
import type { NixRunner } from '../core/nix/runner';
import type { ClosureService, CurrentClosure } from './closureService';
import { CompressedSizeCommand } from './compressedSize';
import { DiffView } from './diffView';
import { shortFile } from './displayPaths';
import { Disposable } from './disposables';
import type { EngineHost } from './engineHost';
import { RulesDiagnostics, type LoadedForRules } from './rulesDiagnostics';
import { readSettings } from './settings';
import { requireTrust } from './trust';

export interface DiffFeaturesDeps {
  readonly service: ClosureService;
  readonly engines: EngineHost;
  /** The extension's global storage directory (for the compressed-size cache). */
  readonly storageDir: vscode.Uri;
  /** Logs what went wrong without interrupting (attribution is a bonus on top of chains). */
  readonly warn?: (message: string) => void;
}

/** What the option-cost analysis of the extension (AnalysedTargets) offers: attributions of shown closures. */
export interface OptionCostSource {
  readonly onDidChange: vscode.Event<void>;
  list(): readonly {
    readonly key: string;
    readonly target: CurrentClosure['target'];
    readonly loaded: LoadedClosure;
    readonly options: { readonly kind: string; readonly index?: { readonly attribution: OptionAttribution } };
  }[];
  /** The causes of the target's paths from its measured true costs (the user's enabling lines). */
  causes(key: string): CauseIndex | undefined;
}

export class DiffFeatures extends Disposable {
  readonly rules: RulesDiagnostics;
  readonly diff: DiffView;
  readonly compressed: CompressedSizeCommand;

  constructor(private readonly deps: DiffFeaturesDeps) {
    super();
    const units = () => readSettings().sizeUnits;
    this.rules = this.register(new RulesDiagnostics(units));
    this.diff = this.register(
      new DiffView({
        engine: () => deps.engines.engine,
        shownFlakeOutput: () => {
          const t = deps.service.current?.target;
          return t?.kind === 'flake-output'
            ? { installable: t.output.installable, dir: t.flake.dir, title: t.output.label }
            : undefined;
        },
        requireTrust,
        origin: (target, loaded, signal) => this.attributionFor(target, loaded, signal),
      }),
    );
    this.compressed = this.register(
      new CompressedSizeCommand({
        current: () => {
          const c = deps.service.current;
          return c && { title: c.title, rootPath: c.loaded.rootPath, analysis: c.loaded.analysis };
        },
        cacheFile: path.join(deps.storageDir.fsPath, 'compressed-sizes.json'),
        sizeStyle: units,
        nixPath: () => readSettings().nixPath,
      }),
    );
    this.register(
      this.compressed.onDidEstimate((e) => void this.rules.compressedEstimated(e.rootPath, e.result.totals)),
    );
    this.register(
      deps.service.onDidChangeCurrent((closure) => {
        if (closure)
          void this.rules.closureLoaded(
            forRules(closure.target, closure.loaded, this.origins.get(closure.loaded.analysis.graph)),
          );
      }),
    );
  }

  /**
   * Once the option costs of a shown configuration are ready, its rule diagnostics name the option behind each
   * forbidden path, and the user's own enabling line as the true costs are measured. Call once, after the
   * option-cost analysis exists.
   */
  followOptionCosts(source: OptionCostSource): void {
    this.optionCosts = source;
    // Per configuration, the causes its origins were made with: each true cost measured since (in the background)
    // can put the user's own enabling line in place of a module's.
    const madeWith = new WeakMap<OptionAttribution, CauseIndex | undefined>();
    this.register(
      source.onDidChange(() => {
        for (const t of source.list()) {
          const attribution = t.options.kind === 'ready' ? t.options.index?.attribution : undefined;
          if (!attribution) continue;
          const causes = source.causes(t.key);
          if (madeWith.has(attribution) && madeWith.get(attribution) === causes) continue;
          madeWith.set(attribution, causes);
          const origin = originsFromAttribution(attribution, causes);
          // Kept per graph: showing the same closure again (a cache hit) must not lose its options.
          this.origins.set(attribution.graph, origin);
          if (attribution.graph === t.loaded.analysis.graph)
            void this.rules.closureLoaded(forRules(t.target, t.loaded, origin));
        }
      }),
    );
  }

  private readonly origins = new WeakMap<ClosureGraph, OriginLookup>();
  private optionCosts: OptionCostSource | undefined;

  private attribution: { runner: NixRunner; service: AttributionService } | undefined;

  /** Option attribution of a configuration for the diff view: one evaluation; nothing for other targets. */
  private async attributionFor(
    target: Target,
    loaded: LoadedClosure,
    signal: AbortSignal,
  ): Promise<OriginLookup | undefined> {
    if (target.kind !== 'installable') return undefined;
    try {
      parseConfigurationInstallable(target.installable);
    } catch {
      return undefined;
    }
    // The configuration shown already (its options analysed, its true costs measured in the background): the
    // user's own enabling line comes before the module definition that carries the path, as in the why panel.
    const shown = this.optionCosts
      ?.list()
      .find((t) => t.options.kind === 'ready' && t.options.index?.attribution.graph === loaded.analysis.graph);
    if (shown)
      return withShortFiles(
        originsFromAttribution(shown.options.index!.attribution, this.optionCosts!.causes(shown.key)),
      );
    const runner = this.deps.engines.engine.nix;
    if (this.attribution?.runner !== runner) this.attribution = { runner, service: new AttributionService(runner) };
    try {
      const ev = await this.attribution.service.evaluate(target.installable, {
        signal,
        ...(target.cwd ? { cwd: target.cwd } : {}),
      });
      return withShortFiles(originsFromAttribution(this.attribution.service.attribute(ev, loaded.analysis.graph)));
    } catch (err) {
      if (isClosureLensError(err, 'cancelled')) throw err;
      this.deps.warn?.(
        `options behind the diff of ${target.installable} are not shown: ${err instanceof Error ? err.message : String(err)}`,
      );
      return undefined;
    }
  }
}

/** The report names files as the editor does (`nixpkgs/nixos/modules/config/fonts.nix`), not by absolute path. */
function withShortFiles(origin: OriginLookup): OriginLookup {
  return (g, node, chain) => {
    const o = origin(g, node, chain);
    return o?.file === undefined ? o : { ...o, file: shortFile(o.file) };
  };
}

function forRules(t: CurrentClosure['target'], loaded: LoadedClosure, origin?: OriginLookup): LoadedForRules {
  const id =
    t.kind === 'flake-output'
      ? { installable: t.output.installable, cwd: t.flake.dir, rootPath: loaded.rootPath }
      : { rootPath: loaded.rootPath };
  return { id, analysis: loaded.analysis, ...(origin ? { origin } : {}) };
}
