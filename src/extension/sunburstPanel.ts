/**
 * The sunburst WebviewPanel host: page + CSP, message validation, replay after the webview is recreated,
 * and restore after a window reload.
 *
 * API for the extension wiring:
 *
 *   const panel = SunburstPanel.show(context.extensionUri, { target, title, hooks });
 *     // reveals the panel of that target when one is open, else opens one (Beside the active editor)
 *   panel.setLoading('Building .#nixosConfigurations.laptop…');
 *   panel.setClosure(analysis, { title?, attribution? });   // analysis: ClosureAnalysis (src/core/analysis/closure.ts);
 *                                                           // the payload is built in slices, resolves once posted
 *   panel.setAttribution(attribution);                      // AttributionInput (src/core/snapshot.ts), may come later
 *   panel.setError(message, fix?);                          // e.g. from a ClosureLensError: err.message, err.fix
 *   panel.select(storePath);                                // e.g. from the sidebar: "Show in sunburst"
 *   panel.onDidDispose(listener); panel.target; panel.dispose();
 *
 *   context.subscriptions.push(registerSunburstSerializer(context, async (panel, target) => {
 *     panel.setLoading(...); const loaded = await engine.load(target, ...); panel.setClosure(loaded.analysis);
 *   }, hooks));
 *
 * package.json needs `"activationEvents": ["onWebviewPanel:closureLens.sunburst"]` for the restore; the view follows
 * the settings `nixClosureLens.sunburst.maxArcs` and `nixClosureLens.sizeUnits` (read through ./settings).
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import {
  normalizeSettings,
  parseWebviewMessage,
  PROTOCOL_VERSION,
  SUNBURST_VIEW_TYPE,
  type HostToWebview,
  type PanelTarget,
  type DrawMark,
  type SunburstPreview,
  type ViewSettings,
  type WebviewToHost,
} from '../shared/protocol';
import {
  buildAttribution,
  buildSnapshotInSlices,
  type SnapshotSource,
  type AttributionInput,
} from '../shared/snapshot';
import { buildPreview } from '../shared/sunburstPreview';
import { openDefinition } from './openDefinition';
import { sunburstPageHtml } from './webviewHtml';
import { notePageTimes, type PageTimes } from './firstDrawTimeline';
import { chainProblem } from '../core/precise/chain';
import { openReference, searchWithProgress } from './preciseReferences';
import type { PreciseHit } from '../shared/protocol';
import { onDidChangeSettings, readSettings } from './settings';
import { whyCommand } from './whyCommandLine';

export interface SunburstHooks {
  /** Reveal a store path in the sidebar tree of heaviest paths. */
  revealInTree?(path: string): void | Thenable<void>;
  /** Told whenever the user selects a path in the sunburst (to sync other views). */
  onSelect?(path: string, panel: SunburstPanel): void;
  /** Diagnostics: rejected messages and errors reported by the webview. */
  log?(message: string): void;
}

export interface ShowOptions {
  readonly target: PanelTarget;
  /** Panel title and first breadcrumb, e.g. `.#nixosConfigurations.laptop`. */
  readonly title: string;
  readonly hooks?: SunburstHooks;
  readonly column?: vscode.ViewColumn;
  /**
   * A panel from `SunburstPanel.prepare`, opened while the user chose the closure: it takes the target (unless
   * the target has a panel already, which is revealed and the prepared one closed).
   */
  readonly prepared?: SunburstPanel | undefined;
}

const targetKey = (t: PanelTarget) => JSON.stringify(t);
/** What a prepared panel names before its closure is chosen; it is in no map and posts no message with it. */
const NOT_CHOSEN: PanelTarget = { kind: 'json-file', file: '(not chosen yet)' };

/** A closure's first drawing, as the webview reported it. */
export interface FirstDraw {
  readonly marks: readonly DrawMark[];
  readonly arcs: number;
  /** When the closure message reached the webview, in the host's `performance.now()` time (both count from the epoch). */
  readonly arrivedAt: number;
  /** `performance.now()` in the extension host when the report arrived. */
  readonly heardAt: number;
}

