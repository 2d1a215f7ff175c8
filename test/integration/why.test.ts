/**
 * Why-chains on real fixture closures against real `nix why-depends`:
 * - our shortest chain is made of real edges (Nix's reference lists), is exactly as long as a breadth-first
 *   search over those lists says, and never longer than the chain Nix prints (Nix 2.8's queue is ordered by
 *   pointer, so it may print a longer one);
 * - the nodes of all our chains are exactly the nodes of `nix why-depends --all`'s tree;
 * - the enumerated chains are distinct, valid, shortest first, and counted exactly.
 */
import assert from 'node:assert/strict';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { findByName } from '../../src/shared';
import {
  buildFixture,
  chainOfTree,
  FIXTURE_NAMES,
  nixPathInfo,
  nixWhyDepends,
  parseWhyDependsTree,
  type NixPathInfo,
} from '../support/fixtures';
import { realDataDir } from '../support/realData';

function recordsOf(info: Map<string, NixPathInfo>): PathRecord[] {
  return [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references }));
}

/** Edge distances from `from` over Nix's own reference lists (self-references are not steps). */
function bfsDistances(info: Map<string, NixPathInfo>, from: string): Map<string, number> {
  const dist = new Map([[from, 0]]);
  const queue = [from];
  for (let h = 0; h < queue.length; h++) {
    const p = queue[h]!;
    for (const r of info.get(p)!.references) {
      if (!dist.has(r)) {
        dist.set(r, dist.get(p)! + 1);
        queue.push(r);
      }
    }
  }
  return dist;
}

/** Number of distinct from → to paths over Nix's reference lists (memoised DFS; store graphs are acyclic). */
function countPaths(info: Map<string, NixPathInfo>, from: string, to: string): number {
  const memo = new Map<string, number>();
  const count = (p: string): number => {
    if (p === to) return 1;
    const m = memo.get(p);
    if (m !== undefined) return m;
    let c = 0;
    for (const r of info.get(p)!.references) if (r !== p) c += count(r);
    memo.set(p, c);
    return c;
  };
  return count(from);
}

function assertValidChain(
  info: Map<string, NixPathInfo>,
  chain: readonly string[],
  from: string,
  to: string,
  what: string,
): void {
  assert.equal(chain[0], from, `${what}: starts at the package`);
  assert.equal(chain[chain.length - 1], to, `${what}: ends at the dependency`);
  assert.equal(new Set(chain).size, chain.length, `${what}: no path twice`);
  for (let k = 0; k + 1 < chain.length; k++) {
    assert.ok(
      info.get(chain[k]!)!.references.includes(chain[k + 1]!),
      `${what}: ${chain[k]} refers to ${chain[k + 1]}`,
    );
  }
}

