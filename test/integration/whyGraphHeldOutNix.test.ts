/**
 * The why-graph against real `nix why-depends --all` on a held-out closure of 3,000 real store paths (another seed
 * and five times the size of whyGraphNix.test.ts's, imported into the store in seconds): on the hubs, where a
 * NixOS system's glibc has thousands of nodes and astronomically many chains, on random paths and on inner pairs,
 * the node and edge sets must equal Nix's. bench/whyGraph.ts runs the same comparison on 98 pairs through the CLI.
 */
import assert from 'node:assert/strict';
import { ClosureGraph, distancesFrom } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { findReferences, snippetText } from '../../src/core/precise';
import { nixPathInfo, nixWhyDepends, nixWhyDependsPrecise } from '../support/fixtures';
import { realiseHubClosure } from '../support/hubClosure';
import { seededRandom } from '../support/prng';

/** The same closure as bench/whyGraph.ts's. */
const HELD_OUT_PATHS = 3000;
const HELD_OUT_SEED = 4242;

describe('why-graph against real `nix why-depends --all` (held-out closure of 3,000 paths)', function () {
  this.timeout(600_000);
  let a: ClosureAnalysis;
  let root: string;

  before(async () => {
    root = await realiseHubClosure(HELD_OUT_PATHS, HELD_OUT_SEED);
    const info = await nixPathInfo([root]);
    a = new ClosureAnalysis(
      ClosureGraph.build(
        [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
        [root],
      ),
    );
    assert.equal(a.graph.nodeCount, HELD_OUT_PATHS);
  });

  async function agree(from: number, to: number): Promise<number> {
    const g = a.graph;
    const wg = a.whyGraph(to, { from, limit: 1 });
    const nix = await nixWhyDepends(g.paths[from]!, g.paths[to]!, { all: true });
    const ours = [...wg.nodes].map((i) => g.paths[i]!).sort();
    assert.deepEqual(ours, nix ? [...nix.nodes].sort() : [], `--all nodes of ${g.paths[from]} → ${g.paths[to]}`);
    const ourEdges: string[] = [];
    for (let k = 0; k < wg.edges.length; k += 2) ourEdges.push(`${g.paths[wg.edges[k]!]} ${g.paths[wg.edges[k + 1]!]}`);
    const nixEdges = nix ? nix.edges.map(([x, y]) => `${x} ${y}`) : [];
    assert.deepEqual(ourEdges.sort(), nixEdges.sort(), `--all edges of ${g.paths[from]} → ${g.paths[to]}`);
    return ours.length;
  }

  it('from the root to the 12 largest hubs and 12 random paths, and between 12 inner pairs', async () => {
    const g = a.graph;
    const byReferrers = Array.from({ length: g.nodeCount }, (_, i) => i).sort(
      (x, y) => g.revOffsets[y + 1]! - g.revOffsets[y]! - (g.revOffsets[x + 1]! - g.revOffsets[x]!),
    );
    const rand = seededRandom(99);
    let largest = 0;
    for (const t of byReferrers.slice(0, 12)) if (t !== g.root) largest = Math.max(largest, await agree(g.root, t));
    for (let k = 0; k < 12; k++) {
      const t = Math.floor(rand() * g.nodeCount);
      if (t !== g.root) await agree(g.root, t);
    }
    let inner = 0;
    for (let k = 0; k < 12; k++) {
      const from = Math.floor(rand() * g.nodeCount);
      const dist = distancesFrom(g, from);
      const reached = [...dist.keys()].filter((v) => dist[v]! > 0);
      if (reached.length === 0) continue;
      if ((await agree(from, reached[Math.floor(rand() * reached.length)]!)) > 0) inner++;
    }
    console.log(`      (largest why-graph: ${largest} of ${g.nodeCount} paths; ${inner} inner pairs)`);
    assert.ok(largest > 2000, `a hub's why-graph spans most of the closure: ${largest} paths`);
    assert.ok(inner >= 6, `${inner} inner pairs`);
  });

  // The imported paths hold each reference in a text file, the first one also in a binary and behind a symlink:
  // Nix's --precise scan and ours must name the same files with the same bytes around each hit.
  it('--precise: on 10 chains, every edge names the files and snippets `nix why-depends --precise` names', async () => {
    const g = a.graph;
    const rand = seededRandom(7);
    let edges = 0;
    for (let k = 0; k < 10; k++) {
      const to = 1 + Math.floor(rand() * (g.nodeCount - 1));
      if (to === g.root) continue;
      const nix = await nixWhyDependsPrecise(g.paths[g.root]!, g.paths[to]!);
      for (const e of nix.edges) {
        const ours = (await findReferences(e.from, [e.to])).get(e.to)!;
        assert.deepEqual([snippetText(ours[0]!)], e.hits, `${e.from} → ${e.to}`);
        edges++;
      }
    }
    assert.ok(edges >= 20, `${edges} edges compared`);
  });
});
