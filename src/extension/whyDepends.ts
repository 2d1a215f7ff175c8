/**
 * "Why depends…": pick a dependency of the loaded closure by (fuzzy) name and show every chain from the root to
 * it, shortest first, drawn as `nix why-depends --all` draws them, in a read-only document; the open sunburst
 * selects it too, which opens its why panel.
 */
import * as vscode from 'vscode';
import type { ClosureAnalysis } from '../core/analysis/closure';
import { drawChains, formatBytes } from '../shared/format';
import { displayName } from '../shared/storePath';
import type { CurrentClosure } from './closureService';
import type { SizeUnits } from './settings';

export const WHY_SCHEME = 'nix-closure-lens-why';
const CHAIN_LIMIT = 50;

/** Serves the why documents; each URI's content is set before the document is opened. */
export class WhyDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return (
      this.contents.get(uri.toString()) ?? 'This why-depends result is no longer available. Run "Why depends…" again.'
    );
  }

  /** Opens the text in `column` (by default the active one). */
  async open(
    name: string,
    text: string,
    column: vscode.ViewColumn = vscode.ViewColumn.Active,
  ): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.from({ scheme: WHY_SCHEME, path: `/why ${name.replace(/[/\\]/g, '_')}.txt` });
    this.contents.set(uri.toString(), text);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false, viewColumn: column });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

interface NodeItem extends vscode.QuickPickItem {
  readonly index: number;
}

/** The dependency the user means: a store path, a name (`perl`), or their pick from the whole closure. */
export async function pickDependency(
  current: CurrentClosure,
  query: string | undefined,
  units: SizeUnits,
): Promise<number | undefined> {
  const { analysis } = current.loaded;
  const g = analysis.graph;
  if (query !== undefined && query !== '') {
    const exact = g.indexOf(query);
    if (exact !== undefined) return exact;
    const r = analysis.resolve(query);
    if (r.kind === 'unique') return r.node;
    if (r.kind === 'ambiguous')
      return pickAmong(analysis, r.nodes, units, `"${query}" matches ${r.nodes.length} paths`);
    if (r.kind === 'invalid-regex') {
      void vscode.window.showWarningMessage(`Nix Closure Lens: ${query} is an ${r.message}.`);
      return undefined;
    }
    void vscode.window.showWarningMessage(
      `Nix Closure Lens: nothing named "${query}" is in the closure of ${current.title}.`,
    );
    return undefined;
  }
  const all: number[] = [];
  for (let i = 0; i < g.nodeCount; i++) if (i !== g.root && g.paths[i] !== '') all.push(i);
  return pickAmong(analysis, all, units, `Why does ${current.title} depend on…`);
}

async function pickAmong(
  analysis: ClosureAnalysis,
  nodes: number[],
  units: SizeUnits,
  title: string,
): Promise<number | undefined> {
  const g = analysis.graph;
  const sorted = [...nodes].sort((a, b) => analysis.retainedSize(b) - analysis.retainedSize(a) || a - b);
  const items: NodeItem[] = sorted.map((index) => ({
    index,
    label: displayName(g.name(index)),
    description: g.sizesKnown ? `${formatBytes(analysis.retainedSize(index), units)} retained` : undefined,
    detail: g.paths[index],
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: 'Type a name, e.g. perl',
    matchOnDescription: false,
    matchOnDetail: true,
  });
  return picked?.index;
}

/** The chains text, as `nix why-depends --all` would print it, with a header that says what was left out. */
export function whyText(current: CurrentClosure, dep: number, units: SizeUnits): string {
  const { analysis } = current.loaded;
  const g = analysis.graph;
  const set = analysis.why(dep, { all: true, limit: CHAIN_LIMIT });
  const label = (i: number) => (g.paths[i] === '' ? `(${current.title})` : g.paths[i]!);
  const head = [
    `Why ${current.title} depends on ${displayName(g.name(dep))}`,
    `  ${g.paths[dep]}`,
    g.sizesKnown
      ? `  NAR ${formatBytes(g.narSize[dep]!, units)}, closure ${formatBytes(analysis.closureSize(dep), units)}, retained ${formatBytes(analysis.retainedSize(dep), units)}, ${g.referrers(dep).length} referrers`
      : `  ${g.referrers(dep).length} referrers`,
    '',
    set.totalChains === 0
      ? 'No chain: the root does not depend on it.'
      : set.truncated
        ? `${set.totalChains} chains; the ${set.chains.length} shortest:`
        : `${set.totalChains} chain${set.totalChains === 1 ? '' : 's'}, shortest first:`,
    '',
  ];
  return [...head, ...drawChains(set.chains.map((c) => c.map(label))), ''].join('\n');
}
