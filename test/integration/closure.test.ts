/**
 * Closure sizes, retained sizes, referrers and duplicates on real fixture closures, against real Nix:
 * `nix path-info -rsS --json` (closureSize), `nix-store --query --referrers`, and brute force over Nix's own
 * reference lists. (`-S` is quadratic in Nix; these closures are small.)
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { buildFixture, FIXTURE_NAMES, nixEnv, nixPathInfo, type NixPathInfo } from '../support/fixtures';

function recordsOf(info: Map<string, NixPathInfo>): PathRecord[] {
  return [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references }));
}

/** NAR bytes reachable from `root` over Nix's reference lists, never entering `skipped`. */
function reachableBytes(
  info: Map<string, NixPathInfo>,
  root: string,
  skipped: ReadonlySet<string> = new Set(),
): number {
  if (skipped.has(root)) return 0;
  const seen = new Set([root]);
  const queue = [root];
  let bytes = 0;
  for (let h = 0; h < queue.length; h++) {
    const p = queue[h]!;
    bytes += info.get(p)!.narSize;
    for (const r of info.get(p)!.references) {
      if (!seen.has(r) && !skipped.has(r)) {
        seen.add(r);
        queue.push(r);
      }
    }
  }
  return bytes;
}

describe('closure sizes and structure against real Nix (fixture flakes)', function () {
  this.timeout(300_000);

  for (const name of FIXTURE_NAMES) {
    describe(name, () => {
      let info: Map<string, NixPathInfo>;
      let a: ClosureAnalysis;
      let root: string;

      before(async () => {
        const fx = await buildFixture(name);
        root = fx.root;
        info = await nixPathInfo([root], { closureSize: true });
        a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [root]));
      });

      it('has every path of `nix path-info -r` and no other, with the root at index 0', () => {
        const g = a.graph;
        assert.equal(g.pathCount, info.size);
        assert.equal(g.hasVirtualRoot, false);
        assert.equal(g.paths[g.root], root);
        assert.deepEqual([...g.paths].sort(), [...info.keys()].sort());
        assert.equal(g.danglingReferences.length, 0);
      });

      it("every path's closure size equals Nix's closureSize", () => {
        assert.ok(info.size > 5, 'the fixture closure is not trivial');
        const mismatches: string[] = [];
        for (const [p, e] of info) {
          const ours = a.closureSize(a.graph.indexOf(p)!);
          if (ours !== e.closureSize) mismatches.push(`${p}: ours ${ours}, nix ${e.closureSize}`);
        }
        assert.deepEqual(mismatches, []);
        assert.equal(a.totalSize, info.get(root)!.closureSize);
      });

      it("NAR sizes, references and self-references are Nix's", () => {
        const g = a.graph;
        for (const [p, e] of info) {
          const i = g.indexOf(p)!;
          assert.equal(g.narSize[i], e.narSize, p);
          assert.equal(g.selfReference[i] === 1, e.references.includes(p), `self-reference of ${p}`);
          const ours = [...g.references(i)].map((j) => g.paths[j]!).sort();
          assert.deepEqual(ours, e.references.filter((r) => r !== p).sort(), `references of ${p}`);
        }
      });

      it('the referrers of every path are the referrers that nix-store reports, inside the closure', async () => {
        const g = a.graph;
        const paths = [...info.keys()];
        // one nix-store call per path keeps the answer unambiguous (the multi-path form merges them)
        for (const p of paths) {
          const r = await execa('nix-store', ['--query', '--referrers', p], { env: nixEnv() });
          const nixReferrers = r.stdout
            .split('\n')
            .filter((q) => q !== '' && q !== p && info.has(q))
            .sort();
          const ours = a
            .referrers(g.indexOf(p)!)
            .map((j) => g.paths[j]!)
            .sort();
          assert.deepEqual(ours, nixReferrers, `referrers of ${p}`);
        }
      });

      it('retained size = the bytes that leave the closure when the path is removed (brute force on Nix refs)', () => {
        const g = a.graph;
        const total = info.get(root)!.closureSize!;
        for (const p of info.keys()) {
          const expected = total - reachableBytes(info, root, new Set([p]));
          assert.equal(a.retainedSize(g.indexOf(p)!), expected, `retained size of ${p}`);
        }
      });

      it('the immediate dominator of every path is the nearest path whose removal cuts it off', () => {
        const g = a.graph;
        const idom = a.dominators.idom;
        assert.equal(idom[g.root], -1);
        for (const p of info.keys()) {
          if (p === root) continue;
          const i = g.indexOf(p)!;
          const d = idom[i]!;
          assert.ok(d >= 0, `${p} has an immediate dominator`);
          // d dominates p: without d, the root no longer reaches p
          const withoutD = reachableSet(info, root, new Set([g.paths[d]!]));
          assert.ok(!withoutD.has(p), `${g.paths[d]} dominates ${p}`);
          // and it is the nearest: no other dominator of p is dominated by d (every strict dominator of p other
          // than d also dominates d)
          for (const q of info.keys()) {
            if (q === p || q === g.paths[d]) continue;
            const withoutQ = reachableSet(info, root, new Set([q]));
            if (!withoutQ.has(p)) assert.ok(!withoutQ.has(g.paths[d]!), `${q} dominates ${p} but not its idom`);
          }
        }
      });
    });
  }

  describe('every package of a fixture as its own root', () => {
    for (const name of FIXTURE_NAMES) {
      it(`${name}: closure sizes of each package's own closure equal Nix's`, async () => {
        const fx = await buildFixture(name);
        for (const [key, p] of Object.entries(fx.outputs)) {
          const info = await nixPathInfo([p], { closureSize: true });
          const a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [p]));
          assert.equal(a.totalSize, info.get(p)!.closureSize, key);
          for (const [q, e] of info) assert.equal(a.closureSize(a.graph.indexOf(q)!), e.closureSize, `${key}: ${q}`);
        }
      });
    }
  });

  describe('several roots', () => {
    it('a virtual root over two packages: the union closure, sizes still exact', async () => {
      const fx = await buildFixture('mini-nixos');
      const roots = [fx.output('hello'), fx.output('initrd')];
      const info = await nixPathInfo(roots, { closureSize: true });
      const a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), roots));
      assert.equal(a.graph.hasVirtualRoot, true);
      assert.equal(a.graph.pathCount, info.size);
      assert.equal(
        a.totalSize,
        [...info.values()].reduce((sum, e) => sum + e.narSize, 0),
      );
      for (const [q, e] of info) assert.equal(a.closureSize(a.graph.indexOf(q)!), e.closureSize, q);
    });
  });

  describe('duplicates (mini-nixos)', () => {
    let info: Map<string, NixPathInfo>;
    let a: ClosureAnalysis;
    let root: string;
    const names = (ps: readonly number[]) => ps.map((i) => a.graph.name(i).name).sort();

    before(async () => {
      const fx = await buildFixture('mini-nixos');
      root = fx.root;
      info = await nixPathInfo([root]);
      a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [root]));
    });

    it('finds systemd/systemd-minimal, util-linux/util-linux-minimal (out and lib), both openssl and both zlib', () => {
      const groups = a.duplicates().map((d) => names(d.paths));
      const expected = [
        ['systemd-255.4', 'systemd-minimal-255.4'],
        ['util-linux-2.39.3', 'util-linux-minimal-2.39.3'],
        ['util-linux-2.39.3-lib', 'util-linux-minimal-2.39.3-lib'],
        ['openssl-1.1.1w', 'openssl-3.0.13'],
        ['zlib-1.3.1', 'zlib-1.3.1'],
      ];
      for (const e of expected)
        assert.ok(
          groups.some((g) => JSON.stringify(g) === JSON.stringify(e)),
          `group ${e.join(' + ')} in ${JSON.stringify(groups)}`,
        );
      // different outputs of one build are not duplicates
      for (const g of groups)
        assert.ok(
          !(g.includes('man-db-2.12.0') && g.includes('man-db-2.12.0-man')),
          'man-db and man-db-man are one build',
        );
    });

    it('extraBytes = what leaves the closure when every member but the first is removed (brute force on Nix refs)', () => {
      const total = reachableBytes(info, root);
      for (const d of a.duplicates()) {
        const others = new Set(d.paths.slice(1).map((i) => a.graph.paths[i]!));
        assert.equal(d.extraBytes, total - reachableBytes(info, root, others), d.pname);
        assert.ok(d.extraBytes > 0, `${d.pname} costs something`);
      }
    });
  });
});

function reachableSet(
  info: Map<string, NixPathInfo>,
  root: string,
  skipped: ReadonlySet<string> = new Set(),
): Set<string> {
  const seen = new Set<string>();
  if (skipped.has(root)) return seen;
  seen.add(root);
  const queue = [root];
  for (let h = 0; h < queue.length; h++) {
    for (const r of info.get(queue[h]!)!.references) {
      if (!seen.has(r) && !skipped.has(r)) {
        seen.add(r);
        queue.push(r);
      }
    }
  }
  return seen;
}
