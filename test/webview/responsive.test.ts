/**
 * The page at three widths (500, 1000 and 2,500 px): nothing is clipped or covered. Checked on element boxes:
 * every toolbar control, crumb, legend item and side-pane section lies inside the viewport; the legend's box
 * stays clear of the chart's circle; a narrow panel puts the side pane below the chart; the selected path's
 * name stays in the breadcrumbs. Screenshots land in test-artifacts/ (responsive-<width>.png).
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openHarness, type Harness } from './harness';
import { closureMessage, nixosLikeFixture, sp } from './closures';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const inside = (b: Box, w: number, h: number) =>
  b.x >= -0.5 && b.y >= -0.5 && b.x + b.width <= w + 0.5 && b.y + b.height <= h + 0.5;

const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function boxes(page: Page, selector: string): Promise<(Box & { text: string; clipped: boolean })[]> {
  return page.$$eval(selector, (els) =>
    els
      .filter((e) => (e as HTMLElement).offsetParent !== null || e instanceof SVGElement)
      .map((e) => {
        const r = e.getBoundingClientRect();
        const el = e as HTMLElement;
        // Text cut by overflow: its content is wider than its box.
        const clipped = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'auto';
        return { x: r.x, y: r.y, width: r.width, height: r.height, text: el.textContent ?? '', clipped };
      }),
  );
}

/** The chart's circle as a bounding square (the outer radius from the drawn arcs). */
async function chartCircle(page: Page): Promise<Box> {
  return page.$eval('#chart', (svg) => {
    const r = Math.max(
      0,
      ...Array.from(svg.querySelectorAll('path.arc:not(.exiting)')).map((p) => Number((p as SVGElement).dataset['r1'])),
    );
    const b = svg.getBoundingClientRect();
    const cx = b.x + b.width / 2;
    const cy = b.y + b.height / 2;
    return { x: cx - r, y: cy - r, width: 2 * r, height: 2 * r };
  });
}

describe('the page at any width (headless Chromium)', function () {
  this.timeout(60_000);
  const fixture = nixosLikeFixture();
  for (const width of [500, 1000, 2500]) {
    describe(`${width} px wide`, () => {
      let h: Harness;
      before(async () => {
        h = await openHarness({ width, height: 760, state: { v: 1, mode: 'dominator', allChains: false } });
        await h.sendClosure(closureMessage(fixture));
        // A deep selection: the crumbs run root → system-path → git → perl (and its long store path in the pane).
        await h.send({ type: 'select', path: sp('perl-5.38.2') });
        await h.page.waitForTimeout(700);
      });
      after(async () => {
        await h?.screenshot(`responsive-${width}.png`);
        await h?.close();
      });

      it('keeps every toolbar control, crumb and legend item inside the window, uncut', async () => {
        const vw = width;
        const vh = 760;
        for (const sel of [
          '#toolbar',
          '#crumbs .crumb',
          '#mode',
          '#table-toggle',
          '#search',
          '.legend-item',
          '#footer',
        ]) {
          const found = await boxes(h.page, sel);
          assert.ok(found.length > 0, `${sel} is shown`);
          for (const b of found) {
            assert.ok(
              inside(b, vw, vh),
              `${sel} “${b.text.slice(0, 30)}” at ${JSON.stringify(b)} is inside ${vw}×${vh}`,
            );
            if (sel !== '#toolbar') assert.ok(!b.clipped, `${sel} “${b.text.slice(0, 30)}” is not cut`);
          }
        }
        const toolbar = (await boxes(h.page, '#toolbar'))[0]!;
        for (const b of await boxes(h.page, '#toolbar .tools > *'))
          assert.ok(b.y + b.height <= toolbar.y + toolbar.height + 0.5, 'the tools stay within the toolbar');
      });

      it('keeps the selected path’s name in the breadcrumbs', async () => {
        const crumbs = await boxes(h.page, '#crumbs .crumb.selected');
        assert.equal(crumbs.length, 1);
        assert.match(crumbs[0]!.text, /perl/);
      });

      it('never lets the legend cover the chart', async () => {
        const circle = await chartCircle(h.page);
        assert.ok(circle.width > 150, `the chart is drawn (${circle.width} px across)`);
        for (const b of await boxes(h.page, '.legend-item'))
          assert.ok(
            !overlaps(b, circle),
            `legend item “${b.text}” ${JSON.stringify(b)} clear of ${JSON.stringify(circle)}`,
          );
        const tip = await boxes(h.page, '#tooltip');
        for (const b of tip) assert.ok(inside(b, width, 760), 'the tooltip stays in the window');
      });

      it(width < 760 ? 'puts the side pane below the chart' : 'puts the side pane beside the chart', async () => {
        const pane = (await boxes(h.page, '#chart-pane'))[0]!;
        const side = (await boxes(h.page, 'aside#side'))[0]!;
        if (width < 760)
          assert.ok(side.y >= pane.y + pane.height - 1, `side ${JSON.stringify(side)} below ${JSON.stringify(pane)}`);
        else
          assert.ok(side.x >= pane.x + pane.width - 1, `side ${JSON.stringify(side)} right of ${JSON.stringify(pane)}`);
        assert.ok(inside(side, width, 760), 'the side pane is inside the window');
        for (const b of await boxes(h.page, 'aside#side section, aside#side .store-path, aside#side h2'))
          assert.ok(
            b.x >= side.x - 0.5 && b.x + b.width <= side.x + side.width + 0.5,
            `“${b.text.slice(0, 30)}” fits the pane`,
          );
        // A store path wraps; it is not squeezed into a word per line (the pane is at least 200 px wide).
        assert.ok(side.width >= 200, `side pane ${side.width} px wide`);
      });
    });
  }
});
