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

  /** `previewTotals`: the preview's totals, drawn before the closure is there (webview/preview.ts). */
  render(previewTotals?: Float64Array): void {
    const legend = document.getElementById('legend');
    const model = this.page.model;
    if (!legend || (!model && !previewTotals)) return;
    clear(legend);
    const totals = model ? model.categoryTotals() : previewTotals!;
    const countsPaths = model ? !model.sizesKnown : false;
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
          `${this.page.size(totals[k]!, countsPaths)} · ${((100 * totals[k]!) / all).toFixed(0)}%`,
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
  const a = m.attribution;
  f.textContent = footerText(
    paths,
    m.sizesKnown ? page.size(m.snapshot.retained[0]!) : undefined,
    a
      ? `${a.definitions.length} option definitions${a.evalMs !== undefined ? ` (evaluated in ${(a.evalMs / 1000).toFixed(1)} s)` : ''}`
      : undefined,
  );
}

/** `12,345 paths · 1.2 GiB in total`; `total` undefined when the input has no sizes. */
export function footerText(paths: number, total: string | undefined, definitions?: string): string {
  const parts = [`${paths.toLocaleString('en-US')} paths`];
  parts.push(total !== undefined ? `${total} in total` : 'no sizes in this input: arcs count paths');
  if (definitions) parts.push(definitions);
  return parts.join(' · ');
}
