/**
 * Optional CodeLens above each option definition that costs more than a threshold, e.g. "+48.2 MiB"
 * (settings `nixClosureLens.optionCosts.codeLens` and `…codeLensThresholdMiB`). Reads the same in-memory option
 * costs as the hover, for the configuration shown most recently among those the file is part of.
 */
import * as vscode from 'vscode';
import { formatBytes } from '../shared/format';
import { hoverSpotAt, type OptionCost } from '../core/attribution/optionCosts';
import type { AnalysedTargets } from './analysedTargets';
import { Disposable } from './disposables';
import type { ScanCache } from './optionHover';
import { onDidChangeSettings, optionCostSettings, type SizeUnits } from './settings';

export class CostLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(
    private readonly targets: AnalysedTargets,
    private readonly scans: ScanCache,
    private readonly units: () => SizeUnits,
  ) {
    super();
    this.register(targets.onDidChange(() => this.changed.fire()));
    this.register(onDidChangeSettings(() => this.changed.fire()));
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const settings = optionCostSettings();
    if (!settings.codeLens) return [];
    const file = this.targets.resolveFile(doc.uri.fsPath);
    const first = this.targets.indexesFor(file)[0];
    if (!first) return [];
    const src = doc.getText();
    const scan = this.scans.of(doc);
    const lenses: vscode.CodeLens[] = [];
    const seen = new Set<string>();
    for (const b of scan.bindings) {
      // Leaves only: a nested set's own bindings get their lenses.
      if (b.kind !== 'definition' || b.nested || b.inherited) continue;
      const spot = hoverSpotAt(src, scan, b.start);
      if (!spot) continue;
      const cost = first.index.costAt(file, spot, scan, src);
      if (!cost) continue;
      // The true cost (measured without the definition) once known; "measuring…" until then, never the estimate.
      const one = (cost.kind === 'definition' || cost.kind === 'module') && cost.at.length === 1;
      const m = one ? this.targets.measured(first.target.key, first.index.attribution, cost.at[0]!.id) : undefined;
      const measured = m !== undefined && m !== 'measuring' && !('error' in m) ? m : undefined;
      const bytes = measured ? measured.bytes : cost.bytes;
      if (m !== 'measuring' && bytes < settings.codeLensMinBytes) continue;
      const id = cost.at.map((d) => d.id).join(',');
      if (seen.has(id)) continue;
      seen.add(id);
      const g = first.index.attribution.graph;
      const focus =
        (measured ? measured.lostNodes.find((i) => !g.isVirtual(i)) : undefined) ??
        cost.lostPaths[0] ??
        cost.carried[0];
      const storePath = focus === undefined ? undefined : g.paths[focus];
      const line = doc.lineAt(doc.positionAt(b.start).line).range;
      lenses.push(
        new vscode.CodeLens(line, {
          title:
            m === 'measuring'
              ? `measuring… in ${first.target.title}`
              : lensTitle({ bytes, kind: measured ? 'definition' : cost.kind }, this.units(), first.target.title),
          tooltip: `What ${cost.option} costs in the closure of ${first.target.title}: the bytes it loses without it`,
          ...(storePath
            ? { command: 'nixClosureLens.showInSunburst', arguments: [{ target: first.target.key, path: storePath }] }
            : { command: '' }),
        }),
      );
    }
    return lenses;
  }
}

export function lensTitle(cost: Pick<OptionCost, 'kind' | 'bytes'>, units: SizeUnits, configuration: string): string {
  const what = cost.kind === 'module' ? ' (module)' : '';
  return `+${formatBytes(cost.bytes, units)}${what} in ${configuration}`;
}
