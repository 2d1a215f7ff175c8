/**
 * The why-graph drawn: an SVG of the layout in chart/whyGraphLayout.ts (root on top, the selected path at the
 * bottom, each node once, the subgraph's edges). A node hovered or focused lights its edges and lists, below the
 * drawing, the references that lead to it with each one's cause from the option attribution (those the user's own
 * lines cause first) and a Precise button for that one edge; an edge hovered shows its own. Every node is a tab stop; arrows
 * move within a layer (left, right) and between layers (up, down, to the nearest node); Enter or a click selects
 * the path in the sunburst, or unfolds a "+N more".
 */
import { select } from 'd3-selection';
import type { WhyGraph } from '../../src/shared/analysis/whyGraph';
import { CATEGORIES } from '../../src/shared/categories';
import {
  defaultShown,
  EXPAND_STEP,
  layoutWhyGraph,
  longestPathLayers,
  NODE_HEIGHT,
  NODE_WIDTH,
  rankedLayers,
  type DrawnNode,
  type WhyGraphDrawing,
} from '../chart/whyGraphLayout';
import { clear, h } from '../dom';
import type { Page } from '../page';
import { edgeCause, edgeView } from './whyGraphEdges';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Referrers listed for a node in the detail below the drawing; the rest are counted. */
const REFERRERS_LISTED = 8;
/** Referrers whose cause is looked up to bring the user's own lines first (the most chains through first). */
const REFERRERS_RANKED = 64;
/** Characters of a label that fit a node box at 12px. */
const LABEL_CHARS = 18;

/**
 * How far each layer is unfolded, per closure model and drawn path: the side pane is rebuilt whenever something
 * arrives (option attribution, measured costs), and a layer the user unfolded stays unfolded.
 */
const unfolded = new WeakMap<object, Map<number, number[]>>();

function shownPerLayer(model: object, to: number, layers: number): number[] {
  const byPath = unfolded.get(model) ?? unfolded.set(model, new Map()).get(model)!;
  let shown = byPath.get(to);
  if (shown?.length !== layers) byPath.set(to, (shown = Array.from({ length: layers }, () => defaultShown(layers))));
  return shown;
}

