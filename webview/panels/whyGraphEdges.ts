/**
 * One edge of the why-graph, as the detail below the drawing shows it: referrer → path, the cause of that
 * reference from the option attribution (the user's own line first, as the chains pick it), and a Precise button
 * that asks the host which files of the referrer hold the path's hash (a `preciseRequest` for this one edge).
 */
import type { OptionDefinition } from '../../src/shared/protocol';
import { h } from '../dom';
import type { ClosureModel } from '../model';
import type { Page } from '../page';
import { preciseButton } from './precise';

export interface EdgeCause {
  readonly text: string;
  readonly definition?: OptionDefinition;
}

/**
 * The cause of the reference u → v: the chain cause of a shortest chain to u, then v. Its last step is this edge,
 * so a definition that carries v through u (u is its collector) comes first, the user's own before a module's.
 */
export function edgeCause(model: ClosureModel, u: number, v: number): EdgeCause {
  if (!model.attribution) return { text: 'no option attribution for this closure' };
  const parent = model.tree('chain').parent;
  const chain: number[] = [v];
  for (let w = u; w >= 0 && chain.length <= model.nodeCount; w = parent[w]!) chain.push(w);
  chain.reverse();
  const { cause } = model.chainDefinitions(chain);
  if (!cause) return { text: 'no option definition is known to bring it in' };
  const where = `${fileLabel(cause)}${cause.line !== null ? `:${cause.line}` : ''}`;
  const how = cause.kind === 'enables' ? 'enables what brings it in' : 'brings it in';
  return {
    text: `${cause.option} ${how} (${cause.inWorkspace ? 'your line' : 'a module'}: ${where})`,
    definition: cause,
  };
}

export function edgeView(page: Page, u: number, v: number): HTMLElement {
  const model = page.model!;
  const cause = edgeCause(model, u, v);
  const d = cause.definition;
  const causeView = d
    ? h(
        'a',
        {
          href: '#',
          class: `why-graph-cause${d.inWorkspace ? ' own' : ''}`,
          title: d.line !== null ? `${d.file}:${d.line}` : d.file,
          onclick: (e: Event) => {
            e.preventDefault();
            page.post({ type: 'openDefinition', file: d.file, line: d.line });
          },
        },
        cause.text,
      )
    : h('span', { class: 'why-graph-cause muted' }, cause.text);
  const stored = !model.isVirtual(u);
  return h(
    'div',
    { class: 'why-graph-edge', 'data-from': u, 'data-to': v },
    h('div', { class: 'why-graph-edge-title' }, model.label(u), ' → ', model.label(v)),
    causeView,
    stored ? preciseButton(page, [model.path(u), model.path(v)], 'this reference') : null,
  );
}

/**
 * A definition's file as the user knows it: the host's label (workspace-relative), else the last three
 * components of the path (`…/modules/misc/documentation.nix`).
 */
export function fileLabel(d: Pick<OptionDefinition, 'file' | 'fileLabel'>): string {
  if (d.fileLabel !== undefined) return d.fileLabel;
  const parts = d.file.split('/').filter(Boolean);
  return parts.length <= 3 ? d.file : `…/${parts.slice(-3).join('/')}`;
}
