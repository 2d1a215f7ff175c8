/**
 * The page with a preview (issue 17): a `preview` draws the finished-looking sunburst (arcs, labels, centre,
 * footer) before the closure arrives; clicks wait for the closure; the closure is then drawn into the same chart
 * with the same arcs, and its `drawn` report carries the preview's marks.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { buildPreview, DEFAULT_VIEW_SETTINGS, type WebviewToHost } from '../../src/shared';
import { closureMessage, nixosLikeFixture, syntheticClosure, type TestClosure } from './closures';
import { openHarness } from './harness';

interface DrawnArc {
  label: string;
  cls: string;
  d: number[];
}

/** Every arc on screen: its accessible label, its classes (category colour) and its path's numbers. */
function arcsOnScreen(page: Page): Promise<DrawnArc[]> {
  return page.$$eval('#chart path.arc', (paths) =>
    paths.map((p) => ({
      label: p.getAttribute('aria-label') ?? '',
      cls: p.getAttribute('class') ?? '',
      d: (p.getAttribute('d') ?? '').match(/-?\d+(\.\d+)?(e-?\d+)?/g)!.map(Number),
    })),
  );
}

function sameDrawing(got: DrawnArc[], want: DrawnArc[], what: string): void {
  assert.equal(got.length, want.length, `${what}: arc count`);
  got.forEach((g, k) => {
    const w = want[k]!;
    assert.equal(g.label, w.label, `${what}: arc ${k}`);
    const colour = (c: string) => c.replace(/ ?(selected|focused)/g, '');
    assert.equal(colour(g.cls), colour(w.cls), `${what}: arc ${k} classes`);
    assert.ok(
      g.d.length === w.d.length && g.d.every((x, i) => Math.abs(x - w.d[i]!) < 1e-6),
      `${what}: arc ${k} (${g.label}) has another shape`,
    );
  });
}

const cases: [string, () => TestClosure][] = [
  ['the NixOS-like fixture', nixosLikeFixture],
  ['10,000 synthetic paths', () => syntheticClosure(10_000, 5)],
];

describe('sunburst webview: the preview before the closure', function () {
  this.timeout(60_000);
  for (const [what, make] of cases) {
    it(`${what}: the preview draws the closure's arcs and footer; the closure redraws nothing`, async () => {
      const c = make();
      const h = await openHarness();
      try {
        const preview = buildPreview(c.analysis.graph, c.analysis.dominators)!;
        await h.send({ type: 'preview', title: c.title, preview, settings: DEFAULT_VIEW_SETTINGS });
        const paths = `${c.analysis.graph.pathCount.toLocaleString('en-US')} paths`;
        await h.page.waitForFunction((p) => (document.getElementById('footer')?.textContent ?? '').includes(p), paths);
        await h.page.waitForFunction(() => document.querySelectorAll('#chart path.arc').length > 0);
        const early = await arcsOnScreen(h.page);
        // The root's crumb names its store path, as the closure's does (what a user hovers, what e2e reads).
        assert.equal(
          await h.page.getAttribute('#crumbs button.crumb[data-node="0"]', 'title'),
          c.analysis.graph.hasVirtualRoot ? c.title : c.analysis.graph.paths[0],
        );
        const earlyLegend = await h.page.textContent('#legend');
        assert.ok(earlyLegend, 'the legend is there with the preview');
        assert.equal(await h.page.evaluate(() => document.body.dataset['drawn'] ?? '0'), '0', 'not the drawing yet');
        // A click before the closure is there selects nothing and breaks nothing.
        await h.page.locator('#chart path.arc').first().click();
        assert.ok(!(await h.posted()).some((m) => m.type === 'selected' || m.type === 'reportError'));
        await h.page.evaluate(() => (document.getElementById('chart')!.dataset['fromPreview'] = 'yes'));

        await h.sendClosure(closureMessage(c));
        assert.equal(
          await h.page.evaluate(() => document.getElementById('chart')?.dataset['fromPreview']),
          'yes',
          'the closure was drawn into the preview’s chart',
        );
        sameDrawing(await arcsOnScreen(h.page), early, what);
        // The closure's own legend (every path's category, in slices after the drawing) says the same.
        await h.page.waitForFunction(() => document.querySelectorAll('#side *').length > 0);
        assert.equal(await h.page.textContent('#legend'), earlyLegend);
        sameDrawing(await arcsOnScreen(h.page), early, `${what}, with the closure's legend`);
        assert.match((await h.page.textContent('#footer')) ?? '', new RegExp(`^${paths} · `));
        const drawn = await h.page.waitForFunction(
          () => (window as unknown as { __posted: WebviewToHost[] }).__posted.find((m) => m.type === 'drawn') ?? false,
        );
        const report = (await drawn.jsonValue()) as Extract<WebviewToHost, { type: 'drawn' }>;
        const names = report.marks.map((m) => m.name);
        assert.deepEqual(names.slice(0, 2), ['preview arrived', 'preview painted'], JSON.stringify(report));
        assert.ok(report.marks[0]!.ms < 0, 'the preview arrived before the closure');
      } finally {
        await h.close();
      }
    });
  }

  it('a page zoomed in (a restored panel) ignores the preview and draws the closure as before', async () => {
    const c = nixosLikeFixture();
    const zoom = c.analysis.graph.paths[c.analysis.dominators.childTargets[0]!]!;
    const h = await openHarness({ state: { v: 1, mode: 'dominator', zoom } });
    try {
      const preview = buildPreview(c.analysis.graph, c.analysis.dominators)!;
      await h.send({ type: 'preview', title: c.title, preview, settings: DEFAULT_VIEW_SETTINGS });
      await h.page.waitForTimeout(300);
      assert.equal(await h.page.locator('#chart').count(), 0, 'nothing drawn from the preview');
      await h.sendClosure(closureMessage(c));
      assert.equal(
        await h.page.$eval('#chart .center-name', (e) => e.textContent !== ''),
        true,
        'the closure is drawn around the restored centre',
      );
      const report = (await h.posted()).find((m) => m.type === 'drawn') as Extract<WebviewToHost, { type: 'drawn' }>;
      assert.ok(report && !report.marks.some((m) => m.name.startsWith('preview')));
    } finally {
      await h.close();
    }
  });
});
