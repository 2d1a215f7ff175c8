/**
 * The why-graph against real `nix why-depends --all` on a generated closure with hubs (preferential attachment,
 * the shape of a NixOS system where glibc is referred to by most paths), on many pairs: from the root to every
 * hub and to random paths, and between random pairs inside the closure. Nix's `--all` tree expands each node
 * once and draws every edge among the nodes that lie on some package → dependency path, so both its node set
 * and its edge set must equal ours; the chain count must equal a count over Nix's own reference lists.
 */
import assert from 'node:assert/strict';
import { ClosureGraph, distancesFrom } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { nixPathInfo, nixWhyDepends, type NixPathInfo } from '../support/fixtures';
import { realiseHubClosure } from '../support/hubClosure';
import { seededRandom } from '../support/prng';

function countPaths(info: Map<string, NixPathInfo>, from: string, to: string): bigint {
  const memo = new Map<string, bigint>();
  const count = (p: string): bigint => {
    if (p === to) return 1n;
    const m = memo.get(p);
    if (m !== undefined) return m;
    let c = 0n;
    for (const r of info.get(p)!.references) if (r !== p) c += count(r);
    memo.set(p, c);
    return c;
  };
  return count(from);
}

describe('why-graph against real `nix why-depends --all` (generated closure with hubs)', function () {
  this.timeout(900_000);
  let info: Map<string, NixPathInfo>;
  let a: ClosureAnalysis;
  let root: string;

  before(async () => {
    root = await realiseHubClosure();
    info = await nixPathInfo([root]);
    a = new ClosureAnalysis(
      ClosureGraph.build(
        [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
        [root],
      ),
    );
  });

  async function agreeWithNix(from: string, to: string): Promise<{ nodes: number; chains: bigint }> {
    const g = a.graph;
    const wg = a.whyGraph(g.indexOf(to)!, { from: g.indexOf(from)!, limit: 10 });
    const nix = await nixWhyDepends(from, to, { all: true });
    if (nix === null) {
      assert.equal(wg.nodes.length, 0, `${from} does not depend on ${to}`);
      assert.equal(wg.chainCount, 0n);
      return { nodes: 0, chains: 0n };
    }
    const ours = [...wg.nodes].map((i) => g.paths[i]!);
    assert.equal(new Set(ours).size, ours.length, 'each node once');
    assert.deepEqual(ours.sort(), [...nix.nodes].sort(), `--all nodes of ${from} → ${to}`);
    const ourEdges: string[] = [];
    for (let k = 0; k < wg.edges.length; k += 2) ourEdges.push(`${g.paths[wg.edges[k]!]} ${g.paths[wg.edges[k + 1]!]}`);
    const nixEdges = nix.edges.map(([x, y]) => `${x} ${y}`);
    assert.equal(new Set(nixEdges).size, nixEdges.length, 'Nix draws each edge once');
    assert.deepEqual(ourEdges.sort(), nixEdges.sort(), `--all edges of ${from} → ${to}`);
    const count = countPaths(info, from, to);
    assert.equal(wg.chainCount, count, `chains ${from} → ${to}`);
    assert.equal(wg.truncated, count > BigInt(wg.chains.length));
    return { nodes: ours.length, chains: count };
  }

  it('from the root to every hub (the 12 most referred-to paths) and to 40 random paths', async () => {
    const g = a.graph;
    const byReferrers = Array.from({ length: g.nodeCount }, (_, i) => i).sort(
      (x, y) => g.revOffsets[y + 1]! - g.revOffsets[y]! - (g.revOffsets[x + 1]! - g.revOffsets[x]!),
    );
    const rand = seededRandom(7);
    const targets = [
      ...byReferrers.slice(0, 12),
      ...Array.from({ length: 40 }, () => Math.floor(rand() * g.nodeCount)),
    ];
    let largest = { nodes: 0, chains: 0n };
    for (const t of targets) {
      if (t === g.root) continue;
      const r = await agreeWithNix(root, g.paths[t]!);
      if (r.nodes > largest.nodes) largest = r;
    }
    console.log(`      (largest why-graph: ${largest.nodes} nodes, ${largest.chains} chains)`);
    assert.ok(largest.chains > 1000n, 'the hubs have many chains');
  });

  it('between 60 random pairs inside the closure (half of them picked from the first one’s closure)', async () => {
    const g = a.graph;
    const rand = seededRandom(11);
    let related = 0;
    for (let k = 0; k < 60; k++) {
      const from = Math.floor(rand() * g.nodeCount);
      const dist = distancesFrom(g, from);
      const reached = [...dist.keys()].filter((v) => dist[v]! > 0);
      const to =
        k % 2 === 0 && reached.length > 0
          ? reached[Math.floor(rand() * reached.length)]!
          : Math.floor(rand() * g.nodeCount);
      if (from === to) continue;
      if ((await agreeWithNix(g.paths[from]!, g.paths[to]!)).nodes > 0) related++;
    }
    assert.ok(related >= 25, `${related} related pairs`);
  });
});
