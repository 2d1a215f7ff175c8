/** `dups`'s outputs: the JSON of src/cli/outputs and the text table. */
import type { ClosureAnalysis } from '../../core/analysis/closure';
import { formatBytes, renderTable, type SizeStyle } from '../../shared/format';
import { OUTPUT_VERSION, type DupsJson } from '../outputs';
import { plural } from './common';

export function dupsJson(a: ClosureAnalysis): DupsJson {
  const known = a.graph.sizesKnown;
  return {
    version: OUTPUT_VERSION,
    groups: a.duplicates().map((d) => ({
      pname: d.pname,
      paths: d.paths.map((i) => a.graph.paths[i]!),
      extraBytes: known ? d.extraBytes : null,
    })),
  };
}

export function renderDupsText(a: ClosureAnalysis, style: SizeStyle = 'iec'): string {
  const groups = a.duplicates();
  if (groups.length === 0) return 'No package is in the closure more than once.\n';
  const g = a.graph;
  const size = (n: number) => (g.sizesKnown ? formatBytes(n, style) : '-');
  const rows = [['PACKAGE', 'EXTRA', 'RETAINED', 'PATHS']];
  for (const d of groups) {
    d.paths.forEach((i, k) => {
      rows.push([k === 0 ? d.pname : '', k === 0 ? size(d.extraBytes) : '', size(a.retainedSize(i)), g.paths[i]!]);
    });
  }
  const total = groups.reduce((s, d) => s + d.extraBytes, 0);
  return (
    [
      ...renderTable(rows, ['left', 'right', 'right', 'left']),
      '',
      `${plural(groups.length, 'package')} in more than one copy. EXTRA: the bytes that would leave the closure if only`,
      `the first (largest) path of each package stayed${g.sizesKnown ? `; ${formatBytes(total, style)} in all` : ''}.`,
    ].join('\n') + '\n'
  );
}
