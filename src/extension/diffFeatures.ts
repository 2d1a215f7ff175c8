/**
 * Wires the closure diff, the rules diagnostics and the compressed-size estimate to the rest of the
 * extension: they follow the closure the user loads. One object, so `activate` adds one line.
 */
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { OriginLookup } from '../core/diff';
import type { Target } from '../core/engine';
import type { ClosureService, CurrentClosure } from './closureService';
import { CompressedSizeCommand } from './compressedSize';
import { DiffView } from './diffView';
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
  /** Option attribution for a loaded closure, once the extension has it. */
  readonly origin?: (closure: CurrentClosure) => Promise<OriginLookup | undefined>;
  /** Option attribution for a diff target. */
  readonly originForTarget?: (target: Target) => Promise<OriginLookup | undefined>;
}

export class DiffFeatures extends Disposable {
  readonly rules: RulesDiagnostics;
  readonly diff: DiffView;
  readonly compressed: CompressedSizeCommand;

  constructor(deps: DiffFeaturesDeps) {
    super();
    const units = () => readSettings().sizeUnits;
    this.rules = this.register(new RulesDiagnostics(units));
    this.diff = this.register(
      new DiffView({
        engine: () => deps.engines.engine,
        shownFlakeOutput: () => {
          const t = deps.service.current?.target;
          return t?.kind === 'flake-output' ? { installable: t.output.installable, dir: t.flake.dir, title: t.output.label } : undefined;
        },
        requireTrust,
        ...(deps.originForTarget ? { origin: deps.originForTarget } : {}),
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
    this.register(this.compressed.onDidEstimate((e) => void this.rules.compressedEstimated(e.rootPath, e.result.totals)));
    this.register(
      deps.service.onDidChangeCurrent((closure) => {
        if (closure) void this.closureLoaded(closure, deps.origin);
      }),
    );
  }

  private async closureLoaded(closure: CurrentClosure, origin: DiffFeaturesDeps['origin']): Promise<void> {
    const t = closure.target;
    const id =
      t.kind === 'flake-output'
        ? { installable: t.output.installable, cwd: t.flake.dir, rootPath: closure.loaded.rootPath }
        : { rootPath: closure.loaded.rootPath };
    let lookup: OriginLookup | undefined;
    try {
      lookup = await origin?.(closure);
    } catch {
      // Without attribution the diagnostics still carry the chains.
    }
    const loaded: LoadedForRules = { id, analysis: closure.loaded.analysis, ...(lookup ? { origin: lookup } : {}) };
    await this.rules.closureLoaded(loaded);
  }
}
