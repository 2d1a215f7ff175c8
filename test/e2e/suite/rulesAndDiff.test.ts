/**
 * Closure diff, .closure-lens.json diagnostics and the compressed-size estimate inside a real VS Code, on the
 * example flake, checked against nix. It analyses demo's option costs, so it runs after hover.test.ts, which
 * needs them not analysed yet (suites run in file-name order).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes } from '../../../src/shared';
import { folder, nix } from './exampleWorkspace';
import { waitFor } from './waitFor';

const EXTENSION_ID = 'nix-closure-lens.nix-closure-lens';
const DEMO = 'nixosConfigurations.demo';
const TOPLEVEL = (host: string) => `.#nixosConfigurations.${host}.config.system.build.toplevel`;

describe('Closure diff, rules and compressed size in VS Code', function () {
  this.timeout(180_000);
  before(async function () {
    await vscode.extensions.getExtension(EXTENSION_ID)!.activate();
    if (!vscode.workspace.isTrusted) this.skip();
  });

  let rulesFile: string;
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (rulesFile && fs.existsSync(rulesFile)) fs.rmSync(rulesFile);
  });

  it('puts broken rules of .closure-lens.json on their lines with the chain, and clears them once they hold', async () => {
    rulesFile = path.join(folder(), '.closure-lens.json');
    const broken = [
      '{',
      '  "rules": [',
      '    {',
      `      "target": ".#${DEMO}",`,
      '      "maxClosureSize": "1 KiB",',
      '      "mustBeAbsent": ["perl", "no-such-package"]',
      '    }',
      '  ]',
      '}',
      '',
    ].join('\n');
    fs.writeFileSync(rulesFile, broken);
    const uri = vscode.Uri.file(rulesFile);
    await vscode.window.showTextDocument(uri);
    const shown = await vscode.commands.executeCommand<{ rootPath: string } | undefined>(
      'nixClosureLens.showClosure',
      DEMO,
    );
    assert.ok(shown, 'Show closure returned nothing');
    const diags = await waitFor('two rule diagnostics', () => {
      const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'closure-lens');
      return d.length === 2 ? d : undefined;
    });
    const size = diags.find((d) => d.code === 'maxClosureSize')!;
    assert.equal(size.range.start.line, 4);
    const closureSize = JSON.parse(await nix(['path-info', '--json', '-S', shown.rootPath])) as {
      closureSize: number;
    }[];
    assert.ok(closureSize[0]!.closureSize > 1024);
    assert.match(size.message, /exceeds the budget of 1\.0 KiB/);
    const perl = diags.find((d) => d.code === 'mustBeAbsent')!;
    assert.equal(perl.range.start.line, 5);
    assert.equal(broken.split('\n')[5]!.slice(perl.range.start.character, perl.range.end.character), '"perl"');
    // Its first chain starts at the system and ends in perl, and is no longer than the one nix prints.
    const chain = perl.message.split('\n')[1]!.trim().split(' → ');
    assert.match(chain[0]!, /^nixos-system-demo/);
    assert.match(chain[chain.length - 1]!, /^perl-/);
    const perlPath = (await nix(['path-info', '-r', shown.rootPath]))
      .split('\n')
      .find((p) => /-perl-[0-9.]+$/.test(p))!;
    const nixChain = (await nix(['why-depends', shown.rootPath, perlPath])).trim().split('\n');
    assert.ok(chain.length <= nixChain.length, `${chain.join(' → ')} vs ${nixChain.length} lines of nix why-depends`);
    // Once the option costs of the configuration are ready, the diagnostic names the option and links its file.
    assert.equal(await vscode.commands.executeCommand('nixClosureLens.analyseOptions'), 'ready');
    const withOption = await waitFor(
      'the option behind perl',
      () => {
        const d = vscode.languages.getDiagnostics(uri).find((x) => x.code === 'mustBeAbsent');
        return d && /\(option [\w.]+ in /.test(d.message) ? d : undefined;
      },
      60_000,
    );
    const related = withOption.relatedInformation?.[0];
    assert.ok(related, 'no related location');
    assert.ok(fs.existsSync(related.location.uri.fsPath), `${related.location.uri.fsPath} does not exist`);
    assert.match(related.message, /brings in perl-/);

    // Kept: a generous budget and nothing forbidden that is there.
    const kept = broken.replace('"1 KiB"', '"100 GiB"').replace('"perl", ', '');
    const edit = new vscode.WorkspaceEdit();
    const doc = await vscode.workspace.openTextDocument(uri);
    edit.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), kept);
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor('no rule diagnostics', () =>
      vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'closure-lens').length === 0 ? true : undefined,
    );
    await doc.save();
  });

  it('"Compare closures…" shows what slim removes from demo, as nix store diff-closures does', async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri | undefined>(
      'nixClosureLens.diff',
      TOPLEVEL('demo'),
      TOPLEVEL('slim'),
    );
    assert.ok(uri, 'no diff document');
    assert.equal(uri.scheme, 'closure-lens-diff');
    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(
      text,
      /^### Closure diff: `\.#nixosConfigurations\.demo\.config\.system\.build\.toplevel` → `\.#nixosConfigurations\.slim/m,
    );
    const [demo, slim] = await Promise.all(
      ['demo', 'slim'].map(async (h) => (await nix(['eval', '--raw', `${TOPLEVEL(h)}.outPath`])).trim()),
    );
    // Every package whose versions changed for nix (`name: 1.0 → ∅`) is in the report.

    const lines = (await nix(['store', 'diff-closures', demo, slim]))
      .replace(/\u001b\[[0-9;]*m/g, '')
      .trim()
      .split('\n');
    const removed = lines.filter((l) => / → ∅/.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    assert.ok(removed.length > 0, 'slim removes something');
    // Nix takes a trailing lowercase word for an output name (`nixos-help` is `nixos`); our names keep it.
    const escaped = (n: string) => n.replace(/[_*]/g, (c) => `\\${c}`);
    for (const name of removed) {
      assert.ok(
        text.includes(`| ${escaped(name)} |`) || text.includes(`| ${escaped(name)}-`),
        `${name} missing from the report`,
      );
    }
  });

  it('"Compare closures…" names the option definition behind what demo adds to slim', async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri | undefined>(
      'nixClosureLens.diff',
      TOPLEVEL('slim'),
      TOPLEVEL('demo'),
    );
    assert.ok(uri, 'no diff document');
    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    const added = text.slice(
      text.indexOf('#### Added packages'),
      text.indexOf('\n#### ', text.indexOf('#### Added packages') + 1),
    );
    assert.match(added, /\| `[\w.]+` [^|]*\.nix:\d+ \|$/m, `no option in\n${added}`);
  });

  it('"Estimate compressed size" gives zstd and xz sizes beside the NAR size of the shown closure', async () => {
    // A small closure (perl's) keeps zstd -19 quick.
    const perl = (await nix(['eval', '--raw', '.#packages.x86_64-linux.perl.outPath'])).trim();
    const shown = await vscode.commands.executeCommand<{ rootPath: string } | undefined>(
      'nixClosureLens.showStorePath',
      perl,
    );
    assert.ok(shown);
    const line = await vscode.commands.executeCommand<string | undefined>('nixClosureLens.compressedSize');
    assert.ok(line, 'no estimate');
    const m = /^NAR (\d+\.\d [KMG]iB) · zstd -19 ≈ \d+\.\d [KMG]iB \(\d+%\) · xz -6 ≈ \d+\.\d [KMG]iB \(\d+%\)$/.exec(
      line,
    );
    assert.ok(m, line);
    const info = JSON.parse(await nix(['path-info', '--json', '-S', perl])) as { closureSize: number }[];
    assert.equal(m[1], formatBytes(info[0]!.closureSize), 'the NAR size is nix path-info -S');
  });
});
