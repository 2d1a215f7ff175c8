/**
 * The table view: every path of the closure with its name, version, NAR, closure and retained size, referrer
 * count and the option that brought it; sortable by any column, filtered by the search, virtualised (only the
 * rows in sight exist in the DOM), and driven by the keyboard as nix-tree is (arrows, Enter selects, `/`
 * searches, `w` shows why). It is also the full-data alternative to the chart for screen readers: an ARIA grid
 * with aria-rowcount, aria-rowindex and aria-sort.
 */
import { TABLE_COLUMNS, type TableColumn, type TableSort } from '../../src/shared/protocol';
import { CATEGORIES } from '../../src/shared/categories';
import { clear, h } from '../dom';
import type { Page } from '../page';
import type { Search } from './search';

const ROW_HEIGHT = 22;
/** Rows rendered above and below the visible ones, so a fast scroll does not show blanks. */
const OVERSCAN = 8;
const DEFAULT_SORT: TableSort = { column: 'retained', descending: true };

interface ColumnInfo {
  readonly label: string;
  /** Spoken header, where the short label could mean more than one size. */
  readonly title: string;
  readonly numeric: boolean;
}

const COLUMNS: Record<TableColumn, ColumnInfo> = {
  name: { label: 'Name', title: 'Name', numeric: false },
  version: { label: 'Version', title: 'Version', numeric: false },
  nar: { label: 'NAR size', title: 'NAR size: the path itself', numeric: true },
  closure: { label: 'Closure size', title: 'Closure size: the path and everything it references', numeric: true },
  retained: { label: 'Retained size', title: 'Retained size: what removing the path would save', numeric: true },
  referrers: { label: 'Referrers', title: 'Paths that reference this one', numeric: true },
  option: { label: 'Brought by', title: 'The option definition that brought the path in', numeric: false },
};

export interface TableEvents {
  /** `w`: show why the path is in the closure. */
  why(node: number): void;
  /** `/`: go to the search field. */
  focusSearch(): void;
}

export class PathTable {
  readonly element: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly headerRow: HTMLElement;
  private rows = new Int32Array(0);
  /** Index into `rows` of the keyboard's row. */
  private active = 0;
  private frame = 0;

  constructor(
    private readonly page: Page,
    private readonly search: Search,
    private readonly events: TableEvents,
  ) {
    this.headerRow = h('div', { role: 'row', class: 'table-row table-head', 'aria-rowindex': 1 });
    this.spacer = h('div', { class: 'table-spacer', role: 'presentation' });
    this.scroller = h('div', { class: 'table-scroller', role: 'presentation' }, this.spacer);
    this.element = h(
      'div',
      {
        id: 'table-view',
        role: 'grid',
        tabindex: 0,
        'aria-label': 'Paths of the closure. Arrow keys move, Enter selects, slash searches, w shows why.',
        'aria-colcount': TABLE_COLUMNS.length,
      },
      h('div', { role: 'rowgroup', class: 'table-header' }, this.headerRow),
      this.scroller,
    );
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
  }

  private get sort(): TableSort {
    return this.page.state.tableSort ?? DEFAULT_SORT;
  }

  /** Closure sizes can be sorted on only when every path's is known (the host sends them up to 20,000 paths). */
  private get closureSortable(): boolean {
    return this.page.model?.snapshot.closureSize !== undefined;
  }

  /** Recomputes the rows (filter and sort) and draws them; keeps the selected path in sight. */
  refresh(): void {
    const model = this.page.model;
    if (!model) return;
    const filter = this.search.filter;
    const list: number[] = [];
    for (let i = 0; i < model.nodeCount; i++) if (!model.isVirtual(i) && (!filter || filter[i] === 1)) list.push(i);
    const { column, descending } = this.sort;
    const key = this.sortKey(column);
    const dir = descending ? -1 : 1;
    if (typeof key(list[0] ?? 0) === 'number') {
      const k = key as (i: number) => number;
      list.sort((a, b) => dir * (k(a) - k(b)) || a - b);
    } else {
      const k = key as (i: number) => string;
      list.sort((a, b) => {
        const x = k(a);
        const y = k(b);
        return dir * (x < y ? -1 : x > y ? 1 : 0) || a - b;
      });
    }
    this.rows = Int32Array.from(list);
    this.element.setAttribute('aria-rowcount', String(this.rows.length + 1));
    this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.renderHeader();
    const at = this.rows.indexOf(this.page.selected);
    this.active = at >= 0 ? at : Math.min(this.active, Math.max(0, this.rows.length - 1));
    if (at >= 0) this.scrollTo(at);
    this.renderRows();
  }

  /** Marks the selected path's row (and moves the keyboard's row to it). */
  setSelected(node: number): void {
    const at = this.rows.indexOf(node);
    if (at >= 0) {
      this.active = at;
      this.scrollTo(at);
    }
    this.renderRows();
  }

  private sortKey(column: TableColumn): ((i: number) => number) | ((i: number) => string) {
    const model = this.page.model!;
    const s = model.snapshot;
    switch (column) {
      case 'name':
        return (i) => model.parsedName(i).pname || model.parsedName(i).name;
      case 'version':
        return (i) => model.parsedName(i).version;
      case 'nar':
        return (i) => s.narSize[i]!;
      case 'closure':
        return (i) => (this.closureSortable ? model.closureSize(i) : 0);
      case 'retained':
        return (i) => (model.sizesKnown ? s.retained[i]! : model.tree('dominator').size[i]!);
      case 'referrers':
        return (i) => model.referrerCount(i);
      case 'option':
        return (i) => this.optionOf(i);
    }
  }

