/**
 * VS Code conventions inside a real VS Code, on the example flake: the context keys behind the `when` clauses,
 * "Show closure" run from the explorer on a `result` link and on flake.nix (the Uri VS Code passes), "Set a size
 * budget", and the walkthrough's completion keys. Results are checked against nix. It runs last (suites run in
 * file-name order): it changes the shown closure and relies on the option costs that hover.test.ts computed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { NixClosureLensApi } from '../../../src/extension/extension';
import type { ShownClosure } from '../../../src/extension/closureService';
import { CONTEXT_KEYS } from '../../../src/extension/contributions';
import { folder, nix } from './exampleWorkspace';
import { waitFor } from './waitFor';

const EXTENSION_ID = 'nix-closure-lens.nix-closure-lens';
const DEMO = 'nixosConfigurations.demo';
const DEMO_TOPLEVEL = `${DEMO}.config.system.build.toplevel`;
const MIB = 1024 * 1024;

async function api(): Promise<NixClosureLensApi> {
  return vscode.extensions.getExtension<NixClosureLensApi>(EXTENSION_ID)!.activate();
}

/** Waits until a context key has the value (the extension sets some of them after a file system event). */
function keyBecomes(a: NixClosureLensApi, key: string, expected: (v: unknown) => boolean, what: string) {
  return waitFor(`${key} ${what}`, () => (expected(a.contextKey(key)) ? true : undefined), 15_000);
}

const storeLinks = (a: NixClosureLensApi) => (a.contextKey(CONTEXT_KEYS.storeLinks) ?? {}) as Record<string, unknown>;

