/** The chart's tooltip: a path's name, category and sizes (or a "N more" arc's total), placed beside the pointer. */
import { CATEGORIES } from '../../src/shared/categories';
import type { Arc } from '../chart/layout';
import { byId, clear, h } from '../dom';
import type { Page } from '../page';

/** Shows the tooltip for `arc` at client position (x, y); hides it for null. */
export function showTooltip(page: Page, arc: Arc | null, x: number, y: number): void {
  const tip = document.getElementById('tooltip');
  const model = page.model;
  if (!tip || !model) return;
  if (!arc) {
    tip.hidden = true;
    return;
  }
  const tree = page.tree;
  clear(tip);
  if (arc.node < 0) {
    tip.append(
      h('div', { class: 'tip-name' }, `${arc.moreCount} more paths`),
      h(
        'div',
        { class: 'tip-row' },
        `Together ${page.size(arc.value, tree.countsPaths)}, each too small to draw here. Click to list them.`,
      ),
    );
  } else {
    const i = arc.node;
    const p = model.parsedName(i);
    const known = model.sizesKnown;
    const rows: [string, string][] = [];
    if (p.version) rows.push(['Version', p.version]);
    if (p.output) rows.push(['Output', p.output]);
    rows.push(['NAR size', known ? page.size(model.snapshot.narSize[i]!) : 'unknown']);
    rows.push(['Closure size', known ? page.size(model.closureSize(i)) : 'unknown']);
    rows.push([
      'Retained size',
      known ? page.size(model.snapshot.retained[i]!) : `${model.tree('dominator').size[i]} paths`,
    ]);
    if (page.state.mode === 'chain') rows.push(['Subtree here', page.size(tree.size[i]!, tree.countsPaths)]);
    rows.push(['Referrers', String(model.referrerCount(i))]);
    tip.append(
      h('div', { class: 'tip-name' }, model.label(i)),
      h('div', { class: 'tip-cat' }, CATEGORIES[model.category(i)]!.label),
      h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    );
  }
  tip.hidden = false;
  const pane = byId('chart-pane').getBoundingClientRect();
  const box = tip.getBoundingClientRect();
  let left = x - pane.left + 14;
  let top = y - pane.top + 14;
  if (left + box.width > pane.width - 4) left = x - pane.left - box.width - 14;
  if (top + box.height > pane.height - 4) top = y - pane.top - box.height - 14;
  tip.style.left = `${Math.max(4, left)}px`;
  tip.style.top = `${Math.max(4, top)}px`;
}
