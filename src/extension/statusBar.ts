/**
 * The status bar item: the closure size of the target shown last. Clicking it opens the sunburst again.
 * Issue 7 extends it (per-editor target, staleness).
 */
import * as vscode from 'vscode';
import { formatBytes } from '../core/format';
import type { ClosureService, CurrentClosure } from './closureService';
import { Disposable } from './disposables';
import type { SizeUnits } from './settings';

export class ClosureStatusBar extends Disposable {
  private readonly item = this.register(
    vscode.window.createStatusBarItem('nixClosureLens.size', vscode.StatusBarAlignment.Left, 50),
  );

  constructor(service: ClosureService, private readonly units: () => SizeUnits) {
    super();
    this.item.name = 'Nix Closure Lens: closure size';
    this.item.command = 'nixClosureLens.reopen';
    this.register(service.onDidChangeCurrent((c) => this.update(c)));
    this.update(service.current);
  }

  update(current: CurrentClosure | undefined): void {
    if (!current) {
      this.item.hide();
      return;
    }
    const { analysis } = current.loaded;
    const g = analysis.graph;
    const size = analysis.totalSize;
    const count = g.pathCount;
    this.item.text = `$(package) ${current.title}: ${g.sizesKnown ? formatBytes(size, this.units()) : `${count} paths`}`;
    this.item.tooltip = new vscode.MarkdownString(
      `**${escape(current.title)}**\n\n${g.sizesKnown ? `Closure size: ${formatBytes(size, this.units())}  \n` : ''}` +
        `Paths: ${count}\n\n${escape(current.loaded.rootPath)}\n\nClick to show the sunburst.`,
    );
    this.item.show();
  }
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
