/**
 * Option attribution on the fixture NixOS-like system (test/fixtures/modules), against real rebuilds:
 * a definition is removed from a copy of the configuration, the system is rebuilt with nix, and the new
 * toplevel's `nix path-info -S` must equal the predicted closure size (old size − removal cost, plus
 * what a counterfactual evaluation says comes back).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClosureGraph } from '../../src/shared';
import { NixRunner } from '../../src/core/nix';
import { type OptionAttribution, type Definition } from '../../src/core/attribution';
import { AttributionService } from '../../src/core/attribution';
import { scanNixFile, definitionsOf } from '../../src/core/nixSyntax';
import { NIX_CONFIG, nixPathInfo, repoRoot, runNix } from '../support/fixtures';
import { copyFixtureNixpkgs } from '../support/moduleFixture';

const CONFIG_ATTR = 'nixosConfigurations.demo';
const TOPLEVEL_ATTR = `${CONFIG_ATTR}.config.system.build.toplevel`;

const temporaryDirs: string[] = [];
process.on('exit', () => {
  for (const d of temporaryDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A temporary copy of demo-system with the fixture's nixpkgs stand-in as ./nixpkgs. */
function materializeDemo(): string {
  const modules = path.join(repoRoot(), 'test', 'fixtures', 'modules');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-demo-'));
  temporaryDirs.push(dir);
  fs.cpSync(path.join(modules, 'demo-system'), dir, { recursive: true });
  copyFixtureNixpkgs(path.join(dir, 'nixpkgs'));
  return dir;
}

function copyOf(dir: string): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-demo-edit-'));
  temporaryDirs.push(copy);
  fs.cpSync(dir, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'flake.lock'), { force: true });
  return copy;
}

async function buildToplevel(dir: string): Promise<string> {
  const out = JSON.parse((await runNix(['build', '--no-link', '--json', `path:${dir}#${TOPLEVEL_ATTR}`])).stdout) as {
    outputs: { out: string };
  }[];
  return out[0]!.outputs.out;
}

