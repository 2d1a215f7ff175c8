/**
 * Option costs by position (src/core/optionCosts.ts) on a small NixOS-like closure and option evaluation: the
 * definition, package and module-switch costs found from a cursor in the module's text, checked against a brute
 * force walk of the graph; and the ordering of "Options by cost".
 */
import assert from 'node:assert/strict';
import { ClosureAnalysis } from '../../src/core/analysis';
import { OptionAttribution } from '../../src/core/attribution';
import type { OptionEvaluation, RawOption } from '../../src/core/attribution';
import { scanNixFile } from '../../src/core/nixSyntax';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { hoverSpotAt, OptionCostIndex } from '../../src/core/attribution';

const SOURCE = '/nix/store/ssssssssssssssssssssssssssssssss-source';
const NIXPKGS = '/nix/store/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn-source';
const WS = '/ws';

let serial = 0;
/** A store path with a valid, distinct hash part. */
const sp = (name: string) => `/nix/store/${String(++serial).padStart(2, '0')}${'a'.repeat(30)}-${name}`;

const P = {
  root: sp('nixos-system-demo-25.11'),
  systemPath: sp('system-path'),
  w3m: sp('w3m-0.5.3'),
  perl: sp('perl-5.38.2'),
  htop: sp('htop-3.3.0'),
  nano: sp('nano-7.2'),
  help: sp('nixos-help'),
  nginx: sp('nginx-1.24.0'),
  openssl: sp('openssl-3.0.13'),
  unit: sp('unit-nginx.service'),
  glibc: sp('glibc-2.39-52'),
};

const RECORDS: PathRecord[] = [
  { path: P.root, narSize: 1000, references: [P.systemPath, P.unit] },
  { path: P.systemPath, narSize: 2000, references: [P.w3m, P.htop, P.nano, P.help] },
  { path: P.help, narSize: 3000, references: [P.w3m] },
  { path: P.w3m, narSize: 50_000, references: [P.perl, P.glibc] },
  { path: P.perl, narSize: 400_000, references: [P.glibc] },
  { path: P.htop, narSize: 30_000, references: [P.glibc] },
  { path: P.nano, narSize: 20_000, references: [P.glibc] },
  { path: P.unit, narSize: 500, references: [P.nginx] },
  { path: P.nginx, narSize: 90_000, references: [P.openssl, P.glibc] },
  { path: P.openssl, narSize: 70_000, references: [P.glibc] },
  { path: P.glibc, narSize: 300_000, references: [] },
];

const CONFIGURATION = `{ config, pkgs, lib, ... }:
{
  imports = [ ./users.nix ];
  environment.systemPackages = with pkgs; [
    w3m   # text browser
    htop
  ];
  services.nginx.enable = true;
  networking.hostName = "demo";
}
`;

const USERS = `{ pkgs, ... }:
{
  users.users.alice = {
    isNormalUser = true;
    packages = [ pkgs.htop pkgs.nano ];
  };
}
`;

function option(name: string, type: string, declFile: string, defs: { file: string; paths: string[] }[]): RawOption {
  return {
    loc: name.split('.'),
    option: name,
    type,
    declarations: [{ file: declFile, line: 3, column: 5 }],
    defaultNames: [],
    definitions: defs.map((d, index) => ({ file: d.file, index, paths: d.paths, drvs: [], truncated: false })),
  };
}

