// Property tests: every analysis against a brute-force definition, on seeded random graphs with diamonds,
// self-references, several roots and (for robustness) cycles.
import assert from 'node:assert/strict';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { allClosureSizes, ClosureSizes, closureSizesByBitsets, ClosureTooLargeError } from '../../src/shared';
import { CutOffSize, findDuplicates, isPackageBuild } from '../../src/core/analysis';
import { parseStorePath } from '../../src/shared/storePath';
import { dominatorTree } from '../../src/shared';
import { allChains, distancesFrom, shortestChain } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { seededRandom as prng } from '../support/prng';

const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';
function fakeHash(rand: () => number): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += BASE32[Math.floor(rand() * 32)];
  return s;
}

interface RandomGraphOptions {
  n: number;
  /** Mean out-degree. */
  degree: number;
  selfRefProbability?: number;
  /** Allow back edges (not a valid Nix closure, but nothing may hang or crash). */
  cyclic?: boolean;
  roots?: number;
}

/** A random closure: node k references only nodes after k (a DAG) unless `cyclic`; node 0 reaches everything. */
function randomRecords(seed: number, o: RandomGraphOptions): { records: PathRecord[]; roots: string[] } {
  const rand = prng(seed);
  const paths = Array.from({ length: o.n }, (_, k) => `/nix/store/${fakeHash(rand)}-pkg${k}-1.${k % 7}`);
  const refs: string[][] = paths.map(() => []);
  const rootCount = o.roots ?? 1;
  for (let k = 0; k < o.n; k++) {
    const later = o.n - k - 1;
    if (later > 0) {
      const m = Math.min(later, Math.floor(rand() * 2 * o.degree));
      for (let t = 0; t < m; t++) refs[k]!.push(paths[k + 1 + Math.floor(rand() * later)]!);
    }
    if (o.cyclic && k > 0 && rand() < 0.15) refs[k]!.push(paths[Math.floor(rand() * k)]!);
    if (rand() < (o.selfRefProbability ?? 0.3)) refs[k]!.push(paths[k]!);
  }
  // Keep every node reachable from some root: an unreached node gets a referrer before it.
  for (let k = rootCount; k < o.n; k++) {
    const referrer = Math.floor(rand() * k);
    if (!refs.some((r, i) => i < k && r.includes(paths[k]!))) refs[referrer]!.push(paths[k]!);
  }
  const records = paths.map((path, k) => ({
    path,
    // Heavy-tailed sizes like a real store, with a few empty paths.
    narSize: rand() < 0.05 ? 0 : Math.floor(Math.exp(rand() * 16)),
    references: refs[k]!,
  }));
  return { records, roots: paths.slice(0, rootCount) };
}

function reachable(g: ClosureGraph, from: number, skip = -1): Uint8Array {
  const seen = new Uint8Array(g.nodeCount);
  if (from === skip) return seen;
  const stack = [from];
  seen[from] = 1;
  while (stack.length) {
    const v = stack.pop()!;
    for (const w of g.references(v)) {
      if (w !== skip && !seen[w]) {
        seen[w] = 1;
        stack.push(w);
      }
    }
  }
  return seen;
}

function sizeOf(g: ClosureGraph, set: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < g.nodeCount; i++) if (set[i]) s += g.narSize[i]!;
  return s;
}

/** Every simple path from → to, by exhaustive DFS (small graphs only). */
function bruteForceChains(g: ClosureGraph, from: number, to: number): number[][] {
  const out: number[][] = [];
  const path = [from];
  const onPath = new Set([from]);
  const go = (v: number) => {
    if (v === to) {
      out.push([...path]);
      return;
    }
    for (const w of g.references(v)) {
      if (onPath.has(w)) continue;
      path.push(w);
      onPath.add(w);
      go(w);
      path.pop();
      onPath.delete(w);
    }
  };
  go(from);
  return out;
}

