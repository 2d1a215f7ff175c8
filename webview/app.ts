/**
 * The sunburst page, wired: host messages in, the page built from its panels (toolbar, chart pane, side pane),
 * and the chart operations the panels share (select, zoom, redraw). The panels live in webview/panels/, the
 * chart in webview/chart/. State that should survive hiding and reloads goes through `persist()`.
 */
import '@vscode-elements/elements/dist/vscode-split-layout/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { EarlyBoot } from './boot';
import { FirstDrawMarks } from './firstDraw';
import { formatBytes } from '../src/shared/format';
import {
  DEFAULT_VIEW_SETTINGS,
  isRecord,
  type DrawMark,
  parseHostMessage,
  parseWebviewState,
  type HostToWebview,
  type MainView,
  type TreeMode,
  type ViewSettings,
  type WebviewState,
  type WebviewToHost,
} from '../src/shared/protocol';
import { runInSlices } from '../src/shared/slices';
import { labelParts } from './chart/labels';
import { DEFAULT_LAYOUT } from './chart/layout';
import type { ChartSource } from './chart/chartModel';
import { SunburstChart, type ChartModel } from './chart/sunburst';
import { ancestry, type ViewTree } from './chart/viewTree';
import { byId, clear, h } from './dom';
import { ClosureModel } from './model';
import { followWidth, type SplitLayout } from './narrowLayout';
import { PreviewModel, previewApplies } from './preview';
import type { Page, SelectHow } from './page';
import { renderCrumbs } from './panels/crumbs';
import { footerText, Legend, renderFooter } from './panels/legend';
import { showPreciseResult } from './panels/precise';
import { renderStatus, type StatusKind } from './panels/status';
import { focusSearchOnSlash, Search } from './panels/search';
import { SidePane } from './panels/side';
import { buildToolbar } from './panels/toolbar';
import { PathTable } from './panels/table';
import { showTooltip } from './panels/tooltip';

export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: WebviewState): void;
}

export class App implements Page {
  state: WebviewState;
  model: ClosureModel | undefined;
  title = '';
  selected = -1;
  private settings: ViewSettings = DEFAULT_VIEW_SETTINGS;
  private chart: SunburstChart | undefined;
  private table: PathTable | undefined;
  private widthObserver: ResizeObserver | undefined;
  private readonly search = new Search(this, () => {
    this.openRingsToMatches();
    this.applySearchHighlight();
    this.table?.refresh();
    this.side.render();
  });
  private readonly side = new SidePane(this, this.search);
  private readonly legend = new Legend(this, () => this.applySearchHighlight());

  constructor(private readonly vscode: VsCodeApi) {
    this.state = parseWebviewState(vscode.getState());
    this.title = this.state.title ?? '';
  }