describe('VS Code conventions: context keys, the explorer menu, the walkthrough', function () {
  this.timeout(180_000);
  let link: string;

  before(async () => {
    await api();
    link = path.join(folder(), 'result');
  });
  after(async () => {
    fs.rmSync(link, { force: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('the keys say what can act: a flake is here, a closure is shown or not, the running system', async () => {
    const a = await api();
    await keyBecomes(a, CONTEXT_KEYS.hasFlake, (v) => v === true, 'is true (the example flake)');
    assert.equal(a.contextKey(CONTEXT_KEYS.hasClosure), a.current() !== undefined);
    assert.equal(a.contextKey(CONTEXT_KEYS.hasRunningSystem), fs.existsSync('/run/current-system'));
    // No hover showed an option cost in an untrusted folder: nothing has been analysed there.
    if (!vscode.workspace.isTrusted) assert.equal(a.contextKey(CONTEXT_KEYS.hoveredOptionCost), false);
  });

  it('"Show closure" on a result link (the explorer passes its Uri): the closure of the store path it points to', async () => {
    const a = await api();
    const system = (await nix(['eval', '--impure', '--raw', '--expr', 'builtins.currentSystem'])).trim();
    // The test builds with nix itself, so this also runs in an untrusted folder, where the extension builds nothing.
    await nix(['build', `path:${folder()}#packages.${system}.perl`, '--out-link', link]);
    const storePath = fs.realpathSync(link);
    await waitFor('the result link in nixClosureLens.storeLinks', () => (storeLinks(a)[link] ? true : undefined));

    const shown = await vscode.commands.executeCommand<ShownClosure | undefined>(
      'nixClosureLens.showClosure',
      vscode.Uri.file(link),
    );
    assert.ok(shown, 'Show closure on the link showed nothing (see the Nix Closure Lens output)');
    assert.equal(shown.rootPath, storePath);
    const closure = (await nix(['path-info', '-r', storePath])).trim().split('\n');
    assert.equal(shown.pathCount, closure.length);
    assert.equal(a.contextKey(CONTEXT_KEYS.hasClosure), true);
    assert.equal(a.contextKey(CONTEXT_KEYS.hasConfiguration), false, 'a store path has no options');

    fs.rmSync(link);
    await waitFor('the removed link to leave nixClosureLens.storeLinks', () =>
      storeLinks(a)[link] ? undefined : true,
    );
  });

  it('"Show closure" on a file that is neither flake.nix nor a store link says so and shows nothing', async () => {
    const a = await api();
    const before = a.current()?.rootPath;
    const shown = await vscode.commands.executeCommand<ShownClosure | undefined>(
      'nixClosureLens.showClosure',
      vscode.Uri.file(path.join(folder(), 'configuration.nix')),
    );
    assert.equal(shown, undefined);
    assert.equal(a.current()?.rootPath, before);
  });

  it('"Show closure" on flake.nix in an untrusted folder evaluates nothing', async function () {
    if (vscode.workspace.isTrusted) this.skip();
    const a = await api();
    const before = a.nixCommands().total;
    const shown = await vscode.commands.executeCommand<ShownClosure | undefined>(
      'nixClosureLens.showClosure',
      vscode.Uri.file(path.join(folder(), 'flake.nix')),
    );
    assert.equal(shown, undefined);
    assert.equal(a.openTargetPick(), undefined, 'no pick opened');
    assert.equal(a.nixCommands().total, before, 'nix ran');
  });

  describe('in a trusted workspace', function () {
    before(function () {
      if (!vscode.workspace.isTrusted) this.skip();
    });

    it('"Show closure" on flake.nix picks among that flake\'s outputs only, then shows the one chosen', async () => {
      const a = await api();
      const flakeNix = vscode.Uri.file(path.join(folder(), 'flake.nix'));
      const pending = vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', flakeNix);
      const pick = await waitFor('the pick of the flake outputs', () => {
        const p = a.openTargetPick();
        return p && !p.busy && p.rows.some((r) => r.label.endsWith(DEMO)) ? p : undefined;
      });
      assert.match(pick.title ?? '', new RegExp(`of ${path.basename(folder())}$`));
      const outputs = pick.rows.filter((r) => !/Store path…|Running system/.test(r.label));
      // Earlier suites showed store paths (recently used): the pick of one flake leaves them out.
      for (const r of outputs) assert.match(r.label, /^\$\([\w-]+\) (nixosConfigurations|packages|devShells)\./);
      const expected = JSON.parse(
        await nix(['eval', '--json', `path:${folder()}#nixosConfigurations`, '--apply', 'builtins.attrNames']),
      ) as string[];
      for (const host of expected)
        assert.ok(
          outputs.some((r) => r.label.endsWith(`nixosConfigurations.${host}`)),
          host,
        );

      // Down the list as the arrow keys go, until the demo system is the active row.
      for (let i = 0; i < 2 * pick.rows.length; i++) {
        const now = a.openTargetPick()?.active;
        if (now?.endsWith(DEMO)) break;
        await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
        await waitFor('the active row to move', () => (a.openTargetPick()?.active !== now ? true : undefined), 5000);
      }
      assert.ok(a.openTargetPick()?.active?.endsWith(DEMO), `moved to ${DEMO}`);
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      const shown = await pending;
      assert.ok(shown, 'nothing was shown');
      assert.equal(shown.title, DEMO);
      assert.equal(shown.rootPath, (await nix(['eval', '--raw', `path:${folder()}#${DEMO_TOPLEVEL}.outPath`])).trim());
      assert.equal(a.contextKey(CONTEXT_KEYS.hasConfiguration), true);
    });

    it("hovering over an option cost completes the walkthrough's hover step", async () => {
      const a = await api();
      assert.ok(await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO));
      const demo = a.optionCosts().find((t) => t.title === DEMO);
      if (demo?.state !== 'ready') await vscode.commands.executeCommand('nixClosureLens.analyseOptions', demo?.key);
      const doc = await vscode.workspace.openTextDocument(path.join(folder(), 'configuration.nix'));
      const offset = doc.getText().indexOf('environment.systemPackages');
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        doc.uri,
        doc.positionAt(offset + 1),
      );
      const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      assert.match(text, /Removal cost/);
      assert.equal(a.contextKey(CONTEXT_KEYS.hoveredOptionCost), true);
    });

    it('"Set a size budget" writes a rule for the shown closure that holds, and breaks when the budget shrinks', async () => {
      const a = await api();
      assert.ok(await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO));
      const rules = path.join(folder(), '.closure-lens.json');
      assert.ok(!fs.existsSync(rules), 'an earlier suite left a rules file');
      await keyBecomes(a, CONTEXT_KEYS.hasRules, (v) => v === false, 'is false');
      try {
        const file = await vscode.commands.executeCommand<string | undefined>('nixClosureLens.editRules');
        assert.equal(file, rules);
        assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, rules, 'the rules file is open');
        const written = JSON.parse(fs.readFileSync(rules, 'utf8')) as {
          rules: { target: string; maxClosureSize: string }[];
        };
        assert.equal(written.rules.length, 1);
        const [rule] = written.rules;
        assert.equal(rule!.target, `.#${DEMO_TOPLEVEL}`);
        const toplevel = (await nix(['eval', '--raw', `path:${folder()}#${DEMO_TOPLEVEL}.outPath`])).trim();
        // Nix 2.8 prints an array of path infos, later versions an object keyed by path.
        const parsed = JSON.parse(await nix(['path-info', '--json', '-S', toplevel])) as
          { closureSize: number }[] | Record<string, { closureSize: number }>;
        const [info] = Array.isArray(parsed) ? parsed : Object.values(parsed);
        const size = info!.closureSize;
        const budget = Number(/^(\d+) MiB$/.exec(rule!.maxClosureSize)?.[1]) * MIB;
        assert.ok(budget >= size * 1.1 && budget < size * 1.1 + MIB, `budget ${budget} for a closure of ${size}`);
        await keyBecomes(a, CONTEXT_KEYS.hasRules, (v) => v === true, 'is true');

        // The rule applies to the shown closure: shrunk below its size, it is broken on its line.
        fs.writeFileSync(rules, JSON.stringify({ rules: [{ ...rule, maxClosureSize: '1 MiB' }] }, null, 2));
        const broken = await waitFor('the broken budget as a diagnostic', () =>
          vscode.languages.getDiagnostics(vscode.Uri.file(rules)).find((d) => d.code === 'maxClosureSize'),
        );
        assert.match(broken.message, /closure size [\d.]+ MiB exceeds the budget of 1024\.0 KiB \(1 MiB\)/);
      } finally {
        fs.rmSync(rules, { force: true });
      }
      await keyBecomes(a, CONTEXT_KEYS.hasRules, (v) => v === false, 'is false again');
    });
  });
});
