/**
 * The side pane: search results, the paths merged into a "N more" arc, the selected path's details and
 * actions, and the why panel; a hint when there is nothing to show.
 */
import { CATEGORIES } from '../../src/shared/categories';
import type { Arc } from '../chart/layout';
import { children as treeChildren } from '../chart/viewTree';
import { clear, h } from '../dom';
import type { Page } from '../page';
import { pathButton } from './pathButton';
import type { Search } from './search';
import { whySection } from './why';

const MORE_LIST_LIMIT = 300;

export class SidePane {
  /** The "N more" arc whose paths are listed; cleared by a selection. */
  moreArc: Arc | undefined;

  constructor(
    private readonly page: Page,
    private readonly search: Search,
  ) {}

  render(): void {
    const side = document.getElementById('side');
    const page = this.page;
    if (!side || !page.model) return;
    clear(side);
    if (this.search.matchList.length > 0 || page.state.search) side.append(this.search.section());
    if (this.moreArc) side.append(this.moreSection(this.moreArc));
    if (page.selected >= 0) {
      side.append(this.detailsSection(page.selected), whySection(page, page.selected));
    } else if (!page.state.search) {
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

  private detailsSection(i: number): HTMLElement {
    const page = this.page;
    const model = page.model!;
    const p = model.parsedName(i);
    const known = model.sizesKnown;
    const path = model.path(i);
    const stats: [string, string][] = [
      ['NAR size', known ? page.size(model.snapshot.narSize[i]!) : 'unknown'],
      ['Closure size', known ? page.size(model.closureSize(i)) : 'unknown'],
      ['Retained size', known ? page.size(model.snapshot.retained[i]!) : 'unknown'],
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
            onclick: () => page.post({ type: 'copyPath', path }),
          }),
          h('vscode-toolbar-button', {
            icon: 'list-tree',
            label: 'Reveal in sidebar tree',
            title: 'Reveal in sidebar tree',
            id: 'act-reveal',
            onclick: () => page.post({ type: 'revealInTree', path }),
          }),
          h('vscode-toolbar-button', {
            icon: 'terminal',
            label: 'Copy closure-lens why command',
            title: 'Copy `closure-lens why` command',
            id: 'act-why',
            onclick: () => page.post({ type: 'copyWhyCommand', path }),
          }),
          h('vscode-toolbar-button', {
            icon: 'zoom-in',
            label: 'Zoom to this path',
            title: 'Zoom to this path',
            id: 'act-zoom',
            onclick: () => page.zoomTo(i),
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

  private moreSection(arc: Arc): HTMLElement {
    const page = this.page;
    const model = page.model!;
    const tree = page.tree;
    const kids = treeChildren(tree, arc.parentNode);
    const merged = Array.from(kids.subarray(arc.moreFrom ?? 0));
    const list = h('ol', { class: 'result-list' });
    for (const c of merged.slice(0, MORE_LIST_LIMIT)) {
      list.append(
        h('li', {}, pathButton(page, c), h('span', { class: 'size' }, page.size(tree.size[c]!, tree.countsPaths))),
      );
    }
    return h(
      'section',
      { id: 'more', 'aria-label': 'Merged small arcs' },
      h('h3', {}, `${merged.length} small paths under ${model.label(arc.parentNode)}`),
      h(
        'p',
        { class: 'muted' },
        `Together ${page.size(arc.value, tree.countsPaths)}.${merged.length > MORE_LIST_LIMIT ? ` The ${MORE_LIST_LIMIT} largest are listed.` : ''}`,
      ),
      list,
    );
  }
}
