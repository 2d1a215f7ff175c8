/**
 * The why-graph of the selected path: every path on some chain from the root, each once. It is drawn
 * (whyGraphDrawing.ts), and listed below the drawing in layers by distance from the root, the accessible
 * alternative: a hub such as glibc has thousands of such paths and more than 2^53 chains, so each layer lists
 * first the paths most chains run through and expands on click; every path is a button that selects it in the
 * sunburst, so the list is walked with Tab and Enter like the chains.
 */
import { TOO_MANY_TO_COUNT, type WhyGraph } from '../../src/shared/analysis/whyGraph';
import { clear, h } from '../dom';
import type { Page } from '../page';
import { pathButton } from './pathButton';
import { whyGraphDrawing } from './whyGraphDrawing';

/** Paths shown per layer before "more". */
export const LAYER_SHOWN = 6;

export function whyGraphSection(page: Page, i: number): HTMLElement {
  const model = page.model!;
  const wg = model.whyGraph(i);
  const layers = layersOf(wg, (v) => model.isVirtual(v));
  const pathCount = layers.reduce((s, l) => s + l.length, 0);
  const edges = wg.edges.length / 2 - (model.isVirtual(wg.from) ? (layers[0]?.length ?? 0) : 0);
  const section = h('vscode-collapsible', {
    id: 'why-graph',
    heading: 'Why-graph',
    description: `${pathCount.toLocaleString('en-US')} paths · ${edges.toLocaleString('en-US')} references · ${countText(wg)}`,
    open: page.state.whyGraph === true,
  });
  section.addEventListener('vsc-collapsible-toggle', (e) => {
    const open = (e as CustomEvent<{ open: boolean }>).detail?.open ?? (section as unknown as { open: boolean }).open;
    page.persist({ whyGraph: open });
  });
  const list = h('ol', {
    class: 'why-layers',
    'aria-label': 'Paths on a chain to this one, by distance from the root',
  });
  layers.forEach((layer, k) => list.append(layerView(page, layer, k, wg)));
  section.append(
    h(
      'p',
      { class: 'muted' },
      'Every path on some chain from the root to this one, each once, and the references between them. ' +
        'In each layer, the paths most chains run through come first; "+N more" shows more.',
    ),
    whyGraphDrawing(page, wg),
    h('details', { class: 'why-graph-list' }, h('summary', {}, 'As a list, by distance from the root'), list),
  );
  return section;
}

function countText(wg: WhyGraph): string {
  if (wg.chainCount === TOO_MANY_TO_COUNT) return 'too many chains to count';
  const c = wg.chainCount;
  return c <= BigInt(Number.MAX_SAFE_INTEGER)
    ? `${Number(c).toLocaleString('en-US')} chain${c === 1n ? '' : 's'}`
    : `about 2^${Math.floor(c.toString(2).length - 1)} chains`;
}

/** Node indices per layer (a virtual root is left out), each layer ordered by chains through, most first. */
export function layersOf(wg: WhyGraph, isVirtual: (v: number) => boolean): number[][] {
  const layers: { node: number; through: number }[][] = [];
  const shift = isVirtual(wg.from) ? 1 : 0;
  wg.nodes.forEach((v, k) => {
    if (isVirtual(v)) return;
    const l = wg.layer[k]! - shift;
    (layers[l] ??= []).push({ node: v, through: wg.chainsThroughLog2[k]! });
  });
  return layers.map((l) => l.sort((a, b) => b.through - a.through || a.node - b.node).map((x) => x.node));
}

function layerView(page: Page, layer: readonly number[], k: number, wg: WhyGraph): HTMLElement {
  const item = h('li', { class: 'why-layer', 'data-layer': k });
  const nodes = h('div', { class: 'why-layer-nodes' });
  const render = (all: boolean) => {
    clear(nodes);
    const shown = all ? layer : layer.slice(0, LAYER_SHOWN);
    for (const v of shown) nodes.append(pathButton(page, v, v === wg.to ? 'target' : ''));
    if (shown.length < layer.length) {
      nodes.append(
        h(
          'button',
          { class: 'why-layer-more', onclick: () => render(true) },
          `${(layer.length - shown.length).toLocaleString('en-US')} more`,
        ),
      );
    }
  };
  render(false);
  item.append(h('span', { class: 'why-layer-label muted' }, `${k}`), nodes);
  return item;
}
