/**
 * The "Nix Closure" sidebar tree:
 *   analysed targets (closure size)
 *     └ heaviest paths by retained size (top N: `nixClosureLens.tree.heaviestCount`), each with name, version, size
 *         └ its shortest why-chain, its referrers, the option definitions that brought it
 *     └ Duplicates: each package present more than once, with what the extra copies cost
 *     └ Options by cost: the definitions and module switches, most expensive first
 * Children are computed when a node is expanded, from the graphs and option costs in memory (no I/O); the tree
 * refreshes when a closure is shown or its option costs arrive. With nothing analysed, the welcome view
 * (package.json `viewsWelcome`) offers "Show closure".
 */
import * as vscode from 'vscode';
import type { Definition } from '../core/attribution/attribute';
import { formatBytes } from '../shared/format';
import type { OptionCost } from '../core/attribution/optionCosts';
import { displayName } from '../shared/storePath';
import type { AnalysedTarget, AnalysedTargets } from './analysedTargets';
import { Disposable } from './disposables';
import { shortFile } from './displayPaths';
import { sameNameLabels } from '../core/attribution/sameName';
import { rankedItem, rankUserDefinitions, unservedModuleDefinitions, type RankedDefinition } from './optionsTree';
import { onDidChangeSettings, optionCostSettings, type SizeUnits } from './settings';

/** Most referrers listed under a path. */
const MOST_REFERRERS = 50;

export type TreeNode =
  | { readonly kind: 'target'; readonly key: string }
  | {
      readonly kind: 'path';
      readonly key: string;
      readonly index: number;
      readonly path: string;
      readonly role: 'heaviest' | 'step' | 'referrer' | 'copy' | 'carried';
    }
  | {
      readonly kind: 'pathGroup';
      readonly key: string;
      readonly index: number;
      readonly group: 'chain' | 'referrers' | 'broughtBy';
    }
  | { readonly kind: 'section'; readonly key: string; readonly section: 'duplicates' | 'options' | 'modules' }
  | { readonly kind: 'duplicate'; readonly key: string; readonly group: number }
  | {
      readonly kind: 'definition';
      readonly key: string;
      readonly id: number;
      readonly cost?: OptionCost;
      /** A user definition in "Options by cost", with its true cost and the module definitions it brings in. */
      readonly ranked?: RankedDefinition;
    }
  | { readonly kind: 'message'; readonly text: string; readonly tooltip?: string; readonly command?: vscode.Command };