/** A small deterministic pseudo-random sequence, so sampled pairs are the same in every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('why-depends chains against real `nix why-depends` (fixture flakes)', function () {
  this.timeout(600_000);

  for (const name of FIXTURE_NAMES) {
    describe(name, () => {
      let info: Map<string, NixPathInfo>;
      let a: ClosureAnalysis;
      let root: string;
      const pathsOf = (chain: readonly number[]) => chain.map((i) => a.graph.paths[i]!);

      before(async () => {
        const fx = await buildFixture(name);
        root = fx.root;
        info = await nixPathInfo([root]);
        a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [root]));
      });

      it('for every path: our shortest chain is valid, equals the BFS distance, and is never longer than Nix’s', async () => {
        const dist = bfsDistances(info, root);
        let longerInNix = 0;
        for (const p of info.keys()) {
          const set = a.why(a.graph.indexOf(p)!);
          assert.equal(set.chains.length, 1, `one chain to ${p}`);
          const ours = pathsOf(set.chains[0]!);
          assertValidChain(info, ours, root, p, `chain to ${p}`);
          assert.equal(ours.length - 1, dist.get(p), `length of the chain to ${p}`);
          assert.equal(a.distances[a.graph.indexOf(p)!], dist.get(p), `distance of ${p}`);
          if (p === root) continue;
          const tree = await nixWhyDepends(root, p);
          assert.ok(tree, `nix says ${root} depends on ${p}`);
          const nixChain = chainOfTree(tree);
          assertValidChain(info, nixChain, root, p, `nix's chain to ${p}`);
          assert.ok(
            ours.length <= nixChain.length,
            `ours (${ours.length - 1} edges) ≤ nix (${nixChain.length - 1}) for ${p}`,
          );
          if (nixChain.length > ours.length) longerInNix++;
        }
        // not an assertion (Nix's choice depends on memory layout), but worth seeing in the log
        if (longerInNix > 0)
          console.log(`      (${name}: nix printed a longer chain than BFS for ${longerInNix} paths)`);
      });

      it('for every path: the nodes of all chains = the nodes of `nix why-depends --all`', async () => {
        for (const p of info.keys()) {
          if (p === root) continue;
          const set = a.why(a.graph.indexOf(p)!, { all: true, limit: 5 });
          const ours = new Set([...set.nodes].map((i) => a.graph.paths[i]!));
          const tree = await nixWhyDepends(root, p, { all: true });
          assert.ok(tree);
          assert.deepEqual([...ours].sort(), [...tree.nodes].sort(), `--all nodes for ${p}`);
          // every edge Nix draws is a real edge between two of those nodes
          for (const [x, y] of tree.edges) assert.ok(info.get(x)!.references.includes(y), `nix edge ${x} → ${y}`);
        }
      });

      it('for every path: all chains are distinct, valid, shortest first, and counted exactly', () => {
        for (const p of info.keys()) {
          const total = countPaths(info, root, p);
          const limit = 50;
          const set = a.why(a.graph.indexOf(p)!, { all: true, limit });
          assert.equal(set.totalChains, total, `number of chains to ${p}`);
          assert.equal(set.chains.length, Math.min(total, limit), `chains listed for ${p}`);
          assert.equal(set.truncated, total > limit, `truncated for ${p}`);
          const seen = new Set<string>();
          let previous = 0;
          for (const c of set.chains) {
            const chain = pathsOf(c);
            assertValidChain(info, chain, root, p, `a chain to ${p}`);
            assert.ok(chain.length >= previous, `shortest first for ${p}`);
            previous = chain.length;
            const key = chain.join(' ');
            assert.ok(!seen.has(key), `distinct chains for ${p}`);
            seen.add(key);
          }
        }
      });

      it('between sampled pairs inside the closure: Nix and we agree on whether, how far and through which nodes', async () => {
        const paths = [...info.keys()].sort();
        const next = lcg(0x5eed + name.length);
        for (let k = 0; k < 40; k++) {
          const from = paths[Math.floor(next() * paths.length)]!;
          const to = paths[Math.floor(next() * paths.length)]!;
          if (from === to) continue;
          const set = a.why(a.graph.indexOf(to)!, { all: true, limit: 3, from: a.graph.indexOf(from)! });
          const nixAll = await nixWhyDepends(from, to, { all: true });
          if (nixAll === null) {
            assert.equal(set.totalChains, 0, `${from} does not depend on ${to}`);
            assert.equal(set.chains.length, 0);
            assert.equal(set.nodes.length, 0);
            continue;
          }
          assert.deepEqual(
            [...set.nodes].map((i) => a.graph.paths[i]!).sort(),
            [...nixAll.nodes].sort(),
            `${from} → ${to}`,
          );
          const shortest = a.why(a.graph.indexOf(to)!, { from: a.graph.indexOf(from)! }).chains[0]!;
          assertValidChain(info, pathsOf(shortest), from, to, `${from} → ${to}`);
          assert.equal(shortest.length - 1, bfsDistances(info, from).get(to));
          const nixChain = chainOfTree((await nixWhyDepends(from, to))!);
          assert.ok(shortest.length <= nixChain.length);
        }
      });
    });
  }

  describe('self-references and edge cases', () => {
    it('a self-referencing path: Nix draws X → X; we give the one-element chain and never a self edge', async () => {
      const fx = await buildFixture('edge-cases');
      const selfOnly = fx.output('self-only');
      const tree = (await nixWhyDepends(selfOnly, selfOnly))!;
      assert.deepEqual(chainOfTree(tree), [selfOnly, selfOnly]);
      const info = await nixPathInfo([selfOnly]);
      const a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [selfOnly]));
      assert.deepEqual(a.why(0).chains, [[0]]);
      assert.equal(a.graph.selfReference[0], 1);
      assert.equal(a.graph.references(0).length, 0);
      assert.equal(a.closureSize(0), info.get(selfOnly)!.narSize);
    });

    it('self-references along a chain neither lengthen it nor add chains (chain fixture: every 7th link)', async () => {
      const fx = await buildFixture('chain');
      const info = await nixPathInfo([fx.root]);
      const a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [fx.root]));
      const perl = a.graph.indexOf(fx.output('perl'))!;
      const set = a.why(perl, { all: true });
      // root → links 0..39 → perl (41 edges), and root → links 0..30 → XML-Parser → perl (33 edges)
      assert.equal(set.totalChains, 2);
      assert.deepEqual(
        set.chains.map((c) => c.length - 1),
        [33, 41],
      );
      assert.ok(set.chains[0]!.some((i) => a.graph.paths[i] === fx.output('xml-parser')));
      const nix = chainOfTree((await nixWhyDepends(fx.root, fx.output('perl')))!);
      assert.ok(nix.length >= set.chains[0]!.length);
      const link20 = a.graph.indexOf(fx.output('link-20'))!;
      assert.deepEqual(
        a.why(link20, { all: true }).chains.map((c) => c.length - 1),
        [21],
      );
    });

    it('a shortcut: the 2-edge way wins over the 5-edge way, and --all lists both, shortest first', async () => {
      const fx = await buildFixture('diamonds');
      const info = await nixPathInfo([fx.output('shortcut')]);
      const a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [fx.output('shortcut')]));
      const perl = a.graph.indexOf(fx.output('perl'))!;
      const set = a.why(perl, { all: true });
      assert.deepEqual(
        set.chains.map((c) => c.length - 1),
        [2, 5],
      );
    });

    it('the lattice: more chains than the limit are counted, listed up to the limit and marked truncated', async () => {
      const fx = await buildFixture('diamonds');
      const info = await nixPathInfo([fx.output('lattice')]);
      const a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [fx.output('lattice')]));
      const perl = a.graph.indexOf(fx.output('perl'))!;
      const expected = countPaths(info, fx.output('lattice'), fx.output('perl'));
      assert.ok(expected > 100, `the lattice has ${expected} chains`);
      const set = a.why(perl, { all: true, limit: 100 });
      assert.equal(set.totalChains, expected);
      assert.equal(set.chains.length, 100);
      assert.equal(set.truncated, true);
      const tree = (await nixWhyDepends(fx.output('lattice'), fx.output('perl'), { all: true }))!;
      assert.equal(set.nodes.length, tree.nodes.size);
    });

    it('`perl` by name: the exact pname tier (perl and perl-man), resolved to the default output; `perl5` by prefix', async () => {
      const fx = await buildFixture('chain');
      const info = await nixPathInfo([fx.root]);
      const a = new ClosureAnalysis(ClosureGraph.build(recordsOf(info), [fx.root]));
      const found = findByName(a.graph, 'perl').map((i) => a.graph.paths[i]!);
      assert.deepEqual(found.sort(), [fx.output('perl'), fx.output('perl-man')].sort());
      const resolved = a.resolve('perl');
      assert.ok(
        resolved.kind === 'unique' && a.graph.paths[resolved.node] === fx.output('perl'),
        JSON.stringify(resolved),
      );
      assert.deepEqual(
        findByName(a.graph, 'perl5').map((i) => a.graph.paths[i]!),
        [fx.output('xml-parser')],
      );
      const links = findByName(a.graph, 'chain-link');
      assert.equal(links.length, 40, 'a pname prefix finds every link');
    });
  });

  it('parses the tree that Nix 2.8 and 2.26 print (recorded `--all` output, ANSI and grey leaves included)', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dir = realDataDir('nix-2.26-outputs');
    for (const file of ['why-depends-all.txt', 'nix-2.8/why-depends-all.txt']) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      assert.ok(text.includes('\u001b['), `${file} carries ANSI escapes`);
      const tree = parseWhyDependsTree(text);
      assert.ok(tree.nodes.size >= 3);
      for (const n of tree.nodes) assert.match(n, /^\/nix\/store\/[0-9a-z]{32}-[^\s\u001b]+$/);
      assert.equal(tree.lines[0]!.depth, 0);
    }
  });
});