function assertValidChain(g: ClosureGraph, chain: readonly number[], from: number, to: number): void {
  assert.equal(chain[0], from);
  assert.equal(chain[chain.length - 1], to);
  assert.equal(new Set(chain).size, chain.length, 'a chain visits no node twice');
  for (let k = 0; k + 1 < chain.length; k++) {
    assert.ok(g.references(chain[k]!).includes(chain[k + 1]!), `edge ${chain[k]} → ${chain[k + 1]} exists`);
  }
}

const CASES: (RandomGraphOptions & { seed: number })[] = [];
for (let seed = 1; seed <= 40; seed++) {
  CASES.push({ seed, n: 2 + (seed % 25), degree: 1 + (seed % 4), selfRefProbability: 0.4 });
}
for (let seed = 100; seed < 110; seed++) CASES.push({ seed, n: 60 + seed, degree: 3 });
for (let seed = 200; seed < 210; seed++) CASES.push({ seed, n: 30, degree: 2, roots: 1 + (seed % 3) });
const CYCLIC: (RandomGraphOptions & { seed: number })[] = [];
for (let seed = 300; seed < 320; seed++) CYCLIC.push({ seed, n: 5 + (seed % 20), degree: 2, cyclic: true });
/** Larger cyclic graphs for closure sizes only (the brute-force chains of other suites would take too long). */
const LARGE_CYCLIC: (RandomGraphOptions & { seed: number })[] = [];
for (let seed = 330; seed < 334; seed++) LARGE_CYCLIC.push({ seed, n: 150, degree: 1 + (seed % 3), cyclic: true });

/**
 * p0 → p1 → … → p(n-1), plus p(n-1) → p0 when `cycle` (then a root → p0, as no path of a cycle is a root), and
 * every path → p(n-1) when `sharedDependency` (like glibc). NAR of p_i is 1000 + i.
 */
function longGraph(n: number, o: { cycle: boolean; sharedDependency: boolean }) {
  const path = (i: number) => `/nix/store/${String(i).padStart(32, '0')}-p${i}`;
  const records: PathRecord[] = [];
  for (let i = 0; i < n; i++) {
    const references = i + 1 < n ? [path(i + 1)] : o.cycle ? [path(0)] : [];
    if (o.sharedDependency && i + 2 < n) references.push(path(n - 1));
    records.push({ path: path(i), narSize: 1000 + i, references });
  }
  const root = o.cycle ? `/nix/store/${'r'.repeat(32)}-root` : path(0);
  if (o.cycle) records.push({ path: root, narSize: 7, references: [path(0)] });
  const graph = ClosureGraph.build(records, [root]);
  const index = new Map(graph.paths.map((p, k) => [p, k]));
  return {
    graph,
    node: (i: number) => index.get(path(i))!,
    /** NAR bytes of p_i … p(n-1). */
    sumFrom: (i: number) => (n - i) * 1000 + ((n - 1) * n) / 2 - ((i - 1) * i) / 2,
  };
}

