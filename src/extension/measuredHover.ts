/**
 * The part of the option hover that leads with a definition's true cost: what the closure loses when the
 * configuration is evaluated without it (measured in the background after "Show closure",
 * optionMeasurements.ts), "measuring…" while that runs (never a graph estimate of 0 shown as if it were the
 * cost), how the definition causes what it costs (carries paths itself / enables a module's definitions), and
 * what removing it brings back.
 */
import type * as vscode from 'vscode';
import type { Definition } from '../core/attribution/attribute';
import { CauseIndex } from '../core/attribution/causes';
import type { CounterfactualCost } from '../core/attribution/counterfactual';
import type { OptionCost } from '../core/attribution/optionCosts';
import { broughtBackText } from '../shared/format';
import { displayName, storeName } from '../shared/storePath';
import type { AnalysedTarget } from './analysedTargets';
import { shortFile } from './displayPaths';

const TOP = 5;

export interface MeasuredHoverContext {
  readonly md: vscode.MarkdownString;
  readonly target: AnalysedTarget;
  readonly cost: OptionCost;
  readonly definition: Definition;
  readonly size: (n: number) => string;
  readonly progress?: { done: number; total: number };
  readonly code: (s: string) => string;
  readonly link: (title: string, command: string, args: unknown[]) => string;
}

/** The hover of a definition whose true cost is being measured. */
export function describeMeasuring(h: MeasuredHoverContext): void {
  const { md, target, cost, definition: d, size, code } = h;
  const done = h.progress ? ` (${h.progress.done}/${h.progress.total} done)` : '';
  md.appendMarkdown(`**${code(cost.option)}** · ${code(target.title)}\n\n`);
  md.appendMarkdown(
    `Removal cost: measuring… evaluating ${code(target.title)} without each of your definitions${done}\n\n`,
  );
  if (d.nodes.length > 0) md.appendMarkdown(`${carriesLine(h)}\n\n`);
  if (cost.bytes > 0) md.appendMarkdown(`_Graph estimate until then: ${size(cost.bytes)}._\n\n`);
}

/** The hover of a definition whose true cost is known: that cost first, then how and what. */
export function describeMeasured(h: MeasuredHoverContext, m: CounterfactualCost): void {
  const { md, target, cost, definition: d, size, code, link } = h;
  const g = target.loaded.analysis.graph;
  const a = target.options.kind === 'ready' ? target.options.index.attribution : undefined;
  md.appendMarkdown(`**${code(cost.option)}** · ${code(target.title)}\n\n`);
  const total = target.loaded.analysis.totalSize;
  const lost = m.lostNodes.filter((i) => !g.isVirtual(i)).sort((x, y) => g.narSize[y]! - g.narSize[x]! || x - y);
  if (m.unchanged) {
    md.appendMarkdown(
      `Removal cost: **${size(0)}** · evaluated without it, ${code(target.title)} is the same system\n\n`,
    );
  } else {
    const pct = total > 0 ? (100 * m.bytes) / total : 0;
    md.appendMarkdown(
      `Removal cost: **${size(m.bytes)}** · ${pct.toFixed(1)} % of the closure (${size(total)}) · ` +
        `${lost.length} ${lost.length === 1 ? 'path' : 'paths'} · measured by evaluating without it\n\n`,
    );
  }
  if (d.nodes.length > 0) md.appendMarkdown(`${carriesLine(h)}\n\n`);
  if (a) {
    const mechanism = new CauseIndex(a, new Map()).mechanismOf(m).map((id) => a.definitions[id]!);
    if (mechanism.length > 0) {
      const byFile = new Map<string, string[]>();
      for (const x of mechanism) {
        const f = shortFile(x.file).split('/').pop()!;
        const list = byFile.get(f);
        if (list) list.push(x.option);
        else byFile.set(f, [x.option]);
      }
      const parts = [...byFile].slice(0, 3).map(([f, opts]) => {
        const shown = [...new Set(opts)];
        return `${code(f)}: ${shown
          .slice(0, 3)
          .map((o) => code(o))
          .join(', ')}${shown.length > 3 ? ` +${shown.length - 3}` : ''}`;
      });
      md.appendMarkdown(`${d.nodes.length > 0 ? 'Also enables' : 'Enables'} ${parts.join(' · ')}\n\n`);
    }
  }
  if (lost.length > 0) {
    md.appendMarkdown(
      lost
        .slice(0, TOP)
        .map((i) => `- ${code(displayName(g.name(i)))} ${size(g.narSize[i]!)}`)
        .join('\n') +
        (lost.length > TOP ? `\n- … ${lost.length - TOP} more` : '') +
        '\n\n',
    );
  }
  if (m.addedPaths.length > 0) {
    const names = broughtBack(m, code, size);
    md.appendMarkdown(
      `Removing it brings back ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''} ` +
        '(not in this closure now, so not counted above).\n\n',
    );
  }
  if (!m.unchanged && Math.abs(cost.bytes - m.bytes) > Math.max(4096, 0.05 * m.bytes) && cost.bytes > 0) {
    md.appendMarkdown(`_The graph estimate was ${size(cost.bytes)}._\n\n`);
  }
  const focus = lost[0] ?? cost.carried[0];
  if (focus !== undefined) {
    const p = g.paths[focus]!;
    md.appendMarkdown(
      `${link('Show in sunburst', 'nixClosureLens.showInSunburst', [{ target: target.key, path: p }])} · ` +
        `${link(`Why ${displayName(g.name(focus))}…`, 'nixClosureLens.whyDependsOn', [{ target: target.key, path: p }])}`,
    );
  }
}

function carriesLine(h: MeasuredHoverContext): string {
  const g = h.target.loaded.analysis.graph;
  const names = h.definition.nodes.filter((i) => !g.isVirtual(i)).map((i) => h.code(displayName(g.name(i))));
  return `Carries ${names.slice(0, 4).join(', ')}${names.length > 4 ? ` and ${names.length - 4} more` : ''}`;
}

/**
 * What comes back without a definition, each with its size: `systemd-minimal-255.4` +2.0 MiB, or "size unknown"
 * when it is not in the store (the counterfactual is evaluated, not built).
 */
export function broughtBack(m: CounterfactualCost, code: (s: string) => string, size: (n: number) => string): string[] {
  return m.addedPaths.map((p, k) => broughtBackText(code(storeName(p)), m.addedSizes?.[k], size));
}