function setup() {
  const graph = ClosureGraph.build(RECORDS, [P.root]);
  const nginxModule = `${NIXPKGS}/nixos/modules/services/web-servers/nginx.nix`;
  const evaluation: OptionEvaluation = {
    flake: { url: 'path:/ws?narHash=x', pinned: true, sourcePath: SOURCE, localPath: WS },
    attrPath: ['nixosConfigurations', 'demo'],
    root: { drvPath: null, outPath: P.root },
    evalMs: 5,
    options: [
      option('environment.systemPackages', 'listOf', `${NIXPKGS}/nixos/modules/config/system-path.nix`, [
        { file: `${SOURCE}/configuration.nix`, paths: [P.w3m, P.htop] },
        { file: `${NIXPKGS}/nixos/modules/misc/documentation.nix`, paths: [P.help] },
      ]),
      option('users.users.alice.packages', 'listOf', `${NIXPKGS}/nixos/modules/config/users-groups.nix`, [
        { file: `${SOURCE}/users.nix`, paths: [P.htop, P.nano] },
      ]),
      option('users.users.alice.isNormalUser', 'bool', `${NIXPKGS}/nixos/modules/config/users-groups.nix`, [
        { file: `${SOURCE}/users.nix`, paths: [] },
      ]),
      option('services.nginx.enable', 'bool', nginxModule, [{ file: `${SOURCE}/configuration.nix`, paths: [] }]),
      option('systemd.units.nginx', 'attrsOf', `${NIXPKGS}/nixos/modules/system/boot/systemd.nix`, [
        { file: nginxModule, paths: [P.unit] },
      ]),
      option('services.nginx.package', 'package', nginxModule, [{ file: nginxModule, paths: [P.nginx] }]),
      option('networking.hostName', 'str', `${NIXPKGS}/nixos/modules/tasks/network.nix`, [
        { file: `${SOURCE}/configuration.nix`, paths: [] },
      ]),
    ],
  };
  const files: Record<string, string> = { [`${WS}/configuration.nix`]: CONFIGURATION, [`${WS}/users.nix`]: USERS };
  const attribution = new OptionAttribution({ graph, evaluation, readFile: (f) => files[f] });
  const index = new OptionCostIndex('nixosConfigurations.demo', attribution, new ClosureAnalysis(graph));
  return { graph, attribution, index };
}

/** Brute force, node removal: the paths the root no longer reaches when `removed` are gone with all references. */
function lostWithout(removed: string[]): Set<string> {
  const by = new Map(RECORDS.map((r) => [r.path, r]));
  const seen = new Set<string>();
  const queue = removed.includes(P.root) ? [] : [P.root];
  for (const p of queue) {
    if (seen.has(p)) continue;
    seen.add(p);
    for (const r of by.get(p)!.references) if (!removed.includes(r) && !seen.has(r)) queue.push(r);
  }
  return new Set(RECORDS.map((r) => r.path).filter((p) => !seen.has(p)));
}

const bytesOf = (paths: Iterable<string>) =>
  [...paths].reduce((s, p) => s + (RECORDS.find((r) => r.path === p)!.narSize ?? 0), 0);

function costAt(file: string, src: string, needle: string, within = 1) {
  const { index, graph } = setup();
  const scan = scanNixFile(src);
  const spot = hoverSpotAt(src, scan, src.indexOf(needle) + within);
  assert.ok(spot, `a hover spot at ${needle}`);
  const cost = index.costAt(file, spot, scan, src);
  return { cost, graph };
}

