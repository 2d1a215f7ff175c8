/** The breadcrumbs: the chain of tree nodes from the root to the centre (or to the selection below it). */
import { labelParts, middleEllipsis } from '../chart/labels';
import { ancestry } from '../chart/viewTree';
import { clear, h } from '../dom';
import type { ChartSource } from '../chart/chartModel';
import type { Page } from '../page';

/** What the crumbs read: the page, or the preview drawn before the closure arrived (webview/preview.ts). */
export type CrumbsView = Pick<Page, 'title' | 'selected' | 'tree'> & {
  readonly model: (ChartSource & { path(i: number): string }) | undefined;
};

/** `goTo` centres the chart on a crumb's node and selects it. */
export function renderCrumbs(page: CrumbsView, center: number, goTo: (node: number) => void): void {
  const nav = document.getElementById('crumbs');
  const model = page.model;
  if (!nav || !model) return;
  clear(nav);
  const tree = page.tree;
  const selected = page.selected;
  const end = selected >= 0 && ancestry(tree, selected).includes(center) ? selected : center;
  const chain = ancestry(tree, end);
  const ol = h('ol', {});
  const crumb = (i: number) => {
    const label = i === 0 ? page.title || model.label(0) : model.label(i);
    return h(
      'li',
      {},
      h(
        'button',
        {
          class: `crumb${i === center ? ' current' : ''}${i === selected ? ' selected' : ''}`,
          'aria-current': i === center ? 'location' : undefined,
          title: i === 0 ? model.path(0) || label : model.path(i),
          'data-node': i,
          onclick: () => goTo(i),
        },
        middleEllipsis(i === 0 ? { head: label, tail: '' } : labelParts(label, model.parsedName(i).pname), 40),
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
              renderCrumbs(page, center, goTo);
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
