import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { OptionAttribution } from '../../src/core/attribution';
import { parseDerivation } from '../../src/core/attribution';
import { parseConfigurationInstallable, splitAttrPath } from '../../src/core/attribution';
import { StoreCopyMapper } from '../../src/core/attribution';
import { optionsJson } from '../../src/core/attribution';
import { isClosureLensError } from '../../src/core/errors';
import { seededRandom as prng } from '../support/prng';
import { evaluation, NIXPKGS, option, SOURCE, storePath } from '../support/attribution';

/** A random DAG (edges from lower to higher index) rooted at 0, every node reachable from the root. */
function randomGraph(rand: () => number, n: number): { records: PathRecord[]; paths: string[] } {
  const paths = Array.from({ length: n }, (_, i) => storePath(i + 1, `p${i}-1.0`));
  const refs: string[][] = paths.map(() => []);
  for (let i = 1; i < n; i++) refs[Math.floor(rand() * i)]!.push(paths[i]!);
  for (let k = 0; k < n; k++) {
    const a = Math.floor(rand() * n);
    const b = Math.floor(rand() * n);
    if (a < b && !refs[a]!.includes(paths[b]!)) refs[a]!.push(paths[b]!);
  }
  return {
    records: paths.map((p, i) => ({ path: p, narSize: 100 + Math.floor(rand() * 1000), references: refs[i]! })),
    paths,
  };
}

/** NAR bytes reachable from the root, never entering `blocked` nor following an edge of `cut` ("from to"). */
function reachable(records: PathRecord[], root: string, blocked: Set<string>, cut = new Set<string>()): number {
  const by = new Map(records.map((r) => [r.path, r]));
  if (blocked.has(root)) return 0;
  const seen = new Set([root]);
  const queue = [root];
  let bytes = 0;
  for (let h = 0; h < queue.length; h++) {
    const r = by.get(queue[h]!)!;
    bytes += r.narSize!;
    for (const x of r.references) {
      if (!seen.has(x) && !blocked.has(x) && !cut.has(`${r.path} ${x}`)) {
        seen.add(x);
        queue.push(x);
      }
    }
  }
  return bytes;
}