describe('option costs by position', () => {
  // The cost model (which references a removed definition takes away) is the attribution's (src/core/attribution,
  // tested there); here: the right definitions are found from the cursor, and each cost is the attribution's own,
  // with its lost paths, largest first, summing to it.
  const nar = (graph: ClosureGraph, nodes: readonly number[]) => nodes.reduce((s, i) => s + graph.narSize[i]!, 0);

  it('a definition: its removal cost and the paths only it takes away, largest first', () => {
    const { cost, graph } = costAt(`${WS}/configuration.nix`, CONFIGURATION, 'environment.systemPackages');
    const { attribution } = setup();
    assert.ok(cost);
    assert.equal(cost.kind, 'definition');
    assert.equal(cost.option, 'environment.systemPackages');
    assert.equal(cost.at[0]!.file, `${WS}/configuration.nix`);
    assert.equal(cost.at[0]!.line, 4);
    const id = cost.at[0]!.id;
    assert.equal(cost.bytes, attribution.removalCost(id));
    assert.deepEqual(
      [...cost.lostPaths].sort((x, y) => x - y),
      attribution.lostNodes(attribution.exclusiveNodes(id)).sort((x, y) => x - y),
    );
    assert.equal(nar(graph, cost.lostPaths), cost.bytes);
    const sizes = cost.lostPaths.map((i) => graph.narSize[i]!);
    assert.deepEqual(
      sizes,
      [...sizes].sort((x, y) => y - x),
    );
    // Taking away w3m cannot cost more than removing w3m outright (nixos-help still references it).
    assert.ok(cost.bytes <= bytesOf(lostWithout([P.w3m])));
    assert.equal(cost.closureBytes, bytesOf(RECORDS.map((r) => r.path)));
    // htop is also alice's.
    assert.deepEqual(
      cost.sharedWith.map((d) => d.option),
      ['users.users.alice.packages'],
    );
    // How the cost was found is the attribution's, for the hover to say when it is only an upper bound.
    assert.equal(cost.method, attribution.costMethod(id));
  });

  it('a package in `with pkgs; [ … ]`: that package alone, or nothing when another definition also carries it', () => {
    const { attribution } = setup();
    const w3m = costAt(`${WS}/configuration.nix`, CONFIGURATION, 'w3m   #');
    assert.equal(w3m.cost?.kind, 'package');
    assert.equal(w3m.cost.packageMatched, true);
    assert.deepEqual(
      w3m.cost.carried.map((i) => w3m.graph.paths[i]),
      [P.w3m],
    );
    assert.equal(w3m.cost.bytes, attribution.packageCost(w3m.cost.at[0]!.id, 'w3m')!.bytes);
    assert.equal(nar(w3m.graph, w3m.cost.lostPaths), w3m.cost.bytes);

    const htop = costAt(`${WS}/configuration.nix`, CONFIGURATION, 'htop\n');
    assert.equal(htop.cost?.kind, 'package');
    assert.equal(htop.cost.bytes, 0);
    assert.deepEqual(htop.cost.lostPaths, []);
    assert.deepEqual(
      htop.cost.sharedWith.map((d) => d.option),
      ['users.users.alice.packages'],
    );
  });

  it('`services.nginx.enable = true`: the cost of the module it switches on', () => {
    const { attribution } = setup();
    const { cost, graph } = costAt(`${WS}/configuration.nix`, CONFIGURATION, 'services.nginx.enable');
    assert.equal(cost?.kind, 'module');
    assert.deepEqual(cost.moduleFiles, [`${NIXPKGS}/nixos/modules/services/web-servers/nginx.nix`]);
    const mod = attribution.moduleCost('services.nginx.enable')!;
    assert.equal(cost.bytes, mod.bytes);
    assert.equal(nar(graph, cost.lostPaths), cost.bytes);
    const lost = new Set(cost.lostPaths.map((i) => graph.paths[i]));
    // Nothing else references the unit, nginx or openssl; glibc stays.
    assert.ok(lost.has(P.nginx) && lost.has(P.openssl) && !lost.has(P.glibc), [...lost].join(' '));
  });

  it('a nested set: every definition below it together; a leaf inside it: that one', () => {
    const { attribution } = setup();
    const set = costAt(`${WS}/users.nix`, USERS, 'users.users.alice');
    assert.equal(set.cost?.kind, 'definitions');
    assert.deepEqual(set.cost.at.map((d) => d.option).sort(), [
      'users.users.alice.isNormalUser',
      'users.users.alice.packages',
    ]);
    assert.equal(set.cost.bytes, attribution.combinedCost(set.cost.at.map((d) => d.id)).bytes);
    const leaf = costAt(`${WS}/users.nix`, USERS, 'packages');
    assert.equal(leaf.cost?.kind, 'definition');
    assert.equal(leaf.cost.option, 'users.users.alice.packages');
    assert.equal(leaf.cost.at[0]!.line, 5);
  });

  it('no cost for bindings the evaluation did not see, or in files of other configurations', () => {
    const { index } = setup();
    const src = '{ ... }: { services.foo.enable = true; }';
    const scan = scanNixFile(src);
    const spot = hoverSpotAt(src, scan, src.indexOf('services'))!;
    assert.equal(index.costAt(`${WS}/configuration.nix`, spot, scan, src), undefined);
    assert.equal(index.costAt(`${WS}/other.nix`, spot, scan, src), undefined);
    assert.equal(index.hasFile(`${WS}/users.nix`), true);
    assert.equal(index.hasFile(`${WS}/other.nix`), false);
  });

  it('Options by cost: definitions that carry paths and module switches, most expensive first', () => {
    const { index, attribution } = setup();
    const costs = index.byCost();
    for (let k = 1; k < costs.length; k++) assert.ok(costs[k - 1]!.bytes >= costs[k]!.bytes);
    const named = costs.map((c) => `${c.kind}:${c.option}`);
    assert.ok(named.includes('module:services.nginx.enable'));
    assert.ok(
      !named.some((n) => n.endsWith('networking.hostName')),
      'a definition with no path and no module is not a cost',
    );
    for (const c of costs.filter((x) => x.kind === 'definition'))
      assert.equal(c.bytes, attribution.removalCost(c.at[0]!.id));
  });
});