  private optionOf(i: number): string {
    const model = this.page.model!;
    const d = model.broughtBy(i);
    return d >= 0 ? model.attribution!.definitions[d]!.option : '';
  }

  private cellText(column: TableColumn, i: number): string {
    const model = this.page.model!;
    const known = model.sizesKnown;
    switch (column) {
      case 'name':
        return model.parsedName(i).pname || model.parsedName(i).name;
      case 'version': {
        const p = model.parsedName(i);
        return p.output ? `${p.version} (${p.output})`.trim() : p.version;
      }
      case 'nar':
        return known ? this.page.size(model.snapshot.narSize[i]!) : '';
      case 'closure':
        return known ? this.page.size(model.closureSize(i)) : '';
      case 'retained':
        return known
          ? this.page.size(model.snapshot.retained[i]!)
          : this.page.size(model.tree('dominator').size[i]!, true);
      case 'referrers':
        return String(model.referrerCount(i));
      case 'option':
        return this.optionOf(i);
    }
  }

  private renderHeader(): void {
    clear(this.headerRow);
    const { column, descending } = this.sort;
    TABLE_COLUMNS.forEach((c, k) => {
      const info = COLUMNS[c];
      const sortable = c !== 'closure' || this.closureSortable;
      const sorted = c === column;
      const button = h(
        'button',
        {
          class: 'table-sort',
          title: sortable
            ? `${info.title}. Sort by it.`
            : `${info.title}. Over 20,000 paths, closure sizes are worked out only for the rows in sight, so this column does not sort.`,
          disabled: !sortable,
          onclick: () => this.sortBy(c),
        },
        info.label,
        sorted ? h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, descending ? ' ▾' : ' ▴') : null,
      );
      this.headerRow.append(
        h(
          'div',
          {
            role: 'columnheader',
            class: `table-cell col-${c}${info.numeric ? ' numeric' : ''}`,
            'aria-colindex': k + 1,
            'aria-sort': sorted ? (descending ? 'descending' : 'ascending') : 'none',
          },
          button,
        ),
      );
    });
  }

  private sortBy(column: TableColumn): void {
    const cur = this.sort;
    const descending = cur.column === column ? !cur.descending : COLUMNS[column].numeric;
    this.page.persist({ tableSort: { column, descending } });
    this.refresh();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderRows();
    });
  }

  private scrollTo(at: number): void {
    const top = at * ROW_HEIGHT;
    const view = this.scroller.clientHeight;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > this.scroller.scrollTop + view) this.scroller.scrollTop = top + ROW_HEIGHT - view;
  }

  private renderRows(): void {
    const model = this.page.model;
    if (!model) return;
    const t0 = performance.now();
    for (const old of this.spacer.querySelectorAll('.table-rows')) old.remove();
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(
      this.rows.length,
      Math.ceil((this.scroller.scrollTop + this.scroller.clientHeight) / ROW_HEIGHT) + OVERSCAN,
    );
    const group = h('div', { role: 'rowgroup', class: 'table-rows' });
    group.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    for (let r = first; r < last; r++) {
      const i = this.rows[r]!;
      const row = h('div', {
        role: 'row',
        id: `row-${r}`,
        class: `table-row${r === this.active ? ' active' : ''}`,
        'aria-rowindex': r + 2,
        'aria-selected': String(i === this.page.selected),
        'data-node': i,
        onclick: () => {
          this.active = r;
          this.element.focus({ preventScroll: true });
          this.page.select(i, { zoom: 'reveal', focus: false });
        },
      });
      TABLE_COLUMNS.forEach((c, k) => {
        const text = this.cellText(c, i);
        const cell = h(
          'div',
          {
            role: 'gridcell',
            class: `table-cell col-${c}${COLUMNS[c].numeric ? ' numeric' : ''}`,
            'aria-colindex': k + 1,
            title: c === 'name' ? model.path(i) : text,
          },
          c === 'name'
            ? h('span', { class: `swatch cat-${CATEGORIES[model.category(i)]!.id}`, 'aria-hidden': 'true' })
            : null,
          text,
        );
        row.append(cell);
      });
      group.append(row);
    }
    this.spacer.append(group);
    // What a scroll step costs in script, for the tests (wall time per frame depends on the machine's load).
    this.element.dataset['renderMs'] = (performance.now() - t0).toFixed(2);
    if (this.rows.length > 0) this.element.setAttribute('aria-activedescendant', `row-${this.active}`);
    else this.element.removeAttribute('aria-activedescendant');
  }

  private onKey(e: KeyboardEvent): void {
    if (e.target !== this.element) return;
    const n = this.rows.length;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    let next = this.active;
    switch (e.key) {
      case 'ArrowDown':
        next++;
        break;
      case 'ArrowUp':
        next--;
        break;
      case 'PageDown':
        next += page;
        break;
      case 'PageUp':
        next -= page;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = n - 1;
        break;
      case 'Enter':
        if (n > 0) this.page.select(this.rows[this.active]!, { zoom: 'reveal', focus: false });
        e.preventDefault();
        return;
      case 'w':
        if (n > 0) this.events.why(this.rows[this.active]!);
        e.preventDefault();
        return;
      case '/':
        this.events.focusSearch();
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    if (n === 0) return;
    this.active = Math.max(0, Math.min(n - 1, next));
    this.scrollTo(this.active);
    this.renderRows();
  }
}