describe('analysis: closure sizes', () => {
  for (const c of [...CASES, ...CYCLIC, ...LARGE_CYCLIC]) {
    it(`equal a brute-force walk (seed ${c.seed}, ${c.n} paths${c.cyclic ? ', cyclic' : ''})`, () => {
      const { records, roots } = randomRecords(c.seed, c);
      const g = ClosureGraph.build(records, roots);
      const sizes = new ClosureSizes(g);
      for (let i = 0; i < g.nodeCount; i++) assert.equal(sizes.of(i), sizeOf(g, reachable(g, i)), `node ${i}`);
      assert.equal(sizes.of(g.root), g.totalNarSize());
      const brute = Array.from({ length: g.nodeCount }, (_, i) => sizeOf(g, reachable(g, i)));
      assert.deepEqual(Array.from(new ClosureSizes(g).all()), brute, 'all() at once');
      const bitsets = closureSizesByBitsets(g);
      if (c.cyclic && bitsets === undefined) return;
      assert.deepEqual(Array.from(bitsets!), brute, 'bitset unions');
    });
  }

  // Issue 20: one walk per path made these quadratic (a 100,000-path chain took 97 s, a 1M-path cycle > 300 s).
  it('are exact and linear on a 300,000-path chain and a 200,000-path cycle behind a root', function () {
    this.timeout(60_000);
    const chain = longGraph(300_000, { cycle: false, sharedDependency: false });
    const sizes = allClosureSizes(chain.graph);
    for (const i of [0, 1, 150_000, 299_999]) assert.equal(sizes[chain.node(i)], chain.sumFrom(i), `p${i}`);
    const cycle = longGraph(200_000, { cycle: true, sharedDependency: false });
    const all = allClosureSizes(cycle.graph);
    // Every path of the cycle reaches every other: each closure is the whole cycle; the root adds its own bytes.
    for (const i of [0, 99_999, 199_999]) assert.equal(all[cycle.node(i)], cycle.sumFrom(0), `p${i}`);
    assert.equal(all[cycle.graph.root], cycle.graph.totalNarSize());
  });

  it('are exact on a 50,000-path chain whose paths all share one dependency (bitsets, bounded)', function () {
    this.timeout(60_000);
    const chain = longGraph(50_000, { cycle: false, sharedDependency: true });
    const sizes = allClosureSizes(chain.graph);
    for (const i of [0, 7, 25_000, 49_999]) assert.equal(sizes[chain.node(i)], chain.sumFrom(i), `p${i}`);
    // The same input under a small work bound is refused as too large, never answered short.
    assert.throws(() => allClosureSizes(chain.graph, 1_000_000), ClosureTooLargeError);
  });

  it('counts a self-referencing path once', () => {
    const h = 'a'.repeat(32);
    const glibc = `/nix/store/${h}-glibc-2.39`;
    const g = ClosureGraph.build([{ path: glibc, narSize: 224, references: [glibc] }], [glibc]);
    assert.equal(new ClosureSizes(g).of(0), 224);
    assert.equal(dominatorTree(g).retained[0], 224);
  });
});

describe('analysis: dominator tree and retained sizes', () => {
  for (const c of [...CASES, ...CYCLIC]) {
    it(`match removing each path and re-walking (seed ${c.seed}, ${c.n} paths${c.cyclic ? ', cyclic' : ''})`, () => {
      const { records, roots } = randomRecords(c.seed, c);
      const g = ClosureGraph.build(records, roots);
      const dom = dominatorTree(g);
      const total = g.totalNarSize();
      assert.equal(dom.idom[g.root], -1);
      assert.equal(dom.retained[g.root], total);
      // dominators[v] = every d whose removal cuts v off from the root.
      const cutOff: Uint8Array[] = [];
      for (let d = 0; d < g.nodeCount; d++) cutOff[d] = reachable(g, g.root, d);
      for (let v = 0; v < g.nodeCount; v++) {
        if (v === g.root) continue;
        const retainedBrute = total - sizeOf(g, cutOff[v]!);
        assert.equal(dom.retained[v], retainedBrute, `retained size of node ${v}`);
        const doms = [];
        for (let d = 0; d < g.nodeCount; d++) if (d !== v && !cutOff[d]![v]) doms.push(d);
        const idom = dom.idom[v]!;
        assert.ok(doms.includes(idom), `idom(${v}) = ${idom} dominates it`);
        // The immediate dominator is the one every other strict dominator dominates.
        for (const d of doms) if (d !== idom) assert.equal(cutOff[d]![idom], 0, `${d} dominates idom(${v})`);
      }
      // Children lists: the inverse of idom, sorted by retained size, largest first.
      let childCount = 0;
      for (let p = 0; p < g.nodeCount; p++) {
        const kids = Array.from(dom.children(p));
        childCount += kids.length;
        for (const k of kids) assert.equal(dom.idom[k], p);
        for (let t = 1; t < kids.length; t++) assert.ok(dom.retained[kids[t - 1]!]! >= dom.retained[kids[t]!]!);
      }
      assert.equal(childCount, g.nodeCount - 1);
    });
  }

  it('handles a 60,000-deep chain without overflowing the stack', () => {
    const n = 60_000;
    const paths = Array.from({ length: n }, (_, k) => `/nix/store/${String(k).padStart(32, '0')}-p${k}`);
    const records = paths.map((path, k) => ({ path, narSize: 1, references: k + 1 < n ? [paths[k + 1]!, path] : [] }));
    const g = ClosureGraph.build(records, [paths[0]!]);
    const dom = dominatorTree(g);
    assert.equal(dom.retained[0], n);
    assert.equal(dom.retained[n - 1], 1);
    assert.equal(dom.idom[n - 1], n - 2);
  });
});

