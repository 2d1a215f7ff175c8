/** The legend (categories with their share; a click highlights one) and the footer line under the chart. */
import { CATEGORIES } from '../../src/shared/categories';
import { clear, h } from '../dom';
import type { Page } from '../page';

export class Legend {
  /** The highlighted category, -1 for none. */
  focus = -1;

  /** `changed` runs when the focused category changes (the chart's highlight follows). */
  constructor(
    private readonly page: Page,
    private readonly changed: () => void,
  ) {}

  render(): void {
    const legend = document.getElementById('legend');
    const model = this.page.model;
    if (!legend || !model) return;
    clear(legend);
    const totals = model.categoryTotals();
    const all = totals.reduce((a, b) => a + b, 0);
    CATEGORIES.forEach((c, k) => {
      if (totals[k] === 0) return;
      const item = h(
        'button',
        {
          class: `legend-item${this.focus === k ? ' active' : ''}`,
          role: 'listitem',
          'aria-pressed': String(this.focus === k),
          title: `Highlight ${c.label.toLowerCase()}`,
          onclick: () => {
            this.focus = this.focus === k ? -1 : k;
            this.render();
            this.changed();
          },
        },
        h('span', { class: `swatch cat-${c.id}`, 'aria-hidden': 'true' }),
        h('span', { class: 'legend-label' }, c.label),
        h(
          'span',
          { class: 'legend-size' },
          `${this.page.size(totals[k]!, !model.sizesKnown)} · ${((100 * totals[k]!) / all).toFixed(0)}%`,
        ),
      );
      legend.append(item);
    });
  }
}

export function renderFooter(page: Page): void {
  const f = document.getElementById('footer');
  const m = page.model;
  if (!f || !m) return;
  const paths = m.snapshot.hasVirtualRoot ? m.nodeCount - 1 : m.nodeCount;
  const parts = [`${paths.toLocaleString('en-US')} paths`];
  if (m.sizesKnown) parts.push(`${page.size(m.snapshot.retained[0]!)} in total`);
  else parts.push('no sizes in this input: arcs count paths');
  const a = m.attribution;
  if (a)
    parts.push(
      `${a.definitions.length} option definitions${a.evalMs !== undefined ? ` (evaluated in ${(a.evalMs / 1000).toFixed(1)} s)` : ''}`,
    );
  f.textContent = parts.join(' · ');
}
