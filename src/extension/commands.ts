/**
 * The command palette entries: Show closure (of a flake output, a store path, the running system), Why depends…,
 * Refresh, and the status bar's "show the sunburst again". Each opens or reuses the sunburst panel of its target.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SnapshotSource } from '../shared/snapshot';
import type { PanelTarget } from '../shared/protocol';
import type { ClosureService, CurrentClosure, ShownClosure } from './closureService';
import { Disposable } from './disposables';
import type { FlakeOutputCache } from './flakeOutputCache';
import { outputFromAttrPath, parseInstallable } from './flakeOutputs';
import type { NixLog } from './nixLog';
import { readSettings } from './settings';
import { traceFirstDraw } from './firstDrawTimeline';
import { SunburstPanel, type SunburstHooks } from './sunburstPanel';
import {
  askStorePath,
  pickTarget,
  storePathFromInput,
  runningSystemTarget,
  storePathTarget,
  type RecentTargets,
} from './targetPicker';
import {
  flakeDescription,
  panelTarget,
  targetTitle,
  type ClosureTarget,
  type FlakeListing,
  type FlakeRef,
  type TargetDiscovery,
} from './targets';
import { isClosureLensError } from '../core/errors';
import { displayName } from '../shared/storePath';
import { explainUntrusted, UntrustedWorkspaceError } from './trust';
import { pickDependency, whyText, type WhyDocuments } from './whyDepends';
import { HEAVIEST_VIEW_ID } from './contributions';

export const COMMANDS = {
  showClosure: 'nixClosureLens.showClosure',
  showStorePath: 'nixClosureLens.showStorePath',
  showRunningSystem: 'nixClosureLens.showRunningSystem',
  whyDepends: 'nixClosureLens.whyDepends',
  refresh: 'nixClosureLens.refresh',
  reopen: 'nixClosureLens.reopen',
  showLog: 'nixClosureLens.showLog',
} as const;

export class ClosureCommands extends Disposable {
  /** The closure each panel shows, to put it back when a reload of that panel is cancelled. */
  private readonly shown = new WeakMap<SunburstPanel, SnapshotSource>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly service: ClosureService,
    private readonly discovery: TargetDiscovery,
    private readonly outputCache: FlakeOutputCache,
    private readonly recent: RecentTargets,
    private readonly why: WhyDocuments,
    private readonly log: NixLog,
  ) {
    super();
    const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
      this.register(vscode.commands.registerCommand(id, fn));
    // From the explorer's context menu the argument is the file's Uri (a flake.nix, or a link into the store).
    reg(COMMANDS.showClosure, (arg) =>
      arg instanceof vscode.Uri ? this.showClosureOf(arg) : this.showClosure(typeof arg === 'string' ? arg : undefined),
    );
    reg(COMMANDS.showStorePath, (arg) =>
      this.showStorePath(arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined),
    );
    reg(COMMANDS.showRunningSystem, () => this.showRunningSystem());
    reg(COMMANDS.whyDepends, (arg) => this.whyDepends(typeof arg === 'string' ? arg : undefined));
    reg(COMMANDS.refresh, () => this.refresh());
    reg(COMMANDS.reopen, () => this.reopen());
    reg(COMMANDS.showLog, () => this.log.show());
  }

  readonly hooks: SunburstHooks = {
    revealInTree: async () => {
      await vscode.commands.executeCommand(`${HEAVIEST_VIEW_ID}.focus`);
    },
    log: (message) => this.log.warn(`sunburst: ${message}`),
  };

  /**
   * "Show closure". With an argument (a label such as `nixosConfigurations.demo`, an installable `.#…`, or
   * `<dir>#<attr>`), or with `nixClosureLens.defaultTarget` set, that target; otherwise the user picks.
   */
  async showClosure(spec?: string, refresh = false): Promise<ShownClosure | undefined> {
    const named = spec ?? (readSettings().defaultTarget || undefined);
    if (named === undefined) {
      const picked = await pickTarget(this.discovery, this.recent, this.log, { refresh });
      return picked ? this.show(picked, refresh) : undefined;
    }
    const target = await this.findNamed(named, refresh);
    return target ? this.show(target, refresh) : undefined;
  }

  /**
   * Asks for the target with the panel already opening beside (SunburstPanel.prepare): VS Code's start of a new
   * webview then overlaps the user's choice instead of following Enter. Choosing nothing closes the panel again.
   * Only for the store path's input box (it keeps its focus, `ignoreFocusOut`); the output picker closes on focus
   * changes, and in e2e it once closed while the panel opened.
   */
  private async chooseThenShow(choose: () => Promise<ClosureTarget | undefined>): Promise<ShownClosure | undefined> {
    const prepared = SunburstPanel.prepare(this.extensionUri, this.hooks);
    this.service.prepareForLoad();
    let target: ClosureTarget | undefined;
    try {
      target = await choose();
    } finally {
      if (!target) prepared.dispose();
    }
    return target ? this.show(target, false, prepared) : undefined;
  }

  /**
   * "Show closure" on a file of the explorer: for a flake.nix, the pick of that flake's outputs; for a link into
   * the store (`result`), the closure of the store path it points to.
   */
  async showClosureOf(resource: vscode.Uri): Promise<ShownClosure | undefined> {
    if (resource.scheme !== 'file') {
      void vscode.window.showErrorMessage(
        `Nix Closure Lens: ${resource.toString()} is not a local file; Show closure needs a flake.nix or a link into the Nix store on this machine.`,
      );
      return undefined;
    }
    if (path.basename(resource.fsPath) === 'flake.nix') {
      if (!vscode.workspace.isTrusted) {
        void explainUntrusted(new UntrustedWorkspaceError('evaluate flakes'));
        return undefined;
      }
      const folder = vscode.workspace.getWorkspaceFolder(resource);
      if (!folder) {
        void vscode.window.showErrorMessage(
          `Nix Closure Lens: ${resource.fsPath} is outside the workspace folders. Open its folder (File > Open Folder…) to analyse this flake.`,
        );
        return undefined;
      }
      const flake: FlakeRef = { dir: path.dirname(resource.fsPath), folder };
      const target = await pickTarget(this.discovery, this.recent, this.log, {
        flakes: [flake],
        title: `Nix Closure Lens: Show closure of ${flakeDescription(flake)}`,
      });
      return target ? this.show(target, false) : undefined;
    }
    return this.showStorePath(resource.fsPath);
  }

  private async findNamed(spec: string, refresh: boolean): Promise<ClosureTarget | undefined> {
    if (spec.startsWith('/')) {
      const r = await storePathFromInput(spec);
      if ('path' in r) return storePathTarget(r.path);
    }
    if (!vscode.workspace.isTrusted) {
      void explainUntrusted(new UntrustedWorkspaceError('evaluate flakes'));
      return undefined;
    }
    // Flakes are listed one at a time, shallowest first, until one has the output: a flake elsewhere in the
    // workspace that cannot be listed (or is slow to) only matters when the target is not found before it.
    const listings: FlakeListing[] = [];
    const failures: string[] = [];
    for (const flake of await this.discovery.flakesFor(spec)) {
      try {
        listings.push(await this.discovery.list(flake, { refresh }));
      } catch (err) {
        this.log.error(
          `listing the outputs of ${flake.dir} failed`,
          isClosureLensError(err) ? `${err.oneLine()}\n${err.detail ?? ''}` : err,
        );
        failures.push(`${flakeDescription(flake)}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      const found = this.discovery.resolveDefault(spec, listings.slice(-1));
      if (found) return found;
    }
    const why = failures.length > 0 ? ` Some flakes could not be listed: ${failures.join('; ')}.` : '';
    void vscode.window
      .showErrorMessage(
        `Nix Closure Lens: no flake output in this workspace is called "${spec}".${why} ` +
          'Name one like "nixosConfigurations.myhost", "packages.x86_64-linux.hello", "sub/dir#nixosConfigurations.myhost" ' +
          'or, in a multi-root workspace, "<folder name>#packages.default" ' +
          '(the nixClosureLens.defaultTarget setting, or the command argument), or leave it empty to pick.',
        'Show log',
      )
      .then((c) => c && this.log.show());
    return undefined;
  }

  async showStorePath(spec?: string): Promise<ShownClosure | undefined> {
    if (spec === undefined) return this.chooseThenShow(askStorePath);
    const r = await storePathFromInput(spec, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    if ('error' in r) {
      void vscode.window.showErrorMessage(`Nix Closure Lens: ${r.error}`);
      return undefined;
    }
    return this.show(storePathTarget(r.path), false);
  }

  async showRunningSystem(): Promise<ShownClosure | undefined> {
    const target = await runningSystemTarget();
    return target ? this.show(target, false) : undefined;
  }

  /** Opens (or reuses) the target's panel and loads the closure into it. */
  async show(target: ClosureTarget, refresh: boolean, prepared?: SunburstPanel): Promise<ShownClosure | undefined> {
    if (target.kind === 'flake-output' && !vscode.workspace.isTrusted) {
      prepared?.dispose();
      void explainUntrusted(new UntrustedWorkspaceError('evaluate or build flake outputs'));
      return undefined;
    }
    const commandAt = performance.now();
    await this.recent.use(target);
    if (refresh && target.kind === 'flake-output') await this.outputCache.forgetFlake(target.flake.dir);
    const title = targetTitle(target);
    const panel = SunburstPanel.show(this.extensionUri, {
      target: panelTarget(target),
      title,
      hooks: this.hooks,
      prepared,
    });
    const panelMs = performance.now() - commandAt;
    const before = this.shown.get(panel);
    panel.setLoading(`Loading ${title}…`);
    const loadStartMs = performance.now() - commandAt;
    const result = await this.service.load(target, {
      refresh,
      onPreview: (preview) => panel.showPreview(preview),
      // The sunburst's payload is posted before the status bar, the sidebar and the rest hear of the closure: in
      // real VS Code their work (and the renderer's) ran first and delayed the post (issue 17).
      beforeAnnounce: (closure) => {
        const { loaded } = closure;
        const trace = { title, paths: loaded.analysis.graph.pathCount, commandAt, panelMs, loadStartMs };
        traceFirstDraw(panel, { ...trace, loadMarks: loaded.timeline }, this.display(panel, closure), (line) =>
          this.log.info(line),
        );
      },
    });
    switch (result.kind) {
      case 'loaded':
        return summary(result.closure);
      case 'cancelled':
        // Said where the user looks: the panel (or, when it goes back to what it showed, the status bar).
        if (before) {
          panel.setClosure(before, { title });
          vscode.window.setStatusBarMessage(
            `$(circle-slash) Nix Closure Lens: loading ${title} was cancelled; the panel shows what it showed before.`,
            10_000,
          );
        } else panel.setError(`Loading ${title} was cancelled.`, 'Run "Show closure" again to load it.');
        return undefined;
      case 'failed':
        panel.setError(result.message, result.fix);
        return undefined;
    }
  }

  /** Shows the closure in the panel; settles once its payload is posted to the webview. */
  private display(panel: SunburstPanel, closure: CurrentClosure): Promise<void> {
    this.shown.set(panel, closure.loaded.analysis);
    return panel.setClosure(closure.loaded.analysis, { title: closure.title });
  }

  /** "Refresh": evaluate, build and query the current target again, ignoring every cache. */
  async refresh(): Promise<ShownClosure | undefined> {
    const current = this.service.current;
    if (!current) return this.showClosure(undefined, true);
    return this.show(current.target, true);
  }

  /** The status bar's click: back to the sunburst of the current target. */
  async reopen(): Promise<ShownClosure | undefined> {
    const current = this.service.current;
    if (!current) return this.showClosure();
    const panel = SunburstPanel.show(this.extensionUri, {
      target: panelTarget(current.target),
      title: current.title,
      hooks: this.hooks,
    });
    if (!this.shown.has(panel)) void this.display(panel, current);
    return summary(current);
  }

  /** "Why depends…": a dependency of the current closure (loading one first if needed), then its chains. */
  async whyDepends(query?: string): Promise<string | undefined> {
    let current = this.service.current;
    if (!current) {
      await this.showClosure();
      current = this.service.current;
      if (!current) return undefined;
    }
    const units = readSettings().sizeUnits;
    const dep = await pickDependency(current, query, units);
    if (dep === undefined) return undefined;
    const depPath = current.loaded.analysis.graph.paths[dep]!;
    const text = whyText(current, dep, units);
    const panel = SunburstPanel.panels().find((p) => samePanelTarget(p.target, panelTarget(current.target)));
    panel?.select(depPath);
    // Next to the sunburst, not over it: both show the chains, one as text, one as the why panel.
    const panelColumn = panel?.panel.viewColumn;
    const column =
      panelColumn === undefined
        ? vscode.ViewColumn.Active
        : panelColumn === vscode.ViewColumn.One
          ? vscode.ViewColumn.Two
          : vscode.ViewColumn.One;
    await this.why.open(displayName(current.loaded.analysis.graph.name(dep)), text, column);
    return text;
  }

  /** Reloads a sunburst restored after a window reload: from the caches, with no notification on failure. */
  async restore(panel: SunburstPanel, target: PanelTarget, title: string): Promise<void> {
    const closureTarget = closureTargetOf(target, title);
    if (!closureTarget) {
      panel.setError(
        'This sunburst cannot be restored: its flake is no longer in the workspace.',
        'Run "Show closure" again.',
      );
      return;
    }
    panel.setLoading(`Loading ${title}…`);
    const result = await this.service.load(closureTarget, { quiet: true });
    if (result.kind === 'loaded') void this.display(panel, result.closure);
    else if (result.kind === 'failed') panel.setError(result.message, result.fix);
    else panel.setError('Loading was cancelled.', 'Run "Show closure" again.');
  }
}

function summary(c: CurrentClosure): ShownClosure {
  return {
    title: c.title,
    rootPath: c.loaded.rootPath,
    fromCache: c.loaded.fromCache,
    pathCount: c.loaded.analysis.graph.pathCount,
  };
}

function samePanelTarget(a: PanelTarget, b: PanelTarget): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The target behind a restored panel; flake outputs need their flake to be in a workspace folder still. */
function closureTargetOf(target: PanelTarget, title: string): ClosureTarget | undefined {
  switch (target.kind) {
    case 'store-path':
      return storePathTarget(target.path, title);
    case 'json-file':
      return undefined;
    case 'installable': {
      if (!target.cwd) return undefined;
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(target.cwd));
      if (!folder) return undefined;
      const attrPath = parseInstallable(target.installable);
      const output = attrPath && outputFromAttrPath(attrPath);
      return output ? { kind: 'flake-output', flake: { dir: target.cwd, folder }, output } : undefined;
    }
  }
}
