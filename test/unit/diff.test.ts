import assert from 'node:assert/strict';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { compareVersions, diffClosures, type PackageDiff } from '../../src/core/diff';
import { renderDiffMarkdown, renderDiffText, renderDiffJson } from '../../src/core/diff';

/** A store path with a valid nix-base32 hash made from a seed letter. */
function sp(seed: string, name: string): string {
  return `/nix/store/${seed.repeat(32).slice(0, 32)}-${name}`;
}

function graph(records: [string, number, string[]][], root: string): ClosureGraph {
  const recs: PathRecord[] = records.map(([path, narSize, references]) => ({ path, narSize, references }));
  return ClosureGraph.build(recs, [root]);
}

const byName = (ps: readonly PackageDiff[], pname: string) => ps.find((p) => p.pname === pname);

describe('closure diff (graph level)', () => {
  const libfoo1 = sp('a', 'libfoo-1.0');
  const libfoo1b = sp('b', 'libfoo-1.0');
  const app10 = sp('c', 'app-1.0');
  const app11 = sp('d', 'app-1.1');
  const bar2 = sp('f', 'libbar-2.0');
  const bar19 = sp('g', 'libbar-1.9');
  const baz = sp('h', 'libbaz-1.0');
  const baz2 = sp('i', 'libbaz-1.0');
  const perl = sp('j', 'perl-5.38.2');
  const tool = sp('k', 'tool-1.0');
  const tool2 = sp('l', 'tool-1.0');
  const z12 = sp('m', 'zlib-1.2');
  const z13 = sp('n', 'zlib-1.3');
  const docs = sp('p', 'docs');
  const sys1 = sp('q', 'system');
  const sys2 = sp('r', 'system');
  const before = graph(
    [
      [sys1, 100, [app10, tool, bar2, baz, z12, z13, docs]],
      [app10, 4000, [libfoo1]],
      [tool, 2000, [libfoo1]],
      [libfoo1, 20000, []],
      [bar2, 40000, []],
      [baz, 1000, []],
      [z12, 9000, []],
      [z13, 10000, []],
      [docs, 10000, []],
    ],
    sys1,
  );
  const after = graph(
    [
      [sys2, 100, [app11, tool2, bar19, baz, baz2, z13]],
      [app11, 4000, [libfoo1b]],
      [tool2, 2000, [libfoo1b, perl]],
      [libfoo1b, 30000, []],
      [perl, 50000, []],
      [bar19, 30000, []],
      [baz, 1000, []],
      [baz2, 12000, []],
      [z13, 10000, []],
    ],
    sys2,
  );
  const d = diffClosures({ graph: before, label: 'old' }, { graph: after, label: 'new' });

  it('classifies every package change', () => {
    const kinds = Object.fromEntries(d.packages.map((p) => [p.pname, p.kind]));
    assert.deepEqual(kinds, {
      app: 'upgraded',
      libbar: 'downgraded',
      zlib: 'version-changed',
      libbaz: 'count-changed',
      perl: 'added',
      docs: 'removed',
      libfoo: 'rebuilt',
      tool: 'rebuilt',
      system: 'rebuilt',
    });
    assert.deepEqual(byName(d.packages, 'zlib')!.versionsRemoved, ['1.2']);
    assert.deepEqual(byName(d.packages, 'zlib')!.versionsAdded, []);
  });

  it('sums size deltas per package and for the closure', () => {
    assert.equal(byName(d.packages, 'libfoo')!.sizeDelta, 10000);
    assert.equal(byName(d.packages, 'libbaz')!.sizeDelta, 12000);
    assert.equal(byName(d.packages, 'docs')!.sizeDelta, -10000);
    assert.equal(d.sizeDelta, after.totalNarSize() - before.totalNarSize());
    assert.equal(d.pathCountDelta, 0);
    const perPackage = d.packages.reduce((s, p) => s + p.sizeDelta, 0);
    assert.equal(perPackage, d.sizeDelta, 'package deltas add up to the closure delta');
  });

  it('orders version changes, count changes, added, removed, rebuilt', () => {
    assert.deepEqual(
      d.packages.map((p) => p.pname),
      ['app', 'libbar', 'zlib', 'libbaz', 'perl', 'docs', 'libfoo', 'system', 'tool'],
    );
    const kinds = d.packages.map((p) => p.kind);
    const rank = ['upgraded', 'downgraded', 'version-changed', 'count-changed', 'added', 'removed', 'rebuilt'];
    for (let i = 1; i < kinds.length; i++)
      assert.ok(rank.indexOf(kinds[i - 1]!) <= rank.indexOf(kinds[i]!), kinds.join(','));
  });

  it('gives each added path a shortest chain from the root', () => {
    const p = d.addedPaths.find((a) => a.path === perl)!;
    assert.deepEqual(p.chain, [sys2, tool2, perl]);
    assert.equal(d.addedPaths[0]!.path, perl, 'heaviest first');
    assert.equal(d.addedPaths.length, 7);
    assert.equal(d.removedPaths.length, 7);
  });

  it('marks direct dependencies of the root as selected', () => {
    assert.equal(byName(d.packages, 'app')!.selected, true);
    assert.equal(byName(d.packages, 'perl')!.selected, false);
    assert.equal(byName(d.packages, 'libfoo')!.selected, false);
  });

  it('passes chains to the origin lookup and keeps what it returns', () => {
    const seen: string[] = [];
    const d2 = diffClosures(
      { graph: before, label: 'old' },
      { graph: after, label: 'new' },
      {
        origin: (g, node, chain) => {
          seen.push(g.paths[node]!);
          assert.equal(chain[chain.length - 1], node);
          return g.paths[node] === perl
            ? { option: 'environment.systemPackages', file: 'configuration.nix', line: 12 }
            : undefined;
        },
      },
    );
    assert.equal(seen.length, 7);
    assert.equal(d2.addedPaths.find((a) => a.path === perl)!.origin!.option, 'environment.systemPackages');
    assert.match(renderDiffText(d2), /option: environment\.systemPackages \(configuration\.nix:12\)/);
    assert.match(renderDiffMarkdown(d2), /`environment\.systemPackages` configuration\.nix:12/);
  });

  it('an identical closure has no changes', () => {
    const same = diffClosures({ graph: before, label: 'a' }, { graph: before, label: 'b' });
    assert.equal(same.packages.length, 0);
    assert.equal(same.sizeDelta, 0);
    assert.match(renderDiffText(same), /No package changes/);
  });

  it('renders text, markdown and JSON', () => {
    const text = renderDiffText(d);
    assert.match(text, /^\[U\*\]\s+app\s+1\.0 → 1\.1\s+±0\.0 KiB$/m);
    assert.match(text, /^\[N\*\]\s+libbaz\s+1\.0 → 1\.0 ×2\s+\+11\.7 KiB$/m);
    assert.match(text, /^\[A\.\]\s+perl\s+5\.38\.2\s+\+48\.8 KiB$/m);
    assert.match(text, /why: system → tool-1\.0 → perl-5\.38\.2/);
    assert.match(text, /^\[R\*\]\s+docs\s+ε\s+-9\.8 KiB$/m);
    const md = renderDiffMarkdown(d);
    assert.match(md, /\| closure size \(NAR\) \| .* \| \*\*\+/);
    assert.match(md, /#### Added packages \(1\)/);
    const json = JSON.parse(renderDiffJson(d));
    assert.equal(json.version, 1);
    assert.equal(json.packages.length, 9);
  });
});

describe('compareVersions (Nix order)', () => {
  const ordered = [
    ['1.0', '2.3'],
    ['2.1', '2.3'],
    ['2.3', '2.3.1'],
    ['2.3a', '2.3.1'],
    ['2.3pre1', '2.3'],
    ['2.3.1pre', '2.3.1'],
    ['2.3.0', '2.3.1'],
    ['2.3', '2.3a'],
    ['1.2.3', '1.10'],
    ['2.3pre3', '2.3pre12'],
    ['2.3a', '2.3c'],
    ['2.3pre1', '2.3c'],
    ['2.3pre1', '2.3q'],
  ];
  for (const [a, b] of ordered) {
    it(`${a} < ${b}`, () => {
      assert.equal(compareVersions(a!, b!), -1);
      assert.equal(compareVersions(b!, a!), 1);
    });
  }
  it('equal versions compare equal', () => {
    assert.equal(compareVersions('1.0', '1.0'), 0);
    assert.equal(compareVersions('1.0', '1-0'), 0);
  });
});

describe('diff targets: configurations build to their toplevel', () => {
  it('expands nixosConfigurations, homeConfigurations and darwinConfigurations, and nothing else', async () => {
    const { buildableInstallable, resolveOperand } = await import('../../src/core/diff/targets');
    assert.equal(
      buildableInstallable('.#nixosConfigurations.web'),
      '.#nixosConfigurations.web.config.system.build.toplevel',
    );
    assert.equal(
      buildableInstallable('path:/x#nixosConfigurations."my.host"'),
      'path:/x#nixosConfigurations."my.host".config.system.build.toplevel',
    );
    assert.equal(buildableInstallable('.#homeConfigurations.me'), '.#homeConfigurations.me.activationPackage');
    assert.equal(buildableInstallable('.#darwinConfigurations.mac'), '.#darwinConfigurations.mac.system');
    for (const same of [
      '.#nixosConfigurations.web.config.system.build.toplevel',
      '.#packages.x86_64-linux.hello',
      '.#hello',
      '.',
      'nixpkgs#hello',
    ]) {
      assert.equal(buildableInstallable(same), same);
    }
    const op = resolveOperand('.#nixosConfigurations.web', '/nonexistent');
    assert.deepEqual(op.target, {
      kind: 'installable',
      installable: '.#nixosConfigurations.web.config.system.build.toplevel',
      cwd: '/nonexistent',
    });
    assert.equal(op.installable, '.#nixosConfigurations.web', 'rules match what the user wrote');
  });
});

describe('text report: small rebuilds summed up', () => {
  it('lists rebuilds from 8 KiB, counts the rest, and lists all on request', async () => {
    const { ClosureGraph: G } = await import('../../src/shared/graph');
    const mk = (seed: string, name: string) => `/nix/store/${seed.repeat(32).slice(0, 32)}-${name}`;
    const [r1, r2, a1, a2, b1, b2] = [
      mk('a', 'root'),
      mk('b', 'root'),
      mk('c', 'big-1.0'),
      mk('d', 'big-1.0'),
      mk('f', 'tiny-1.0'),
      mk('g', 'tiny-1.0'),
    ];
    const before = G.build(
      [
        { path: r1, narSize: 100, references: [a1, b1] },
        { path: a1, narSize: 10_000, references: [] },
        { path: b1, narSize: 50, references: [] },
      ],
      [r1],
    );
    const after = G.build(
      [
        { path: r2, narSize: 100, references: [a2, b2] },
        { path: a2, narSize: 30_000, references: [] },
        { path: b2, narSize: 60, references: [] },
      ],
      [r2],
    );
    const d = diffClosures({ graph: before, label: 'a' }, { graph: after, label: 'b' });
    const text = renderDiffText(d);
    assert.match(text, /^\[B\*\]\s+big\s+1\.0\s+\+19\.5 KiB$/m);
    assert.doesNotMatch(text, /tiny/);
    assert.match(
      text,
      /^…and 2 more with less than 8\.0 KiB of change each \(\+0\.0 KiB in all; --all-rebuilt lists them\)$/m,
    );
    const all = renderDiffText(d, { allRebuilt: true });
    assert.match(all, /^\[B\*\]\s+tiny\s+1\.0\s+\+0\.0 KiB$/m);
    assert.doesNotMatch(all, /more with less than/);
  });
});
