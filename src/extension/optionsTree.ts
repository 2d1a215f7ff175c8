/**
 * The sidebar's "Options by cost": the user's own definitions (files of the flake), ranked by their true cost
 * (measured by evaluating the configuration without each, optionMeasurements.ts; the graph estimate until then,
 * marked "measuring…"), each mkMerge part a row of its own (the engine reports them as separate definitions, each
 * with its line), and each element of a list definition a row of its own, with its line and the true cost of
 * removing just that element. Under each: the paths it carries, and the module definitions it brings in
 * (the mechanism: boot.initrd.extraPackages of zfs.nix under boot.initrd.supportedFilesystems). Module
 * definitions that serve none of the user's come last, folded under "Module definitions".
 */
import * as vscode from 'vscode';
import type { Definition, DefinitionElement } from '../core/attribution/attribute';
import { CauseIndex } from '../core/attribution/causes';
import type { CounterfactualCost } from '../core/attribution/counterfactual';
import { userDefinitions } from '../core/attribution/counterfactualService';
import { isModuleSwitch, type OptionCostIndex } from '../core/attribution/optionCosts';
import { bringsBack } from '../core/attribution/optionsRender';
import type { AnalysedTarget, AnalysedTargets } from './analysedTargets';
import { shortFile } from './displayPaths';
import type { MeasuredState } from './optionMeasurements';

/** A row of "Options by cost" and what it costs. */
export interface RankedDefinition {
  readonly id: number;
  /** For a row of one element of a list definition: that element. */
  readonly element?: DefinitionElement;
  /** The true cost when measured, else the graph estimate. */
  readonly bytes: number;
  readonly measured: MeasuredState | undefined;
  /** Module definitions it brings in (known once measured). */
  readonly mechanism: readonly number[];
}

/** The user's definitions by true cost, most costly first; those still measuring after the measured ones. */
export function rankUserDefinitions(targets: AnalysedTargets, t: AnalysedTarget): RankedDefinition[] {
  if (t.options.kind !== 'ready') return [];
  const index = t.options.index;
  const a = index.attribution;
  const causes = new CauseIndex(a, new Map());
  const rows = userDefinitions(a).flatMap((d): RankedDefinition[] => {
    const m = targets.measured(t.key, a, d.id);
    const cost = trueCost(m);
    const elements = d.elements.map((e): RankedDefinition => {
      const em = targets.measuredElement(t.key, a, d.id, e.element);
      const ecost = trueCost(em);
      return {
        id: d.id,
        element: e,
        bytes: ecost ? ecost.bytes : a.elementCost(d.id, e.element).bytes,
        measured: em,
        mechanism: [],
      };
    });
    return [
      {
        id: d.id,
        bytes: cost ? cost.bytes : estimate(index, d),
        measured: m,
        mechanism: cost ? causes.mechanismOf(cost) : [],
      },
      ...elements,
    ];
  });
  const known = (r: RankedDefinition) => (r.measured === 'measuring' ? 1 : 0);
  return rows.sort(
    (x, y) =>
      known(x) - known(y) ||
      y.bytes - x.bytes ||
      x.id - y.id ||
      (x.element?.element ?? -1) - (y.element?.element ?? -1),
  );
}

/** Module definitions that carry paths but serve none of the user's definitions listed, by removal cost. */
export function unservedModuleDefinitions(index: OptionCostIndex, ranked: readonly RankedDefinition[]): number[] {
  const served = new Set(ranked.flatMap((r) => r.mechanism));
  return index
    .byCost()
    .filter((c) => c.kind === 'definition' && !c.at[0]!.inWorkspace && !served.has(c.at[0]!.id))
    .map((c) => c.at[0]!.id);
}

export function trueCost(m: MeasuredState | undefined): CounterfactualCost | undefined {
  return m !== undefined && m !== 'measuring' && !('error' in m) ? m : undefined;
}

function estimate(index: OptionCostIndex, d: Definition): number {
  if (isModuleSwitch(d)) return index.moduleSwitchCost(d)?.bytes ?? 0;
  return index.definitionCost(d.id).bytes;
}

/** The row of a user definition: `option`, "size · file:line" (or "measuring… · file:line"). */
export function rankedItem(
  d: Definition,
  r: RankedDefinition,
  size: (n: number) => string,
  hasChildren: boolean,
): vscode.TreeItem {
  const e = r.element;
  const item = new vscode.TreeItem(
    e ? `${d.option}: ${e.text}` : d.option,
    hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  const where = e
    ? `${shortFile(d.file)}:${e.line}:${e.column}`
    : `${shortFile(d.file)}${d.line === null ? '' : `:${d.line}`}`;
  const cost = trueCost(r.measured);
  const shown = r.measured === 'measuring' ? 'measuring…' : size(r.bytes);
  item.description = `${shown} · ${where}`;
  const how = cost
    ? cost.unchanged
      ? 'evaluated without it, the system is the same'
      : `measured: the closure loses ${size(cost.bytes)} without it`
    : r.measured === 'measuring'
      ? `being measured (graph estimate ${size(r.bytes)})`
      : r.measured !== undefined && 'error' in r.measured
        ? `not measured (${r.measured.error.split('\n')[0]!.slice(0, 120)}); graph estimate ${size(r.bytes)}`
        : `graph estimate ${size(r.bytes)}`;
  const added = cost && cost.addedPaths.length > 0 ? `\nremoving it brings back ${bringsBack(cost)}` : '';
  item.tooltip = `${e ? `${e.text} in ${d.option}` : d.option} at ${where}\n${how}${added}`;
  item.iconPath = new vscode.ThemeIcon('symbol-field');
  item.contextValue = 'optionDefinition';
  item.command = {
    command: 'nixClosureLens.goToDefinition',
    title: 'Go to definition',
    arguments: [
      e ? { file: d.file, line: e.line, column: e.column } : { file: d.file, line: d.line, column: d.column },
    ],
  };
  return item;
}