  /** The page's first script said `ready`; what came while this bundle loaded is handled first, in order. */
  start(boot: EarlyBoot): void {
    // A page opened while the user still chooses waits without a spinner: nothing is loading yet.
    if (this.title) this.showStatus('loading', `Loading ${this.title}…`);
    else this.showStatus('waiting', 'Waiting for the closure…');
    const held = boot.take();
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data, e.timeStamp));
    window.addEventListener('error', (e) => this.reportError(e.error ?? e.message));
    window.addEventListener('unhandledrejection', (e) => this.reportError(e.reason));
    focusSearchOnSlash();
    for (const e of held) this.receive(e.data, e.timeStamp);
  }

  // ----------------------------------------------------------------------------------------------- messages

  /** `receivedAt`: when the message arrived (`performance.now()` time), which is before now if it was held. */
  private receive(data: unknown, receivedAt: number): void {
    const checked = parseHostMessage(data, this.model ? { nodeCount: this.model.nodeCount } : {});
    if (!checked.ok) {
      this.post({
        type: 'reportError',
        message: `rejected a message from the extension: ${checked.reason}`.slice(0, 4000),
      });
      if (isRecord(data) && data['type'] === 'closure') {
        this.showStatus(
          'error',
          `The sunburst could not show this closure: the extension sent a damaged payload (${checked.reason}).`,
          'Run "Show closure" again.',
        );
      }
      return;
    }
    const m = checked.value;
    try {
      switch (m.type) {
        case 'loading':
          this.title = m.title;
          if (m.target) this.persist({ title: m.title, target: m.target });
          this.showStatus('loading', m.message);
          return;
        case 'error':
          this.showStatus('error', m.message, m.fix);
          return;
        case 'closure':
          this.loadClosure(m, receivedAt).catch((e: unknown) => {
            this.reportError(e);
            this.showStatus(
              'error',
              `The sunburst could not show this closure: ${e instanceof Error ? e.message : String(e)}`,
            );
          });
          return;
        case 'preview':
          if (!this.model && !this.chart && previewApplies(this.state)) void this.showPreview(m, receivedAt);
          return;
        case 'attribution':
          if (this.model) {
            this.model.attribution = m.attribution;
            this.table?.refresh();
            this.side.render();
            renderFooter(this);
          }
          return;
        case 'select': {
          const i = this.model?.indexOf(m.path);
          if (i !== undefined) this.select(i, { zoom: 'reveal', focus: false });
          return;
        }
        case 'settings':
          this.settings = m.settings;
          if (this.model) this.redraw(false);
          return;
        case 'preciseResult':
          if (this.model) showPreciseResult(this, m);
          return;
        default:
          return;
      }
    } catch (e) {
      this.reportError(e);
      this.showStatus(
        'error',
        `The sunburst could not show this closure: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private reportError(e: unknown): void {
    const message = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    this.vscode.postMessage({ type: 'reportError', message: message.slice(0, 4000) });
  }

  post(m: WebviewToHost): void {
    this.vscode.postMessage(m);
  }

  persist(patch: Partial<Omit<WebviewState, 'v'>>): void {
    const next = { ...this.state, ...patch } as Record<string, unknown>;
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    this.state = next as unknown as WebviewState;
    this.vscode.setState(this.state);
  }

  // ------------------------------------------------------------------------------------------------ loading

  private showStatus(kind: StatusKind, message: string, fix?: string): void {
    if (this.model && kind !== 'error') return; // a refresh in progress: keep showing the old closure
    renderStatus(byId('app'), kind, message, fix);
    this.previewMarks = [];
    this.chart?.dispose();
    this.chart = undefined;
    this.model = undefined;
  }

  private async loadClosure(m: Extract<HostToWebview, { type: 'closure' }>, receivedAt: number): Promise<void> {
    const marks = new FirstDrawMarks(receivedAt, this.previewMarks);
    marks.mark('script');
    // The preview's page and chart stay: the closure is drawn into them (same arcs, so nothing moves).
    const reuse = this.previewMarks.length > 0 && this.chart !== undefined;
    this.previewMarks = [];
    if (!reuse) this.chart?.dispose();
    this.title = m.title;
    this.settings = m.settings;
    const model = new ClosureModel(m.snapshot);
    this.model = model;
    marks.mark('model');
    this.persist({ title: m.title, target: m.target });
    if (!reuse) {
      this.buildPage();
      await this.splitSettled();
    }
    // A turn for input between taking the payload in and drawing it (each is tens of ms on 100,000 paths).
    await new Promise((r) => setTimeout(r, 0));
    if (this.model !== model) return;
    marks.mark('page');
    // Restore what the user was looking at, where those paths still exist.
    const zoom = this.state.zoom !== undefined ? model.indexOf(this.state.zoom) : undefined;
    const sel = this.state.selected !== undefined ? model.indexOf(this.state.selected) : undefined;
    this.selected = sel ?? -1;
    this.chart!.draw(this.chartModel(), zoom ?? 0, false);
    this.chart!.setSelected(this.selected);
    this.renderCrumbs();
    renderFooter(this);
    marks.drawn(
      this.chart!.drawnArcs.length,
      () => this.model === model,
      (m) => this.post(m),
    );
    // Everything below needs the whole graph or all names: when the page is idle, after the first paint.
    const rest = () => {
      if (this.model !== model) return;
      // Every path's category (legend) and the graph (why-chains, search, referrers) in slices, not on the first click.
      runInSlices(model.prepareSteps()).then(
        () => {
          if (this.model !== model) return;
          this.legend.render();
          this.side.render();
          if (this.state.view === 'table') this.table?.refresh();
          if (this.state.search) this.search.run(this.state.search);
        },
        (e: unknown) => this.reportError(e),
      );
    };
    requestIdleCallback(rest, { timeout: 300 }); // Chromium (VS Code and the tests) has it
  }

  private previewMarks: { name: DrawMark['name']; at: number }[] = []; // for the closure's `drawn` report
  /** Draws the preview; the closure that follows takes over its page (loadClosure). */
  private async showPreview(m: Extract<HostToWebview, { type: 'preview' }>, receivedAt: number): Promise<void> {
    this.previewMarks = [{ name: 'preview arrived', at: receivedAt }];
    this.title = m.title;
    this.settings = m.settings;
    const preview = new PreviewModel(m.preview);
    this.buildPage();
    await this.splitSettled();
    if (this.model || !this.chart) return; // the closure came first after all
    // The footer, crumbs and legend first, as the closure will have them: the chart is sized once, and keeps it.
    byId('footer').textContent = footerText(preview.pathCount, this.size(preview.tree.size[0]!));
    renderCrumbs({ title: this.title, selected: -1, tree: preview.tree, model: preview }, 0, () => undefined);
    this.legend.render(m.preview.categoryTotals);
    this.chart.draw(this.chartModel(preview, preview.tree), 0, false);
    const marks = this.previewMarks;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => marks.push({ name: 'preview painted', at: performance.now() })),
    );
  }

  /** The split layout sizes its panes in its first updates; the chart's size (and so which arcs are drawn) needs them. */
  private async splitSettled(): Promise<void> {
    const split = document.getElementById('split') as (HTMLElement & { updateComplete?: Promise<boolean> }) | null;
    for (let k = 0; k < 4 && split?.updateComplete && !(await split.updateComplete); k++);
  }

  private buildPage(): void {
    const app = byId('app');
    app.className = 'ready';
    clear(app);
    const chartPane = h(
      'div',
      { id: 'chart-pane', slot: 'start' },
      h(
        'div',
        { id: 'chart-grid' },
        h('div', { id: 'legend', role: 'list', 'aria-label': 'Colors' }),
        h('div', { id: 'chart-host' }),
        this.buildTable(),
        h('div', { id: 'footer' }),
      ),
      h('div', { id: 'tooltip', role: 'tooltip', hidden: true }),
    );
    app.append(
      buildToolbar(this.state, {
        setMode: (mode) => this.model && this.setMode(mode),
        setView: (view) => this.model && this.setView(view),
        search: (q) => this.search.run(q),
        searchEnter: () => {
          const first = this.search.matchList[0];
          if (first !== undefined) this.select(first, { zoom: 'reveal', focus: true });
        },
      }),
      h(
        'vscode-split-layout',
        { id: 'split', split: 'vertical', 'initial-handle-position': '64%', 'min-start': '260px', 'min-end': '220px' },
        chartPane,
        h('aside', { id: 'side', slot: 'end', 'aria-label': 'Details' }),
      ),
    );
    this.chart = new SunburstChart(
      byId('chart-host'),
      {
        activate: (node) => this.select(node, { zoom: 'into', focus: false }),
        activateMore: (arc) => {
          this.side.moreArc = arc;
          this.side.render();
        },
        zoomOut: () => this.model && this.zoomOut(),
        hover: (arc, x, y) => showTooltip(this, arc, x, y),
      },
      { ...DEFAULT_LAYOUT, maxArcs: this.settings.maxArcs },
    );
    document.getElementById('chart-pane')!.classList.toggle('table-mode', this.state.view === 'table');
    this.followWidth();
    this.chart.onRedraw = () => {
      this.chart?.setSelected(this.selected);
      this.applySearchHighlight();
    };
  }

  // --------------------------------------------------------------------------------------------- the chart

  get tree(): ViewTree {
    return this.model!.tree(this.state.mode);
  }

  private chartModel(model: ChartSource = this.model!, tree: ViewTree = this.tree): ChartModel {
    const fmt = (n: number) => this.size(n, tree.countsPaths);
    const total = () => tree.size[this.chart?.centerNode ?? 0]!;
    return {
      tree,
      label: (i) => model.label(i),
      labelParts: (i) => labelParts(model.label(i), model.parsedName(i).pname),
      category: (i) => model.category(i),
      sizeText: (i) => fmt(tree.size[i]!),
      selfText: (i) => (tree.own[i]! > 0 && tree.own[i]! < tree.size[i]! ? `${fmt(tree.own[i]!)} itself` : ''),
      describe: (a) => {
        const pct = total() > 0 ? ` (${((100 * a.value) / total()).toFixed(1)}%)` : '';
        if (a.node < 0) return `${a.moreCount} more paths, ${fmt(a.value)}${pct}`;
        return `${model.label(a.node)}, ${this.state.mode === 'dominator' ? 'retained' : 'subtree'} ${fmt(a.value)}${pct}`;
      },
    };
  }

  size(n: number, countsPaths = false): string {
    if (countsPaths) return `${n} path${n === 1 ? '' : 's'}`;
    return formatBytes(n, this.settings.sizeStyle);
  }

  private redraw(animate: boolean, center = this.chart?.centerNode ?? 0): void {
    if (!this.chart || !this.model) return;
    this.chart.setLayoutOptions({ ...DEFAULT_LAYOUT, maxArcs: this.settings.maxArcs });
    this.chart.draw(this.chartModel(), center, animate);
    this.chart.setSelected(this.selected);
    this.persist({ zoom: center === 0 ? undefined : this.model.path(center) });
    this.renderCrumbs();
    this.applySearchHighlight();
    // Which matches are drawn changed with the centre; the side pane's list says so.
    if (this.state.search) this.side.render();
  }

  zoomTo(center: number): void {
    if (!this.chart) return;
    const tree = this.tree;
    const node =
      tree.childOffsets[center + 1]! > tree.childOffsets[center]! ? center : Math.max(0, tree.parent[center]!);
    if (node === this.chart.centerNode) return;
    this.redraw(true, node);
  }

  private zoomOut(): void {
    if (!this.chart) return;
    const p = this.tree.parent[this.chart.centerNode]!;
    if (p >= 0) this.redraw(true, p);
  }

  private followWidth(): void {
    this.widthObserver?.disconnect();
    this.widthObserver = followWidth(byId('app'), byId('split') as SplitLayout);
  }

  private buildTable(): HTMLElement {
    this.table = new PathTable(this, this.search, {
      why: (node) => {
        this.select(node, { zoom: 'reveal', focus: false });
        const why = document.getElementById('why');
        why?.scrollIntoView({ block: 'nearest' });
        why?.querySelector<HTMLElement>('.step.target, .step')?.focus();
      },
      focusSearch: () => document.getElementById('search')?.focus(),
    });
    return this.table.element;
  }

  private setView(view: MainView): void {
    this.persist({ view: view === 'table' ? 'table' : undefined });
    this.showView();
  }

  /** Shows the chart or the table in the main pane, as the state says. */
  private showView(): void {
    const table = this.state.view === 'table';
    document.getElementById('chart-pane')?.classList.toggle('table-mode', table);
    if (table) {
      document.getElementById('tooltip')?.setAttribute('hidden', '');
      this.table?.refresh();
    }
  }

  private setMode(mode: TreeMode): void {
    if (mode === this.state.mode) return;
    this.persist({ mode });
    // The centre keeps its meaning in both trees (it is the same path), so stay there.
    this.redraw(false);
    this.side.render();
  }

  /**
   * Selects a path. `into`: zoom into it when it has children (a click on an arc). `reveal`: make sure it is
   * drawn, centring on its parent if needed (from search, chains, the sidebar).
   */
  select(node: number, how: SelectHow): void {
    const model = this.model;
    if (!model || !this.chart) return;
    this.selected = node;
    this.side.moreArc = undefined;
    this.persist({ selected: model.isVirtual(node) ? undefined : model.path(node) });
    if (!model.isVirtual(node)) this.post({ type: 'selected', path: model.path(node) });
    if (how.zoom === 'into') this.zoomTo(node);
    else if (how.zoom === 'reveal') {
      const drawn = this.chart.drawnArcs.some((a) => a.node === node) || this.chart.centerNode === node;
      if (!drawn) this.redraw(true, Math.max(0, this.tree.parent[node]!));
    }
    this.chart.setSelected(node);
    if (this.state.view === 'table') this.table?.setSelected(node);
    if (how.focus) this.chart.focusNode(node);
    this.renderCrumbs();
    this.side.render();
  }

  private renderCrumbs(): void {
    if (!this.chart) return;
    renderCrumbs(this, this.chart.centerNode, (i) => {
      this.redraw(true, i);
      this.select(i, { zoom: 'none', focus: false });
    });
  }

  isDrawn(node: number): boolean {
    return this.chart?.isDrawn(node) ?? false;
  }

  /**
   * When no match is drawn, zooms to the matches' lowest common ancestor below the centre, so that matches
   * deeper than the drawn rings get drawn; matches spread wider stay listed in the side pane with a jump.
   */
  private openRingsToMatches(): void {
    const chart = this.chart;
    const found = this.search.matchList;
    if (!chart || !this.model || found.length === 0 || this.state.view === 'table') return;
    if (found.some((i) => chart.isDrawn(i))) return;
    const tree = this.tree;
    const depth = (v: number) => {
      let d = 0;
      for (let p = tree.parent[v]!; p >= 0; p = tree.parent[p]!) d++;
      return d;
    };
    let lca = found[0]!;
    let lcaDepth = depth(lca);
    for (const i of found.slice(1)) {
      let v = i;
      let dv = depth(v);
      for (; dv > lcaDepth; dv--) v = tree.parent[v]!;
      for (; lcaDepth > dv; lcaDepth--) lca = tree.parent[lca]!;
      for (; v !== lca; lcaDepth--) {
        v = tree.parent[v]!;
        lca = tree.parent[lca]!;
      }
      if (lca <= 0) return;
    }
    // A lone match is drawn as an arc around its parent, not as the centre.
    const center = found.length === 1 || this.search.filter![lca] === 1 ? Math.max(0, tree.parent[lca]!) : lca;
    const below = ancestry(tree, center).includes(chart.centerNode);
    if (below && center !== chart.centerNode) this.redraw(true, center);
  }

  private applySearchHighlight(): void {
    if (!this.chart || !this.model) return;
    this.chart.setHighlight(this.search.highlight(this.legend.focus));
  }
}
