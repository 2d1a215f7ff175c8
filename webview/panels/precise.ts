/**
 * The why panel's "Precise" part: a button that asks the host which files inside each referrer of the shortest
 * chain hold the next path's hash, and the answer listed per edge (file, then the bytes around the hash with the
 * hash highlighted); a hit clicked asks the host to open it.
 */
import type { HostToWebview, PreciseEdge, PreciseHit } from '../../src/shared/protocol';
import { clear, h } from '../dom';
import type { Page } from '../page';

type PreciseResult = Extract<HostToWebview, { type: 'preciseResult' }>;

const chainKey = (chain: readonly string[]) => chain.join('\n');

/** The button and the (empty) place of its answer, for a chain of store paths (root first). */
export function preciseSection(page: Page, chain: readonly string[]): HTMLElement {
  const section = preciseButton(page, chain, 'each path of this chain', 'precise-results');
  section.querySelector('vscode-button')!.id = 'precise-button';
  return section;
}

/**
 * A Precise button for `chain` (two paths: one edge of the why-graph) and the place of its answer; `what` names
 * the referrers in its tooltip.
 */
export function preciseButton(page: Page, chain: readonly string[], what: string, resultsId?: string): HTMLElement {
  const results = h('div', { id: resultsId, class: 'precise-results', 'aria-live': 'polite' });
  results.dataset['chain'] = chainKey(chain);
  const button = h(
    'vscode-button',
    {
      class: 'precise-request',
      secondary: true,
      title: `Find the files inside ${what} that hold the next path (like nix why-depends --precise)`,
      onclick: () => {
        clear(results);
        results.append(h('p', { class: 'muted precise-wait' }, 'Looking for the references…'));
        page.post({ type: 'preciseRequest', chain: [...chain] });
      },
    },
    'Precise',
  );
  return h('div', { class: 'precise' }, button, results);
}

/** Shows a `preciseResult` where it answers the chain on show (a late answer for another chain is dropped). */
export function showPreciseResult(page: Page, m: PreciseResult): void {
  const key = chainKey(m.chain);
  for (const results of document.querySelectorAll<HTMLElement>('.precise-results')) {
    if (results.dataset['chain'] !== key) continue;
    clear(results);
    const list = h('ol', { class: 'precise-edges' });
    m.edges.forEach((edge, k) => list.append(edgeView(page, edge, k)));
    results.append(list);
  }
}

function edgeView(page: Page, edge: PreciseEdge, k: number): HTMLElement {
  const model = page.model;
  const label = (p: string) => {
    const i = model?.indexOf(p);
    return i === undefined ? p : model!.label(i);
  };
  const item = h(
    'li',
    { class: 'precise-edge', 'data-edge': k },
    h('div', { class: 'precise-edge-title' }, label(edge.from), ' → ', label(edge.to)),
  );
  if (edge.error) item.append(h('p', { class: 'error precise-error' }, edge.error));
  else if (edge.hits.length === 0) item.append(h('p', { class: 'muted' }, 'No file holds the hash.'));
  else {
    const hits = h('ul', { class: 'precise-hits' });
    for (const hit of edge.hits) hits.append(h('li', {}, hitView(page, edge.from, hit)));
    item.append(hits);
  }
  return item;
}

function hitView(page: Page, referrer: string, hit: PreciseHit): HTMLElement {
  return h(
    'a',
    {
      href: '#',
      class: 'precise-hit',
      'data-file': hit.file,
      'data-offset': hit.offset,
      title: `Open ${hit.file === '/' ? referrer : `${referrer}/${hit.file}`} at byte ${hit.offset}`,
      onclick: (e: Event) => {
        e.preventDefault();
        page.post({ type: 'openReference', referrer, file: hit.file, offset: hit.offset });
      },
    },
    h('span', { class: 'precise-file' }, hit.kind === 'symlink' ? `${hit.file} →` : hit.file),
    h(
      'code',
      { class: 'precise-snippet' },
      hit.kind === 'file' ? '…' : '',
      hit.before,
      h('mark', {}, hit.hash),
      hit.after,
      hit.kind === 'file' ? '…' : '',
    ),
  );
}