describe('option attribution on a graph', () => {
  it('removal and combined costs equal brute-force reachability on random graphs', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = prng(seed);
      const n = 10 + Math.floor(rand() * 60);
      const { records, paths } = randomGraph(rand, n);
      const graph = ClosureGraph.build(records, [paths[0]!]);
      const defs = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => ({
        file: `${SOURCE}/configuration.nix`,
        paths: paths.filter(() => rand() < 0.15),
      }));
      const a = new OptionAttribution({
        graph,
        evaluation: evaluation([option('environment.systemPackages', defs)]),
        readFile: () => undefined,
      });
      const total = graph.totalNarSize();
      for (const d of a.definitions) {
        const carriedByOthers = new Set(a.definitions.filter((x) => x.id !== d.id).flatMap((x) => x.nodes));
        const exclusive = new Set(d.nodes.filter((i) => !carriedByOthers.has(i)).map((i) => graph.paths[i]!));
        // Removal cuts the references of the option's collector (attribution-edgecut.test.ts checks how it is
        // found) to the paths only d carries; a path without a collector is removed outright.
        const cut = new Set<string>();
        const blocked = new Set<string>();
        for (const p of exclusive) {
          const c = a.collectorOf(d.option, graph.indexOf(p)!);
          if (c === undefined) blocked.add(p);
          else cut.add(`${graph.paths[c]} ${p}`);
        }
        assert.equal(
          a.removalCost(d.id),
          total - reachable(records, paths[0]!, blocked, cut),
          `seed ${seed}, definition ${d.id}`,
        );
        assert.ok(
          a.removalCost(d.id) <= total - reachable(records, paths[0]!, exclusive),
          'never more than removing the paths',
        );
        assert.equal(
          a.lostNodes([...exclusive].map((p) => graph.indexOf(p)!)).reduce((s, i) => s + graph.narSize[i]!, 0),
          a.removalCost(d.id),
        );
      }
      const ids = a.definitions.filter(() => rand() < 0.5).map((d) => d.id);
      const inSet = new Set(ids);
      const blocked = new Set<string>();
      const cut = new Set<string>();
      for (const id of ids) {
        for (const i of a.definitions[id]!.nodes) {
          if (!Array.from(a.introducers(i)).every((x) => inSet.has(x))) continue;
          const c = a.collectorOf('environment.systemPackages', i);
          if (c === undefined) blocked.add(graph.paths[i]!);
          else cut.add(`${graph.paths[c]} ${graph.paths[i]}`);
        }
      }
      assert.equal(
        a.combinedCost(ids).bytes,
        total - reachable(records, paths[0]!, blocked, cut),
        `seed ${seed}, combined`,
      );
    }
  });

  it('lists the definitions reaching each path, nearest first, as a breadth-first search finds them', () => {
    const rand = prng(7);
    const { records, paths } = randomGraph(rand, 50);
    const graph = ClosureGraph.build(records, [paths[0]!]);
    const defs = [0, 1, 2, 3].map(() => ({ file: `${NIXPKGS}/m.nix`, paths: paths.filter(() => rand() < 0.1) }));
    const a = new OptionAttribution({
      graph,
      evaluation: evaluation([option('x.y', defs)]),
      readFile: () => undefined,
    });
    for (let i = 0; i < graph.nodeCount; i++) {
      const expected: { id: number; distance: number }[] = [];
      for (const d of a.definitions) {
        // distance from the nearest carried path, by BFS over references
        const dist = new Map<number, number>(d.nodes.map((s) => [s, 0]));
        const q = [...d.nodes];
        for (let h = 0; h < q.length; h++) {
          for (const w of graph.references(q[h]!)) {
            if (!dist.has(w)) {
              dist.set(w, dist.get(q[h]!)! + 1);
              q.push(w);
            }
          }
        }
        if (dist.has(i)) expected.push({ id: d.id, distance: dist.get(i)! });
      }
      expected.sort((x, y) => x.distance - y.distance || x.id - y.id);
      assert.deepEqual(a.reachingDefinitions(i), expected);
    }
  });

  it('names the definition nearest to the dependency on a chain as the cause', () => {
    const p = (name: string, refs: string[] = []): PathRecord => ({
      path: storePath(name.length * 7 + name.charCodeAt(0), name),
      narSize: 10,
      references: refs,
    });
    const perl = p('perl-5.40.0');
    const w3m = p('w3m-0.5', [perl.path]);
    const help = p('nixos-help', [w3m.path]);
    const sysPath = p('system-path', [help.path]);
    const top = p('nixos-system', [sysPath.path]);
    const graph = ClosureGraph.build([perl, w3m, help, sysPath, top], [top.path]);
    const a = new OptionAttribution({
      graph,
      evaluation: evaluation([
        option('system.build.toplevel', [{ file: `${NIXPKGS}/top-level.nix`, paths: [top.path] }]),
        option('system.path', [{ file: `${NIXPKGS}/system-path.nix`, paths: [sysPath.path] }]),
        option('environment.systemPackages', [{ file: `${NIXPKGS}/documentation.nix`, paths: [help.path] }]),
      ]),
      readFile: () => undefined,
    });
    const chain = [top, sysPath, help, w3m, perl].map((r) => graph.indexOf(r.path)!);
    const why = a.chainAttribution(chain);
    assert.equal(why.causeNode, graph.indexOf(help.path));
    assert.deepEqual(
      why.cause.map((id) => a.definitions[id]!.option),
      ['environment.systemPackages'],
    );
    assert.deepEqual(
      why.steps.map((s) => s.definitions.length),
      [1, 1, 1, 0, 0],
    );
    assert.deepEqual(a.chainAttribution([graph.indexOf(perl.path)!]).cause, []);
  });

  it('maps store-copy files to the workspace and finds the line of each definition', () => {
    const hello = { path: storePath(5, 'hello-2.12'), narSize: 50, references: [] };
    const git = { path: storePath(6, 'git-2.49'), narSize: 70, references: [] };
    const top = { path: storePath(7, 'nixos-system'), narSize: 1, references: [hello.path, git.path] };
    const graph = ClosureGraph.build([hello, git, top], [top.path]);
    const files: Record<string, string> = {
      '/ws/configuration.nix':
        '{ pkgs, ... }:\n{\n  imports = [ ./x.nix ];\n  environment.systemPackages = [ pkgs.hello ];\n}\n',
      // two definitions of one option in one file (mkMerge parts) take its bindings in order
      '/ws/x.nix':
        '{ pkgs, lib, ... }: lib.mkMerge [\n  { environment.systemPackages = [ pkgs.git ]; }\n  {\n    environment.systemPackages = [ ];\n  }\n]\n',
    };
    const a = new OptionAttribution({
      graph,
      evaluation: evaluation([
        option('environment.systemPackages', [
          { file: `${SOURCE}/configuration.nix`, paths: [hello.path] },
          { file: `${SOURCE}/x.nix`, paths: [git.path, storePath(9, 'unused-1.0')] },
          { file: `${SOURCE}/x.nix`, paths: [] },
          { file: `${NIXPKGS}/nixos/modules/environment.systemPackages.nix`, paths: [] },
        ]),
      ]),
      readFile: (f) => files[f],
    });
    const [conf, x1, x2, mod] = a.definitions;
    assert.deepEqual([conf!.file, conf!.line, conf!.column, conf!.inWorkspace], ['/ws/configuration.nix', 4, 3, true]);
    assert.deepEqual([x1!.file, x1!.line, x2!.line], ['/ws/x.nix', 2, 4]);
    assert.deepEqual(x1!.outsidePaths, [storePath(9, 'unused-1.0')]);
    // A module file that cannot be read: the declaration's line stands in for a default.
    assert.deepEqual(
      [mod!.file, mod!.inWorkspace, mod!.line],
      [`${NIXPKGS}/nixos/modules/environment.systemPackages.nix`, false, 3],
    );

    const json = optionsJson({
      attribution: a,
      analysis: new ClosureAnalysis(graph),
      evalMs: 1234,
      fromCache: false,
      counterfactuals: new Map(),
    });
    assert.equal(json.toplevel, top.path);
    assert.equal(json.evalSeconds, 1.234);
    assert.deepEqual(json.definitions[0], {
      option: 'environment.systemPackages',
      file: '/ws/configuration.nix',
      line: 4,
      column: 3,
      inWorkspace: true,
      fromDefault: false,
      paths: [hello.path],
      removalCost: 50,
      costMethod: 'edge-cut',
      exclusivePaths: 1,
    });
    assert.deepEqual(json.paths, { [hello.path]: [0], [git.path]: [1] });
  });

  it("lets an unread option default that names a package keep it from being one definition's alone", () => {
    const systemd = { path: storePath(11, 'systemd-257.5'), narSize: 3000, references: [] };
    const zfs = { path: storePath(12, 'zfs-user-2.3.2'), narSize: 2000, references: [systemd.path] };
    const initrd = { path: storePath(13, 'initrd'), narSize: 10, references: [systemd.path, zfs.path] };
    const top = { path: storePath(14, 'nixos-system'), narSize: 1, references: [initrd.path, systemd.path] };
    const graph = ClosureGraph.build([systemd, zfs, initrd, top], [top.path]);
    const zfsModule = `${NIXPKGS}/nixos/modules/tasks/filesystems/zfs.nix`;
    const a = new OptionAttribution({
      graph,
      evaluation: evaluation([
        option('boot.initrd.packages', [{ file: zfsModule, paths: [zfs.path, systemd.path] }]),
        option('systemd.package', [], { defaultNames: ['systemd-257.5', 'not-in-the-closure-1.0'] }),
      ]),
      readFile: () => undefined,
    });
    const initrdPackages = a.definitions.find((d) => d.option === 'boot.initrd.packages')!;
    const systemdDefault = a.definitions.find((d) => d.option === 'systemd.package')!;
    assert.equal(systemdDefault.fromDefault, true);
    assert.deepEqual(systemdDefault.nodes, [graph.indexOf(systemd.path)]);
    assert.deepEqual([systemdDefault.file, systemdDefault.line], [`${NIXPKGS}/nixos/modules/systemd.package.nix`, 3]);
    // Without the default, removing boot.initrd.packages would seem to drop systemd too.
    assert.equal(a.removalCost(initrdPackages.id), 2000);
  });

  it('answers a hover: definitions at a line, and the cost of one package of a list', () => {
    const glibc = { path: storePath(21, 'glibc-2.40'), narSize: 500, references: [] };
    const perl = { path: storePath(22, 'perl-5.40.0'), narSize: 300, references: [glibc.path] };
    const git = { path: storePath(23, 'git-2.49.0'), narSize: 200, references: [perl.path, glibc.path] };
    const utilLinux = { path: storePath(24, 'util-linux-2.41-lib'), narSize: 50, references: [glibc.path] };
    const hello = { path: storePath(25, 'hello-2.12'), narSize: 10, references: [glibc.path] };
    const top = { path: storePath(26, 'nixos-system'), narSize: 1, references: [git.path, utilLinux.path, hello.path] };
    const graph = ClosureGraph.build([glibc, perl, git, utilLinux, hello, top], [top.path]);
    const src = '{ pkgs, ... }: {\n  environment.systemPackages = with pkgs; [ git util-linux hello ];\n}\n';
    const a = new OptionAttribution({
      graph,
      evaluation: evaluation([
        option('environment.systemPackages', [
          { file: `${SOURCE}/configuration.nix`, paths: [git.path, utilLinux.path, hello.path] },
        ]),
        option('users.users.bob.packages', [{ file: `${SOURCE}/configuration.nix`, paths: [hello.path] }]),
      ]),
      readFile: (f) => (f === '/ws/configuration.nix' ? src : undefined),
    });
    const [d] = a.definitionsAt('/ws/configuration.nix', 2);
    assert.equal(d?.option, 'environment.systemPackages');
    assert.deepEqual(a.definitionsAt('/ws/configuration.nix', 3), []);
    assert.deepEqual(a.packageCost(d!.id, 'git'), { nodes: [graph.indexOf(git.path)], bytes: 500 });
    assert.deepEqual(a.packageCost(d!.id, 'pkgs.util-linux'), { nodes: [graph.indexOf(utilLinux.path)], bytes: 50 });
    // hello is in bob's packages too: it stays.
    assert.deepEqual(a.packageCost(d!.id, 'hello'), { nodes: [graph.indexOf(hello.path)], bytes: 0 });
    assert.equal(a.packageCost(d!.id, 'firefox'), undefined);
  });

  it('StoreCopyMapper maps both ways and leaves other files alone', () => {
    const m = new StoreCopyMapper({ sourcePath: SOURCE, localPath: '/home/me/flake' });
    assert.deepEqual(m.toWorkspace(`${SOURCE}/hosts/a.nix`), { file: '/home/me/flake/hosts/a.nix', inWorkspace: true });
    assert.deepEqual(m.toWorkspace(`${SOURCE}-other/a.nix`), { file: `${SOURCE}-other/a.nix`, inWorkspace: false });
    assert.equal(m.toStore('/home/me/flake/hosts/a.nix'), `${SOURCE}/hosts/a.nix`);
    assert.equal(m.toStore('/home/me/other.nix'), undefined);
    const remote = new StoreCopyMapper({ sourcePath: SOURCE, localPath: null });
    assert.deepEqual(remote.toWorkspace(`${SOURCE}/a.nix`), { file: `${SOURCE}/a.nix`, inWorkspace: true });
  });

  it("StoreCopyMapper: a copy of nixpkgs inside the flake is plumbing, the user's own modules stay theirs", () => {
    const source = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-mapper-'));
    try {
      const write = (rel: string): void => {
        fs.mkdirSync(path.dirname(path.join(source, rel)), { recursive: true });
        fs.writeFileSync(path.join(source, rel), '{ }');
      };
      for (const f of ['modules.nix', 'options.nix', 'types.nix']) write(`vendor/nixpkgs/lib/${f}`);
      write('vendor/nixpkgs/nixos/modules/services/nginx.nix');
      // A module of the user's that declares options, and a lib/ of their own without nixpkgs' module library.
      write('modules/my-service.nix');
      write('lib/modules.nix');
      write('configuration.nix');
      const m = new StoreCopyMapper({ sourcePath: source, localPath: '/home/me/flake' });
      const own = (rel: string): boolean => m.toWorkspace(path.join(source, rel)).inWorkspace;
      assert.equal(own('vendor/nixpkgs/nixos/modules/services/nginx.nix'), false);
      assert.equal(own('vendor/nixpkgs/lib/modules.nix'), false);
      assert.equal(
        m.toWorkspace(path.join(source, 'vendor/nixpkgs/lib/types.nix')).file,
        '/home/me/flake/vendor/nixpkgs/lib/types.nix',
        'still mapped to the workspace (hover, go to the line)',
      );
      assert.equal(own('configuration.nix'), true);
      assert.equal(own('modules/my-service.nix'), true);
      assert.equal(own('lib/modules.nix'), true);
    } finally {
      fs.rmSync(source, { recursive: true, force: true });
    }
  });
});