/** Arguments of the path and definition commands: a tree node, or `{ target, path }` from a hover link. */
export class HeaviestTreeProvider extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = this.register(new vscode.EventEmitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly targets: AnalysedTargets,
    private readonly units: () => SizeUnits,
  ) {
    super();
    this.register(targets.onDidChange(() => this.refresh()));
    this.register(onDidChangeSettings(() => this.refresh()));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** Duplicates being looked for in the background (per analysis), so the tree can show them when ready. */
  private readonly findingDuplicates = new WeakSet<object>();

  getChildren(node?: TreeNode): TreeNode[] | Promise<TreeNode[]> {
    if (!node) return this.targets.list().map((t) => ({ kind: 'target', key: t.key }));
    const t = this.targets.get('key' in node ? node.key : '');
    if (!t) return [];
    const { analysis } = t.loaded;
    const g = analysis.graph;
    switch (node.kind) {
      case 'target': {
        const heaviest = analysis
          .heaviest(optionCostSettings().heaviestCount)
          .filter((i) => !g.isVirtual(i))
          .map((index): TreeNode => ({ kind: 'path', key: t.key, index, path: g.paths[index]!, role: 'heaviest' }));
        const sections: TreeNode[] = [{ kind: 'section', key: t.key, section: 'duplicates' }];
        if (t.options.kind !== 'not-a-configuration')
          sections.push({ kind: 'section', key: t.key, section: 'options' });
        return [...heaviest, ...sections];
      }
      case 'path':
        return [
          { kind: 'pathGroup', key: t.key, index: node.index, group: 'chain' },
          { kind: 'pathGroup', key: t.key, index: node.index, group: 'referrers' },
          ...(t.options.kind === 'not-a-configuration'
            ? []
            : [{ kind: 'pathGroup', key: t.key, index: node.index, group: 'broughtBy' } as const]),
        ];
      case 'pathGroup':
        return this.pathGroupChildren(t, node.index, node.group);
      case 'definition':
        return this.definitionChildren(t, node);
      case 'section':
        if (node.section === 'modules') return this.moduleDefinitionRows(t);
        return node.section === 'duplicates'
          ? analysis
              .duplicatesInSlices()
              .then((dups) => dups.map((_, group): TreeNode => ({ kind: 'duplicate', key: t.key, group })))
          : this.optionsChildren(t);
      case 'duplicate':
        return analysis.duplicatesInSlices().then((dups) =>
          (dups[node.group]?.paths ?? []).map((index): TreeNode => ({
            kind: 'path',
            key: t.key,
            index,
            path: g.paths[index]!,
            role: 'copy',
          })),
        );
      default:
        return [];
    }
  }

  private pathGroupChildren(t: AnalysedTarget, index: number, group: 'chain' | 'referrers' | 'broughtBy'): TreeNode[] {
    const { analysis } = t.loaded;
    const g = analysis.graph;
    const asPath = (i: number, role: 'step' | 'referrer'): TreeNode => ({
      kind: 'path',
      key: t.key,
      index: i,
      path: g.paths[i]!,
      role,
    });
    if (group === 'chain') {
      const chain = analysis.why(index).chains[0] ?? [];
      return chain.filter((i) => !g.isVirtual(i)).map((i) => asPath(i, 'step'));
    }
    if (group === 'referrers') {
      return [...g.referrers(index)]
        .filter((i) => !g.isVirtual(i))
        .sort((a, b) => analysis.retainedSize(b) - analysis.retainedSize(a) || a - b)
        .slice(0, MOST_REFERRERS)
        .map((i) => asPath(i, 'referrer'));
    }
    if (t.options.kind !== 'ready') return [this.optionsMessage(t)];
    const defs = t.options.index.broughtBy(index);
    if (defs.length === 0)
      return [{ kind: 'message', text: 'No option definition carries it or anything that depends on it' }];
    return defs.slice(0, 20).map((d): TreeNode => ({ kind: 'definition', key: t.key, id: d.id }));
  }

  /** The user's own definitions by true cost; module definitions serving none of them folded last. */
  private optionsChildren(t: AnalysedTarget): TreeNode[] {
    if (t.options.kind !== 'ready') return [this.optionsMessage(t)];
    const ranked = rankUserDefinitions(this.targets, t);
    const rows = ranked
      .slice(0, optionCostSettings().heaviestCount)
      .map((r): TreeNode => ({ kind: 'definition', key: t.key, id: r.id, ranked: r }));
    if (unservedModuleDefinitions(t.options.index, ranked).length > 0)
      rows.push({ kind: 'section', key: t.key, section: 'modules' });
    if (rows.length === 0)
      return [{ kind: 'message', text: 'No option definition carries a store path of this closure' }];
    return rows;
  }

  private readonly labels = new WeakMap<object, Map<number, string>>();

  /** `user-environment (alice)`: for a path whose name another path of the closure shares (engine: sameName.ts). */
  private sameNameLabel(t: AnalysedTarget, i: number): string | undefined {
    const attribution = t.options.kind === 'ready' ? t.options.index.attribution : undefined;
    const key = attribution ?? t.loaded.analysis.graph;
    let labels = this.labels.get(key);
    if (!labels) {
      labels = sameNameLabels(t.loaded.analysis.graph, attribution);
      this.labels.set(key, labels);
    }
    return labels.get(i);
  }

  private optionsProgress(t: AnalysedTarget): string {
    const p = this.targets.measurements.progress(t.key);
    if (p?.state === 'running') return `measuring… ${p.done}/${p.total}`;
    return t.options.kind === 'ready' ? `${t.options.index.attribution.definitions.length} definitions` : '';
  }

  private moduleDefinitionRows(t: AnalysedTarget): TreeNode[] {
    if (t.options.kind !== 'ready') return [this.optionsMessage(t)];
    const index = t.options.index;
    return unservedModuleDefinitions(index, rankUserDefinitions(this.targets, t))
      .slice(0, optionCostSettings().heaviestCount)
      .map((id): TreeNode => ({ kind: 'definition', key: t.key, id, cost: index.definitionCost(id) }));
  }

  /** Under a user definition: the module definitions it brings in (mechanism), then the paths it carries. */
  private definitionChildren(t: AnalysedTarget, node: Extract<TreeNode, { kind: 'definition' }>): TreeNode[] {
    if (!node.ranked || t.options.kind !== 'ready') return [];
    const index = t.options.index;
    const g = index.attribution.graph;
    const d = index.attribution.definitions[node.id]!;
    return [
      ...node.ranked.mechanism.map((id): TreeNode => ({
        kind: 'definition',
        key: t.key,
        id,
        cost: index.definitionCost(id),
      })),
      ...(node.ranked.element ? node.ranked.element.nodes : d.nodes)
        .filter((i) => !g.isVirtual(i))
        .map((i): TreeNode => ({ kind: 'path', key: t.key, index: i, path: g.paths[i]!, role: 'carried' })),
    ];
  }

  private optionsMessage(t: AnalysedTarget): TreeNode {
    const analyse: vscode.Command = {
      command: 'nixClosureLens.analyseOptions',
      title: 'Analyse option costs',
      arguments: [t.key],
    };
    switch (t.options.kind) {
      case 'running':
        return { kind: 'message', text: 'Evaluating the option definitions…' };
      case 'failed':
        return {
          kind: 'message',
          text: `Option costs failed: ${t.options.message}`,
          tooltip: t.options.fix ?? t.options.message,
          command: analyse,
        };
      case 'not-a-configuration':
        return { kind: 'message', text: 'Not a NixOS, home-manager or nix-darwin configuration: no options' };
      default:
        return { kind: 'message', text: 'Analyse option costs (one nix eval)…', command: analyse };
    }
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'message') {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon(node.command ? 'play' : 'info');
      if (node.tooltip) item.tooltip = node.tooltip;
      if (node.command) item.command = node.command;
      return item;
    }
    const t = this.targets.get(node.key);
    if (!t) return new vscode.TreeItem('(no longer loaded)');
    const { analysis } = t.loaded;
    const g = analysis.graph;
    const size = (n: number) => formatBytes(n, this.units());
    const collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    switch (node.kind) {
      case 'target': {
        const current = this.targets.current?.key === t.key;
        const item = new vscode.TreeItem(t.title, current ? vscode.TreeItemCollapsibleState.Expanded : collapsed);
        item.id = `target:${t.key}`;
        item.description = g.sizesKnown ? `${size(analysis.totalSize)} · ${g.pathCount} paths` : `${g.pathCount} paths`;
        item.tooltip = `${t.loaded.rootPath}\n${item.description}${t.loaded.fromCache ? ' (from the cache)' : ''}`;
        item.iconPath = new vscode.ThemeIcon(current ? 'target' : 'package');
        item.contextValue = 'closureTarget';
        return item;
      }
      case 'path': {
        const name = g.name(node.index);
        const label =
          this.sameNameLabel(t, node.index) ?? (name.output ? `${name.pname} (${name.output})` : name.pname);
        const item = new vscode.TreeItem(label, collapsed);
        const retained = analysis.retainedSize(node.index);
        const parts = [name.version, g.sizesKnown ? size(retained) : ''].filter((s) => s !== '');
        item.description = parts.join(' · ');
        // The tooltip (with the closure size, a walk of the path's closure) is filled in on hover: resolveTreeItem.
        item.iconPath = new vscode.ThemeIcon(
          node.role === 'step' ? 'arrow-small-right' : node.role === 'referrer' ? 'arrow-small-left' : 'package',
        );
        item.contextValue = 'storePath';
        item.command = {
          command: 'nixClosureLens.showInSunburst',
          title: 'Show in sunburst',
          arguments: [{ target: t.key, path: node.path }],
        };
        return item;
      }
      case 'pathGroup': {
        if (node.group === 'chain') {
          const chain = analysis.why(node.index).chains[0] ?? [];
          const item = new vscode.TreeItem('Why: shortest chain', collapsed);
          item.description = chain
            .filter((i) => !g.isVirtual(i))
            .map((i) => g.name(i).pname)
            .join(' → ');
          item.iconPath = new vscode.ThemeIcon('git-commit');
          return item;
        }
        if (node.group === 'referrers') {
          const n = g.referrers(node.index).filter((i) => !g.isVirtual(i)).length;
          const item = new vscode.TreeItem(`Referrers`, n > 0 ? collapsed : vscode.TreeItemCollapsibleState.None);
          item.description = `${n}`;
          item.iconPath = new vscode.ThemeIcon('references');
          return item;
        }
        const item = new vscode.TreeItem('Brought by option definitions', collapsed);
        if (t.options.kind === 'ready') item.description = `${t.options.index.broughtBy(node.index).length}`;
        item.iconPath = new vscode.ThemeIcon('settings');
        return item;
      }
      case 'section': {
        if (node.section === 'duplicates') {
          const dups = analysis.knownDuplicates;
          if (!dups) this.findDuplicates(analysis);
          const item = new vscode.TreeItem(
            'Duplicates',
            dups?.length === 0 ? vscode.TreeItemCollapsibleState.None : collapsed,
          );
          const extra = dups?.reduce((s, d) => s + d.extraBytes, 0) ?? 0;
          item.description = !dups
            ? 'looking for them…'
            : dups.length === 0
              ? 'none'
              : `${dups.length} · ${size(extra)} in extra copies`;
          item.iconPath = new vscode.ThemeIcon('copy');
          return item;
        }
        if (node.section === 'modules') {
          const item = new vscode.TreeItem('Module definitions', collapsed);
          item.description = 'the mechanism, not under one of yours';
          item.iconPath = new vscode.ThemeIcon('library');
          return item;
        }
        const item = new vscode.TreeItem('Options by cost', collapsed);
        item.description =
          t.options.kind === 'ready' ? this.optionsProgress(t) : t.options.kind === 'running' ? 'evaluating…' : '';
        item.iconPath = new vscode.ThemeIcon('settings-gear');
        return item;
      }
      case 'duplicate': {
        // Duplicate nodes exist only once the duplicates were found (getChildren of the section waited for them).
        const d = analysis.knownDuplicates?.[node.group];
        const item = new vscode.TreeItem(d?.pname ?? '?', collapsed);
        if (d) {
          item.description = `${d.paths.length} copies · +${size(d.extraBytes)}`;
          item.tooltip = `${d.paths.map((i) => displayName(g.name(i))).join('\n')}\n\nThe copies beyond the largest cost ${size(d.extraBytes)}.`;
        }
        item.iconPath = new vscode.ThemeIcon('versions');
        return item;
      }
      case 'definition': {
        if (t.options.kind !== 'ready') return new vscode.TreeItem('(option costs no longer loaded)');
        const index = t.options.index;
        const d = index.attribution.definitions[node.id]!;
        if (node.ranked) {
          const carried = node.ranked.element ? node.ranked.element.nodes : d.nodes;
          const hasChildren = node.ranked.mechanism.length > 0 || carried.length > 0;
          return rankedItem(d, node.ranked, size, hasChildren);
        }
        const cost = node.cost ?? index.definitionCost(d.id);
        const item = new vscode.TreeItem(d.option, vscode.TreeItemCollapsibleState.None);
        const where = `${shortFile(d.file)}${d.line === null ? '' : `:${d.line}`}`;
        item.description = `${size(cost.bytes)}${cost.kind === 'module' ? ' (module)' : ''} · ${where}`;
        item.tooltip = definitionTooltip(d, cost, size, where);
        item.iconPath = new vscode.ThemeIcon(d.inWorkspace ? 'symbol-field' : 'library');
        item.contextValue = 'optionDefinition';
        item.command = {
          command: 'nixClosureLens.goToDefinition',
          title: 'Go to definition',
          arguments: [{ file: d.file, line: d.line, column: d.column }],
        };
        return item;
      }
    }
  }

  /** On hover: a path's tooltip with its closure size (one walk of its closure, so not for every row up front). */
  resolveTreeItem(item: vscode.TreeItem, node: TreeNode): vscode.TreeItem {
    if (node.kind !== 'path' || item.tooltip !== undefined) return item;
    const t = this.targets.get(node.key);
    if (!t) return item;
    const { analysis } = t.loaded;
    const g = analysis.graph;
    const size = (n: number) => formatBytes(n, this.units());
    item.tooltip = new vscode.MarkdownString(
      `\`${node.path}\`\n\n` +
        (g.sizesKnown
          ? `retained ${size(analysis.retainedSize(node.index))} (what leaves the closure without it) · closure ${size(analysis.closureSize(node.index))} · NAR ${size(g.narSize[node.index]!)}`
          : ''),
    );
    return item;
  }

  /** Looks for an analysis' duplicates in slices (src/core/slices.ts), then shows them. */
  private findDuplicates(analysis: { duplicatesInSlices(): Promise<unknown> }): void {
    if (this.findingDuplicates.has(analysis)) return;
    this.findingDuplicates.add(analysis);
    analysis.duplicatesInSlices().then(
      () => this.refresh(),
      () => this.findingDuplicates.delete(analysis),
    );
  }
}

function definitionTooltip(d: Definition, cost: OptionCost, size: (n: number) => string, where: string): string {
  const what =
    cost.kind === 'module'
      ? `enables ${cost.moduleFiles?.map(shortFile).join(', ') ?? 'a module'}: module cost`
      : 'removal cost';
  return `${d.option} at ${where}\n${what} ${size(cost.bytes)} (what the closure loses without it)`;
}
