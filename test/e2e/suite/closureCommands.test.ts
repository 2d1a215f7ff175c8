/**
 * The extension inside a real VS Code (code-server through the e2e harness, or a desktop VS Code under
 * @vscode/test-electron), on the example flake opened as the workspace folder. Results are checked against nix.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { NixClosureLensApi } from '../../../src/extension/extension';
import type { ShownClosure } from '../../../src/extension/closureService';
import { waitFor } from './waitFor';

const execFileAsync = promisify(execFile);
const EXTENSION_ID = 'nix-closure-lens.nix-closure-lens';
const DEMO = 'nixosConfigurations.demo';

async function api(): Promise<NixClosureLensApi> {
  const ext = vscode.extensions.getExtension<NixClosureLensApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

function folder(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the e2e harness opens the example flake as the workspace folder');
  assert.ok(fs.existsSync(path.join(f.uri.fsPath, 'flake.nix')), `${f.uri.fsPath} holds no flake.nix`);
  return f.uri.fsPath;
}

async function nix(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await execFileAsync('nix', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The nix commands run after the `before`-th one. */
function commandsSince(a: NixClosureLensApi, before: number) {
  const { total, recent } = a.nixCommands();
  return total === before ? [] : recent.slice(-(total - before));
}

function sunburstTab(title: string): vscode.Tab | undefined {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .find((t) => t.input instanceof vscode.TabInputWebview && t.label.includes(title));
}

