/**
 * Hovers over option definitions in the example configuration, inside a real VS Code: the text and numbers are
 * checked against the engine run on real nix output in this test (hover-engine.ts); without option costs the
 * hover says so and links the analysis, and no hover ever runs nix.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AttributionService } from '../../../src/core/attribution';
import { formatBytes } from '../../../src/shared';
import { NixRunner } from '../../../src/core/nix';
import { isModuleSwitch } from '../../../src/core/attribution';
import { displayName } from '../../../src/shared';
import type { ShownClosure } from '../../../src/extension/closureService';
import { api, DEMO, definitionIn, expectedFor, folder, lost } from './hoverEngine';
import { waitFor } from './waitFor';

const SLIM = 'nixosConfigurations.slim';

/** The hover text at the first occurrence of `needle` (offset `within` characters into it) in `file`. */
async function hoverAt(file: string, needle: string, within = 1): Promise<string> {
  const doc = await vscode.workspace.openTextDocument(file);
  assert.equal(doc.languageId, 'nix', `${file} opens as a nix document`);
  const offset = doc.getText().indexOf(needle);
  assert.ok(offset >= 0, `${needle} is in ${file}`);
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
    'vscode.executeHoverProvider',
    doc.uri,
    doc.positionAt(offset + within),
  );
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
    .join('\n');
}

/** Markdown inline code as the hover writes it, for matching. */
const code = (s: string) => `\`${s}\``;

function pct(bytes: number, total: number): string {
  return `${((100 * bytes) / total).toFixed(1)} % of the closure (${formatBytes(total)})`;
}