describe('analysis: why', () => {
  for (const c of [...CASES, ...CYCLIC]) {
    it(`chains agree with brute force (seed ${c.seed}, ${c.n} paths${c.cyclic ? ', cyclic' : ''})`, () => {
      const { records, roots } = randomRecords(c.seed, c);
      const g = ClosureGraph.build(records, roots);
      const rand = prng(c.seed * 7919);
      for (let q = 0; q < 6; q++) {
        const from = q === 0 ? g.root : Math.floor(rand() * g.nodeCount);
        const to = Math.floor(rand() * g.nodeCount);
        const dist = distancesFrom(g, from);
        const chain = shortestChain(g, from, to);
        const forward = reachable(g, from);
        if (!forward[to]) {
          assert.equal(chain, null);
          assert.equal(dist[to], -1);
          const none = allChains(g, from, to);
          assert.deepEqual(none.chains, []);
          assert.equal(none.totalChains, 0);
          assert.equal(none.nodes.length, 0);
          continue;
        }
        assert.ok(chain);
        assertValidChain(g, chain, from, to);
        assert.equal(chain.length - 1, dist[to], 'the shortest chain is as long as the BFS distance');

        const brute = bruteForceChains(g, from, to);
        const expectedNodes = new Set<number>();
        for (let v = 0; v < g.nodeCount; v++) if (forward[v] && reachable(g, v)[to]) expectedNodes.add(v);
        const limit = 1 + Math.floor(rand() * 8);
        const set = allChains(g, from, to, limit);
        assert.deepEqual(
          Array.from(set.nodes).sort((a, b) => a - b),
          [...expectedNodes].sort((a, b) => a - b),
        );
        if (!c.cyclic) {
          assert.equal(set.totalChains, brute.length);
          assert.deepEqual(new Set(brute.flat()), expectedNodes, 'in a DAG every such node is on a chain');
        }
        assert.equal(set.chains.length, Math.min(limit, brute.length));
        if (c.cyclic) {
          // Counting simple paths in a cyclic graph is intractable: `truncated` may only err on the safe side.
          if (brute.length > set.chains.length) assert.equal(set.truncated, true);
        } else {
          assert.equal(set.truncated, brute.length > set.chains.length);
        }
        assert.equal(set.chains[0]!.length, chain.length, 'shortest first');
        const seen = new Set<string>();
        for (let k = 0; k < set.chains.length; k++) {
          const ch = set.chains[k]!;
          assertValidChain(g, ch, from, to);
          if (k > 0) assert.ok(ch.length >= set.chains[k - 1]!.length, 'sorted by length');
          seen.add(ch.join(','));
        }
        assert.equal(seen.size, set.chains.length, 'no chain twice');
        // The listed chains are the shortest ones: nothing left out is shorter than the longest listed.
        const longestListed = set.chains[set.chains.length - 1]!.length;
        const shorterLeftOut = brute.filter((b) => b.length < longestListed && !seen.has(b.join(',')));
        assert.deepEqual(shorterLeftOut, []);
      }
    });
  }

  it('counts chains past 2^53 without enumerating them', () => {
    // 60 diamonds in a row: 2^60 chains.
    const layers = 60;
    const paths: string[] = [];
    const refs: string[][] = [];
    const name = (k: number) => `/nix/store/${String(k).padStart(32, '0')}-n${k}`;
    for (let l = 0; l <= layers; l++) {
      paths.push(name(3 * l));
      refs.push(l < layers ? [name(3 * l + 1), name(3 * l + 2)] : []);
      if (l < layers) {
        paths.push(name(3 * l + 1), name(3 * l + 2));
        refs.push([name(3 * l + 3)], [name(3 * l + 3)]);
      }
    }
    const g = ClosureGraph.build(
      paths.map((path, k) => ({ path, narSize: 1, references: refs[k]! })),
      [paths[0]!],
    );
    const set = allChains(g, g.root, g.indexOf(name(3 * layers))!, 5);
    assert.equal(set.chains.length, 5);
    assert.equal(set.truncated, true);
    assert.equal(set.totalChains, Number.MAX_SAFE_INTEGER);
    assert.equal(set.nodes.length, g.nodeCount);
  });

  it('a path depends on itself through a self-reference only as a one-element chain', () => {
    const p = `/nix/store/${'b'.repeat(32)}-glibc-2.39`;
    const g = ClosureGraph.build([{ path: p, narSize: 1, references: [p] }], [p]);
    assert.deepEqual(shortestChain(g, 0, 0), [0]);
    assert.deepEqual(allChains(g, 0, 0).chains, [[0]]);
  });
});

