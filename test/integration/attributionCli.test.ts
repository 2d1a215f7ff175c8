/**
 * `closure-lens options` on the fixture NixOS-like system, checked against real Nix: the toplevel it names
 * is the one `nix build` makes, sizes are `nix path-info`'s, lines are the configuration's.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { OptionsJson } from '../../src/core/attribution';
import { NIX_CONFIG, nixPathInfo, repoRoot, runNix } from '../support/fixtures';
import { copyFixtureNixpkgs } from '../support/moduleFixture';
import { exampleFlakeDir } from '../support/exampleFlake';

const temporaryDirs: string[] = [];
process.on('exit', () => {
  for (const d of temporaryDirs) fs.rmSync(d, { recursive: true, force: true });
});

function materializeDemo(edit?: (configuration: string) => string): string {
  const modules = path.join(repoRoot(), 'test', 'fixtures', 'modules');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cli-demo-'));
  temporaryDirs.push(dir);
  fs.cpSync(path.join(modules, 'demo-system'), dir, { recursive: true });
  copyFixtureNixpkgs(path.join(dir, 'nixpkgs'));
  if (edit) {
    const conf = path.join(dir, 'configuration.nix');
    fs.writeFileSync(conf, edit(fs.readFileSync(conf, 'utf8')));
  }
  return dir;
}

const xdgCache = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-xdg-'));
temporaryDirs.push(xdgCache);

async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  // The options command keeps its evaluations under $XDG_CACHE_HOME/closure-lens: a temporary one here.
  const saved = { NIX_CONFIG: process.env['NIX_CONFIG'], XDG_CACHE_HOME: process.env['XDG_CACHE_HOME'] };
  process.env['NIX_CONFIG'] = NIX_CONFIG;
  process.env['XDG_CACHE_HOME'] = xdgCache;
  try {
    const code = await main(args, {
      cwd,
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      stderrIsTTY: false,
    });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('closure-lens options (real Nix, fixture module system)', function () {
  this.timeout(300_000);
  let dir: string;
  let cacheDir: string;
  let toplevel: string;

  before(async () => {
    dir = materializeDemo();
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cli-cache-'));
    temporaryDirs.push(cacheDir);
    const built = JSON.parse(
      (
        await runNix([
          'build',
          '--no-link',
          '--json',
          `path:${dir}#nixosConfigurations.demo.config.system.build.toplevel`,
        ])
      ).stdout,
    ) as { outputs: { out: string } }[];
    toplevel = built[0]!.outputs.out;
  });

  it('--json: the toplevel, sizes and paths agree with nix; lines with the configuration', async () => {
    const r = await cli(['--cache-dir', cacheDir, 'options', `path:${dir}#nixosConfigurations.demo`, '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as OptionsJson;
    assert.equal(json.toplevel, toplevel);
    const info = await nixPathInfo([toplevel], { recursive: false, closureSize: true });
    assert.equal(json.closureSize, info.get(toplevel)!.closureSize);
    const closure = new Set((await nixPathInfo([toplevel])).keys());
    for (const d of json.definitions)
      for (const p of d.paths) assert.ok(closure.has(p), `${d.option}: ${p} is in the closure`);
    for (const [p, ids] of Object.entries(json.paths)) {
      assert.ok(closure.has(p));
      for (const id of ids) assert.ok(json.definitions[id], `definition ${id} exists`);
    }
    assert.ok(json.evalSeconds >= 0);

    const conf = fs.readFileSync(path.join(dir, 'configuration.nix'), 'utf8').split('\n');
    const sys = json.definitions.find(
      (d) => d.option === 'environment.systemPackages' && d.file === path.join(dir, 'configuration.nix'),
    )!;
    assert.match(conf[sys.line! - 1]!, /environment\.systemPackages = with pkgs; \[/);
    assert.deepEqual(sys.paths.map((p) => p.slice(44)).sort(), ['git-2.49.0', 'hello-2.12.2']);
    assert.equal(sys.exclusivePaths, 1);
    assert.equal(
      sys.removalCost,
      (await nixPathInfo([sys.paths.find((p) => p.endsWith('hello-2.12.2'))!], { recursive: false })).values().next()
        .value!.narSize,
    );
    // perl: reached through documentation's nixos-help, and through git; nearest definitions first.
    const perl = [...closure].find((p) => p.endsWith('-perl-5.40.0'))!;
    const reaching = json.paths[perl]!.map((id) => json.definitions[id]!);
    assert.ok(reaching.some((d) => d.file.endsWith('misc/documentation.nix')));
    const enable = json.definitions.find((d) => d.option === 'services.nginx.enable')!;
    assert.ok(
      enable.moduleCost && enable.moduleCost.bytes > 0 && enable.moduleCost.files[0]!.endsWith('web-servers/nginx.nix'),
    );
    // Causes, not carriers: zfs-user is there because of the user's supportedFilesystems line, which carries
    // nothing (it enables); zfs.nix's boot.initrd.packages carries it, behind, as the mechanism.
    const zfs = [...closure].find((p) => p.endsWith('-zfs-user-2.3.2'))!;
    const causes = json.causes[zfs]!.map((c) => ({ ...c, option: json.definitions[c.definition]!.option }));
    assert.deepEqual(causes[0], {
      definition: causes[0]!.definition,
      option: 'boot.initrd.supportedFilesystems',
      kind: 'enables',
      distance: -1,
      mechanism: false,
    });
    assert.ok(causes.some((c) => c.option === 'boot.initrd.packages' && c.kind === 'carries' && c.mechanism));
    assert.deepEqual(
      json.paths[zfs],
      json.causes[zfs]!.map((c) => c.definition),
    );
    // True cost by default: the switch costs what goes without it, measured; the ranking leads with the user's.
    const sf = json.definitions.find((d) => d.option === 'boot.initrd.supportedFilesystems')!;
    assert.equal(sf.costMethod, 'counterfactual');
    assert.ok(sf.removalCost > 2 * 1024 * 1024, `${sf.removalCost}`);
    assert.ok(sf.mechanism!.some((id) => json.definitions[id]!.option === 'boot.initrd.packages'));
    const firstModule = json.ranking.findIndex((id) => !json.definitions[id]!.inWorkspace);
    assert.ok(json.ranking.slice(0, firstModule).every((id) => json.definitions[id]!.inWorkspace));
    assert.ok(json.ranking.slice(firstModule).every((id) => !json.definitions[id]!.inWorkspace));
  });

  it('text: your definitions first, by true cost, with file:line; --fast keeps the estimates', async () => {
    const r = await cli(['--cache-dir', cacheDir, 'options', `path:${dir}#nixosConfigurations.demo`], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/nix\/store\/\S+-nixos-system-demo-25\.11\n/);
    assert.match(
      r.stdout,
      /option definitions read in [0-9.]+ s \(cached\)/,
      'the evaluation of the first run is reused',
    );
    const confLine =
      fs
        .readFileSync(path.join(dir, 'configuration.nix'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('supportedFilesystems')) + 1;
    assert.match(
      r.stdout,
      new RegExp(
        `[0-9.]+ MiB\\s+boot\\.initrd\\.supportedFilesystems\\s+configuration\\.nix:${confLine}\\s+measured without it; via boot\\.initrd\\.packages`,
      ),
    );
    assert.match(r.stdout, /users\.users\.alice\.isNormalUser\s+configuration\.nix:\d+\s+changes nothing/);
    assert.match(r.stdout, /fonts\.packages\s+configuration\.nix:\d+\s+measured without it/);
    // The variants' toplevels are kept by the toplevel's drvPath: the second run took them from there.
    assert.ok(
      fs.readdirSync(cacheDir).some((f) => /^variants-[0-9a-f]{32}\.json$/.test(f)),
      'variants cached on disk',
    );
    const yours = r.stdout.indexOf('YOUR DEFINITIONS');
    const modules = r.stdout.indexOf('MODULE DEFINITIONS');
    assert.ok(yours > 0 && modules > yours, "the user's definitions lead");

    const fast = await cli(['--cache-dir', cacheDir, 'options', `path:${dir}#nixosConfigurations.demo`, '--fast'], dir);
    assert.equal(fast.code, 0, fast.stderr);
    assert.match(
      fast.stdout,
      /0\.0 KiB\s+boot\.initrd\.supportedFilesystems\s+configuration\.nix:\d+\s+carries no store path itself/,
    );
    assert.match(fast.stdout, /--fast: costs are graph estimates/);
  });

  it('reads submodule options without valueMeta (nixpkgs before 25.11) to the same definitions, lines and costs', async () => {
    await runNix(['build', '--no-link', `path:${dir}#nixosConfigurations.demo-legacy.config.system.build.toplevel`]);
    const run = async (name: string): Promise<OptionsJson> => {
      // --fast: the static attribution is compared (costs measured without a definition differ by design:
      // without valueMeta, submodule options cannot be taken out).
      const r = await cli(['options', `path:${dir}#nixosConfigurations.${name}`, '--json', '--fast'], dir);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as OptionsJson;
    };
    const [legacy, current] = [await run('demo-legacy'), await run('demo')];
    const rows = (j: OptionsJson) =>
      j.definitions.map((d) => [d.option, d.file, d.line, d.removalCost, [...d.paths].sort()].join(' ')).sort();
    assert.equal(legacy.toplevel, current.toplevel, 'the same system');
    assert.deepEqual(rows(legacy), rows(current));
    assert.ok(rows(legacy).some((r) => r.startsWith('users.users.alice.packages ')));
    // Without valueMeta a submodule option cannot be taken out for a counterfactual: that row says why.
    const measured = await cli(['options', `path:${dir}#nixosConfigurations.demo-legacy`, '--json'], dir);
    assert.equal(measured.code, 0, measured.stderr);
    const isNormalUser = (JSON.parse(measured.stdout) as OptionsJson).definitions.find(
      (d) => d.option === 'users.users.alice.isNormalUser',
    )!;
    assert.match(JSON.stringify(isNormalUser.counterfactual), /"error":".*cannot be reached/);
  });

  it('home-manager-style configurations: the root is activationPackage; costs agree with a real rebuild', async () => {
    const built = JSON.parse(
      (await runNix(['build', '--no-link', '--json', `path:${dir}#homeConfigurations.alice.activationPackage`])).stdout,
    ) as { outputs: { out: string } }[];
    const generation = built[0]!.outputs.out;
    const r = await cli(['options', `path:${dir}#homeConfigurations.alice`, '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as OptionsJson;
    assert.equal(json.toplevel, generation);
    const pkgs = json.definitions.find((d) => d.option === 'home.packages')!;
    assert.equal(pkgs.file, path.join(dir, 'home.nix'));
    assert.match(fs.readFileSync(pkgs.file, 'utf8').split('\n')[pkgs.line! - 1]!, /home\.packages = \[/);
    // Without home.packages: rebuild and measure.
    const edited = materializeDemo();
    const home = path.join(edited, 'home.nix');
    fs.writeFileSync(home, fs.readFileSync(home, 'utf8').replace(/home\.packages = \[[^\]]*\];/, ''));
    const rebuilt = JSON.parse(
      (await runNix(['build', '--no-link', '--json', `path:${edited}#homeConfigurations.alice.activationPackage`]))
        .stdout,
    ) as { outputs: { out: string } }[];
    const out = rebuilt[0]!.outputs.out;
    const size = (await nixPathInfo([out], { recursive: false, closureSize: true })).get(out)!.closureSize!;
    assert.equal(size, json.closureSize - pkgs.removalCost);
  });

  it('says how to build a configuration that is not built, and refuses what is not a configuration', async () => {
    const unbuilt = materializeDemo((c) =>
      c.replace('networking.hostName = "demo";', `networking.hostName = "unbuilt${process.pid}";`),
    );
    const r = await cli(['--cache-dir', cacheDir, 'options', `path:${unbuilt}#nixosConfigurations.demo`], unbuilt);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /is not built .* nix build --no-link 'path:.*#nixosConfigurations\.demo\.config\.system\.build\.toplevel'/,
    );

    // A configuration that does not exist is named as such; our own helper file is never blamed.
    const nope = await cli(['options', `path:${dir}#nixosConfigurations.nope`], dir);
    assert.equal(nope.code, 1);
    assert.match(nope.stderr, /nixosConfigurations\.nope does not exist: the flake has no attribute 'nope'/);
    assert.doesNotMatch(nope.stderr, /attribution\.nix/);

    const bad = await cli(['options', `path:${dir}#packages.x86_64-linux.hello`], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a module-system configuration.*nixosConfigurations\.<host>/);
  });
});

describe('closure-lens options on the example flake (its nixpkgs copied inside the flake)', function () {
  this.timeout(300_000);

  it("ranks the user's own definitions first: the files of ./nixpkgs are plumbing, not the user's", async () => {
    const dir = exampleFlakeDir();
    await runNix(['build', '--no-link', `${dir}#nixosConfigurations.demo.config.system.build.toplevel`]);
    const r = await cli(['options', `${dir}#nixosConfigurations.demo`, '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as OptionsJson;
    const own = (d: OptionsJson['definitions'][number]): boolean =>
      !path.relative(dir, d.file).startsWith('nixpkgs' + path.sep) && !path.relative(dir, d.file).startsWith('..');
    for (const d of json.definitions) assert.equal(d.inWorkspace, own(d), `${d.option} at ${d.file}`);
    const mine = json.definitions.filter((d) => d.inWorkspace && !d.fromDefault).length;
    assert.ok(mine >= 8, `${mine} of the user's definitions`);
    const leading = json.ranking.slice(0, mine).map((id) => json.definitions[id]!);
    assert.ok(leading.every(own), leading.map((d) => `${d.option} ${d.file}`).join('\n'));
    assert.ok(!leading.some((d) => d.option.startsWith('system.build')));
    // The most costly of the user's lines leads, with its true cost.
    assert.equal(leading[0]!.option, 'fonts.enableDefaultPackages');
    assert.equal(leading[0]!.costMethod, 'counterfactual');

    const text = await cli(['options', `${dir}#nixosConfigurations.demo`], dir);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('YOUR DEFINITIONS'));
    const rows = lines.slice(header + 2, lines.indexOf('', header));
    assert.ok(rows.length >= 8, rows.join('\n'));
    assert.match(rows[0]!, /^\s*[0-9.]+ MiB\s+fonts\.enableDefaultPackages\s+modules\/desktop\.nix:4\s/);
    // COST (number and unit), OPTION, DEFINED AT: never a file of ./nixpkgs among the user's rows.
    for (const row of rows) assert.doesNotMatch(row, /^\s*\S+ \S+\s+\S+\s+nixpkgs\//, row);
  });
});
