/**
 * The extension in a multi-root workspace (run by test/e2e/run.ts with hostRunner's CLOSURE_LENS_E2E_SUITE =
 * suite-multiroot): two folders, each a fixture flake (chain, then diamonds) with outputs of the same names.
 * Targets are named per folder, each loads its own flake's closure, and the results are checked against nix.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { NixClosureLensApi } from '../../../src/extension/extension';
import type { ShownClosure } from '../../../src/extension/closureService';
import { waitFor } from '../suite/waitFor';

const execFileAsync = promisify(execFile);
const EXTENSION_ID = 'nix-closure-lens.nix-closure-lens';
const FOLDERS = ['chain', 'diamonds'];

async function api(): Promise<NixClosureLensApi> {
  const ext = vscode.extensions.getExtension<NixClosureLensApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

async function nix(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('nix', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

function folderDir(name: string): string {
  const f = vscode.workspace.workspaceFolders?.find((w) => w.name === name);
  assert.ok(f, `no workspace folder named ${name}`);
  return f.uri.fsPath;
}

/** What nix says an output of one folder's flake is: its store path and the paths of its closure. */
async function nixOutput(folder: string, attr: string): Promise<{ root: string; closure: string[] }> {
  const root = (await nix(['eval', '--raw', `path:${folderDir(folder)}#packages.x86_64-linux.${attr}.outPath`])).trim();
  return { root, closure: (await nix(['path-info', '-r', root])).trim().split('\n') };
}

function sunburstTabs(title: string): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.label === `Closure: ${title}`);
}

describe('Nix Closure Lens in a multi-root workspace', function () {
  this.timeout(180_000);

  it('opens the two fixture flakes as workspace folders', async () => {
    await api();
    assert.deepEqual(
      vscode.workspace.workspaceFolders?.map((f) => f.name),
      FOLDERS,
    );
    for (const name of FOLDERS) assert.ok(fs.existsSync(path.join(folderDir(name), 'flake.nix')));
  });

  const shown = new Map<string, ShownClosure>();

  for (const folder of FOLDERS) {
    it(`"Show closure" of ${folder}#packages.default loads the ${folder} flake's output, with exactly nix's closure`, async () => {
      const result = await vscode.commands.executeCommand<ShownClosure | undefined>(
        'nixClosureLens.showClosure',
        `${folder}#packages.default`,
      );
      assert.ok(result, 'Show closure returned nothing (see the Nix Closure Lens output)');
      const expected = await nixOutput(folder, 'default');
      assert.equal(result.rootPath, expected.root);
      assert.equal(result.pathCount, expected.closure.length);
      assert.equal((await api()).current()?.rootPath, expected.root);
      shown.set(folder, result);
    });
  }

  it('keeps one sunburst per flake, though both outputs have the same name', async () => {
    assert.equal(shown.size, FOLDERS.length, 'depends on the previous tests');
    assert.notEqual(shown.get('chain')!.rootPath, shown.get('diamonds')!.rootPath);
    // Same output name, two closures: each tab says whose it is.
    for (const folder of FOLDERS) {
      await waitFor(`the sunburst tab of ${folder}`, () =>
        sunburstTabs(`${folder}#packages.default`).length === 1 ? true : undefined,
      );
    }
  });

  it("a label alone finds the first folder's output; an unknown folder name finds none", async () => {
    const first = await vscode.commands.executeCommand<ShownClosure | undefined>(
      'nixClosureLens.showClosure',
      'packages.default',
    );
    assert.equal(first?.rootPath, shown.get('chain')!.rootPath);
    const none = await vscode.commands.executeCommand<ShownClosure | undefined>(
      'nixClosureLens.showClosure',
      'nosuchfolder#packages.default',
    );
    assert.equal(none, undefined);
  });

  it('"Why depends…" perl answers for the current closure, the second folder\'s, with its own perl', async () => {
    const diamonds = await vscode.commands.executeCommand<ShownClosure | undefined>(
      'nixClosureLens.showClosure',
      'diamonds#packages.default',
    );
    assert.equal(diamonds?.rootPath, shown.get('diamonds')!.rootPath);
    const text = await vscode.commands.executeCommand<string | undefined>('nixClosureLens.whyDepends', 'perl');
    assert.ok(text, 'no why text');
    const perl = (await nixOutput('diamonds', 'perl')).root;
    const otherPerl = (await nixOutput('chain', 'perl')).root;
    assert.notEqual(perl, otherPerl, 'the two flakes build different perls');
    assert.equal(text.split('\n')[1]!.trim(), perl);
    const chainStarts = text.split('\n').filter((l) => l.startsWith('/nix/store/'));
    assert.ok(
      chainStarts.length > 0 && chainStarts.every((l) => l === diamonds!.rootPath),
      `the chains start at the diamonds root:\n${text.slice(0, 600)}`,
    );
    assert.ok(!text.includes(otherPerl), "the chain flake's perl is not in the answer");
  });
});
