/**
 * The "Nix Closure" sidebar tree inside a real VS Code, read through its data provider exactly as the view reads it,
 * and checked against the engine run on real nix output in this test: heaviest paths by retained size, each path's
 * why-chain and referrers, duplicates, options by cost; and its commands (Show in sunburst, Go to definition).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes } from '../../../src/shared';
import type { ShownClosure } from '../../../src/extension/closureService';
import type { TreeNode } from '../../../src/extension/heaviestTree';
import { api, DEMO, definitionIn, expectedFor, folder } from './hoverEngine';
import { waitFor } from './waitFor';

async function children(node?: TreeNode): Promise<TreeNode[]> {
  const tree = (await api()).heaviestTree;
  return (await tree.getChildren(node)) ?? [];
}

async function item(node: TreeNode): Promise<vscode.TreeItem> {
  return (await api()).heaviestTree.getTreeItem(node);
}

const label = (i: vscode.TreeItem) => (typeof i.label === 'string' ? i.label : (i.label?.label ?? ''));

async function demoNode(): Promise<TreeNode> {
  for (const n of await children()) if (label(await item(n)) === DEMO) return n;
  throw new Error('the tree lists no demo target');
}

describe('the Nix Closure sidebar tree', function () {
  this.timeout(240_000);

  before(async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    const shown = await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO);
    assert.ok(shown, 'Show closure failed');
    assert.equal(await vscode.commands.executeCommand('nixClosureLens.analyseOptions'), 'ready');
  });

  it('lists the analysed targets with their closure size', async () => {
    const e = await expectedFor(DEMO);
    const i = await item(await demoNode());
    assert.equal(i.description, `${formatBytes(e.analysis.totalSize)} · ${e.analysis.graph.pathCount} paths`);
    assert.equal(i.contextValue, 'closureTarget');
  });

  it('under a target: the heaviest paths by retained size with name, version and size, then Duplicates and Options by cost', async () => {
    const e = await expectedFor(DEMO);
    const g = e.analysis.graph;
    const kids = await children(await demoNode());
    const paths = kids.filter((k): k is Extract<TreeNode, { kind: 'path' }> => k.kind === 'path');
    const n = vscode.workspace.getConfiguration('nixClosureLens').get<number>('tree.heaviestCount', 25);
    const expected = e.analysis.heaviest(n).filter((i) => !g.isVirtual(i));
    assert.deepEqual(
      paths.map((p) => p.path),
      expected.map((i) => g.paths[i]),
    );
    for (const [k, p] of paths.entries()) {
      const it = await item(p);
      const name = g.name(expected[k]!);
      assert.equal(label(it), name.output ? `${name.pname} (${name.output})` : name.pname);
      assert.equal(
        it.description,
        [name.version, formatBytes(e.analysis.retainedSize(expected[k]!))].filter((s) => s !== '').join(' · '),
      );
      assert.equal(it.contextValue, 'storePath');
      assert.equal(it.command?.command, 'nixClosureLens.showInSunburst', 'a click shows it in the sunburst');
    }
    const sections = await Promise.all(kids.filter((k) => k.kind === 'section').map(async (k) => label(await item(k))));
    assert.deepEqual(sections, ['Duplicates', 'Options by cost']);
  });

  it('under a path: its shortest why-chain, its referrers and the definitions that brought it', async () => {
    const e = await expectedFor(DEMO);
    const g = e.analysis.graph;
    // The heaviest path that is not the toplevel itself, so that it has a chain and referrers.
    const top = (await children(await demoNode())).filter(
      (k): k is Extract<TreeNode, { kind: 'path' }> => k.kind === 'path',
    );
    const heavy = top.find((p) => p.path !== e.toplevel)!;
    const groups = await children(heavy);
    assert.deepEqual(await Promise.all(groups.map(async (x) => label(await item(x)))), [
      'Why: shortest chain',
      'Referrers',
      'Brought by option definitions',
    ]);
    const [chainGroup, referrersGroup, broughtGroup] = groups as [TreeNode, TreeNode, TreeNode];

    const heavyIndex = g.indexOf(heavy.path)!;
    const chain = (await children(chainGroup)).map((x) => (x as Extract<TreeNode, { kind: 'path' }>).path);
    assert.equal(chain[0], e.toplevel, 'the chain starts at the toplevel');
    assert.equal(chain[chain.length - 1], heavy.path, 'and ends at the path');
    for (let k = 1; k < chain.length; k++)
      assert.ok(
        [...g.references(g.indexOf(chain[k - 1]!)!)].map((i) => g.paths[i]).includes(chain[k]),
        `${chain[k - 1]} references ${chain[k]}`,
      );
    assert.equal(chain.length - 1, e.analysis.distances[heavyIndex], 'a shortest chain');

    const referrers = (await children(referrersGroup))
      .map((x) => (x as Extract<TreeNode, { kind: 'path' }>).path)
      .sort();
    assert.deepEqual(
      referrers,
      [...g.referrers(heavyIndex)]
        .filter((i) => !g.isVirtual(i))
        .map((i) => g.paths[i])
        .sort(),
    );

    const brought = await Promise.all((await children(broughtGroup)).map(async (x) => label(await item(x))));
    assert.deepEqual(
      brought,
      e.attribution
        .reachingDefinitions(heavyIndex)
        .slice(0, 20)
        .map((r) => e.attribution.definitions[r.id]!.option),
    );
  });

  it('Duplicates: systemd next to systemd-minimal, with what the extra copy costs', async () => {
    const e = await expectedFor(DEMO);
    const kids = await children(await demoNode());
    const dupSection = kids.find((k) => k.kind === 'section' && k.section === 'duplicates')!;
    const groups = await children(dupSection);
    const expected = e.analysis.duplicates();
    assert.ok(
      expected.some((d) => d.pname === 'systemd'),
      'the engine finds the systemd duplicate',
    );
    assert.deepEqual(
      await Promise.all(
        groups.map(async (x) => {
          const i = await item(x);
          return [label(i), i.description];
        }),
      ),
      expected.map((d) => [d.pname, `${d.paths.length} copies · +${formatBytes(d.extraBytes)}`]),
    );
  });

  it('Options by cost: most expensive first; "Go to definition" opens the definition\'s line', async () => {
    const e = await expectedFor(DEMO);
    const kids = await children(await demoNode());
    const options = await children(kids.find((k) => k.kind === 'section' && k.section === 'options')!);
    assert.ok(options.length > 0);
    const descriptions = await Promise.all(options.map(async (o) => (await item(o)).description as string));
    // The user's definitions, ranked; the module plumbing that serves none of them is one folded row at the end.
    const rows = await Promise.all(options.map(async (o) => (await item(o)).contextValue === 'optionDefinition'));
    const shown = descriptions.filter((_, k) => rows[k]).map((d) => d.split(' · ')[0]!.replace(' (module)', ''));
    // Rows still being measured in the background come last, after every row with a cost.
    const measuring = shown.filter((x) => x === 'measuring…').length;
    assert.deepEqual(shown.slice(shown.length - measuring), Array(measuring).fill('measuring…'), shown.join(', '));
    const sizes = shown.slice(0, shown.length - measuring);
    assert.ok(sizes.length > 0, 'some of your definitions have a cost');
    const bytes = (s: string) => {
      const m = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(s);
      assert.ok(m, `a size: ${JSON.stringify(s)} in ${shown.join(', ')}`);
      return Number(m[1]) * 1024 ** ['B', 'KiB', 'MiB', 'GiB'].indexOf(m[2]!);
    };
    for (let k = 1; k < sizes.length; k++)
      assert.ok(bytes(sizes[k - 1]!) >= bytes(sizes[k]!), `sorted by cost: ${sizes.join(', ')}`);

    const configuration = path.join(folder(), 'configuration.nix');
    const d = definitionIn(e, configuration, 'environment.systemPackages');
    let node: TreeNode | undefined;
    for (const o of options) {
      const i = await item(o);
      if (label(i) === 'environment.systemPackages' && String(i.description).endsWith(`configuration.nix:${d.line}`))
        node = o;
    }
    assert.ok(
      node,
      `Options by cost lists environment.systemPackages at configuration.nix:${d.line}: ${descriptions.join('; ')}`,
    );
    assert.equal(
      (await item(node)).description,
      `${formatBytes(e.attribution.removalCost(d.id))} · configuration.nix:${d.line}`,
    );
    assert.equal((await item(node)).contextValue, 'optionDefinition');

    // The context menu's "Go to definition" on that node.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const editor = await vscode.commands.executeCommand<vscode.TextEditor | undefined>(
      'nixClosureLens.goToDefinition',
      node,
    );
    const active = await waitFor("the definition's editor", () => vscode.window.activeTextEditor ?? editor);
    assert.equal(active.document.uri.fsPath, configuration);
    assert.equal(active.selection.active.line, d.line! - 1);
    assert.match(active.document.lineAt(active.selection.active.line).text, /^\s*environment\.systemPackages\s*=/);
  });

  it('"Show in sunburst" on a heaviest path opens the sunburst of its target', async () => {
    const top = (await children(await demoNode())).find((k) => k.kind === 'path')!;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const shown = await vscode.commands.executeCommand<boolean>('nixClosureLens.showInSunburst', top);
    assert.equal(shown, true);
    await waitFor('the sunburst tab', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.input instanceof vscode.TabInputWebview && t.label.includes(DEMO)),
    );
  });
});
