/**
 * The sunburst page: toolbar (breadcrumbs, tree toggle, search), the chart with its legend and tooltip, and the
 * side pane (the selected path, its actions, the why-chains with their option definitions, search results).
 * State that should survive hiding and reloads goes through `persist()`.
 */
import '@vscode-elements/elements/dist/vscode-split-layout/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { formatBytes } from '../src/shared/format';
import {
  DEFAULT_VIEW_SETTINGS,
  isRecord,
  parseHostMessage,
  parseWebviewState,
  type HostToWebview,
  type OptionDefinition,
  type TreeMode,
  type ViewSettings,
  type WebviewState,
  type WebviewToHost,
} from '../src/shared/protocol';
import { CATEGORIES } from './categories';
import { byId, clear, h } from './dom';
import { DEFAULT_LAYOUT, type Arc } from './layout';
import { ClosureModel } from './model';
import { runInSlices } from '../src/shared/slices';
import { ellipsize, SunburstChart, type ChartModel } from './sunburst';
import { ancestry, children as treeChildren, type ViewTree } from './viewTree';

export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: WebviewState): void;
}

/** Chains computed for the why panel; the rest are counted, not listed. */
const CHAIN_LIMIT = 50;
const SEARCH_LIST_LIMIT = 300;
const MORE_LIST_LIMIT = 300;

export class App {
  private state: WebviewState;
  private settings: ViewSettings = DEFAULT_VIEW_SETTINGS;
  private model: ClosureModel | undefined;
  private chart: SunburstChart | undefined;
  private title = '';
  private selected = -1;
  private matches: Uint8Array | null = null;
  private containsMatch: Uint8Array | null = null;
  private matchList: number[] = [];
  private legendFocus = -1;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  private moreArc: Arc | undefined;

  constructor(private readonly vscode: VsCodeApi) {
    this.state = parseWebviewState(vscode.getState());
    this.title = this.state.title ?? '';
  }

  start(): void {
    window.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    window.addEventListener('error', (e) => this.reportError(e.error ?? e.message));
    window.addEventListener('unhandledrejection', (e) => this.reportError(e.reason));
    this.showStatus('loading', this.title ? `Loading ${this.title}…` : 'Waiting for the closure…');
    this.vscode.postMessage({ type: 'ready' });
  }

  // ----------------------------------------------------------------------------------------------- messages

