/**
 * The preview (src/shared/sunburstPreview.ts): drawn before the closure arrives, it must lay out exactly the arcs
 * the whole closure lays out, at every chart size the sunburst uses, and be a small part of the payload.
 */
import assert from 'node:assert/strict';
import { buildPreview, buildSnapshot, checkPreview, SUNBURST_MAX_DEPTH, SUNBURST_MIN_ANGLE } from '../../src/shared';
import { layoutSunburst, type Arc } from '../../webview/chart/layout';
import { dominatorViewTree } from '../../webview/chart/viewTree';
import { previewTree } from '../../webview/preview';
import {
  nixosLikeFixture,
  realSbomClosure,
  realSbomWithoutSizes,
  syntheticClosure,
  type TestClosure,
} from './closures';

/** Every field of each arc; angles and weights to a billionth (sums of the same numbers grouped differently). */
function sameArcs(got: Arc[], want: Arc[], what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} arcs, the closure draws ${want.length}`);
  for (let k = 0; k < want.length; k++) {
    const g = got[k]!;
    const w = want[k]!;
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    assert.ok(
      g.key === w.key &&
        g.node === w.node &&
        g.parentNode === w.parentNode &&
        g.depth === w.depth &&
        g.moreFrom === w.moreFrom &&
        g.moreCount === w.moreCount &&
        g.hasHiddenChildren === w.hasHiddenChildren &&
        close(g.x0, w.x0) &&
        close(g.x1, w.x1) &&
        close(g.value, w.value),
      `${what}: arc ${k} is ${JSON.stringify(g)}, the closure's is ${JSON.stringify(w)}`,
    );
  }
}

function closures(): [string, TestClosure][] {
  return [
    ['the NixOS-like fixture', nixosLikeFixture()],
    ['a real SBOM with sampled sizes', realSbomClosure()],
    ...[1_000, 10_000, 30_000].map((n, k): [string, TestClosure] => [
      `${n} synthetic paths`,
      syntheticClosure(n, 11 + k),
    ]),
  ];
}

describe('sunburst preview', () => {
  it('lays out the same arcs as the whole closure, at every ring count, angle threshold and arc cap', () => {
    for (const [what, c] of closures()) {
      const full = dominatorViewTree(buildSnapshot(c.analysis));
      const preview = buildPreview(c.analysis.graph, c.analysis.dominators)!;
      assert.equal(checkPreview(preview), undefined, what);
      const tree = previewTree(preview);
      // The chart's thresholds: its angle never goes below SUNBURST_MIN_ANGLE (2 px at the first ring is more)
      // nor its rings above SUNBURST_MAX_DEPTH; the arc cap is the user's setting.
      for (const minAngle of [SUNBURST_MIN_ANGLE, 0.006, 0.013, 0.05])
        for (const maxDepth of [1, 3, 5, SUNBURST_MAX_DEPTH])
          for (const maxArcs of [3, 50, 2500, 10_000]) {
            const opts = { maxArcs, maxDepth, minAngle };
            sameArcs(layoutSunburst(tree, 0, opts), layoutSunburst(full, 0, opts), `${what} ${JSON.stringify(opts)}`);
          }
    }
  });

  it('is a small part of the payload: under a tenth of the closure’s ~1 MB at 10,000 synthetic paths', () => {
    const c = syntheticClosure(10_000, 12);
    const preview = buildPreview(c.analysis.graph, c.analysis.dominators)!;
    const bytes = (o: object) =>
      Object.values(o).reduce((s: number, v) => s + (ArrayBuffer.isView(v) ? v.byteLength : 0), 0);
    const snapshot = bytes(buildSnapshot(c.analysis));
    assert.ok(bytes(preview) * 10 < snapshot, `preview ${bytes(preview)} B, closure ${snapshot} B`);
  });

  it('is not sent for an input without sizes (its chart counts paths)', () => {
    const c = realSbomWithoutSizes();
    assert.equal(buildPreview(c.analysis.graph, c.analysis.dominators), undefined);
  });

  it('a damaged preview is refused with a reason', () => {
    const c = nixosLikeFixture();
    const good = buildPreview(c.analysis.graph, c.analysis.dominators)!;
    const damaged: [string, object][] = [
      ['a name too few', { ...good, names: good.names.subarray(0, good.names.lastIndexOf(10)) }],
      ['a node out of range', { ...good, nodes: Int32Array.from(good.nodes, (v, k) => (k === 2 ? 1e6 : v)) }],
      ['an entry before its parent', { ...good, parent: Int32Array.from(good.parent, (p, k) => (k === 1 ? 3 : p)) }],
      ['a node twice', { ...good, nodes: Int32Array.from(good.nodes, (v, k) => (k === 2 ? good.nodes[1]! : v)) }],
      ['a negative size', { ...good, restSize: Float64Array.from(good.restSize, (x, k) => (k === 0 ? -1 : x)) }],
      ['an extra field', { ...good, script: 'alert(1)' }],
    ];
    for (const [what, p] of damaged) assert.ok(checkPreview(p), `${what} passes`);
  });
});