async function closureOf(root: string): Promise<{ graph: ClosureGraph; names: Set<string>; size: number }> {
  const info = await nixPathInfo([root]);
  const graph = ClosureGraph.build(
    [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
    [root],
  );
  const sized = await nixPathInfo([root], { recursive: false, closureSize: true });
  return { graph, names: new Set([...info.keys()].map(nameOf)), size: sized.get(root)!.closureSize! };
}

function nameOf(p: string): string {
  return p.slice(p.lastIndexOf('/') + 34);
}

/** Removes one binding (found with the scanner) from a file of a copy of the system, and rebuilds. */
async function rebuildWithout(
  dir: string,
  def: Definition,
): Promise<{ root: string; size: number; names: Set<string> }> {
  const copy = copyOf(dir);
  const file = path.join(copy, path.relative(dir, def.file));
  const src = fs.readFileSync(file, 'utf8');
  const binding = definitionsOf(scanNixFile(src), def.loc).find((b) => b.line === def.line);
  assert.ok(binding, `no binding of ${def.option} at line ${def.line} in ${file}`);
  fs.writeFileSync(file, src.slice(0, binding.start) + src.slice(binding.end));
  const root = await buildToplevel(copy);
  const c = await closureOf(root);
  return { root, size: c.size, names: c.names };
}

describe('option attribution against real rebuilds (fixture module system)', function () {
  this.timeout(600_000);

  let dir: string;
  let graph: ClosureGraph;
  let oldNames: Set<string>;
  let oldSize: number;
  let attribution: OptionAttribution;
  let service: AttributionService;
  const def = (option: string, fileEnd: string): Definition => {
    const d = attribution.definitions.find((x) => x.option === option && x.file.endsWith(fileEnd));
    assert.ok(d, `no definition of ${option} in ${fileEnd}`);
    return d;
  };
  const nodeNamed = (name: string): number => {
    const i = graph.paths.findIndex((p) => nameOf(p) === name);
    assert.ok(i >= 0, `${name} is not in the closure`);
    return i;
  };

  before(async () => {
    dir = materializeDemo();
    const root = await buildToplevel(dir);
    const c = await closureOf(root);
    graph = c.graph;
    oldNames = c.names;
    oldSize = c.size;
    service = new AttributionService(new NixRunner({ env: { NIX_CONFIG } }));
    const ev = await service.evaluate(`path:${dir}#${CONFIG_ATTR}`);
    assert.equal(ev.root?.outPath, root, 'the evaluation names the toplevel that was built');
    attribution = service.attribute(ev, graph);
  });

  it('maps definitions from the store copy back to the workspace, with their lines', () => {
    const userDefs = attribution.definitions.filter((d) => d.inWorkspace);
    assert.deepEqual([...new Set(userDefs.map((d) => d.option))].sort(), [
      'boot.initrd.supportedFilesystems',
      'boot.supportedFilesystems',
      'environment.systemPackages',
      'fonts.enableDefaultPackages',
      'fonts.packages',
      'networking.hostName',
      'services.nginx.enable',
      'services.nginx.package',
      'users.users.alice.isNormalUser',
      'users.users.alice.packages',
    ]);
    for (const d of userDefs) {
      assert.ok(d.file.startsWith(dir + path.sep), `${d.file} is in the workspace copy`);
      assert.ok(d.line !== null, `${d.option} has a line`);
      const text = fs.readFileSync(d.file, 'utf8').split('\n')[d.line - 1]!;
      const leaf = d.loc[d.loc.length - 1]!;
      assert.ok(text.includes(leaf) || text.includes(d.loc[0]!), `${d.option}: line ${d.line} is "${text.trim()}"`);
    }
    const lines = Object.fromEntries(userDefs.map((d) => [`${d.option}@${path.basename(d.file)}`, d.line]));
    const conf = fs.readFileSync(path.join(dir, 'configuration.nix'), 'utf8').split('\n');
    const lineOf = (needle: string): number => conf.findIndex((l) => l.includes(needle)) + 1;
    assert.equal(lines['environment.systemPackages@configuration.nix'], lineOf('environment.systemPackages'));
    assert.equal(lines['users.users.alice.packages@configuration.nix'], lineOf('packages = [ pkgs.git'));
    assert.equal(lines['fonts.packages@configuration.nix'], lineOf('packages = [ pkgs.noto-fonts'));
    assert.equal(lines['boot.supportedFilesystems@nfs-client.nix'], 4);
    // Module files stay in the store (they are nixpkgs' files, not the user's), with lines too.
    const docs = def('environment.systemPackages', 'misc/documentation.nix');
    assert.equal(docs.inWorkspace, false);
    assert.match(fs.readFileSync(docs.file, 'utf8').split('\n')[docs.line! - 1]!, /environment\.systemPackages/);
    // Declarations point at the module that declares the option.
    assert.match(def('services.nginx.enable', 'configuration.nix').declarations[0]!.file, /web-servers\/nginx\.nix$/);
  });

  it('names the definition nearest to perl on the why-chain', () => {
    const perl = nodeNamed('perl-5.40.0');
    const chain = [
      graph.root,
      nodeNamed('system-path'),
      nodeNamed('nixos-help-25.11'),
      nodeNamed('w3m-0.5.3+git20230121'),
      perl,
    ];
    for (let k = 0; k + 1 < chain.length; k++) {
      assert.ok(graph.references(chain[k]!).includes(chain[k + 1]!), 'the chain follows real references');
    }
    const why = attribution.chainAttribution(chain);
    assert.equal(why.causeNode, chain[2]);
    assert.deepEqual(
      why.cause.map(
        (id) => `${attribution.definitions[id]!.option}@${path.basename(attribution.definitions[id]!.file)}`,
      ),
      ['environment.systemPackages@documentation.nix'],
    );
    // perl is also reached through git (the user's systemPackages and alice's packages).
    const reaching = attribution.reachingDefinitions(perl).map((r) => attribution.definitions[r.id]!);
    assert.ok(reaching.some((d) => d.option === 'users.users.alice.packages'));
    assert.equal(attribution.reachingDefinitions(perl)[0]!.distance, 1);
  });

  // Where the definition's paths are only reachable through it, the removal cost is exact.
  for (const [option, file] of [
    ['environment.systemPackages', 'configuration.nix'],
    ['fonts.packages', 'configuration.nix'],
  ] as const) {
    it(`removal cost of ${option} in ${file} equals the real rebuild`, async () => {
      const d = def(option, file);
      const cost = attribution.removalCost(d.id);
      assert.ok(cost > 0);
      const lost = attribution.lostNodes(attribution.exclusiveNodes(d.id)).map((i) => nameOf(graph.paths[i]!));
      const rebuilt = await rebuildWithout(dir, d);
      assert.equal(rebuilt.size, oldSize - cost, `${option}: predicted ${oldSize - cost}, nix says ${rebuilt.size}`);
      const gone = [...oldNames].filter((n) => !rebuilt.names.has(n)).sort();
      assert.deepEqual(lost.sort(), gone);
    });
  }

  it('bounds the cost of users.users.alice.packages from below, and the counterfactual gets it exactly', async () => {
    // Without packages, alice gets no per-user profile at all (users-groups.nix filters on packages != []),
    // a path that only a module-derived definition carries: the static cost cannot see it.
    const d = def('users.users.alice.packages', 'configuration.nix');
    const cost = attribution.removalCost(d.id);
    const rebuilt = await rebuildWithout(dir, d);
    assert.ok(rebuilt.size < oldSize - cost, 'the static cost is a lower bound here');
    const cf = await service.counterfactual(attribution, d.id);
    assert.equal(cf.root?.outPath, rebuilt.root, 'the evaluation names the toplevel nix builds');
    assert.deepEqual(cf.addedPaths, []);
    assert.equal(rebuilt.size, oldSize - cf.bytes);
    const lost = cf.lostNodes.map((i) => nameOf(graph.paths[i]!)).sort();
    assert.deepEqual(lost, [...oldNames].filter((n) => !rebuilt.names.has(n)).sort());
    assert.ok(lost.includes('user-environment') && lost.includes('ripgrep-14.1.1') && !lost.includes('git-2.49.0'));
  });

  it('gives a path that two definitions introduce to neither', () => {
    const git = nodeNamed('git-2.49.0');
    const intro = Array.from(attribution.introducers(git))
      .map((id) => attribution.definitions[id]!.option)
      .sort();
    assert.deepEqual(intro, ['environment.systemPackages', 'users.users.alice.packages']);
    const sys = def('environment.systemPackages', 'configuration.nix');
    assert.ok(!attribution.exclusiveNodes(sys.id).includes(git));
    assert.ok(attribution.exclusiveNodes(sys.id).includes(nodeNamed('hello-2.12.2')));
  });

  it('costs enabling nginx as the combined cost of the nginx module, equal to the real rebuild', async () => {
    const enable = def('services.nginx.enable', 'configuration.nix');
    assert.deepEqual(enable.nodes, []);
    assert.equal(attribution.removalCost(enable.id), 0);
    const mod = attribution.moduleCost('services.nginx.enable')!;
    assert.ok(mod.files.some((f) => f.endsWith('web-servers/nginx.nix')));
    // The module's own definitions, and the user's definition of one of its options (services.nginx.package).
    assert.deepEqual(mod.exclusiveNodes.map((i) => nameOf(graph.paths[i]!)).sort(), ['nginx-1.29.0', 'nginx.conf']);
    const rebuilt = await rebuildWithout(dir, enable);
    assert.equal(rebuilt.size, oldSize - mod.bytes);
  });

  it('costs boot.initrd.supportedFilesystems = [ "zfs" ], which carries no store path, by counterfactual evaluation', async () => {
    const zfs = def('boot.initrd.supportedFilesystems', 'configuration.nix');
    assert.deepEqual(zfs.nodes, [], 'the definition itself carries no store path');
    assert.equal(attribution.removalCost(zfs.id), 0);
    const cf = await service.counterfactual(attribution, zfs.id);
    const lost = cf.lostNodes.map((i) => nameOf(graph.paths[i]!));
    assert.ok(lost.includes('zfs-user-2.3.2'), `zfs-user leaves with it (lost: ${lost.join(', ')})`);
    assert.ok(cf.bytes > 0);
    // Asked again: the cached answer (mapped onto this graph again), no second evaluation: even its evalMs is the
    // first one's.
    assert.deepEqual(await service.counterfactual(attribution, zfs.id), cf);
  });

  for (const [option, file] of [
    ['boot.initrd.supportedFilesystems', 'configuration.nix'],
    ['services.nginx.enable', 'configuration.nix'],
    // Carries nginx 1.29; without it the default nginx 1.28 comes back: an added path.
    ['services.nginx.package', 'configuration.nix'],
    ['boot.supportedFilesystems', 'nfs-client.nix'],
    ['fonts.enableDefaultPackages', 'configuration.nix'],
    ['networking.hostName', 'configuration.nix'],
    ['users.users.alice.isNormalUser', 'configuration.nix'],
  ] as const) {
    it(`counterfactual cost of ${option} in ${file} equals the real rebuild`, async () => {
      const d = def(option, file);
      const cf = await service.counterfactual(attribution, d.id);
      const rebuilt = await rebuildWithout(dir, d);
      assert.equal(cf.root?.outPath, rebuilt.root, 'the evaluation names the toplevel nix builds');
      const added = cf.addedPaths.length > 0 ? await nixPathInfo([...cf.addedPaths], { recursive: false }) : new Map();
      const addedBytes = [...added.values()].reduce((sum, e) => sum + e.narSize, 0);
      assert.equal(rebuilt.size, oldSize - cf.bytes + addedBytes);
      // By name: rebuilt paths keep theirs, except the toplevel, which carries the host name.
      const roots = new Set([nameOf(graph.paths[graph.root]!), nameOf(rebuilt.root)]);
      const lost = cf.lostNodes.map((i) => nameOf(graph.paths[i]!)).sort();
      assert.deepEqual(lost, [...oldNames].filter((n) => !rebuilt.names.has(n) && !roots.has(n)).sort());
      assert.deepEqual(
        cf.addedPaths.map(nameOf),
        [...rebuilt.names].filter((n) => !oldNames.has(n) && !roots.has(n)).sort(),
      );
    });
  }

  it('never evaluates twice for one toplevel', async () => {
    const again = await service.evaluate(`path:${dir}#${CONFIG_ATTR}`, {
      drvPath: attribution.evaluation.root!.drvPath!,
    });
    assert.equal(again.fromCache, true);
    assert.equal(again.options, attribution.evaluation.options);
  });
});
