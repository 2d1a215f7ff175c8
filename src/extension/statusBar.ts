/**
 * The status bar item: the closure size of the current target. That is the configuration the active .nix editor
 * belongs to (when one analysed configuration defines options from that file), else the target shown last.
 * Clicking it opens that target's sunburst.
 */
import * as vscode from 'vscode';
import { formatBytes } from '../shared/format';
import type { AnalysedTarget, AnalysedTargets } from './analysedTargets';
import { Disposable } from './disposables';
import type { SizeUnits } from './settings';

export class ClosureStatusBar extends Disposable {
  private readonly item = this.register(
    vscode.window.createStatusBarItem('nixClosureLens.size', vscode.StatusBarAlignment.Left, 50),
  );

  constructor(
    private readonly targets: AnalysedTargets,
    private readonly units: () => SizeUnits,
  ) {
    super();
    this.item.name = 'Nix Closure Lens: closure size';
    this.register(targets.onDidChange(() => this.update()));
    this.register(vscode.window.onDidChangeActiveTextEditor(() => this.update()));
    this.update();
  }

  /** The target for the active editor's file, else the one shown last. */
  private target(): AnalysedTarget | undefined {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc?.uri.scheme === 'file' && doc.languageId === 'nix') {
      const forFile = this.targets.indexesFor(this.targets.resolveFile(doc.uri.fsPath))[0];
      if (forFile) return forFile.target;
    }
    return this.targets.current;
  }

  update(): void {
    const t = this.target();
    if (!t) {
      this.item.hide();
      return;
    }
    const { analysis } = t.loaded;
    const g = analysis.graph;
    const size = analysis.totalSize;
    const count = g.pathCount;
    this.item.text = `$(package) ${t.title}: ${g.sizesKnown ? formatBytes(size, this.units()) : `${count} paths`}`;
    const options =
      t.options.kind === 'ready'
        ? `Option costs: ${t.options.index.attribution.definitions.length} definitions\n\n`
        : t.options.kind === 'running'
          ? 'Option costs: evaluating…\n\n'
          : '';
    // Screen readers read the tooltip's Markdown source otherwise (`**nixosConfigurations\.host**`).
    this.item.accessibilityInformation = {
      label: `Nix Closure Lens: ${t.title}, ${
        g.sizesKnown ? `closure size ${formatBytes(size, this.units())}` : `${count} paths`
      }. ${t.options.kind === 'running' ? 'Evaluating option costs. ' : ''}Activate to show the sunburst.`,
      role: 'button',
    };
    this.item.tooltip = new vscode.MarkdownString(
      `**${escape(t.title)}**\n\n${g.sizesKnown ? `Closure size: ${formatBytes(size, this.units())}  \n` : ''}` +
        `Paths: ${count}\n\n${options}${escape(t.loaded.rootPath)}\n\nClick to show the sunburst.`,
    );
    // The current target's panel comes back as it was; another target's is opened on its root.
    this.item.command =
      t.key === this.targets.current?.key
        ? 'nixClosureLens.reopen'
        : {
            command: 'nixClosureLens.showInSunburst',
            title: 'Show the sunburst',
            arguments: [{ target: t.key, path: t.loaded.rootPath }],
          };
    this.item.show();
  }
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