describe('hover over NixOS options', function () {
  this.timeout(240_000);
  let configuration: string;

  before(async function () {
    if (!vscode.workspace.isTrusted) this.skip();
    configuration = path.join(folder(), 'configuration.nix');
    const shown = await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO);
    assert.ok(shown, 'Show closure failed (see the Nix Closure Lens output)');
  });

  it('without option costs, says so and links "Analyse option costs", running no nix', async () => {
    // slim is shown but not analysed (option costs are on request in this suite, see run.ts); slim.nix is only its.
    const a = await api();
    const shown = await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', SLIM);
    assert.ok(shown, 'Show closure of slim failed');
    const slim = a.optionCosts().find((t) => t.title === SLIM);
    assert.ok(slim, 'the slim closure is listed');
    assert.equal(slim.state, 'not-analysed', 'option costs are on request in this suite (run.ts)');
    const before = a.nixCommands().total;
    const text = await hoverAt(path.join(folder(), 'slim.nix'), 'documentation.enable');
    assert.match(text, /no option costs yet/);
    assert.ok(text.includes('command:nixClosureLens.analyseOptions?'), `links the analysis: ${text}`);
    assert.ok(text.includes(encodeURIComponent(JSON.stringify([slim.key]))), 'the link names the slim target');
    assert.equal(a.nixCommands().total, before, 'a hover ran nix');
    assert.equal(a.optionCosts().find((t) => t.title === SLIM)?.state, 'not-analysed', 'a hover started no analysis');
    // Back to demo for the tests below.
    assert.ok(await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO));
  });

  it('after "Analyse option costs", shows the removal cost of environment.systemPackages as the engine computes it', async () => {
    const a = await api();
    const state = await vscode.commands.executeCommand<string>('nixClosureLens.analyseOptions');
    assert.equal(state, 'ready');
    const e = await expectedFor(DEMO);
    const d = definitionIn(e, configuration, 'environment.systemPackages');
    const { bytes, nodes } = lost(e, e.attribution.exclusiveNodes(d.id));
    assert.equal(bytes, e.attribution.removalCost(d.id), 'lost paths and removal cost agree');
    const g = e.attribution.graph;

    const before = a.nixCommands().total;
    const text = await hoverAt(configuration, 'environment.systemPackages');
    assert.equal(a.nixCommands().total, before, 'a hover ran nix');
    assert.ok(text.includes(`**${code('environment.systemPackages')}** · ${code(DEMO)}`), text);
    assert.ok(text.includes(`Removal cost: **${formatBytes(bytes)}** · ${pct(bytes, e.analysis.totalSize)}`), text);
    assert.ok(
      text.includes(`${nodes.length} ${nodes.length === 1 ? 'path' : 'paths'} only this definition brings`),
      text,
    );
    // An upper bound says so; an exact (edge-cut) cost does not.
    assert.equal(text.includes('_At most:'), e.attribution.costMethod(d.id) === 'node-removal' && bytes > 0, text);
    const listed = [...text.matchAll(/^- `([^`]+)` (.+)$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(
      listed.filter(([n]) => !n!.startsWith('…')),
      nodes.slice(0, 5).map((i) => [displayName(g.name(i)), formatBytes(g.narSize[i]!)]),
      'the top 5 paths, largest first, with their NAR sizes',
    );
    // Command links to the sunburst and the chains, on the heaviest path it brings.
    const args = encodeURIComponent(
      JSON.stringify([{ target: a.optionCosts()[0]!.key, path: g.paths[nodes[0] ?? d.nodes[0]!] }]),
    );
    assert.ok(text.includes(`command:nixClosureLens.showInSunburst?${args}`), text);
    assert.ok(text.includes(`command:nixClosureLens.whyDependsOn?${args}`), text);
  });

  it('on a package of the list: what removing just that package saves', async () => {
    const e = await expectedFor(DEMO);
    const d = definitionIn(e, configuration, 'environment.systemPackages');
    const g = e.attribution.graph;
    const w3m = d.nodes.find((i) => g.name(i).pname === 'w3m');
    assert.ok(w3m !== undefined, 'the definition carries w3m');
    // What the engine says removing just w3m saves (w3m is also kept through nixos-help, documentation.nixos.enable).
    const pkg = e.attribution.packageCost(d.id, 'w3m');
    assert.ok(pkg, 'the engine matches w3m');
    const exclusive = pkg.nodes.filter((i) => e.attribution.introducers(i).length === 1);
    const bytes = pkg.bytes;
    const nodes = exclusive.length > 0 ? lost(e, exclusive).nodes : [];
    const text = await hoverAt(configuration, 'pkgs.w3m', 5);
    assert.ok(text.includes(`**${code(displayName(g.name(w3m)))} in ${code('environment.systemPackages')}**`), text);
    assert.ok(text.includes(`Removal cost: **${formatBytes(bytes)}** · ${pct(bytes, e.analysis.totalSize)}`), text);
    assert.ok(text.includes(`${nodes.length} ${nodes.length === 1 ? 'path' : 'paths'} only this package brings`), text);
  });

  it('on services.nginx.enable = true: the cost of the module it enables', async () => {
    const e = await expectedFor(DEMO);
    const mod = e.attribution.moduleCost('services.nginx.enable');
    assert.ok(mod && mod.bytes > 0, 'the nginx module costs something');
    const { nodes } = lost(e, mod.exclusiveNodes);
    const text = await hoverAt(configuration, 'services.nginx.enable');
    assert.ok(
      text.includes(
        `${code('services.nginx.enable')} enables ${code('nixpkgs/nixos/modules/services/web-servers/nginx.nix')}`,
      ),
      text,
    );
    assert.ok(
      text.includes(`Module cost: **${formatBytes(mod.bytes)}** · ${pct(mod.bytes, e.analysis.totalSize)}`),
      text,
    );
    assert.ok(text.includes(`${nodes.length} paths only this module brings`), text);
    assert.ok(/`nginx-[\d.]+`/.test(text), `nginx is among the paths: ${text}`);
  });

  it("in a module file mapped back from the flake's store copy: users.users.alice.packages", async () => {
    const e = await expectedFor(DEMO);
    const users = path.join(folder(), 'modules/users.nix');
    const d = definitionIn(e, users, 'users.users.alice.packages');
    const text = await hoverAt(users, 'packages');
    assert.ok(text.includes(`**${code('users.users.alice.packages')}**`), text);
    assert.ok(text.includes(`Removal cost: **${formatBytes(e.attribution.removalCost(d.id))}**`), text);
    // Another definition carries the same paths (htop, nano are also system packages): the hover names them.
    const others = new Set<number>();
    for (const i of d.nodes) for (const id of e.attribution.introducers(i)) if (id !== d.id) others.add(id);
    if (e.attribution.removalCost(d.id) === 0 && others.size > 0) {
      const named = /Costs nothing alone: (.*) also bring/.exec(text)?.[1] ?? '';
      const shown = [...named.matchAll(/`([^`]+)` \(([^)]+)\)/g)].map((m) => `${m[1]} ${m[2]}`);
      assert.equal(shown.length, Math.min(3, others.size), named);
      const expected = [...others].map((id) => e.attribution.definitions[id]!);
      for (const x of shown) {
        assert.ok(
          expected.some(
            (o) =>
              x.startsWith(`${o.option} `) &&
              x.endsWith(`${path.basename(o.file)}${o.line === null ? '' : `:${o.line}`}`),
          ),
          `${x} carries a path of alice's packages`,
        );
      }
    }
  });

  it('automatically after "Show closure" of another configuration; the hover then names both', async () => {
    const a = await api();
    const config = vscode.workspace.getConfiguration('nixClosureLens');
    await config.update('optionCosts.automatic', true, vscode.ConfigurationTarget.Global);
    try {
      const shown = await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', SLIM);
      assert.ok(shown, 'Show closure of slim failed');
      await waitFor(
        'the option costs of slim',
        () => (a.optionCosts().find((t) => t.title === SLIM)?.state === 'ready' ? true : undefined),
        120_000,
      );
    } finally {
      await config.update('optionCosts.automatic', undefined, vscode.ConfigurationTarget.Global);
    }
    const slim = await expectedFor(SLIM);
    const demo = await expectedFor(DEMO);
    const text = await hoverAt(configuration, 'environment.systemPackages');
    const sections = text.split('\n---\n');
    assert.equal(sections.length, 2, `one section per configuration: ${text}`);
    assert.ok(sections[0]!.includes(code(SLIM)), 'the configuration shown last comes first');
    for (const [section, e] of [
      [sections[0]!, slim],
      [sections[1]!, demo],
    ] as const) {
      const d = definitionIn(e, configuration, 'environment.systemPackages');
      assert.ok(
        section.includes(
          `Removal cost: **${formatBytes(e.attribution.removalCost(d.id))}** · ${pct(e.attribution.removalCost(d.id), e.analysis.totalSize)}`,
        ),
        section,
      );
    }
  });

  it('a definition that carries no store path: "Evaluate without it" gives its real cost, as the engine finds it', async function () {
    this.timeout(480_000);
    const a = await api();
    assert.ok(await vscode.commands.executeCommand<ShownClosure | undefined>('nixClosureLens.showClosure', DEMO));
    // Automatic option costs, on earlier in this suite, may still be measuring in the background; its nix runs
    // would be counted against the hover, so the count starts once nothing measures.
    await waitFor(
      'the background measurement to end',
      () => (a.optionCosts().every((t) => a.optionCostProgress(t.key)?.state !== 'running') ? true : undefined),
      180_000,
    );
    const before = a.nixCommands().total;
    const first = await hoverAt(configuration, 'boot.initrd.supportedFilesystems');
    assert.equal(a.nixCommands().total, before, 'a hover ran nix');
    // Measured already by that background run ("measured by evaluating without it"); otherwise the hover links
    // the evaluation without it.
    const m = /\(command:nixClosureLens\.counterfactualCost\?([^)]+)\)/.exec(first);
    assert.ok(
      m || first.includes('measured by evaluating without it'),
      `the hover links the evaluation without it: ${first}`,
    );
    if (m) {
      const args = JSON.parse(decodeURIComponent(m[1]!)) as unknown[];
      await vscode.commands.executeCommand('nixClosureLens.counterfactualCost', ...args);
    }

    const e = await expectedFor(DEMO);
    const d = definitionIn(e, configuration, 'boot.initrd.supportedFilesystems');
    const cf = await new AttributionService(new NixRunner({ timeoutMs: 120_000 })).counterfactual(e.attribution, d.id, {
      cwd: folder(),
    });
    assert.ok(cf.bytes > 0, 'zfs in the initrd costs something');
    const text = await waitFor(
      'the measured hover',
      async () => {
        const t = await hoverAt(configuration, 'boot.initrd.supportedFilesystems');
        return t.includes('measured by evaluating without it') ? t : undefined;
      },
      120_000,
    );
    assert.ok(
      text.includes(
        `Removal cost: **${formatBytes(cf.bytes)}** · ${((100 * cf.bytes) / e.analysis.totalSize).toFixed(1)} % of the closure (${formatBytes(e.analysis.totalSize)}) · ${cf.lostNodes.length} ${cf.lostNodes.length === 1 ? 'path' : 'paths'} · measured by evaluating without it`,
      ),
      text,
    );
    const g = e.attribution.graph;
    const top = [...cf.lostNodes].sort((x, y) => g.narSize[y]! - g.narSize[x]! || x - y).slice(0, 5);
    for (const i of top)
      assert.ok(
        text.includes(`- ${code(displayName(g.name(i)))} ${formatBytes(g.narSize[i]!)}`),
        `${displayName(g.name(i))} is among the largest: ${text}`,
      );
  });

  it('a file opened through a symlinked folder (like /etc/nixos) gets the hover of its real path', async () => {
    const link = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-link-')), 'nixos');
    fs.symlinkSync(folder(), link);
    try {
      const e = await expectedFor((await api()).optionCosts().find((t) => t.state === 'ready')!.title);
      const d = definitionIn(e, configuration, 'environment.systemPackages');
      // The real path is learnt in the background when the document opens; a hover never waits for it.
      const text = await waitFor('the hover through the link', async () => {
        const t = await hoverAt(path.join(link, 'configuration.nix'), 'environment.systemPackages');
        return t.includes('Removal cost') ? t : undefined;
      });
      assert.ok(text.includes(`Removal cost: **${formatBytes(e.attribution.removalCost(d.id))}**`), text);
    } finally {
      fs.rmSync(path.dirname(link), { recursive: true, force: true });
    }
  });

  it('CodeLens (setting): "+size" above each definition costing more than the threshold', async () => {
    const config = vscode.workspace.getConfiguration('nixClosureLens');
    await config.update('optionCosts.codeLens', true, vscode.ConfigurationTarget.Global);
    await config.update('optionCosts.codeLensThresholdMiB', 0.25, vscode.ConfigurationTarget.Global);
    try {
      // The lenses are of the configuration shown last among those the file belongs to.
      const shownLast = (await api()).optionCosts().find((t) => t.state === 'ready')!.title;
      const e = await expectedFor(shownLast);
      const doc = await vscode.workspace.openTextDocument(configuration);
      const lenses = await waitFor(
        'code lenses',
        async () => {
          const l = await vscode.commands.executeCommand<vscode.CodeLens[]>(
            'vscode.executeCodeLensProvider',
            doc.uri,
            100,
          );
          return l.length > 0 && !l.some((x) => x.command?.title.startsWith('measuring')) ? l : undefined;
        },
        120_000,
      );
      // The true cost where the engine measures it (the user's definitions, evaluated without each); else
      // definitions by their removal cost, module switches (`…enable = true`) by their module's cost.
      const measured = await new AttributionService(new NixRunner({ timeoutMs: 120_000 })).measure(
        e.attribution,
        undefined,
        { cwd: folder() },
      );
      const costOf = (d: (typeof e.attribution.definitions)[number]) =>
        measured.get(`${d.id}`)?.cost
          ? { bytes: measured.get(`${d.id}`)!.cost!.bytes, module: '' }
          : d.nodes.length > 0
            ? { bytes: e.attribution.removalCost(d.id), module: '' }
            : isModuleSwitch(d)
              ? { bytes: e.attribution.moduleCost(d.option)?.bytes ?? 0, module: ' (module)' }
              : undefined;
      const expected = e.attribution.definitions
        .filter((d) => d.file === configuration && (costOf(d)?.bytes ?? 0) >= 0.25 * 1024 * 1024)
        .map((d) => ({
          line: d.line! - 1,
          title: `+${formatBytes(costOf(d)!.bytes)}${costOf(d)!.module} in ${shownLast}`,
        }));
      assert.ok(expected.length > 0, 'some definition of configuration.nix costs more than 0.25 MiB');
      const byLine = lenses.map((l) => ({ line: l.range.start.line, title: l.command?.title ?? '' }));
      for (const x of expected)
        assert.ok(
          byLine.some((l) => l.line === x.line && l.title === x.title),
          `${JSON.stringify(x)} in ${JSON.stringify(byLine)}`,
        );
      for (const l of byLine) {
        const size = /^\+(.+?)(?: \(module\))? in /.exec(l.title)?.[1];
        assert.ok(size, l.title);
      }
    } finally {
      await config.update('optionCosts.codeLens', undefined, vscode.ConfigurationTarget.Global);
      await config.update('optionCosts.codeLensThresholdMiB', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