export class SunburstPanel {
  private static readonly open = new Map<string, SunburstPanel>();

  private analysis: SnapshotSource | undefined;
  /** The last closure (and attribution) message, replayed whenever the webview (re)starts. */
  private closureMessage: Extract<HostToWebview, { type: 'closure' }> | undefined;
  private attributionMessage: Extract<HostToWebview, { type: 'attribution' }> | undefined;
  /** A loading or error message shown while there is no closure yet. */
  private statusMessage: HostToWebview | undefined;
  private pendingSelect: string | undefined;
  /** The snapshot being built for the latest `setClosure`; aborted when another closure, an error or disposal replaces it. */
  private building: AbortController | undefined;
  private definitionFiles = new Set<string>();
  /**
   * The hits of the `preciseResult`s sent for this closure (a chain's and single edges' of the why-graph can be on
   * show together), by `referrer\0file\0offset`: the only files `openReference` opens.
   */
  private preciseHits = new Map<string, PreciseHit>();
  /** The running precise search; a new request, a new closure or disposal stops it. */
  private precise: AbortController | undefined;
  private ready = false;
  private isDisposed = false;
  /** Load timeline (`performance.now()` time): VS Code started the page, its script ran (by its clock), host heard. */
  readonly pageTimes: PageTimes = {};
  private readonly disposables: vscode.Disposable[] = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;
  private readonly drawEmitter = new vscode.EventEmitter<FirstDraw>();
  /** The webview drew a closure for the first time (its marks, and when the host heard of it). */
  readonly onDidDraw = this.drawEmitter.event;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    /** Undefined only for a prepared panel whose closure is still being chosen (see `prepare`). */
    private chosenTarget: PanelTarget | undefined,
    private title: string,
    private readonly hooks: SunburstHooks,
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.webview.html = this.html();
    panel.title = `Closure: ${title}`;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'closure.svg');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      panel.onDidDispose(() => this.disposed()),
      // A hidden webview is destroyed and starts again when shown: until its next `ready`, messages would be lost
      // (a `select` from the sidebar or a hover is then kept and sent after the replay).
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.ready = false;
      }),
      onDidChangeSettings(() => this.post({ type: 'settings', settings: readViewSettings() })),
    );
    if (chosenTarget) SunburstPanel.open.set(targetKey(chosenTarget), this);
  }

  /** The closure this panel shows (a prepared panel's placeholder until it is chosen). */
  get target(): PanelTarget {
    return this.chosenTarget ?? NOT_CHOSEN;
  }

  static show(extensionUri: vscode.Uri, options: ShowOptions): SunburstPanel {
    const { prepared } = options;
    const existing = SunburstPanel.open.get(targetKey(options.target));
    if (existing) {
      if (prepared !== existing) prepared?.dispose();
      existing.panel.reveal();
      return existing;
    }
    if (prepared && !prepared.isDisposed && prepared.chosenTarget === undefined) {
      prepared.adopt(options.target, options.title);
      return prepared;
    }
    const panel = vscode.window.createWebviewPanel(
      SUNBURST_VIEW_TYPE,
      `Closure: ${options.title}`,
      { viewColumn: options.column ?? vscode.ViewColumn.Beside, preserveFocus: false },
      webviewOptions(extensionUri),
    );
    return new SunburstPanel(panel, extensionUri, options.target, options.title, options.hooks ?? {});
  }

  /**
   * Opens a panel before its closure is chosen, for a command that asks first (the store path's input box): a
   * new webview takes VS Code about a second to start (code-server activates a service worker for each), and this
   * way that second passes while the user types instead of after Enter. Give it to `show` as `prepared`,
   * or dispose it when the user chooses nothing. It keeps the focus where it is (on the input box).
   */
  static prepare(extensionUri: vscode.Uri, hooks: SunburstHooks = {}): SunburstPanel {
    const panel = vscode.window.createWebviewPanel(
      SUNBURST_VIEW_TYPE,
      'Closure',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      webviewOptions(extensionUri),
    );
    return new SunburstPanel(panel, extensionUri, undefined, 'closure', hooks);
  }

  private adopt(target: PanelTarget, title: string): void {
    this.chosenTarget = target;
    this.title = title;
    this.panel.title = `Closure: ${title}`;
    SunburstPanel.open.set(targetKey(target), this);
    this.panel.reveal(undefined, false);
  }

  /** Adopts a panel that VS Code restored after a reload. */
  static revive(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    target: PanelTarget,
    title: string,
    hooks: SunburstHooks = {},
  ): SunburstPanel {
    return new SunburstPanel(panel, extensionUri, target, title, hooks);
  }

  /** Open panels, e.g. to forward a "Show in sunburst" from the sidebar. */
  static panels(): SunburstPanel[] {
    return [...SunburstPanel.open.values()];
  }

  setLoading(message: string): void {
    this.previewShown = false; // a new load: its preview is still to come
    this.statusMessage = { type: 'loading', title: this.title, message, target: this.target };
    this.post(this.statusMessage);
  }

  /** Replaces the view with the error; a later `setClosure` brings the chart back. */
  setError(message: string, fix?: string): void {
    this.building?.abort();
    this.previewShown = false;
    this.statusMessage = { type: 'error', message, ...(fix !== undefined && { fix }) };
    this.closureMessage = undefined;
    this.attributionMessage = undefined;
    this.analysis = undefined;
    this.post(this.statusMessage);
  }

  /**
   * Shows a closure. The payload is built in slices (src/core/slices.ts) so that the extension host never stalls
   * on a large closure; the returned promise settles once it is posted (or replaced by a later call).
   */
  async setClosure(
    analysis: SnapshotSource,
    options: { title?: string; attribution?: AttributionInput } = {},
  ): Promise<void> {
    if (options.title !== undefined) {
      this.title = options.title;
      this.panel.title = `Closure: ${options.title}`;
    }
    this.building?.abort();
    this.precise?.abort();
    this.preciseHits.clear();
    const building = (this.building = new AbortController());
    this.analysis = analysis;
    this.closureMessage = undefined;
    this.attributionMessage = undefined;
    this.definitionFiles = new Set(options.attribution?.definitions.map((d) => d.file) ?? []);
    // A closure from the cache had no preview from the worker: made here (categories of every path: ~1 µs each).
    const { graph, dominators } = analysis;
    if (!this.previewShown && this.ready && graph.nodeCount <= HOST_PREVIEW_MAX_PATHS)
      this.showPreview(buildPreview(graph, dominators));
    let snapshot;
    try {
      snapshot = await buildSnapshotInSlices(
        analysis,
        options.attribution ? { attribution: options.attribution } : {},
        building.signal,
      );
    } catch (e) {
      if (building.signal.aborted) return;
      this.building = undefined;
      this.hooks.log?.(
        `sunburst: the closure's payload could not be built: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
      this.setError(
        `The sunburst could not show this closure: ${e instanceof Error ? e.message : String(e)}`,
        'Run "Show closure" again.',
      );
      return;
    }
    if (building.signal.aborted) return;
    this.building = undefined;
    this.statusMessage = undefined;
    this.closureMessage = {
      type: 'closure',
      protocol: PROTOCOL_VERSION,
      title: this.title,
      target: this.target,
      snapshot,
      settings: readViewSettings(),
    };
    this.post(this.closureMessage);
    this.previewShown = false;
    // Option definitions that arrived while the payload was being built follow it.
    if (this.attributionMessage) this.post(this.attributionMessage);
    if (this.ready && this.pendingSelect) {
      this.post({ type: 'select', path: this.pendingSelect });
      this.pendingSelect = undefined;
    }
  }

  /**
   * The sunburst's preview (a few KB), drawn while the closure (~1 MB at 10,000 paths) is still on its way: from the
   * load's worker as soon as the dominator tree is known, else from `setClosure` before it builds the payload.
   */
  showPreview(preview: SunburstPreview | undefined): void {
    if (!preview || !this.ready || this.previewShown) return;
    this.previewShown = true;
    this.post({ type: 'preview', title: this.title, preview, settings: readViewSettings() });
  }
  private previewShown = false;

  /** The closure and attribution messages the panel holds now (what its webview shows): for the e2e tests. */
  posted(): {
    closure?: Extract<HostToWebview, { type: 'closure' }>;
    attribution?: Extract<HostToWebview, { type: 'attribution' }>;
  } {
    return {
      ...(this.closureMessage ? { closure: this.closureMessage } : {}),
      ...(this.attributionMessage ? { attribution: this.attributionMessage } : {}),
    };
  }

  setAttribution(attribution: AttributionInput): void {
    if (!this.analysis) throw new Error('setAttribution before setClosure');
    this.definitionFiles = new Set(attribution.definitions.map((d) => d.file));
    this.attributionMessage = { type: 'attribution', attribution: buildAttribution(this.analysis, attribution) };
    // Before the closure itself is posted, the webview has nothing to attach it to: it follows the closure.
    if (this.closureMessage) this.post(this.attributionMessage);
  }

  select(path: string): void {
    this.panel.reveal(undefined, true);
    if (this.ready && this.closureMessage) this.post({ type: 'select', path });
    else this.pendingSelect = path;
  }

  dispose(): void {
    this.panel.dispose();
  }

  private html(): string {
    const w = this.panel.webview;
    const uri = (...p: string[]) => w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    return sunburstPageHtml({
      cspSource: w.cspSource,
      nonce: randomBytes(18).toString('base64url'),
      scriptUri: uri('dist', 'webview', 'sunburst.js'),
      codiconCssUri: uri('dist', 'webview', 'codicon.css'),
      styleUri: uri('media', 'sunburst.css'),
    });
  }

  private post(message: HostToWebview): void {
    // Before `ready` the webview has no listener yet; everything is replayed on `ready`.
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  private receive(raw: unknown): void {
    const checked = parseWebviewMessage(raw);
    if (!checked.ok) {
      this.hooks.log?.(`sunburst: rejected a message from the webview: ${checked.reason}`);
      return;
    }
    const m = checked.value;
    if (m.type === 'ready') {
      this.ready = true;
      notePageTimes(this.pageTimes, m);
      // The webview starts from scratch whenever it is shown again: send everything it needs.
      if (this.closureMessage) {
        this.post(this.closureMessage);
        if (this.attributionMessage) this.post(this.attributionMessage);
      } else if (this.statusMessage) {
        this.post(this.statusMessage);
      }
      // Without a closure yet (its payload is still being built), the selection waits for it.
      if (this.pendingSelect && this.closureMessage) {
        this.post({ type: 'select', path: this.pendingSelect });
        this.pendingSelect = undefined;
      }
      return;
    }
    void this.act(m).catch((e: unknown) => {
      void vscode.window.showErrorMessage(`Closure Lens: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  private async act(m: Exclude<WebviewToHost, { type: 'ready' }>): Promise<void> {
    switch (m.type) {
      case 'drawn':
        this.drawEmitter.fire({
          marks: m.marks,
          arcs: m.arcs,
          arrivedAt: m.arrivedAt - performance.timeOrigin,
          heardAt: performance.now(),
        });
        return;
      case 'reportError':
        this.hooks.log?.(`sunburst webview error: ${m.message}`);
        return;
      case 'openDefinition':
        return openDefinition(m.file, m.line, this.definitionFiles, this.hooks.log);
      case 'preciseRequest':
        return this.answerPrecise(m.chain);
      case 'openReference': {
        const hit = this.preciseHits.get(hitKey(m.referrer, m.file, m.offset));
        if (!hit) {
          this.hooks.log?.(`sunburst: ignored openReference for a hit the host did not send: ${m.file.slice(0, 200)}`);
          return;
        }
        return openReference(m.referrer, hit);
      }
    }
    // The remaining messages name a store path: it must be one of this closure's paths.
    if (!this.analysis || this.analysis.graph.indexOf(m.path) === undefined) {
      this.hooks.log?.(`sunburst: ignored ${m.type} for a path outside the closure: ${m.path.slice(0, 200)}`);
      return;
    }
    switch (m.type) {
      case 'selected':
        this.hooks.onSelect?.(m.path, this);
        return;
      case 'copyPath':
        await vscode.env.clipboard.writeText(m.path);
        vscode.window.setStatusBarMessage(`Copied ${m.path}`, 3000);
        return;
      case 'copyWhyCommand': {
        const command = whyCommand(this.target, this.analysis.graph.paths[this.analysis.graph.roots[0]!]!, m.path);
        await vscode.env.clipboard.writeText(command);
        vscode.window.setStatusBarMessage(`Copied: ${command}`, 4000);
        return;
      }
      case 'revealInTree':
        if (!this.hooks.revealInTree) {
          void vscode.window.showInformationMessage('Closure Lens: the sidebar tree is not available in this window.');
          return;
        }
        await this.hooks.revealInTree(m.path);
        return;
    }
  }

  /** Answers a `preciseRequest` for a chain of this closure's references; stops any earlier search. */
  private async answerPrecise(chain: readonly string[]): Promise<void> {
    const problem = this.analysis ? chainProblem(this.analysis.graph, chain) : 'no closure is shown';
    if (problem) {
      this.hooks.log?.(`sunburst: ignored preciseRequest: ${problem.slice(0, 300)}`);
      return;
    }
    this.precise?.abort();
    const search = (this.precise = new AbortController());
    let edges;
    try {
      edges = await searchWithProgress(chain, search.signal);
    } catch (e) {
      if (search.signal.aborted) return;
      const reason = (e as { code?: string }).code === 'cancelled' ? 'was cancelled or took too long' : 'failed';
      void vscode.window.showWarningMessage(
        `Closure Lens: the search for references ${reason}: ${e instanceof Error ? e.message : String(e)}. Press "Precise" again to retry.`,
      );
      return;
    } finally {
      if (this.precise === search) this.precise = undefined;
    }
    if (search.signal.aborted) return;
    if (this.preciseHits.size > MAX_REMEMBERED_HITS) this.preciseHits.clear();
    for (const edge of edges)
      for (const hit of edge.hits) this.preciseHits.set(hitKey(edge.from, hit.file, hit.offset), hit);
    this.post({ type: 'preciseResult', chain: [...chain], edges });
  }

  private disposed(): void {
    this.isDisposed = true;
    this.building?.abort();
    this.precise?.abort();
    if (SunburstPanel.open.get(targetKey(this.target)) === this) SunburstPanel.open.delete(targetKey(this.target));
    for (const d of this.disposables) d.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
    this.drawEmitter.dispose();
  }
}

/** Above this, a preview made on the host's thread could stall it (the worker makes one for any size). */
const HOST_PREVIEW_MAX_PATHS = 20_000;

/** Hits remembered for `openReference` before the oldest answers are forgotten (each answer holds ≤ 64 × 200). */
const MAX_REMEMBERED_HITS = 50_000;
const hitKey = (referrer: string, file: string, offset: number) => `${referrer}\0${file}\0${offset}`;

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [
      vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
      vscode.Uri.joinPath(extensionUri, 'media'),
    ],
  };
}

function readViewSettings(): ViewSettings {
  const s = readSettings();
  return normalizeSettings({ maxArcs: s.maxArcs, sizeStyle: s.sizeUnits });
}
