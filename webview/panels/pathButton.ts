/** A path as a button, in its category's colour: clicking it selects the path (and reveals it in the chart). */
import { CATEGORIES } from '../../src/shared/categories';
import { h } from '../dom';
import type { Page } from '../page';

export function pathButton(page: Page, i: number, extra = ''): HTMLElement {
  const model = page.model!;
  return h(
    'button',
    {
      class: `step cat-${CATEGORIES[model.category(i)]!.id}-border ${extra}`.trim(),
      title: model.path(i) || page.title,
      'data-node': i,
      onclick: () => page.select(i, { zoom: 'reveal', focus: false }),
    },
    i === 0 && model.isVirtual(0) ? page.title || '(roots)' : model.label(i),
  );
}