describe('configuration installables', () => {
  it('splits flake and attribute path, quoted names included, and drops the toplevel suffix', () => {
    assert.deepEqual(parseConfigurationInstallable('.#nixosConfigurations.demo'), {
      flakeRef: '.',
      attrPath: ['nixosConfigurations', 'demo'],
    });
    assert.deepEqual(parseConfigurationInstallable('path:/x#nixosConfigurations."a.b".config.system.build.toplevel'), {
      flakeRef: 'path:/x',
      attrPath: ['nixosConfigurations', 'a.b'],
    });
    assert.deepEqual(splitAttrPath('homeConfigurations."me@host"'), ['homeConfigurations', 'me@host']);
  });

  it('refuses what is not a configuration, saying what to write', () => {
    for (const bad of ['.#packages.x86_64-linux.hello', '.', '#nixosConfigurations.a', '.#nixosConfigurations']) {
      assert.throws(
        () => parseConfigurationInstallable(bad),
        (e: unknown) => isClosureLensError(e, 'bad-installable') && /nixosConfigurations\.<host>/.test(e.fix),
      );
    }
  });
});

describe('store derivations', () => {
  it('reads outputs, input derivations, sources and the name of a .drv', () => {
    const text =
      'Derive([("out","/nix/store/07qcik7jjn1wkqphlq6ykwgrnxw2rs6l-nginx.conf","","")],' +
      '[("/nix/store/j0smrx75cvpgb55sxb1arzs16bqbc7ib-nginx-1.28.0.drv",["out"]),("/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-multi.drv",["dev","lib"])],' +
      '["/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-builder.sh"],"x86_64-linux","/bin/sh",' +
      '["-c","printf \'%s\\\\n\' \\"$text\\" > $out"],' +
      '[("builder","/bin/sh"),("name","nginx.conf"),("text","pid /run/nginx.pid;\\nhttp { include x; }\\n")])';
    const d = parseDerivation('/nix/store/x-nginx.conf.drv', text);
    assert.equal(d.name, 'nginx.conf');
    assert.deepEqual([...d.outputs], [['out', '/nix/store/07qcik7jjn1wkqphlq6ykwgrnxw2rs6l-nginx.conf']]);
    assert.deepEqual(
      [...d.inputDrvs],
      [
        ['/nix/store/j0smrx75cvpgb55sxb1arzs16bqbc7ib-nginx-1.28.0.drv', ['out']],
        ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-multi.drv', ['dev', 'lib']],
      ],
    );
    assert.deepEqual(d.inputSrcs, ['/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-builder.sh']);
    assert.throws(
      () => parseDerivation('/nix/store/y.drv', 'Derive([("out"'),
      (e: unknown) => isClosureLensError(e, 'malformed-json'),
    );
  });
});
