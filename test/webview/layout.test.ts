/** The pure parts of the webview (no browser): view trees and the pruned partition layout, against the engine. */
import assert from 'node:assert/strict';
import { shortestChain } from '../../src/shared';
import { buildSnapshot, graphFromSnapshot } from '../../src/shared';
import { layoutSunburst } from '../../webview/chart/layout';
import { ancestry, chainViewTree, dominatorViewTree, treeFromParents } from '../../webview/chart/viewTree';
import { categorize } from '../../src/shared/categories';
import { fitLabel, labelParts, middleEllipsis } from '../../webview/chart/labels';
import { displayName, parseStorePath } from '../../src/shared';
import { nixosLikeFixture, realSbomClosure, realSbomWithoutSizes, sp, syntheticClosure } from './closures';

const TAU = 2 * Math.PI;

describe('webview layout (pure)', () => {
  it('the shortest-chain tree is the BFS tree: ancestry equals why.ts’s shortest chain', () => {
    for (const c of [nixosLikeFixture(), realSbomClosure()]) {
      const s = buildSnapshot(c.analysis);
      const g = graphFromSnapshot(s);
      const t = chainViewTree(s, g.revOffsets, g.revTargets);
      for (let v = 0; v < g.nodeCount; v += 7)
        assert.deepEqual(ancestry(t, v), shortestChain(c.graph, 0, v), c.graph.paths[v]);
      // Subtree sizes partition the closure.
      assert.equal(t.size[0], c.graph.totalNarSize());
    }
  });

  it('with no sizes, both trees weigh one per path', () => {
    const c = realSbomWithoutSizes();
    const s = buildSnapshot(c.analysis);
    const t = dominatorViewTree(s);
    assert.equal(t.countsPaths, true);
    assert.equal(t.size[0], 628);
    const dom = c.analysis.dominators;
    for (let v = 1; v < 628; v++) assert.equal(t.parent[v], dom.idom[v]);
  });

  it('lays out at most maxArcs arcs; every ring sums to its parent; "more" arcs hold the rest', () => {
    const c = syntheticClosure(20_000, 7);
    const t = dominatorViewTree(buildSnapshot(c.analysis));
    for (const maxArcs of [100, 500, 2500]) {
      const arcs = layoutSunburst(t, 0, { maxArcs, maxDepth: 7, minAngle: 0.001 });
      assert.ok(arcs.length - 1 <= maxArcs, `${arcs.length - 1} arcs for maxArcs ${maxArcs}`);
      const byKey = new Map(arcs.map((a) => [a.key, a]));
      for (const a of arcs) {
        if (a.depth === 0) continue;
        const parent = byKey.get(`n${a.parentNode}`)!;
        assert.ok(a.x0 >= parent.x0 - 1e-9 && a.x1 <= parent.x1 + 1e-9);
        if (a.node >= 0) assert.ok(Math.abs(a.x1 - a.x0 - (TAU * t.size[a.node]!) / t.size[0]!) < 1e-9);
      }
      assert.ok(arcs.every((a) => a.depth <= 7));
    }
  });

  it('expands the biggest arcs first: every drawn arc outweighs every merged one at the cap', () => {
    const c = syntheticClosure(5_000, 3);
    const t = dominatorViewTree(buildSnapshot(c.analysis));
    const arcs = layoutSunburst(t, 0, { maxArcs: 200, maxDepth: 12, minAngle: 0 });
    const drawn = arcs.filter((a) => a.node > 0);
    const smallestDrawn = Math.min(...drawn.map((a) => t.size[a.node]!));
    const drawnSet = new Set(drawn.map((a) => a.node));
    for (const a of arcs.filter((x) => x.node < 0)) {
      const kids = t.childTargets.subarray(t.childOffsets[a.parentNode]!, t.childOffsets[a.parentNode + 1]!);
      for (const k of kids) if (!drawnSet.has(k)) assert.ok(t.size[k]! <= smallestDrawn * (1 + 1e-9) || a.depth > 12);
    }
  });

  it('treeFromParents sorts children by size and sums subtrees', () => {
    const parent = Int32Array.from([-1, 0, 0, 1, 1]);
    const own = Float64Array.from([1, 1, 10, 5, 2]);
    const t = treeFromParents('dominator', parent, own, false);
    assert.deepEqual(Array.from(t.size), [19, 8, 10, 5, 2]);
    assert.deepEqual(Array.from(t.childTargets.subarray(t.childOffsets[0]!, t.childOffsets[1]!)), [2, 1]);
  });

  it('categorizes store paths for the legend', () => {
    const cat = (n: string) => categorize(parseStorePath(sp(n)));
    assert.equal(cat('glibc-2.39-52'), 'library');
    assert.equal(cat('util-linux-2.39.4-lib'), 'library');
    assert.equal(cat('perl-5.38.2-man'), 'docs');
    assert.equal(cat('git-2.44.0-doc'), 'docs');
    assert.equal(cat('python3-3.11.9-dev'), 'dev');
    assert.equal(cat('perl-5.38.2'), 'interpreter');
    assert.equal(cat('perl5.38.2-XML-Parser-2.46'), 'interpreter');
    assert.equal(cat('python3.11-requests-2.31.0'), 'interpreter');
    assert.equal(cat('linux-6.6.30-modules'), 'kernel');
    assert.equal(cat('linux-6.6.30'), 'kernel');
    assert.equal(cat('firmware'), 'kernel');
    assert.equal(cat('dejavu-fonts-2.37'), 'font');
    assert.equal(cat('systemd-minimal-255.6'), 'systemd');
    assert.equal(cat('dbus-1.14.10'), 'systemd');
    assert.equal(cat('nginx-1.26.0'), 'other');
  });

  it('fits labels: whole, on two lines (name, version), or cut in the middle keeping the version', () => {
    const parts = (n: string) => labelParts(displayName(parseStorePath(sp(n))), parseStorePath(sp(n)).pname);
    assert.deepEqual(parts('glibc-2.39-52'), { head: 'glibc', tail: '2.39-52' });
    assert.deepEqual(parts('perl-5.38.2-man'), { head: 'perl', tail: '5.38.2 (man)' });
    assert.deepEqual(parts('firmware'), { head: 'firmware', tail: '' });
    assert.deepEqual(fitLabel(parts('glibc-2.39-52'), 20, 1), ['glibc-2.39-52']);
    assert.deepEqual(fitLabel(parts('nixos-system-heldout-24.05'), 12, 2), ['nixos-syste…', '24.05']);
    assert.deepEqual(fitLabel(parts('nixos-system-heldout-24.05'), 16, 1), ['nixos-sys…-24.05']);
    // Too little room for the head: an end cut, never a label without its start.
    assert.equal(middleEllipsis(parts('glibc-2.39-52'), 8), 'glibc-2…');
    for (const max of [4, 8, 12, 16, 24])
      for (const n of ['nixos-system-heldout-24.05', 'glibc-2.39-52', 'python3.11-requests-2.31.0'])
        assert.ok(middleEllipsis(parts(n), max).length <= max, `${n} in ${max}`);
  });
});
