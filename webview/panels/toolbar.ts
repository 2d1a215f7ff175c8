/** The toolbar above the chart: breadcrumbs, the tree toggle and the search field with its count badge. */
import type { MainView, TreeMode, WebviewState } from '../../src/shared/protocol';
import { h } from '../dom';

export interface ToolbarEvents {
  setMode(mode: TreeMode): void;
  setView(view: MainView): void;
  /** The query changed (debounced) or was cleared with Escape. */
  search(query: string): void;
  /** Enter in the search field. */
  searchEnter(): void;
}

export function buildToolbar(state: Readonly<WebviewState>, events: ToolbarEvents): HTMLElement {
  const modeGroup = h(
    'vscode-radio-group',
    { id: 'mode', 'aria-label': 'Tree' },
    h(
      'vscode-radio',
      { name: 'mode', value: 'dominator', label: 'Dominator tree', checked: state.mode === 'dominator' },
      'Dominator tree',
    ),
    h(
      'vscode-radio',
      { name: 'mode', value: 'chain', label: 'Shortest chains', checked: state.mode === 'chain' },
      'Shortest chains',
    ),
  );
  modeGroup.addEventListener('change', (e) => {
    const v = (e.target as HTMLInputElement).value;
    if (v === 'dominator' || v === 'chain') events.setMode(v);
  });
  const table = h('vscode-checkbox', {
    id: 'table-toggle',
    toggle: true,
    label: 'Table',
    title: 'Show every path as a sortable table instead of the chart',
    checked: state.view === 'table',
  });
  table.addEventListener('change', () => {
    events.setView((table as unknown as { checked: boolean }).checked ? 'table' : 'chart');
  });
  const search = h('vscode-textfield', {
    id: 'search',
    placeholder: 'Search name or /regex/',
    label: 'Search paths by name or /regex/',
    value: state.search ?? '',
  });
  search.append(h('vscode-icon', { slot: 'content-before', name: 'search', title: 'search' }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    const q = search.value;
    clearTimeout(timer);
    timer = setTimeout(() => events.search(q), 120);
  });
  search.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Escape') {
      search.value = '';
      events.search('');
    }
    if ((e as KeyboardEvent).key === 'Enter') events.searchEnter();
  });
  return h(
    'header',
    { id: 'toolbar' },
    h('nav', { id: 'crumbs', 'aria-label': 'Breadcrumbs' }),
    h(
      'div',
      { class: 'tools' },
      modeGroup,
      table,
      search,
      h('vscode-badge', { id: 'search-count', variant: 'counter', hidden: true }),
    ),
  );
}