describe('analysis: ClosureAnalysis', () => {
  it('answers heaviest, why and referrers consistently', () => {
    const { records, roots } = randomRecords(4242, { n: 300, degree: 3 });
    const g = ClosureGraph.build(records, roots);
    const a = new ClosureAnalysis(g);
    const top = a.heaviest(10);
    assert.equal(top.length, 10);
    assert.ok(!top.includes(g.root));
    for (let k = 1; k < top.length; k++) assert.ok(a.retainedSize(top[k - 1]!) >= a.retainedSize(top[k]!));
    const maxOther = Math.max(...Array.from({ length: g.nodeCount }, (_, i) => (i === g.root ? 0 : a.retainedSize(i))));
    assert.equal(a.retainedSize(top[0]!), maxOther);
    const dep = g.nodeCount - 1;
    const one = a.why(dep);
    assert.equal(one.chains.length, 1);
    assert.equal(one.chains[0]!.length - 1, a.distances[dep]);
    const many = a.why(dep, { all: true, limit: 3 });
    assert.equal(many.totalChains, one.totalChains);
    assert.deepEqual(a.referrers(dep).sort(), Array.from(g.referrers(dep)).sort());
    assert.equal(a.closureSize(g.root), a.totalSize);
  });
});

describe('analysis: cut-off sizes (the cost of duplicates)', () => {
  for (const c of CASES) {
    it(`equal a walk that skips the removed paths (seed ${c.seed}, ${c.n} paths)`, () => {
      const { records, roots } = randomRecords(c.seed, c);
      const g = ClosureGraph.build(records, roots);
      const cut = new CutOffSize(g);
      const rand = prng(c.seed * 31);
      const total = g.totalNarSize();
      for (let q = 0; q < 10; q++) {
        const removed = new Set<number>();
        const k = 1 + Math.floor(rand() * 3);
        for (let t = 0; t < k; t++) removed.add(1 + Math.floor(rand() * (g.nodeCount - 1)));
        if (removed.has(g.root) || g.nodeCount < 2) continue;
        // Brute force: walk from the root, never entering a removed node.
        const seen = new Uint8Array(g.nodeCount);
        const stack = [g.root];
        seen[g.root] = 1;
        while (stack.length) {
          const v = stack.pop()!;
          for (const w of g.references(v)) {
            if (!seen[w] && !removed.has(w)) {
              seen[w] = 1;
              stack.push(w);
            }
          }
        }
        assert.equal(cut.of([...removed]), total - sizeOf(g, seen), `removing ${[...removed]}`);
      }
    });
  }

  it('groups variants and versions, keeps outputs apart, and prices all but the largest member', () => {
    const h = (k: number) => String(k).padStart(32, '0').replace(/0/g, 'a');
    const p = (k: number, name: string) => `/nix/store/${h(k)}-${name}`;
    const root = p(0, 'system');
    const systemd = p(1, 'systemd-255.4');
    const systemdMinimal = p(2, 'systemd-minimal-255.4');
    const ssl3 = p(3, 'openssl-3.0.13');
    const ssl1 = p(4, 'openssl-1.1.1w');
    const perl = p(5, 'perl-5.38.2');
    const perlMan = p(6, 'perl-5.38.2-man');
    const onlyOld = p(7, 'libold-1.0');
    const records = [
      { path: root, narSize: 1, references: [systemd, systemdMinimal, ssl3, ssl1, perl, perlMan] },
      { path: systemd, narSize: 1000, references: [ssl3, systemd] },
      { path: systemdMinimal, narSize: 400, references: [ssl3] },
      { path: ssl3, narSize: 300, references: [] },
      { path: ssl1, narSize: 200, references: [onlyOld] },
      { path: onlyOld, narSize: 50, references: [] },
      { path: perl, narSize: 70, references: [] },
      { path: perlMan, narSize: 10, references: [] },
    ];
    const g = ClosureGraph.build(records, [root]);
    const groups = findDuplicates(g, dominatorTree(g));
    const named = groups.map((x) => ({
      pname: x.pname,
      paths: x.paths.map((i) => g.paths[i]),
      extraBytes: x.extraBytes,
    }));
    assert.deepEqual(named, [
      { pname: 'systemd', paths: [systemd, systemdMinimal], extraBytes: 400 },
      { pname: 'openssl', paths: [ssl3, ssl1], extraBytes: 250 },
    ]);
  });
  it('counts the same package in different builds, not different contents made by one function', () => {
    const h = (k: number) => String(k).padStart(32, '0').replace(/0/g, 'a');
    const p = (k: number, name: string) => `/nix/store/${h(k)}-${name}`;
    const root = p(0, 'system');
    const members = [
      // Two builds of one package (same name and version, other hashes): a duplicate.
      p(1, 'openssl-3.0.12'),
      p(2, 'openssl-3.0.12'),
      // Two versions: a duplicate.
      p(3, 'nix-2.18.1'),
      p(4, 'nix-2.15.3'),
      // No version: generated per input (alice's and bob's profiles, a unit of the system and of the user).
      p(5, 'user-environment'),
      p(6, 'user-environment'),
      p(7, 'unit-dbus.service'),
      p(8, 'unit-dbus.service'),
      // Words after the version: built from a package for a purpose (two perl environments with other modules).
      p(9, 'perl-5.38.0-env'),
      p(10, 'perl-5.38.0-env'),
    ];
    const records = [
      { path: root, narSize: 1, references: members },
      ...members.map((path) => ({ path, narSize: 100, references: [] })),
    ];
    const g = ClosureGraph.build(records, [root]);
    const groups = findDuplicates(g, dominatorTree(g));
    assert.deepEqual(groups.map((x) => [x.pname, x.paths.length]).sort(), [
      ['nix', 2],
      ['openssl', 2],
    ]);
    assert.deepEqual(
      [
        'openssl-3.0.12',
        'nix-2.19.0-rc1',
        'hello-0-unstable-2024-05-01',
        'user-environment',
        'perl-5.38.0-env',
        'linux-6.1.62-modules-shrunk',
      ].map((n) => isPackageBuild(parseStorePath(p(20, n)))),
      [true, true, true, false, false, false],
    );
  });
});