describe('Nix Closure Lens in VS Code', function () {
  this.timeout(180_000);

  it('registers every contributed command and the nix language', async () => {
    await api();
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string }[] };
    };
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = pkg.contributes.commands.map((c) => c.command);
    assert.ok(contributed.length >= 5);
    for (const id of contributed) assert.ok(registered.has(id), `${id} is contributed but not registered`);
    assert.ok((await vscode.languages.getLanguages()).includes('nix'));
  });

  describe('in a trusted workspace', function () {
    before(function () {
      if (!vscode.workspace.isTrusted) this.skip();
    });

    // Later suites start from the example's demo system, as a user would have it open (it comes from the caches).
    after(async function () {
      if (vscode.workspace.isTrusted) await vscode.commands.executeCommand('nixClosureLens.showClosure', DEMO);
    });

    let first: ShownClosure;

    it('"Show closure" of a NixOS configuration opens a sunburst named after it, with exactly nix\'s closure', async () => {
      const dir = folder();
      const shown = await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO);
      assert.ok(shown, 'Show closure returned nothing (see the Nix Closure Lens output)');
      first = shown;
      assert.equal(shown.title, DEMO);
      const tab = await waitFor('the sunburst tab', () => sunburstTab(DEMO));
      assert.match(tab.label, /demo/);

      const expectedRoot = (
        await nix(['eval', '--raw', `path:${dir}#${DEMO}.config.system.build.toplevel.outPath`])
      ).trim();
      assert.equal(shown.rootPath, expectedRoot);
      const closure = (await nix(['path-info', '-r', expectedRoot])).trim().split('\n');
      assert.equal(shown.pathCount, closure.length);
      assert.equal((await api()).current()?.rootPath, expectedRoot);
    });

    it('shows the same target again from the caches: no nix call at all', async () => {
      assert.ok(first, 'depends on the previous test');
      const a = await api();
      const before = a.nixCommands().total;
      const wrapperBefore = wrapperLog().length;
      const again = await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO);
      assert.ok(again);
      assert.equal(again.rootPath, first.rootPath);
      assert.equal(again.fromCache, true);
      assert.deepEqual(
        commandsSince(a, before).map((c) => c.args.join(' ')),
        [],
        'a cache hit ran nix',
      );
      assert.deepEqual(wrapperLog().slice(wrapperBefore), [], 'the logging nix wrapper saw a call');
      const cache = JSON.parse(fs.readFileSync(a.flakeOutputCacheFile, 'utf8')) as { flakes: Record<string, unknown> };
      assert.ok(cache.flakes[folder()], 'the flake output cache names the workspace flake');
    });

    it('evaluates again after a .nix file of the flake changes, and after "Refresh"', async () => {
      const a = await api();
      const file = path.join(folder(), 'configuration.nix');
      const original = fs.readFileSync(file, 'utf8');
      try {
        fs.writeFileSync(file, `${original}\n# touched by the e2e test\n`);
        const before = a.nixCommands().total;
        const shown = await vscode.commands.executeCommand<ShownClosure | undefined>(
          'nixClosureLens.showClosure',
          DEMO,
        );
        assert.ok(shown);
        assert.equal(shown.rootPath, first.rootPath, 'a comment does not change the system');
        const ran = commandsSince(a, before);
        assert.ok(
          ran.some((c) => c.args.includes('build') || c.args.includes('eval')),
          'a changed flake was not evaluated again',
        );
      } finally {
        fs.writeFileSync(file, original);
      }
      const before = a.nixCommands().total;
      const refreshed = await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.refresh');
      assert.ok(refreshed);
      assert.equal(refreshed.rootPath, first.rootPath);
      assert.equal(refreshed.fromCache, false);
      assert.ok(a.nixCommands().total > before, 'Refresh ran no nix command');
    });

    it('"Why depends…" perl lists the chains from the system, shortest first, as nix why-depends finds them', async () => {
      const text = await vscode.commands.executeCommand<string | undefined>('nixClosureLens.whyDepends', 'perl');
      assert.ok(text, 'no why text');
      const lines = text.split('\n');
      const perlPath = lines[1]!.trim();
      assert.match(perlPath, /^\/nix\/store\/[a-z0-9]{32}-perl-/);
      const drawn = lines.filter((l) => l.startsWith(first.rootPath) || /^[\s│]*[├└]───\/nix\/store\//.test(l));
      assert.equal(drawn[0], first.rootPath);
      // The first chain drawn is a shortest one: its length is never more than the one nix prints.
      const nixChain = (await nix(['why-depends', first.rootPath, perlPath]))

        .replace(/\u001b\[[0-9;]*m/g, '')
        .trim()
        .split('\n');
      const ours: string[] = [];
      for (const l of drawn) {
        const depth = l.startsWith('/') ? 0 : (l.indexOf('───') + 3) / 4;
        if (depth !== ours.length) break;
        ours.push(l.slice(l.indexOf('/nix/store/')));
      }
      assert.equal(ours[ours.length - 1], perlPath);
      assert.ok(ours.length <= nixChain.length, `ours: ${ours.join(' → ')}\nnix: ${nixChain.join('\n')}`);
      const editor = vscode.window.activeTextEditor;
      assert.equal(editor?.document.uri.scheme, 'nix-closure-lens-why');
    });

    it('"Show closure of store path…" takes a store path and needs no evaluation', async () => {
      const a = await api();
      const perl = (await nix(['eval', '--raw', `path:${folder()}#packages.x86_64-linux.perl.outPath`])).trim();
      const before = a.nixCommands().total;
      const shown = await vscode.commands.executeCommand<ShownClosure | undefined>(
        'nixClosureLens.showStorePath',
        perl,
      );
      assert.ok(shown);
      assert.equal(shown.rootPath, perl);
      assert.ok(commandsSince(a, before).every((c) => !c.args.includes('eval') && !c.args.includes('build')));
      await waitFor('the store path tab', () => sunburstTab('perl'));
    });

    it('puts an evaluation error on its line in the workspace file, and clears it once the flake is fixed', async () => {
      const dir = path.join(folder(), 'broken');
      const flakeFile = path.join(dir, 'flake.nix');
      const broken = [
        '{',
        '  outputs = { self }: {',
        '    packages.x86_64-linux.bad = builtins.derivation {',
        '      name = "bad"; system = "x86_64-linux"; builder = "/bin/sh";',
        '      args = [ "-c" (1 + "x") ];',
        '    };',
        '  };',
        '}',
        '',
      ].join('\n');
      fs.mkdirSync(dir);
      fs.writeFileSync(flakeFile, broken);
      const uri = vscode.Uri.file(flakeFile);
      try {
        const shown = await vscode.commands.executeCommand(
          'nixClosureLens.showClosure',
          'broken#packages.x86_64-linux.bad',
        );
        assert.equal(shown, undefined);
        const diags = await waitFor('a diagnostic on broken/flake.nix', () => {
          const d = vscode.languages.getDiagnostics(uri);
          return d.length > 0 ? d : undefined;
        });
        assert.equal(diags[0]!.range.start.line, 4, 'line 5 holds the error');
        assert.equal(diags[0]!.range.start.character, 25, 'column 26 holds the error');
        assert.match(diags[0]!.message, /cannot add a string to an integer/);

        fs.writeFileSync(flakeFile, broken.replace('(1 + "x")', '"echo fixed > $out"'));
        const fixed = await vscode.commands.executeCommand<ShownClosure | undefined>(
          'nixClosureLens.showClosure',
          'broken#packages.x86_64-linux.bad',
        );
        assert.ok(fixed, 'the fixed flake did not load');
        assert.deepEqual(vscode.languages.getDiagnostics(uri), []);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('with querySubstituters, takes the sizes of an output that is not built from a binary cache, building nothing', async () => {
      const dir = path.join(folder(), 'subst');
      const cache = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-e2e-cache-')), 'cache');
      const nonce = randomBytes(6).toString('hex');
      fs.mkdirSync(dir);
      fs.writeFileSync(
        path.join(dir, 'flake.nix'),
        `{ outputs = { self }: let
    mk = name: deps: builtins.derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh";
      args = [ "-c" "echo ${nonce} \${builtins.concatStringsSep " " (map toString deps)} > $out" ]; };
    lib = mk "cached-lib" [ ];
  in { packages.x86_64-linux.app = mk "cached-app" [ lib (mk "cached-tool" [ lib ]) ]; }; }
`,
      );
      const config = vscode.workspace.getConfiguration('nixClosureLens');
      try {
        // The test, not the extension, builds it, puts it in a file:// binary cache and deletes the local copy.
        const built = JSON.parse(await nix(['build', '--no-link', '--json', `path:${dir}#app`])) as {
          outputs: { out: string };
        }[];
        const app = built[0]!.outputs.out;
        const closure = (await nix(['path-info', '-r', app])).trim().split('\n');
        await nix(['copy', '--to', `file://${cache}`, app]);
        await nix(['store', 'delete', ...closure]);
        assert.equal(fs.existsSync(app), false);

        await config.update('querySubstituters', true, vscode.ConfigurationTarget.Global);
        await config.update(
          'extraArgs',
          ['--option', 'substituters', `file://${cache}`],
          vscode.ConfigurationTarget.Global,
        );
        const shown = await vscode.commands.executeCommand<ShownClosure | undefined>(
          'nixClosureLens.showClosure',
          'subst#packages.x86_64-linux.app',
        );
        assert.ok(shown, 'Show closure failed (see the Nix Closure Lens output)');
        assert.equal(shown.rootPath, app);
        assert.equal(shown.pathCount, closure.length);
        assert.equal(fs.existsSync(app), false, 'the output was built or downloaded');
      } finally {
        await config.update('querySubstituters', undefined, vscode.ConfigurationTarget.Global);
        await config.update('extraArgs', undefined, vscode.ConfigurationTarget.Global);
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(path.dirname(cache), { recursive: true, force: true });
      }
    });
  });

  describe('in an untrusted workspace', function () {
    before(function () {
      if (vscode.workspace.isTrusted) this.skip();
    });

    it('evaluates and builds nothing for "Show closure" of a flake output, and opens no panel', async () => {
      const a = await api();
      const loggedBefore = wrapperLog().length;
      assert.equal(await vscode.commands.executeCommand('nixClosureLens.showClosure', DEMO), undefined);
      assert.equal(a.nixCommands().total, 0, `nix ran: ${JSON.stringify(a.nixCommands().recent)}`);
      // The harness's logging nix wrapper sees every call the extension makes, whatever our own log says.
      assert.deepEqual(wrapperLog().slice(loggedBefore), []);
      assert.equal(sunburstTab(DEMO), undefined);
    });

    it('still shows the closure of a store path that is already built, with nix path-info only', async () => {
      const a = await api();
      // The test (not the extension) builds it: a trusted action outside the editor.
      const perl = (
        await nix(['build', '--no-link', '--print-build-logs', '--json', `path:${folder()}#packages.x86_64-linux.perl`])
      ).trim();
      const perlPath = (JSON.parse(perl) as { outputs: { out: string } }[])[0]!.outputs.out;
      const shown = await vscode.commands.executeCommand<ShownClosure | undefined>(
        'nixClosureLens.showStorePath',
        perlPath,
      );
      assert.ok(shown);
      assert.equal(shown.rootPath, perlPath);
      assert.equal(shown.pathCount, (await nix(['path-info', '-r', perlPath])).trim().split('\n').length);
      assert.ok(a.nixCommands().recent.every((c) => c.args.includes('path-info') || c.args.includes('--version')));
    });

    it('reads no .closure-lens.json: a broken rule and a mistake get no diagnostic', async () => {
      const perl = (await nix(['build', '--no-link', '--json', `path:${folder()}#packages.x86_64-linux.perl`])).trim();
      const perlPath = (JSON.parse(perl) as { outputs: { out: string } }[])[0]!.outputs.out;
      const rulesFile = path.join(folder(), '.closure-lens.json');
      // Trusted, each of these lines is a diagnostic: a broken budget, a regex that would backtrack forever in
      // JavaScript's RegExp, an unknown key (rulesAndDiff.test.ts checks the trusted side).
      fs.writeFileSync(
        rulesFile,
        JSON.stringify(
          {
            rules: [{ target: perlPath, maxPaths: 0, forbiddenDependenciesRegexes: ['([a-z0-9./-]+)*!'], nope: 1 }],
          },
          null,
          2,
        ),
      );
      try {
        const uri = vscode.Uri.file(rulesFile);
        await vscode.window.showTextDocument(uri);
        assert.ok(await vscode.commands.executeCommand('nixClosureLens.showStorePath', perlPath));
        // Nothing to wait for when it holds: give the watcher, the open document and the load time to act.
        await new Promise((r) => setTimeout(r, 3_000));
        const mine = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'closure-lens');
        assert.deepEqual(
          mine.map((d) => d.message),
          [],
        );
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
        fs.rmSync(rulesFile, { force: true });
      }
    });
  });
});

/** Lines of the harness's logging nix wrapper (CLOSURE_LENS_E2E_NIX_LOG), one per nix call by the extension. */
function wrapperLog(): string[] {
  const file = process.env['CLOSURE_LENS_E2E_NIX_LOG'];
  if (!file || !fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}
