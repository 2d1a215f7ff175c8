/** The commands of the sidebar tree's context menus and of the hover links: show in sunburst, why, copy, go to. */
import * as vscode from 'vscode';
import { broughtBack } from './measuredHover';
import { formatBytes } from '../shared/format';
import type { AnalysedTargets } from './analysedTargets';
import { HEAVIEST_VIEW_ID } from './contributions';
import type { TreeNode } from './heaviestTree';
import { readSettings } from './settings';

/** What a tree item or a hover link passes: the target and path, or just a path of the current target. */
type PathArg = { readonly key?: string; readonly target?: string; readonly path?: string } | string | undefined;

/** The commands of the tree's context menus and of the hover links. */
export function registerClosureViewCommands(targets: AnalysedTargets): vscode.Disposable {
  const reg = (id: string, fn: (arg: unknown) => unknown) => vscode.commands.registerCommand(id, fn);
  const resolve = (arg: unknown): { key: string; path: string } | undefined => {
    const a = arg as PathArg;
    if (typeof a === 'string') return targets.current ? { key: targets.current.key, path: a } : undefined;
    const key = a?.key ?? a?.target ?? targets.current?.key;
    return key !== undefined && typeof a?.path === 'string' ? { key, path: a.path } : undefined;
  };
  const disposables = [
    reg('nixClosureLens.showInSunburst', async (arg) => {
      const r = resolve(arg);
      return r ? targets.showInSunburst(r.key, r.path) : false;
    }),
    reg('nixClosureLens.whyDependsOn', async (arg) => {
      const r = resolve(arg);
      if (r) await targets.whyDepends(r.key, r.path);
    }),
    reg('nixClosureLens.copyStorePath', async (arg) => {
      const r = resolve(arg);
      if (!r) return;
      await vscode.env.clipboard.writeText(r.path);
      vscode.window.setStatusBarMessage(`Copied ${r.path}`, 3000);
    }),
    reg('nixClosureLens.goToDefinition', (arg) => goToDefinition(targets, arg)),
    reg('nixClosureLens.counterfactualCost', async (arg) => {
      const a = arg as { target?: unknown; definition?: unknown } | undefined;
      if (typeof a?.target !== 'string' || typeof a.definition !== 'number') return undefined;
      const cost = await targets.counterfactual(a.target, a.definition);
      announceCounterfactual(targets, a.target, a.definition, cost);
      return cost;
    }),
    reg('nixClosureLens.analyseOptions', async (arg) => {
      const key = typeof arg === 'string' ? arg : ((arg as { key?: string } | undefined)?.key ?? targets.current?.key);
      const t = key === undefined ? undefined : targets.get(key);
      if (!t) {
        await vscode.commands.executeCommand('nixClosureLens.showClosure');
        return targets.current?.options.kind;
      }
      const state = await targets.analyse(t.key, { refresh: t.options.kind === 'ready' });
      if (state.kind === 'ready') {
        // The run may take a fraction of a second (from the cache): without a word, nothing seems to happen.
        const defs = state.index.attribution.definitions.length;
        void vscode.window
          .showInformationMessage(
            `Nix Closure Lens: option costs of ${t.title} are ready: ${defs} definitions, evaluated in ${(state.evalMs / 1000).toFixed(1)} s${state.fromCache ? ' (from the cache)' : ''}. Hover an option in a .nix file to see its cost.`,
            'Show in Heaviest view',
          )
          .then((c) => {
            if (c) void vscode.commands.executeCommand(`${HEAVIEST_VIEW_ID}.focus`);
          });
      } else if (state.kind === 'not-analysed') {
        void vscode.window.showInformationMessage(`Nix Closure Lens: option costs of ${t.title}: cancelled.`);
      } else if (state.kind === 'failed') {
        void vscode.window
          .showErrorMessage(
            `Nix Closure Lens: option costs of ${t.title}: ${state.message}${state.fix ? ` To fix: ${state.fix}` : ''}`,
            'Show log',
          )
          .then((c) => {
            if (c) void vscode.commands.executeCommand('nixClosureLens.showLog');
          });
      } else if (state.kind === 'not-a-configuration') {
        void vscode.window.showInformationMessage(
          `Nix Closure Lens: ${t.title} is not a NixOS, home-manager or nix-darwin configuration, so it has no options.`,
        );
      }
      return state.kind;
    }),
  ];
  return vscode.Disposable.from(...disposables);
}

/** Opens a definition's file at its line: a tree node, or `{ file, line, column }` from a link. */
async function goToDefinition(targets: AnalysedTargets, arg: unknown): Promise<vscode.TextEditor | undefined> {
  let where = arg as { file?: unknown; line?: unknown; column?: unknown } | undefined;
  const node = arg as Partial<Extract<TreeNode, { kind: 'definition' }>> | undefined;
  if (node?.kind === 'definition' && node.key !== undefined && node.id !== undefined) {
    const t = targets.get(node.key);
    const d = t?.options.kind === 'ready' ? t.options.index.attribution.definitions[node.id] : undefined;
    where = d && { file: d.file, line: d.line, column: d.column };
  }
  if (typeof where?.file !== 'string') return undefined;
  const uri = vscode.Uri.file(where.file);
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    void vscode.window.showErrorMessage(
      `Nix Closure Lens: the definition's file ${where.file} does not exist (any more). Run "Analyse option costs" again.`,
    );
    return undefined;
  }
  const line = typeof where.line === 'number' && where.line > 0 ? where.line - 1 : 0;
  const column = typeof where.column === 'number' && where.column > 0 ? where.column - 1 : 0;
  const position = new vscode.Position(line, column);
  return vscode.window.showTextDocument(uri, { selection: new vscode.Range(position, position), preview: true });
}

/** Says what "Evaluate without it" found (or why it found nothing): the hover shows it only on the next hover. */
function announceCounterfactual(
  targets: AnalysedTargets,
  key: string,
  id: number,
  cost: Awaited<ReturnType<AnalysedTargets['counterfactual']>>,
): void {
  const t = targets.get(key);
  const d = t?.options.kind === 'ready' ? t.options.index.attribution.definitions[id] : undefined;
  const what = d ? `${t!.title} without ${d.option}` : 'the configuration without that definition';
  if (cost) {
    const size = (n: number) => formatBytes(n, readSettings().sizeUnits);
    const added =
      cost.addedPaths.length > 0 ? `, and it brings back ${broughtBack(cost, (x) => x, size).join(', ')}` : '';
    void vscode.window.showInformationMessage(
      cost.unchanged
        ? `Nix Closure Lens: ${what} evaluates to the same system: the definition costs nothing on its own (${(cost.evalMs / 1000).toFixed(1)} s).`
        : `Nix Closure Lens: ${what} is ${size(cost.bytes)} smaller (${cost.lostNodes.length} paths leave${added}; evaluated in ${(cost.evalMs / 1000).toFixed(1)} s).`,
    );
    return;
  }
  const state = t?.options.kind === 'ready' ? targets.measured(key, t.options.index.attribution, id) : undefined;
  const error = state && state !== 'measuring' && 'error' in state ? state.error : undefined;
  if (error !== undefined) {
    void vscode.window
      .showErrorMessage(`Nix Closure Lens: evaluating ${what} failed: ${error}`, 'Show log')
      .then((c) => {
        if (c) void vscode.commands.executeCommand('nixClosureLens.showLog');
      });
  } else if (t?.options.kind !== 'ready') {
    void vscode.window.showWarningMessage(
      'Nix Closure Lens: run "Analyse option costs" first: "Evaluate without it" needs the option costs.',
    );
  }
}
