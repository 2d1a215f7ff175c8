// Where the drawn why-graph puts each node (webview/chart/whyGraphLayout.ts), on small graphs where the answer is
// known by hand: edges point down even where a breadth-first layer would not, the selected path is alone at the
// bottom, folds count what they hide, and malformed cyclic input still draws.
import assert from 'node:assert/strict';
import { ClosureGraph, whyGraph, type PathRecord } from '../../src/shared';
import {
  defaultShown,
  layoutWhyGraph,
  longestPathLayers,
  NODE_BUDGET,
  rankedLayers,
} from '../../webview/chart/whyGraphLayout';

const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';
/** A store path with a hash made from its name (nix-base32 characters only). */
const P = (name: string) =>
  `/nix/store/${Array.from({ length: 32 }, (_, k) => BASE32[(name.charCodeAt(k % name.length) * (k + 7)) % 32]).join('')}-${name}`;

function graphOf(spec: Record<string, string[]>, root: string): ClosureGraph {
  const records: PathRecord[] = Object.entries(spec).map(([n, refs]) => ({
    path: P(n),
    narSize: 1,
    references: refs.map(P),
  }));
  return ClosureGraph.build(records, [P(root)]);
}

describe('why-graph drawing layout', () => {
  it('layers by the longest chain: a direct reference that also comes by a longer way is drawn at the bottom', () => {
    // root → glibc directly, and root → bash → perl → glibc: breadth-first puts glibc in layer 1, above perl
    const g = graphOf({ root: ['glibc', 'bash'], bash: ['perl'], perl: ['glibc'], glibc: [] }, 'root');
    const wg = whyGraph(g, g.root, g.indexOf(P('glibc'))!, 0);
    const layer = longestPathLayers(wg, () => false);
    const of = (n: string) => layer[[...wg.nodes].indexOf(g.indexOf(P(n))!)];
    assert.deepEqual(['root', 'bash', 'perl', 'glibc'].map(of), [0, 1, 2, 3]);
    const d = layoutWhyGraph(wg, rankedLayers(wg, layer), [1, 1, 1, 1]);
    assert.equal(d.nodes.length, 4);
    assert.equal(d.edges.length, 4);
    for (const e of d.edges) assert.ok(e.to.y > e.from.y, 'every edge points down');
  });

  it('folds a wide layer into "+N more" behind the nodes most chains run through', () => {
    // root → a0..a19 → hub; a0 is also referred to by b, so more chains run through it
    const spec: Record<string, string[]> = { root: ['b'], b: ['a0'], hub: [] };
    for (let k = 0; k < 20; k++) {
      spec['root']!.push(`a${k}`);
      spec[`a${k}`] = ['hub'];
    }
    const g = graphOf(spec, 'root');
    const wg = whyGraph(g, g.root, g.indexOf(P('hub'))!, 0);
    const layer = longestPathLayers(wg, () => false);
    const ranked = rankedLayers(wg, layer);
    const shown = ranked.map(() => defaultShown(ranked.length));
    assert.ok(shown[1]! < ranked[1]!.length, 'the wide layer is cut');
    const d = layoutWhyGraph(wg, ranked, shown);
    const drawnPaths = d.nodes.filter((n) => n.node >= 0);
    const folds = d.nodes.filter((n) => n.node < 0);
    assert.ok(drawnPaths.length <= NODE_BUDGET);
    assert.equal(drawnPaths.length + folds.reduce((s, f) => s + f.hidden, 0), wg.nodes.length);
    // a0 sits one layer below b (the longest chain root → b → a0), and is drawn: most chains run through it
    assert.ok(drawnPaths.some((n) => n.node === g.indexOf(P('a0'))));
    // edges from drawn paths to folded ones go to the fold, once each; none between two folds
    const ids = d.edges.map((e) => `${e.from.key} ${e.to.key}`);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(d.edges.every((e) => !(e.from.node < 0 && e.to.node < 0)));
    assert.ok(d.edges.some((e) => e.from.node === g.root && e.to.node < 0));
  });

  it('draws malformed cyclic input too, the selected path below all others', () => {
    const g = graphOf({ root: ['a'], a: ['b'], b: ['a', 'z'], z: [] }, 'root');
    const wg = whyGraph(g, g.root, g.indexOf(P('z'))!, 0);
    const layer = longestPathLayers(wg, () => false);
    const z = layer[[...wg.nodes].indexOf(g.indexOf(P('z'))!)]!;
    for (let k = 0; k < layer.length; k++) if (wg.nodes[k] !== g.indexOf(P('z'))) assert.ok(layer[k]! < z);
    const ranked = rankedLayers(wg, layer);
    const d = layoutWhyGraph(
      wg,
      ranked,
      ranked.map(() => 8),
    );
    assert.equal(d.nodes.length, 4);
  });
});
