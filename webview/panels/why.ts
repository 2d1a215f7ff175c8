/**
 * The why panel: the chains from the root to the selected path (the shortest one, then all of them in a
 * collapsible), each with the option definition that brought it in when attribution is known.
 */
import { broughtBackText } from '../../src/shared/format';
import { MAX_PRECISE_CHAIN, type OptionDefinition } from '../../src/shared/protocol';
import { h } from '../dom';
import type { Page } from '../page';
import { pathButton } from './pathButton';
import { whyGraphSection } from './whyGraph';
import { preciseSection } from './precise';
import { fileLabel } from './whyGraphEdges';

/** Chains computed for the why panel; the rest are counted, not listed. */
const CHAIN_LIMIT = 50;

export function whySection(page: Page, i: number): HTMLElement {
  const model = page.model!;
  const section = h('section', { id: 'why', 'aria-label': 'Why is this path in the closure' });
  if (i === model.graph.root) {
    section.append(h('h3', {}, 'Why is it here?'), h('p', { class: 'muted' }, 'This is the root of the closure.'));
    return section;
  }
  const set = model.chains(i, CHAIN_LIMIT);
  section.append(h('h3', {}, `Why is ${model.label(i)} here?`));
  if (set.chains.length === 0) {
    section.append(h('p', { class: 'muted' }, 'The root does not reach this path.'));
    return section;
  }
  const shortest = set.chains[0]!;
  section.append(chainView(page, shortest, 'shortest', 0));
  const stored = shortest.filter((v) => !model.isVirtual(v));
  if (stored.length >= 2 && stored.length <= MAX_PRECISE_CHAIN)
    section.append(
      preciseSection(
        page,
        stored.map((v) => model.path(v)),
      ),
    );
  const total = set.totalChains;
  const more = h('vscode-collapsible', {
    id: 'all-chains',
    heading: `All chains`,
    description: total >= Number.MAX_SAFE_INTEGER ? 'too many to count' : `${total.toLocaleString('en-US')} in total`,
    open: page.state.allChains,
  });
  more.addEventListener('vsc-collapsible-toggle', (e) => {
    const open = (e as CustomEvent<{ open: boolean }>).detail?.open ?? (more as unknown as { open: boolean }).open;
    page.persist({ allChains: open });
  });
  const list = h('ol', { class: 'chain-list' });
  set.chains.forEach((c, k) => list.append(h('li', {}, chainView(page, c, 'compact', k))));
  more.append(list);
  if (set.truncated) {
    const left =
      total >= Number.MAX_SAFE_INTEGER
        ? 'More chains'
        : `${(total - set.chains.length).toLocaleString('en-US')} more chains`;
    more.append(
      h('p', { class: 'muted left-out' }, `${left} not shown (the ${set.chains.length} shortest are listed).`),
    );
  }
  section.append(more, whyGraphSection(page, i));
  return section;
}

/** One chain: its steps as buttons, and the option definition that introduced it when known. */
function chainView(page: Page, chain: readonly number[], style: 'shortest' | 'compact', k: number): HTMLElement {
  const model = page.model!;
  const steps = model.isVirtual(chain[0]!) ? chain.slice(1) : chain;
  const box = h('div', {
    class: `chain ${style}`,
    'data-chain': k,
    'aria-label': `Chain ${k + 1}, ${steps.length} paths`,
  });
  const list = h(style === 'shortest' ? 'ol' : 'div', { class: 'steps' });
  steps.forEach((s, idx) => {
    const btn = pathButton(page, s, s === page.selected ? 'target' : '');
    if (style === 'shortest') list.append(h('li', {}, btn));
    else {
      if (idx > 0) list.append(h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→'));
      list.append(btn);
    }
  });
  box.append(list);
  const defs = model.chainDefinitions(chain);
  if (defs.cause) box.append(definitionView(page, defs.cause, defs.others.length, defs.mechanism));
  return box;
}

function definitionLink(page: Page, d: OptionDefinition): HTMLElement {
  return h(
    'a',
    {
      href: '#',
      class: 'definition-link',
      title: d.line !== null ? `${d.file}:${d.line}` : d.file,
      onclick: (e: Event) => {
        e.preventDefault();
        page.post({ type: 'openDefinition', file: d.file, line: d.line });
      },
    },
    `${fileLabel(d)}${d.line !== null ? `:${d.line}` : ''}`,
  );
}

/**
 * The chain's cause: the user's own line when there is one (it carries the path, or switches on what carries
 * it), with its true cost ("measuring…" while that runs); the module definitions that carry the path behind it,
 * folded, as the mechanism.
 */
function definitionView(
  page: Page,
  d: OptionDefinition & { via: number; kind: 'carries' | 'enables' },
  others: number,
  mechanism: readonly OptionDefinition[],
): HTMLElement {
  const model = page.model!;
  const how = d.kind === 'enables' ? ' enables what brings in ' : ' brings in ';
  const cost = d.measuring
    ? h(
        'span',
        { class: 'cost measuring', title: 'being measured by evaluating the configuration without it' },
        ' · measuring…',
      )
    : h(
        'span',
        {
          class: 'cost',
          title:
            d.costMethod === 'counterfactual'
              ? 'measured by evaluating the configuration without this definition'
              : 'bytes that leave the closure when only this definition goes (graph estimate)',
        },
        ` · removing it saves ${page.size(d.removalCost)}${d.costMethod === 'counterfactual' ? ' (measured)' : ''}` +
          (d.broughtBack && d.broughtBack.length > 0
            ? ` but brings back ${d.broughtBack
                .map((b) => broughtBackText(b.name, b.bytes, (n) => page.size(n)))
                .join(', ')}`
            : ''),
      );
  const folded =
    mechanism.length > 0
      ? h(
          'details',
          { class: 'mechanism' },
          h('summary', {}, `mechanism: ${mechanism.length} module definition${mechanism.length === 1 ? '' : 's'}`),
          h('ul', {}, ...mechanism.map((m) => h('li', {}, h('code', {}, m.option), ' at ', definitionLink(page, m)))),
        )
      : null;
  return h(
    'div',
    { class: `definition${d.inWorkspace ? ' own' : ''}`, 'data-kind': d.kind },
    h('vscode-icon', { name: d.inWorkspace ? 'settings-gear' : 'library', 'aria-hidden': 'true' }),
    h(
      'div',
      { class: 'definition-body' },
      h(
        'div',
        {},
        h('code', { class: 'option' }, d.option),
        d.fromDefault ? ' (its default)' : '',
        how,
        h('span', { class: 'via' }, model.label(d.via)),
      ),
      h(
        'div',
        { class: 'definition-meta' },
        definitionLink(page, d),
        d.enabledBy && d.inWorkspace !== true ? h('span', {}, ' · enabled by ', h('code', {}, d.enabledBy)) : null,
        cost,
        others > 0
          ? h(
              'span',
              { class: 'muted' },
              ` · ${others} more definition${others === 1 ? '' : 's'} of yours on this chain`,
            )
          : null,
      ),
      folded,
    ),
  );
}
