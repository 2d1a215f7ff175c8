/**
 * True option costs in a real VS Code, against a real rebuild: after "Show closure" (automatic option costs on),
 * the definitions of the user's files are measured in the background. The hover on
 * `boot.initrd.supportedFilesystems = [ "zfs" ]` says "measuring…" and then leads with its real cost, and the why
 * panel of zfs-user names that line of configuration.nix, with that cost, as the cause of every chain. The real
 * cost is what `nix build` of the flake without that line saves (closure sizes before and after).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { NixRunner } from '../../../src/core/nix';
import { parseClosureJson } from '../../../src/core/parse';
import type { ShownClosure } from '../../../src/extension/closureService';
import { ClosureModel } from '../../../webview/model';
import { api, DEMO, folder } from './hoverEngine';
import { waitFor } from './waitFor';

const OPTION = 'boot.initrd.supportedFilesystems';

async function closureBytes(nix: NixRunner, root: string): Promise<number> {
  const parsed = parseClosureJson((await nix.run(['path-info', '-r', '--json', root])).stdout, 'nix path-info');
  return parsed.records.reduce((s, r) => s + (r.narSize ?? 0), 0);
}

/** What the closure really loses when the line is deleted and the system rebuilt. */
async function realSaving(lineText: RegExp): Promise<number> {
  const nix = new NixRunner({ timeoutMs: 300_000 });
  const src = folder();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-without-'));
  try {
    fs.cpSync(src, tmp, { recursive: true, filter: (f) => !/\/(result|\.git)$/.test(f) });
    const file = path.join(tmp, 'configuration.nix');
    const text = fs.readFileSync(file, 'utf8');
    const edited = text.replace(lineText, '');
    assert.notEqual(edited, text, `configuration.nix has ${lineText}`);
    fs.writeFileSync(file, edited);
    const attr = `${DEMO}.config.system.build.toplevel`;
    const build = async (dir: string) =>
      (
        JSON.parse((await nix.run(['build', '--no-link', '--json', `path:${dir}#${attr}`])).stdout) as {
          outputs: { out: string };
        }[]
      )[0]!.outputs.out;
    const [before, after] = [await build(src), await build(tmp)];
    assert.notEqual(before, after, 'the system without the line is another system');
    return (await closureBytes(nix, before)) - (await closureBytes(nix, after));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** `7.6 MiB` → bytes. */
function parseSize(s: string): number {
  const m = /^([\d.]+) ?(B|KiB|MiB|GiB|K|M|G)$/.exec(s.trim());
  assert.ok(m, `a size: ${s}`);
  const unit = ['B', 'KiB', 'MiB', 'GiB'].indexOf(m[2]!.length === 1 && m[2] !== 'B' ? `${m[2]}iB` : m[2]!);
  return Number(m[1]) * 1024 ** unit;
}

function close(shown: number, real: number): boolean {
  // The shown number has one decimal: 0.05 of its unit, plus the 5% (or 4 KiB) the engine promises.
  return (
    Math.abs(shown - real) <= Math.max(4096, 0.05 * real) + 0.05 * 1024 ** Math.floor(Math.log(real) / Math.log(1024))
  );
}

describe("true option costs: the hover and the why panel lead with the user's own line", function () {
  this.timeout(600_000);
  const config = () => vscode.workspace.getConfiguration('nixClosureLens');
  let real = 0;
  let line = 0;
  // The suite's own setting (run.ts turns automatic option costs off), put back afterwards.
  let previous: boolean | undefined;

  before(async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    const text = fs.readFileSync(path.join(folder(), 'configuration.nix'), 'utf8');
    line = text.split('\n').findIndex((l) => l.trimStart().startsWith(`${OPTION} =`)) + 1;
    assert.ok(line > 0, `configuration.nix defines ${OPTION}`);
    real = await realSaving(new RegExp(`^\\s*${OPTION.replace(/\./g, '\\.')}\\s*=[^\\n]*\\n`, 'm'));
    assert.ok(real > 1024 * 1024, `a rebuild without zfs saves more than 1 MiB (${real})`);
    previous = config().inspect<boolean>('optionCosts.automatic')?.globalValue;
    await config().update('optionCosts.automatic', true, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await config().update('optionCosts.automatic', previous, vscode.ConfigurationTarget.Global);
  });

  it('the hover says "measuring…", then leads with the real cost of a rebuild without the line', async () => {
    const doc = await vscode.workspace.openTextDocument(path.join(folder(), 'configuration.nix'));
    await vscode.window.showTextDocument(doc);
    const pos = new vscode.Position(line - 1, doc.lineAt(line - 1).firstNonWhitespaceCharacterIndex + 2);
    const shown = await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO);
    assert.ok(shown, 'Show closure failed');
    const seen = new Set<string>();
    // Costs measured earlier in this session (the hover suite's "Evaluate without it" measures them all) are
    // cached by toplevel drvPath: then the number comes at once, with no "measuring…" to see.
    const a = await api();
    const measuredBefore = a.optionCosts().some((t) => a.optionCostProgress(t.key)?.state === 'done');
    const text = await waitFor(
      'the hover with the measured cost',
      async () => {
        const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
          'vscode.executeHoverProvider',
          doc.uri,
          pos,
        );
        const t = hovers
          .flatMap((h) => h.contents)
          .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
          .join('\n');
        if (/measuring…/.test(t)) seen.add('measuring');
        return /Removal cost: \*\*[^*]+\*\*[^\n]*measured by evaluating without it/.test(t) ? t : undefined;
      },
      480_000,
    );
    assert.ok(seen.has('measuring') || measuredBefore, 'the hover said "measuring…" before the number');
    assert.doesNotMatch(text, /Removal cost: \*\*0(\.0)? ?B?\*\*/, 'never a bold 0');
    // The first line after the heading is the cost.
    const paragraphs = text.split('\n\n').filter((p) => p.trim() !== '');
    assert.match(paragraphs[0]!, new RegExp(OPTION.replace(/\./g, '\\.')));
    const m = /^Removal cost: \*\*([^*]+)\*\*/.exec(paragraphs[1]!);
    assert.ok(m, `the hover leads with the cost: ${paragraphs[1]}`);
    assert.ok(close(parseSize(m[1]!), real), `hover ${m[1]} vs a real rebuild ${real} B`);
  });

  it('the why panel of zfs-user names boot.initrd.supportedFilesystems at configuration.nix with that cost', async () => {
    const a = await api();
    const key = a.optionCosts()[0]!.key;
    await waitFor(
      'the measurement to end',
      () => (a.optionCostProgress(key)?.state === 'done' ? true : undefined),
      480_000,
    );
    const posted = await waitFor(
      'the panel with measured costs',
      () =>
        a
          .sunburstMessages()
          .find((p) =>
            p.attribution?.attribution.definitions.some(
              (d) => d.option === OPTION && d.costMethod === 'counterfactual',
            ),
          ),
      60_000,
    );
    const model = new ClosureModel(posted.closure!.snapshot);
    model.attribution = posted.attribution!.attribution;
    const zfsUser = model.names.findIndex((n) => /-zfs-user-/.test(n));
    assert.ok(zfsUser >= 0, 'zfs-user is in the closure');
    const set = model.chains(zfsUser, 50);
    assert.ok(set.chains.length > 0);
    for (const chain of set.chains) {
      const { cause, mechanism } = model.chainDefinitions(chain);
      assert.ok(cause, `chain ${chain.map((i) => model.label(i)).join(' → ')} has a cause`);
      assert.equal(cause.option, OPTION, `the chain's cause is the user's line, not ${cause.option}`);
      assert.equal(path.basename(cause.file), 'configuration.nix');
      assert.equal(cause.fileLabel, 'configuration.nix', 'the panel names the file as the workspace does');
      assert.equal(cause.line, line);
      assert.equal(cause.kind, 'enables');
      assert.equal(cause.costMethod, 'counterfactual');
      assert.ok(close(cause.removalCost, real), `why panel ${cause.removalCost} vs a real rebuild ${real}`);
      assert.ok(
        mechanism.some((d) => path.basename(d.file) === 'zfs.nix'),
        `zfs.nix's definitions are folded behind as the mechanism: ${mechanism.map((d) => d.option).join(', ')}`,
      );
    }
  });
});
