/**
 * Entry point: wires the services together and registers them. Nothing runs nix here; every nix call
 * starts from a command, and only in a trusted workspace when it evaluates or builds.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ClosureService, type ShownClosure } from './closureService';
import { ClosureCommands } from './commands';
import { DiffFeatures } from './diffFeatures';
import { DisposableStore } from './disposables';
import { EngineHost } from './engineHost';
import { FlakeOutputCache } from './flakeOutputCache';
import { AnalysedTargets, type OptionCostsState } from './analysedTargets';
import { ContextKeys } from './contextKeys';
import { CostLensProvider } from './costLens';
import { HEAVIEST_VIEW_ID } from './contributions';
import { HeaviestTreeProvider, type TreeNode } from './heaviestTree';
import { registerClosureViewCommands } from './closureViewCommands';
import { NIX_SELECTOR, OptionHoverProvider, ScanCache } from './optionHover';
import { NixDiagnostics } from './nixDiagnostics';
import { NixLog, type LoggedCommand } from './nixLog';
import { readSettings } from './settings';
import { ClosureStatusBar } from './statusBar';
import { SunburstPanel } from './sunburstPanel';
import { registerSunburstSerializer } from './sunburstRestore';
import { RulesFileCommand } from './rulesFile';
import { openPickState, RecentTargets, type OpenPickState } from './targetPicker';
import { TargetDiscovery } from './targets';
import { WHY_SCHEME, WhyDocuments } from './whyDepends';

/** What `activate` returns: hooks for the in-editor tests (test/e2e/suite). */
export interface NixClosureLensApi {
  /** Every nix command run since activation (the last 500) and their total count. */
  nixCommands(): { readonly total: number; readonly recent: readonly LoggedCommand[] };
  /** The closure shown last. */
  current(): ShownClosure | undefined;
  /** Where flake outputs' store paths are remembered. */
  readonly flakeOutputCacheFile: string;
  /** Where graphs are cached. */
  graphCacheDir(): string;
  /** The analysed closures (newest first) and how far their option costs are. */
  optionCosts(): readonly { key: string; title: string; rootPath: string; state: OptionCostsState['kind'] }[];
  /** The sidebar tree's data, as the view reads it. */
  readonly heaviestTree: vscode.TreeDataProvider<TreeNode>;
  /** The value the extension last set for a context key (VS Code offers no way to read one back). */
  contextKey(key: string): unknown;
  /** The "Show closure" pick open now, if any. */
  openTargetPick(): OpenPickState | undefined;
  /** What the sunburst panels hold now (closure and attribution messages), newest panel first. */
  sunburstMessages(): ReturnType<SunburstPanel['posted']>[];
  /** How far the background measurement of a target's option costs is. */
  optionCostProgress(key: string): { done: number; total: number; state: string } | undefined;
}

export function activate(context: vscode.ExtensionContext): NixClosureLensApi {
  const store = new DisposableStore();
  context.subscriptions.push(store);

  const log = store.add(new NixLog());
  const engines = new EngineHost(context.globalStorageUri, log);
  const outputCache = new FlakeOutputCache(path.join(context.globalStorageUri.fsPath, 'flake-outputs.json'));
  const diagnostics = store.add(new NixDiagnostics());
  const discovery = new TargetDiscovery(
    () => engines.runner,
    outputCache,
    () => readSettings().timeoutMs,
    (message) => log.warn(message),
    diagnostics,
  );
  const service = store.add(
    new ClosureService({
      engine: () => engines.engine,
      nix: () => engines.runner,
      settings: readSettings,
      outputCache,
      diagnostics,
      log,
    }),
  );
  // Compare closures…, .closure-lens.json diagnostics, compressed size.
  const diffFeatures = store.add(
    new DiffFeatures({ service, engines, storageDir: context.globalStorageUri, warn: (m) => log.warn(m) }),
  );
  const why = store.add(new WhyDocuments());
  store.add(vscode.workspace.registerTextDocumentContentProvider(WHY_SCHEME, why));

  const commands = store.add(
    new ClosureCommands(
      context.extensionUri,
      service,
      discovery,
      outputCache,
      new RecentTargets(context.workspaceState),
      why,
      log,
    ),
  );
  store.add(
    registerSunburstSerializer(
      context,
      (panel, target) => commands.restore(panel, target, titleOf(panel)),
      commands.hooks,
    ),
  );

  const units = () => readSettings().sizeUnits;
  // Sidebar tree, hovers and CodeLens over option definitions: all read the analysed closures and option costs.
  const analysed = store.add(
    new AnalysedTargets(service, commands, {
      runner: () => engines.runner,
      cacheDir: () => engines.cacheDir(),
      state: context.globalState,
      log,
    }),
  );
  store.add(registerClosureViewCommands(analysed));
  const contextKeys = store.add(new ContextKeys(service, analysed));
  store.add(new ClosureStatusBar(analysed, units));
  diffFeatures.followOptionCosts(analysed);
  const tree = store.add(new HeaviestTreeProvider(analysed, units));
  store.add(vscode.window.createTreeView(HEAVIEST_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true }));
  const scans = new ScanCache();
  store.add(
    vscode.languages.registerHoverProvider(
      NIX_SELECTOR,
      new OptionHoverProvider(analysed, scans, units, () => contextKeys.optionCostHovered()),
    ),
  );
  store.add(new RulesFileCommand(service));
  store.add(
    vscode.languages.registerCodeLensProvider(NIX_SELECTOR, store.add(new CostLensProvider(analysed, scans, units))),
  );

  return {
    nixCommands: () => log.commands(),
    current: () => {
      const c = service.current;
      return (
        c && {
          title: c.title,
          rootPath: c.loaded.rootPath,
          fromCache: c.loaded.fromCache,
          pathCount: c.loaded.analysis.graph.pathCount,
        }
      );
    },
    flakeOutputCacheFile: outputCache.file,
    graphCacheDir: () => engines.cacheDir(),
    optionCosts: () =>
      analysed.list().map((t) => ({ key: t.key, title: t.title, rootPath: t.loaded.rootPath, state: t.options.kind })),
    heaviestTree: tree,
    contextKey: (key) => contextKeys.value(key),
    openTargetPick: openPickState,
    sunburstMessages: () => SunburstPanel.panels().map((p) => p.posted()),
    optionCostProgress: (key) => analysed.measurements.progress(key),
  };
}

/** The title a restored panel had (`Closure: <title>`). */
function titleOf(panel: { panel: vscode.WebviewPanel }): string {
  return panel.panel.title.replace(/^Closure: /, '');
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