  private receive(data: unknown): void {
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
          this.loadClosure(m).catch((e: unknown) => {
            this.reportError(e);
            this.showStatus(
              'error',
              `The sunburst could not show this closure: ${e instanceof Error ? e.message : String(e)}`,
            );
          });
          return;
        case 'attribution':
          if (this.model) {
            this.model.attribution = m.attribution;
            this.renderSide();
            this.renderFooter();
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

  private post(m: WebviewToHost): void {
    this.vscode.postMessage(m);
  }

  private persist(patch: Partial<Omit<WebviewState, 'v'>>): void {
    const next = { ...this.state, ...patch } as Record<string, unknown>;
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    this.state = next as unknown as WebviewState;
    this.vscode.setState(this.state);
  }

  // ------------------------------------------------------------------------------------------------ loading

  private showStatus(kind: 'loading' | 'error', message: string, fix?: string): void {
    const app = byId('app');
    if (this.model && kind === 'loading') return; // a refresh in progress: keep showing the old closure
    app.className = kind;
    clear(app);
    app.append(
      h(
        'div',
        { class: 'status', role: kind === 'error' ? 'alert' : 'status', 'aria-live': 'polite', id: 'status' },
        kind === 'loading'
          ? h('vscode-progress-ring', { 'aria-hidden': 'true' })
          : h('vscode-icon', { name: 'error', size: 24 }),
        h('p', { class: 'status-message' }, message),
        fix ? h('p', { class: 'status-fix' }, fix) : null,
      ),
    );
    this.chart?.dispose();
    this.chart = undefined;
    this.model = undefined;
  }

  private async loadClosure(m: Extract<HostToWebview, { type: 'closure' }>): Promise<void> {
    const t0 = performance.now();
    this.chart?.dispose();
    this.title = m.title;
    this.settings = m.settings;
    const model = new ClosureModel(m.snapshot);
    this.model = model;
    this.persist({ title: m.title, target: m.target });
    this.buildPage();
    // The split layout sizes its panes in its first updates; the chart's size (and so which arcs are wide
    // enough to draw) depends on that.
    const split = document.getElementById('split') as (HTMLElement & { updateComplete?: Promise<boolean> }) | null;
    for (let k = 0; k < 4 && split?.updateComplete && !(await split.updateComplete); k++);
    // A turn for input between taking the payload in and drawing it (each is tens of ms on 100,000 paths).
    await new Promise((r) => setTimeout(r, 0));
    if (this.model !== model) return;
    // Restore what the user was looking at, where those paths still exist.
    const zoom = this.state.zoom !== undefined ? model.indexOf(this.state.zoom) : undefined;
    const sel = this.state.selected !== undefined ? model.indexOf(this.state.selected) : undefined;
    this.selected = sel ?? -1;
    this.chart!.draw(this.chartModel(), zoom ?? 0, false);
    this.chart!.setSelected(this.selected);
    const drawnMs = performance.now() - t0;
    this.renderCrumbs();
    this.renderFooter();
    document.body.dataset['drawn'] = String(Number(document.body.dataset['drawn'] ?? '0') + 1);
    window.dispatchEvent(
      new CustomEvent('closurelens:drawn', { detail: { ms: drawnMs, arcs: this.chart!.drawnArcs.length } }),
    );
    // Everything below needs the whole graph or all names: when the page is idle, after the first paint.
    const rest = () => {
      if (this.model !== model) return;
      // Every path's category (legend) and the graph (why-chains, search, referrers) in slices, not on the first click.
      runInSlices(model.prepareSteps()).then(
        () => {
          if (this.model !== model) return;
          this.renderLegend();
          this.renderSide();
          if (this.state.search) this.runSearch(this.state.search);
        },
        (e: unknown) => this.reportError(e),
      );
    };
    if (typeof requestIdleCallback === 'function') requestIdleCallback(rest, { timeout: 300 });
    else setTimeout(rest, 50);
  }

  private buildPage(): void {
    const app = byId('app');
    app.className = 'ready';
    clear(app);
    const modeGroup = h(
      'vscode-radio-group',
      { id: 'mode', 'aria-label': 'Tree' },
      h(
        'vscode-radio',
        { name: 'mode', value: 'dominator', label: 'Dominator tree', checked: this.state.mode === 'dominator' },
        'Dominator tree',
      ),
      h(
        'vscode-radio',
        { name: 'mode', value: 'chain', label: 'Shortest chains', checked: this.state.mode === 'chain' },
        'Shortest chains',
      ),
    );
    modeGroup.addEventListener('change', (e) => {
      const v = (e.target as HTMLInputElement).value;
      if (v === 'dominator' || v === 'chain') this.setMode(v);
    });
    const search = h('vscode-textfield', {
      id: 'search',
      placeholder: 'Search name or /regex/',
      label: 'Search paths by name or /regex/',
      value: this.state.search ?? '',
    });
    search.append(h('vscode-icon', { slot: 'content-before', name: 'search', title: 'search' }));
    search.addEventListener('input', () => {
      const q = search.value;
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.runSearch(q), 120);
    });
    search.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Escape') {
        search.value = '';
        this.runSearch('');
      }
      if ((e as KeyboardEvent).key === 'Enter' && this.matchList.length > 0)
        this.select(this.matchList[0]!, { zoom: 'reveal', focus: true });
    });
    const chartPane = h(
      'div',
      { id: 'chart-pane', slot: 'start' },
      h('div', { id: 'chart-host' }),
      h('div', { id: 'legend', role: 'list', 'aria-label': 'Colors' }),
      h('div', { id: 'tooltip', role: 'tooltip', hidden: true }),
      h('div', { id: 'footer' }),
    );
    app.append(
      h(
        'header',
        { id: 'toolbar' },
        h('nav', { id: 'crumbs', 'aria-label': 'Breadcrumbs' }),
        h(
          'div',
          { class: 'tools' },
          modeGroup,
          search,
          h('vscode-badge', { id: 'search-count', variant: 'counter', hidden: true }),
        ),
      ),
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
        activateMore: (arc) => this.showMore(arc),
        zoomOut: () => this.zoomOut(),
        hover: (arc, x, y) => this.tooltip(arc, x, y),
      },
      { ...DEFAULT_LAYOUT, maxArcs: this.settings.maxArcs },
    );
    this.chart.onRedraw = () => {
      this.chart?.setSelected(this.selected);
      this.applySearchHighlight();
    };
  }

  // --------------------------------------------------------------------------------------------- the chart

  private get tree(): ViewTree {
    return this.model!.tree(this.state.mode);
  }

  private chartModel(): ChartModel {
    const model = this.model!;
    const tree = this.tree;
    const fmt = (n: number) => this.size(n, tree.countsPaths);
    const total = () => tree.size[this.chart?.centerNode ?? 0]!;
    return {
      tree,
      label: (i) => model.label(i),
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

  private size(n: number, countsPaths = false): string {
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
  }

  private zoomTo(center: number): void {
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

  private setMode(mode: TreeMode): void {
    if (mode === this.state.mode) return;
    this.persist({ mode });
    // The centre keeps its meaning in both trees (it is the same path), so stay there.
    this.redraw(false);
    this.renderSide();
  }

  /**
   * Selects a path. `into`: zoom into it when it has children (a click on an arc). `reveal`: make sure it is
   * drawn, centring on its parent if needed (from search, chains, the sidebar).
   */
  private select(node: number, how: { zoom: 'into' | 'reveal' | 'none'; focus: boolean }): void {
    const model = this.model;
    if (!model || !this.chart) return;
    this.selected = node;
    this.moreArc = undefined;
    this.persist({ selected: model.isVirtual(node) ? undefined : model.path(node) });
    if (!model.isVirtual(node)) this.post({ type: 'selected', path: model.path(node) });
    if (how.zoom === 'into') this.zoomTo(node);
    else if (how.zoom === 'reveal') {
      const drawn = this.chart.drawnArcs.some((a) => a.node === node) || this.chart.centerNode === node;
      if (!drawn) this.redraw(true, Math.max(0, this.tree.parent[node]!));
    }
    this.chart.setSelected(node);
    if (how.focus) this.chart.focusNode(node);
    this.renderCrumbs();
    this.renderSide();
  }

  private renderCrumbs(): void {
    const nav = document.getElementById('crumbs');
    if (!nav || !this.model || !this.chart) return;
    clear(nav);
    const model = this.model;
    const tree = this.tree;
    const center = this.chart.centerNode;
    const end = this.selected >= 0 && ancestry(tree, this.selected).includes(center) ? this.selected : center;
    const chain = ancestry(tree, end);
    const ol = h('ol', {});
    const crumb = (i: number) => {
      const label = i === 0 ? this.title || model.label(0) : model.label(i);
      return h(
        'li',
        {},
        h(
          'button',
          {
            class: `crumb${i === center ? ' current' : ''}${i === this.selected ? ' selected' : ''}`,
            'aria-current': i === center ? 'location' : undefined,
            title: i === 0 ? model.path(0) || label : model.path(i),
            'data-node': i,
            onclick: () => {
              this.redraw(true, i);
              this.select(i, { zoom: 'none', focus: false });
            },
          },
          ellipsize(label, 40),
        ),
      );
    };
    // Long chains keep their ends: the root, an ellipsis that expands, and the last five.
    if (chain.length > 8 && !nav.classList.contains('expanded')) {
      ol.append(crumb(chain[0]!));
      ol.append(
        h(
          'li',
          {},
          h(
            'button',
            {
              class: 'crumb ellipsis',
              title: 'Show the whole path',
              onclick: () => {
                nav.classList.add('expanded');
                this.renderCrumbs();
              },
            },
            '…',
          ),
        ),
      );
      for (const i of chain.slice(-5)) ol.append(crumb(i));
    } else {
      for (const i of chain) ol.append(crumb(i));
    }
    nav.append(ol);
  }

  private tooltip(arc: Arc | null, x: number, y: number): void {
    const tip = document.getElementById('tooltip');
    if (!tip || !this.model) return;
    if (!arc) {
      tip.hidden = true;
      return;
    }
    const model = this.model;
    const tree = this.tree;
    clear(tip);
    if (arc.node < 0) {
      tip.append(
        h('div', { class: 'tip-name' }, `${arc.moreCount} more paths`),
        h(
          'div',
          { class: 'tip-row' },
          `Together ${this.size(arc.value, tree.countsPaths)}, each too small to draw here. Click to list them.`,
        ),
      );
    } else {
      const i = arc.node;
      const p = model.parsedName(i);
      const known = model.sizesKnown;
      const rows: [string, string][] = [];
      if (p.version) rows.push(['Version', p.version]);
      if (p.output) rows.push(['Output', p.output]);
      rows.push(['NAR size', known ? this.size(model.snapshot.narSize[i]!) : 'unknown']);
      rows.push(['Closure size', known ? this.size(model.closureSize(i)) : 'unknown']);
      rows.push([
        'Retained size',
        known ? this.size(model.snapshot.retained[i]!) : `${this.model.tree('dominator').size[i]} paths`,
      ]);
      if (this.state.mode === 'chain') rows.push(['Subtree here', this.size(tree.size[i]!, tree.countsPaths)]);
      rows.push(['Referrers', String(model.referrerCount(i))]);
      tip.append(
        h('div', { class: 'tip-name' }, p.pname || p.name),
        h('div', { class: 'tip-cat' }, CATEGORIES[model.category(i)]!.label),
        h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      );
    }
    tip.hidden = false;
    const pane = byId('chart-pane').getBoundingClientRect();
    const box = tip.getBoundingClientRect();
    let left = x - pane.left + 14;
    let top = y - pane.top + 14;
    if (left + box.width > pane.width - 4) left = x - pane.left - box.width - 14;
    if (top + box.height > pane.height - 4) top = y - pane.top - box.height - 14;
    tip.style.left = `${Math.max(4, left)}px`;
    tip.style.top = `${Math.max(4, top)}px`;
  }

  private renderLegend(): void {
    const legend = document.getElementById('legend');
    if (!legend || !this.model) return;
    clear(legend);
    const totals = this.model.categoryTotals();
    const all = totals.reduce((a, b) => a + b, 0);
    CATEGORIES.forEach((c, k) => {
      if (totals[k] === 0) return;
      const item = h(
        'button',
        {
          class: `legend-item${this.legendFocus === k ? ' active' : ''}`,
          role: 'listitem',
          'aria-pressed': String(this.legendFocus === k),
          title: `Highlight ${c.label.toLowerCase()}`,
          onclick: () => {
            this.legendFocus = this.legendFocus === k ? -1 : k;
            this.renderLegend();
            this.applySearchHighlight();
          },
        },
        h('span', { class: `swatch cat-${c.id}`, 'aria-hidden': 'true' }),
        h('span', { class: 'legend-label' }, c.label),
        h(
          'span',
          { class: 'legend-size' },
          `${this.size(totals[k]!, !this.model!.sizesKnown)} · ${((100 * totals[k]!) / all).toFixed(0)}%`,
        ),
      );
      legend.append(item);
    });
  }

  private renderFooter(): void {
    const f = document.getElementById('footer');
    if (!f || !this.model) return;
    const m = this.model;
    const paths = m.snapshot.hasVirtualRoot ? m.nodeCount - 1 : m.nodeCount;
    const parts = [`${paths.toLocaleString('en-US')} paths`];
    if (m.sizesKnown) parts.push(`${this.size(m.snapshot.retained[0]!)} in total`);
    else parts.push('no sizes in this input: arcs count paths');
    const a = m.attribution;
    if (a)
      parts.push(
        `${a.definitions.length} option definitions${a.evalMs !== undefined ? ` (evaluated in ${(a.evalMs / 1000).toFixed(1)} s)` : ''}`,
      );
    f.textContent = parts.join(' · ');
  }

  // -------------------------------------------------------------------------------------------- side pane

  private renderSide(): void {
    const side = document.getElementById('side');
    if (!side || !this.model) return;
    clear(side);
    if (this.matchList.length > 0 || this.state.search) side.append(this.searchSection());
    if (this.moreArc) side.append(this.moreSection(this.moreArc));
    if (this.selected >= 0) {
      side.append(this.detailsSection(this.selected), this.whySection(this.selected));
    } else if (!this.state.search) {
      side.append(
        h(
          'div',
          { class: 'hint' },
          h('p', {}, 'Each arc is a path; its angle is what removing it would save (its retained size).'),
          h(
            'p',
            {},
            'Click an arc to zoom in and see why it is in the closure. Click the centre or press Escape to zoom out.',
          ),
        ),
      );
    }
  }

  private stepButton(i: number, extra = ''): HTMLElement {
    const model = this.model!;
    return h(
      'button',
      {
        class: `step cat-${CATEGORIES[model.category(i)]!.id}-border ${extra}`.trim(),
        title: model.path(i) || this.title,
        'data-node': i,
        onclick: () => this.select(i, { zoom: 'reveal', focus: false }),
      },
      i === 0 && model.isVirtual(0) ? this.title || '(roots)' : model.label(i),
    );
  }

  private detailsSection(i: number): HTMLElement {
    const model = this.model!;
    const p = model.parsedName(i);
    const known = model.sizesKnown;
    const path = model.path(i);
    const stats: [string, string][] = [
      ['NAR size', known ? this.size(model.snapshot.narSize[i]!) : 'unknown'],
      ['Closure size', known ? this.size(model.closureSize(i)) : 'unknown'],
      ['Retained size', known ? this.size(model.snapshot.retained[i]!) : 'unknown'],
      ['Referrers', String(model.referrerCount(i))],
      ['Distance from root', String(model.snapshot.distance[i])],
    ];
    const actions = model.isVirtual(i)
      ? h('div', {})
      : h(
          'div',
          { class: 'actions', role: 'toolbar', 'aria-label': 'Path actions' },
          h('vscode-toolbar-button', {
            icon: 'copy',
            label: 'Copy store path',
            title: 'Copy store path',
            id: 'act-copy-path',
            onclick: () => this.post({ type: 'copyPath', path }),
          }),
          h('vscode-toolbar-button', {
            icon: 'list-tree',
            label: 'Reveal in sidebar tree',
            title: 'Reveal in sidebar tree',
            id: 'act-reveal',
            onclick: () => this.post({ type: 'revealInTree', path }),
          }),
          h('vscode-toolbar-button', {
            icon: 'terminal',
            label: 'Copy closure-lens why command',
            title: 'Copy `closure-lens why` command',
            id: 'act-why',
            onclick: () => this.post({ type: 'copyWhyCommand', path }),
          }),
          h('vscode-toolbar-button', {
            icon: 'zoom-in',
            label: 'Zoom to this path',
            title: 'Zoom to this path',
            id: 'act-zoom',
            onclick: () => this.zoomTo(i),
          }),
        );
    return h(
      'section',
      { id: 'details', 'aria-label': 'Selected path' },
      h('div', { class: 'details-head' }, h('h2', {}, p.pname || p.name), actions),
      h(
        'div',
        { class: 'details-meta' },
        p.version ? h('vscode-badge', {}, p.version) : null,
        p.output ? h('vscode-badge', {}, p.output) : null,
        h('span', { class: `swatch cat-${CATEGORIES[model.category(i)]!.id}`, 'aria-hidden': 'true' }),
        h('span', { class: 'cat-label' }, CATEGORIES[model.category(i)]!.label),
      ),
      path ? h('div', { class: 'store-path', title: path }, path) : null,
      h('dl', { class: 'stats' }, ...stats.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    );
  }

  private whySection(i: number): HTMLElement {
    const model = this.model!;
    const section = h('section', { id: 'why', 'aria-label': 'Why is this path in the closure' });
    if (i === model.graph.root) {
      section.append(h('h3', {}, 'Why is it here?'), h('p', { class: 'muted' }, 'This is the root of the closure.'));
      return section;
    }
    const set = model.chains(i, CHAIN_LIMIT);
    section.append(h('h3', {}, `Why is ${model.label(i)} here?`));
    if (set.chains.length === 0) {
      section.append(h('p', { class: 'muted' }, 'The root does not reach this path.'));
      return section;
    }
    const shortest = set.chains[0]!;
    section.append(this.chainView(shortest, 'shortest', 0));
    const total = set.totalChains;
    const more = h('vscode-collapsible', {
      id: 'all-chains',
      heading: `All chains`,
      description: total >= Number.MAX_SAFE_INTEGER ? 'too many to count' : `${total.toLocaleString('en-US')} in total`,
      open: this.state.allChains,
    });
    more.addEventListener('vsc-collapsible-toggle', (e) => {
      const open = (e as CustomEvent<{ open: boolean }>).detail?.open ?? (more as unknown as { open: boolean }).open;
      this.persist({ allChains: open });
    });
    const list = h('ol', { class: 'chain-list' });
    set.chains.forEach((c, k) => list.append(h('li', {}, this.chainView(c, 'compact', k))));
    more.append(list);
    if (set.truncated) {
      const left =
        total >= Number.MAX_SAFE_INTEGER
          ? 'More chains'
          : `${(total - set.chains.length).toLocaleString('en-US')} more chains`;
      more.append(
        h('p', { class: 'muted left-out' }, `${left} not shown (the ${set.chains.length} shortest are listed).`),
      );
    }
    section.append(more);
    return section;
  }

  /** One chain: its steps as buttons, and the option definition that introduced it when known. */
  private chainView(chain: readonly number[], style: 'shortest' | 'compact', k: number): HTMLElement {
    const model = this.model!;
    const steps = model.isVirtual(chain[0]!) ? chain.slice(1) : chain;
    const box = h('div', {
      class: `chain ${style}`,
      'data-chain': k,
      'aria-label': `Chain ${k + 1}, ${steps.length} paths`,
    });
    const list = h(style === 'shortest' ? 'ol' : 'div', { class: 'steps' });
    steps.forEach((s, idx) => {
      const btn = this.stepButton(s, s === this.selected ? 'target' : '');
      if (style === 'shortest') list.append(h('li', {}, btn));
      else {
        if (idx > 0) list.append(h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→'));
        list.append(btn);
      }
    });
    box.append(list);
    const defs = model.chainDefinitions(chain);
    if (defs.cause) box.append(this.definitionView(defs.cause, defs.others.length, defs.enabler));
    return box;
  }

  private definitionLink(d: OptionDefinition): HTMLElement {
    return h(
      'a',
      {
        href: '#',
        class: 'definition-link',
        title: d.line !== null ? `${d.file}:${d.line}` : d.file,
        onclick: (e: Event) => {
          e.preventDefault();
          this.post({ type: 'openDefinition', file: d.file, line: d.line });
        },
      },
      `${shortFile(d.file)}${d.line !== null ? `:${d.line}` : ''}`,
    );
  }

  private definitionView(
    d: OptionDefinition & { via: number },
    others: number,
    enabler?: OptionDefinition,
  ): HTMLElement {
    const model = this.model!;
    return h(
      'div',
      { class: `definition${d.inWorkspace ? ' own' : ''}` },
      h('vscode-icon', { name: d.inWorkspace ? 'settings-gear' : 'library', 'aria-hidden': 'true' }),
      h(
        'div',
        { class: 'definition-body' },
        h(
          'div',
          {},
          h('code', { class: 'option' }, d.option),
          d.fromDefault ? ' (its default)' : '',
          ' brings in ',
          h('span', { class: 'via' }, model.label(d.via)),
        ),
        h(
          'div',
          { class: 'definition-meta' },
          this.definitionLink(d),
          d.enabledBy && !enabler ? h('span', {}, ' · enabled by ', h('code', {}, d.enabledBy)) : null,
          h(
            'span',
            { class: 'cost', title: 'bytes that leave the closure when only this definition goes' },
            ` · removing it saves ${this.size(d.removalCost)}`,
          ),
          d.counterfactualCost !== undefined
            ? h(
                'span',
                { class: 'cost', title: 'found by evaluating the configuration without this definition' },
                ` (${this.size(d.counterfactualCost)} evaluated without it)`,
              )
            : null,
          others > 0
            ? h('span', { class: 'muted' }, ` · ${others} more definition${others === 1 ? '' : 's'} on this chain`)
            : null,
        ),
        enabler
          ? h(
              'div',
              { class: 'definition-meta enabler' },
              'module switched on by ',
              h('code', {}, enabler.option),
              ' at ',
              this.definitionLink(enabler),
              enabler.moduleCost ? ` · the module costs ${this.size(enabler.moduleCost.bytes)}` : '',
            )
          : null,
      ),
    );
  }

  private showMore(arc: Arc): void {
    this.moreArc = arc;
    this.renderSide();
  }

  private moreSection(arc: Arc): HTMLElement {
    const model = this.model!;
    const tree = this.tree;
    const kids = treeChildren(tree, arc.parentNode);
    const merged = Array.from(kids.subarray(arc.moreFrom ?? 0));
    const list = h('ol', { class: 'result-list' });
    for (const c of merged.slice(0, MORE_LIST_LIMIT)) {
      list.append(
        h('li', {}, this.stepButton(c), h('span', { class: 'size' }, this.size(tree.size[c]!, tree.countsPaths))),
      );
    }
    return h(
      'section',
      { id: 'more', 'aria-label': 'Merged small arcs' },
      h('h3', {}, `${merged.length} small paths under ${model.label(arc.parentNode)}`),
      h(
        'p',
        { class: 'muted' },
        `Together ${this.size(arc.value, tree.countsPaths)}.${merged.length > MORE_LIST_LIMIT ? ` The ${MORE_LIST_LIMIT} largest are listed.` : ''}`,
      ),
      list,
    );
  }

  // ----------------------------------------------------------------------------------------------- search

  private runSearch(query: string): void {
    const model = this.model;
    if (!model) return;
    const q = query.trim();
    this.persist({ search: q === '' ? undefined : q });
    const field = document.getElementById('search') as (HTMLElement & { invalid?: boolean }) | null;
    if (field) field.invalid = /^\/.+\/i?$/.test(q) && !validRegex(q);
    if (q === '') {
      this.matches = null;
      this.containsMatch = null;
      this.matchList = [];
    } else {
      const found = model.find(q);
      const tree = this.tree;
      const matches = new Uint8Array(model.nodeCount);
      const contains = new Uint8Array(model.nodeCount);
      for (const i of found) {
        matches[i] = 1;
        for (let p = tree.parent[i]!; p >= 0 && !contains[p]; p = tree.parent[p]!) contains[p] = 1;
      }
      this.matches = matches;
      this.containsMatch = contains;
      this.matchList = found.sort((a, b) => model.snapshot.narSize[b]! - model.snapshot.narSize[a]! || a - b);
    }
    const badge = document.getElementById('search-count');
    if (badge) {
      badge.hidden = q === '';
      badge.textContent = String(this.matchList.length);
      badge.setAttribute('aria-label', `${this.matchList.length} matches`);
    }
    this.applySearchHighlight();
    this.renderSide();
  }

  private applySearchHighlight(): void {
    if (!this.chart || !this.model) return;
    const matches = this.matches;
    const contains = this.containsMatch;
    const model = this.model;
    const tree = this.tree;
    const cat = this.legendFocus;
    if (!matches && cat < 0) {
      this.chart.setHighlight(null);
      return;
    }
    const nodeHit = (i: number, hidden: boolean) =>
      matches ? matches[i] === 1 || (hidden && contains![i] === 1) : model.category(i) === cat;
    this.chart.setHighlight((a) => {
      if (a.node >= 0) return nodeHit(a.node, a.hasHiddenChildren);
      const kids = treeChildren(tree, a.parentNode).subarray(a.moreFrom ?? 0);
      for (const c of kids) if (nodeHit(c, true)) return true;
      return false;
    });
  }

  private searchSection(): HTMLElement {
    const model = this.model!;
    const n = this.matchList.length;
    let total = 0;
    for (const i of this.matchList) total += model.snapshot.narSize[i]!;
    const list = h('ol', { class: 'result-list', id: 'search-results' });
    for (const i of this.matchList.slice(0, SEARCH_LIST_LIMIT)) {
      list.append(
        h(
          'li',
          {},
          this.stepButton(i, i === this.selected ? 'target' : ''),
          h('span', { class: 'size' }, model.sizesKnown ? this.size(model.snapshot.narSize[i]!) : ''),
        ),
      );
    }
    const summary =
      n === 0
        ? `No path matches “${this.state.search ?? ''}”.`
        : `${n} match${n === 1 ? '' : 'es'}${model.sizesKnown ? `, ${this.size(total)} together` : ''}${n > SEARCH_LIST_LIMIT ? ` (the ${SEARCH_LIST_LIMIT} largest listed)` : ''}`;
    return h(
      'section',
      { id: 'search-section', 'aria-label': 'Search results' },
      h('h3', {}, 'Search'),
      h('p', { class: 'muted', id: 'search-summary' }, summary),
      list,
    );
  }
}

function validRegex(q: string): boolean {
  const m = /^\/(.+)\/(i?)$/.exec(q);
  if (!m) return false;
  try {
    new RegExp(m[1]!, m[2]);
    return true;
  } catch {
    return false;
  }
}

/** The last two components of a file path: `modules/misc/documentation.nix`. */
function shortFile(file: string): string {
  const parts = file.split('/').filter(Boolean);
  return parts.length <= 3 ? file : `…/${parts.slice(-3).join('/')}`;
}