export function whyGraphDrawing(page: Page, wg: WhyGraph): HTMLElement {
  const model = page.model!;
  const isVirtual = (v: number) => model.isVirtual(v);
  const layerOf = longestPathLayers(wg, isVirtual);
  const ranked = rankedLayers(wg, layerOf);
  const shown = shownPerLayer(model, wg.to, ranked.length);
  const through = new Map<number, number>();
  wg.nodes.forEach((v, k) => through.set(v, wg.chainsThroughLog2[k]!));
  // referrers of each node inside the subgraph, most chains through first
  const referrersOf = new Map<number, number[]>();
  for (let e = 0; e < wg.edges.length; e += 2) {
    const u = wg.edges[e]!;
    const v = wg.edges[e + 1]!;
    if (isVirtual(u)) continue;
    (referrersOf.get(v) ?? referrersOf.set(v, []).get(v)!).push(u);
  }
  for (const rs of referrersOf.values()) rs.sort((a, b) => through.get(b)! - through.get(a)! || a - b);

  const scroller = h('div', { class: 'why-graph-scroll' });
  const detail = h('div', { class: 'why-graph-detail', 'aria-live': 'polite' });
  const box = h('div', { class: 'why-graph-drawing' }, scroller, detail);
  let drawing: WhyGraphDrawing;

  const showNode = (v: number) => {
    clear(detail);
    const rs = referrersOf.get(v) ?? [];
    detail.dataset['node'] = String(v);
    detail.append(h('div', { class: 'why-graph-detail-title' }, model.label(v)));
    if (rs.length === 0) {
      detail.append(h('p', { class: 'muted' }, v === wg.from ? 'The root.' : 'A root of the closure.'));
      return;
    }
    detail.append(
      h(
        'p',
        { class: 'muted' },
        `Referred to by ${rs.length.toLocaleString('en-US')} path${rs.length === 1 ? '' : 's'} of the graph:`,
      ),
    );
    const list = h('ul', { class: 'why-graph-referrers' });
    // references the user's own line causes first, then by chains through (a stable sort keeps that order)
    const own = new Map(
      rs.slice(0, REFERRERS_RANKED).map((u) => [u, edgeCause(model, u, v).definition?.inWorkspace ? 0 : 1]),
    );
    const ranked = [...own.keys()].sort((a, b) => own.get(a)! - own.get(b)!);
    for (const u of ranked.slice(0, REFERRERS_LISTED)) list.append(h('li', {}, edgeView(page, u, v)));
    detail.append(list);
    if (rs.length > REFERRERS_LISTED)
      detail.append(
        h('p', { class: 'muted' }, `${(rs.length - REFERRERS_LISTED).toLocaleString('en-US')} more referrers.`),
      );
  };
  const showEdge = (u: number, v: number) => {
    clear(detail);
    detail.dataset['node'] = '';
    detail.append(h('div', {}, edgeView(page, u, v)));
  };

  const draw = (focusKey?: string) => {
    drawing = layoutWhyGraph(wg, ranked, shown);
    clear(scroller);
    const svg = select(scroller)
      .append('svg')
      .attr('class', 'why-graph-svg')
      .attr('width', drawing.width)
      .attr('height', drawing.height)
      .attr('viewBox', `0 0 ${drawing.width} ${drawing.height}`)
      .attr('role', 'group')
      .attr('aria-label', 'Why-graph: the root on top, this path at the bottom');
    const edgeLayer = svg.append('g').attr('class', 'wg-edges');
    for (const e of drawing.edges) {
      const x1 = e.from.x + NODE_WIDTH / 2;
      const y1 = e.from.y + NODE_HEIGHT;
      const x2 = e.to.x + NODE_WIDTH / 2;
      const y2 = e.to.y;
      const mid = (y1 + y2) / 2;
      const d = `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`;
      const from = e.from.node >= 0 ? String(e.from.node) : e.from.key;
      const to = e.to.node >= 0 ? String(e.to.node) : e.to.key;
      const g = edgeLayer.append('g').attr('class', 'wg-edge-group').attr('data-from', from).attr('data-to', to);
      g.append('path')
        .attr('class', e.real ? 'wg-edge' : 'wg-edge folded')
        .attr('d', d);
      const hit = g.append('path').attr('class', 'wg-edge-hit').attr('d', d);
      if (e.real) {
        const u = e.from.node;
        const v = e.to.node;
        hit.append('title').text(`${model.label(u)} → ${model.label(v)}: ${edgeCause(model, u, v).text}`);
        hit.on('mouseenter', () => showEdge(u, v)).on('click', () => showEdge(u, v));
      }
    }
    const nodeLayer = svg.append('g').attr('class', 'wg-nodes');
    for (const n of drawing.nodes) drawNode(nodeLayer.node()!, n);
    if (focusKey) (scroller.querySelector(`[data-key="${focusKey}"]`) as SVGGElement | null)?.focus();
  };

  const light = (n: DrawnNode, on: boolean) => {
    const id = n.node >= 0 ? String(n.node) : n.key;
    scroller
      .querySelectorAll(`.wg-edge-group[data-from="${id}"], .wg-edge-group[data-to="${id}"]`)
      .forEach((e) => e.classList.toggle('lit', on));
  };

  const expand = (n: DrawnNode) => {
    const before = shown[n.layer]!;
    shown[n.layer] = Math.min(ranked[n.layer]!.length, before + EXPAND_STEP);
    // focus stays in the layer: on the first path the click unfolded
    draw(`n${ranked[n.layer]![before]}`);
  };

  const activate = (n: DrawnNode) => {
    if (n.node < 0) expand(n);
    else page.select(n.node, { zoom: 'reveal', focus: false });
  };

  const move = (n: DrawnNode, key: string): DrawnNode | undefined => {
    const row = drawing.layers[n.layer]!;
    if (key === 'ArrowLeft') return row[n.slot - 1];
    if (key === 'ArrowRight') return row[n.slot + 1];
    if (key === 'Home') return row[0];
    if (key === 'End') return row[row.length - 1];
    const other = drawing.layers[n.layer + (key === 'ArrowDown' ? 1 : -1)];
    if (!other) return undefined;
    return other.reduce((best, m) => (Math.abs(m.x - n.x) < Math.abs(best.x - n.x) ? m : best));
  };

  function drawNode(parent: SVGGElement, n: DrawnNode): void {
    const g = document.createElementNS(SVG_NS, 'g');
    const folded = n.node < 0;
    g.setAttribute('class', folded ? 'wg-more' : `wg-node${n.node === wg.to ? ' target' : ''}`);
    g.setAttribute('transform', `translate(${n.x},${n.y})`);
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'button');
    g.setAttribute('data-key', n.key);
    g.setAttribute('data-layer', String(n.layer));
    const rect = document.createElementNS(SVG_NS, 'rect');
    rect.setAttribute('width', String(NODE_WIDTH));
    rect.setAttribute('height', String(NODE_HEIGHT));
    rect.setAttribute('rx', '4');
    const text = document.createElementNS(SVG_NS, 'text');
    text.setAttribute('x', String(NODE_WIDTH / 2));
    text.setAttribute('y', String(NODE_HEIGHT / 2));
    const title = document.createElementNS(SVG_NS, 'title');
    if (folded) {
      g.setAttribute('data-hidden', String(n.hidden));
      const label = `+${n.hidden.toLocaleString('en-US')} more`;
      text.textContent = label;
      g.setAttribute(
        'aria-label',
        `${label} paths in layer ${n.layer}; press Enter to show ${Math.min(EXPAND_STEP, n.hidden)} more`,
      );
      title.textContent = `${n.hidden} more paths in this layer, fewer chains through each`;
    } else {
      const v = n.node;
      g.setAttribute('data-node', String(v));
      const bar = document.createElementNS(SVG_NS, 'rect');
      bar.setAttribute('class', `wg-cat cat-${CATEGORIES[model.category(v)]!.id}`);
      bar.setAttribute('width', '4');
      bar.setAttribute('height', String(NODE_HEIGHT));
      g.append(bar);
      const label = v === 0 && model.isVirtual(0) ? page.title || '(roots)' : model.label(v);
      text.textContent = label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label;
      g.setAttribute('aria-label', `${label}, layer ${n.layer}`);
      title.textContent = model.path(v);
    }
    g.prepend(title, rect);
    g.append(text);
    g.addEventListener('click', () => activate(n));
    g.addEventListener('mouseenter', () => {
      light(n, true);
      if (!folded) showNode(n.node);
    });
    g.addEventListener('mouseleave', () => light(n, false));
    g.addEventListener('focus', () => {
      light(n, true);
      if (!folded) showNode(n.node);
    });
    g.addEventListener('blur', () => light(n, false));
    g.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        activate(n);
        return;
      }
      if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End'].includes(e.key)) return;
      e.preventDefault();
      const next = move(n, e.key);
      if (next) (scroller.querySelector(`[data-key="${next.key}"]`) as SVGGElement | null)?.focus();
    });
    parent.append(g);
  }

  draw();
  showNode(wg.to);
  return box;
}
