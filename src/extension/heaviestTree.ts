/**
 * The "Heaviest paths" tree in the Nix Closure Lens sidebar. For now a flat list of the closure's heaviest paths
 * by retained size; issue 7 grows it (targets, why-chains, referrers, duplicates, options by cost).
 * While nothing is loaded the tree is empty and the welcome view (package.json `viewsWelcome`) offers "Show closure".
 */
import * as vscode from 'vscode';
import { formatBytes } from '../core/format';
import { displayName, parseStorePath } from '../core/storePath';
import type { ClosureService, CurrentClosure } from './closureService';
import { Disposable } from './disposables';
import type { SizeUnits } from './settings';

export const HEAVIEST_VIEW_ID = 'nixClosureLens.heaviest';
const SHOWN = 50;

interface HeavyPath {
  readonly index: number;
  readonly path: string;
}

export class HeaviestTreeProvider extends Disposable implements vscode.TreeDataProvider<HeavyPath> {
  private readonly changed = this.register(new vscode.EventEmitter<HeavyPath | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private current: CurrentClosure | undefined;

  constructor(service: ClosureService, private readonly units: () => SizeUnits) {
    super();
    this.current = service.current;
    this.register(
      service.onDidChangeCurrent((c) => {
        this.current = c;
        this.changed.fire(undefined);
      }),
    );
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(element?: HeavyPath): HeavyPath[] {
    if (element || !this.current) return [];
    const { analysis } = this.current.loaded;
    return analysis.heaviest(SHOWN).map((index) => ({ index, path: analysis.graph.paths[index]! }));
  }

  getTreeItem(element: HeavyPath): vscode.TreeItem {
    const analysis = this.current!.loaded.analysis;
    const item = new vscode.TreeItem(displayName(parseStorePath(element.path)), vscode.TreeItemCollapsibleState.None);
    const retained = analysis.retainedSize(element.index);
    item.description = analysis.graph.sizesKnown ? formatBytes(retained, this.units()) : undefined;
    item.tooltip = `${element.path}\nretained: ${formatBytes(retained, this.units())}`;
    item.contextValue = 'storePath';
    item.iconPath = new vscode.ThemeIcon('package');
    item.command = { command: 'nixClosureLens.whyDepends', title: 'Why depends', arguments: [element.path] };
    return item;
  }
}
