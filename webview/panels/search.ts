/**
 * Search by name or /regex/: which paths match, which tree nodes contain a match (so a collapsed arc lights up
 * for a match below it), the count badge and the result list in the side pane.
 */
import { parseRegex } from '../../src/shared/analysis/names';
import { h } from '../dom';
import type { Arc } from '../chart/layout';
import { children as treeChildren } from '../chart/viewTree';
import type { Page } from '../page';
import { pathButton } from './pathButton';

const SEARCH_LIST_LIMIT = 300;

/** nix-tree's key: `/` goes to the search field from anywhere but a text field. */
export function focusSearchOnSlash(): void {
  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement | null;
    if (e.key !== '/' || e.defaultPrevented || t?.closest('vscode-textfield, input, textarea')) return;
    const field = document.getElementById('search');
    if (!field) return;
    e.preventDefault();
    field.focus();
  });
}

export class Search {
  private matches: Uint8Array | null = null;
  private containsMatch: Uint8Array | null = null;
  /** The matches, largest NAR first. */
  matchList: number[] = [];

  /** Which nodes match (1), or null when there is no search: the table filters by it. */
  get filter(): Uint8Array | null {
    return this.matches;
  }

  /** `changed` runs after every search: the chart's highlight and the side pane follow. */
  constructor(
    private readonly page: Page,
    private readonly changed: () => void,
  ) {}

  run(query: string): void {
    const model = this.page.model;
    if (!model) return;
    const q = query.trim();
    this.page.persist({ search: q === '' ? undefined : q });
    const field = document.getElementById('search') as (HTMLElement & { invalid?: boolean }) | null;
    if (field) {
      // The same RE2 parser as the search itself: a pattern JavaScript would take but RE2 would not (a
      // backreference, a lookahead) is marked invalid rather than silently matching nothing.
      const regex = parseRegex(q);
      field.invalid = regex?.ok === false;
      field.title = regex?.ok === false ? `Not a regular expression RE2 can run: ${regex.message}` : '';
    }
    if (q === '') {
      this.matches = null;
      this.containsMatch = null;
      this.matchList = [];
    } else {
      const found = model.find(q);
      const tree = this.page.tree;
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
    this.changed();
  }

  /**
   * Which arcs stay bright: the matches (and arcs hiding a match below them), or, without a search, the paths
   * of the legend's focused category (-1: none). Null when nothing is highlighted.
   */
  highlight(category: number): ((a: Arc) => boolean) | null {
    const model = this.page.model;
    if (!model) return null;
    const matches = this.matches;
    const contains = this.containsMatch;
    const tree = this.page.tree;
    if (!matches && category < 0) return null;
    const nodeHit = (i: number, hidden: boolean) =>
      matches ? matches[i] === 1 || (hidden && contains![i] === 1) : model.category(i) === category;
    return (a) => {
      if (a.node >= 0) return nodeHit(a.node, a.hasHiddenChildren);
      const kids = treeChildren(tree, a.parentNode).subarray(a.moreFrom ?? 0);
      for (const c of kids) if (nodeHit(c, true)) return true;
      return false;
    };
  }

  section(): HTMLElement {
    const page = this.page;
    const model = page.model!;
    const n = this.matchList.length;
    let total = 0;
    let drawn = 0;
    for (const i of this.matchList) {
      total += model.snapshot.narSize[i]!;
      if (page.isDrawn(i)) drawn++;
    }
    const list = h('ol', { class: 'result-list', id: 'search-results' });
    for (const i of this.matchList.slice(0, SEARCH_LIST_LIMIT)) {
      const deeper = !page.isDrawn(i);
      const button = pathButton(page, i, `${i === page.selected ? 'target' : ''}${deeper ? ' deeper' : ''}`);
      if (deeper) {
        button.title = `${button.title}\nNot drawn at this zoom: click to open the rings on its path.`;
        button.setAttribute('aria-description', 'not drawn at this zoom; activate to show it in the chart');
      }
      list.append(
        h(
          'li',
          {},
          button,
          h('span', { class: 'size' }, model.sizesKnown ? `NAR ${page.size(model.snapshot.narSize[i]!)}` : ''),
        ),
      );
    }
    const hidden = n - drawn;
    const summary =
      n === 0
        ? `No path matches “${page.state.search ?? ''}”.`
        : `${n} match${n === 1 ? '' : 'es'}${model.sizesKnown ? `, ${page.size(total)} NAR together` : ''}` +
          (page.state.view === 'table'
            ? '.'
            : `; ${drawn} drawn in the chart${hidden > 0 ? `, ${hidden} deeper (marked ↓: click one to show it)` : ''}.`) +
          (n > SEARCH_LIST_LIMIT ? ` The ${SEARCH_LIST_LIMIT} largest are listed.` : '');
    return h(
      'section',
      { id: 'search-section', 'aria-label': 'Search results' },
      h('h3', {}, 'Search'),
      h('p', { class: 'muted', id: 'search-summary' }, summary),
      list,
    );
  }
}
