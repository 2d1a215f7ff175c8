/**
 * Search that finds, in headless Chromium: a match deeper than the drawn rings gets drawn (the chart opens the
 * rings on its path) and the count equals what is listed; dimming and labels in the dark, light and
 * high-contrast themes, measured on the painted colours: every label reaches WCAG AA (4.5:1) against its arc,
 * and a dimmed arc sits closer to the background than any highlighted one.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { displayName, findByName, parseStorePath } from '../../src/shared';
import { openHarness, type Theme } from './harness';
import { closureMessage, nixosLikeFixture, syntheticClosure } from './closures';

const settle = (page: Page) => page.waitForTimeout(700);

interface Painted {
  key: string;
  cls: string;
  /** The arc's colour as painted over the background, 0..1 per channel. */
  arc: number[];
}

/** Every drawn arc's painted colour, every label's colour and its arc, and the background. */
async function paint(
  page: Page,
): Promise<{ bg: number[]; arcs: Painted[]; labels: { key: string; fill: number[]; text: string }[] }> {
  return page.evaluate(() => {
    const rgb = (css: string) => {
      const v = /rgba?\(([^)]+)\)/
        .exec(css)![1]!
        .split(/[,\s/]+/)
        .filter(Boolean)
        .map(Number);
      return [v[0]! / 255, v[1]! / 255, v[2]! / 255, v[3] ?? 1];
    };
    const bg = rgb(getComputedStyle(document.body).backgroundColor);
    const arcs = Array.from(document.querySelectorAll('path.arc:not(.exiting)')).map((el) => {
      const s = getComputedStyle(el);
      const f = rgb(s.fill);
      const a = Number(s.fillOpacity) * f[3]!;
      return {
        key: el.id.replace(/^arc-/, ''),
        cls: el.getAttribute('class') ?? '',
        arc: [0, 1, 2].map((c) => f[c]! * a + bg[c]! * (1 - a)),
      };
    });
    const labels = Array.from(document.querySelectorAll('g.labels text')).map((el) => ({
      key: el.getAttribute('data-key') ?? '',
      fill: rgb(getComputedStyle(el).fill).slice(0, 3),
      text: el.textContent ?? '',
    }));
    return { bg: bg.slice(0, 3), arcs, labels };
  });
}

function luminance(c: readonly number[]): number {
  const lin = (x: number) => (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(c[0]!) + 0.7152 * lin(c[1]!) + 0.0722 * lin(c[2]!);
}
function contrast(a: readonly number[], b: readonly number[]): number {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

describe('search and themes in headless Chromium', function () {
  this.timeout(120_000);

  for (const theme of ['dark', 'light', 'high-contrast'] as Theme[]) {
    it(`${theme}: search dims every other arc, grey ones included, and every label reads at 4.5:1`, async () => {
      const c = nixosLikeFixture();
      const h = await openHarness({ theme, width: 1200, height: 800 });
      try {
        await h.sendClosure(closureMessage(c));
        await settle(h.page);
        const before = await paint(h.page);
        await h.page.fill('#search input', 'perl');
        await h.page.waitForTimeout(500);
        await settle(h.page);
        const after = await paint(h.page);
        const matched = after.arcs.filter((a) => a.cls.split(' ').includes('match'));
        const dimmed = after.arcs.filter((a) => a.cls.split(' ').includes('dim'));
        assert.ok(matched.length > 0 && dimmed.length > 0, `${matched.length} matched, ${dimmed.length} dimmed`);
        assert.ok(
          dimmed.some((a) => a.cls.includes('cat-other')),
          'the grey "everything else" arcs are among the dimmed',
        );
        const weakestMatch = Math.min(...matched.map((a) => contrast(a.arc, after.bg)));
        for (const a of dimmed) {
          assert.ok(
            contrast(a.arc, after.bg) < weakestMatch,
            `${theme}: dimmed ${a.key} (${a.cls}) stands out less (${contrast(a.arc, after.bg).toFixed(2)}) than every match (${weakestMatch.toFixed(2)})`,
          );
          const was = before.arcs.find((b) => b.key === a.key);
          if (was) assert.ok(contrast(a.arc, after.bg) < contrast(was.arc, before.bg), `${a.key} got fainter`);
        }
        for (const shot of [before, after]) {
          assert.ok(shot.labels.length > 5, `${shot.labels.length} labels`);
          for (const l of shot.labels) {
            const arc = shot.arcs.find((a) => a.key === l.key)!;
            const ratio = contrast(l.fill, arc.arc);
            assert.ok(ratio >= 4.5, `${theme}: label “${l.text}” at ${ratio.toFixed(2)}:1`);
          }
        }
        await h.screenshot(`search-${theme}.png`);
      } finally {
        await h.close();
      }
    });
  }

  it('a match deeper than the drawn rings is drawn, and the count is what is listed', async () => {
    const c = syntheticClosure(10_000);
    const h = await openHarness({ width: 1200, height: 800 });
    try {
      await h.sendClosure(closureMessage(c));
      const drawn = new Set(
        await h.page.$$eval('path.arc:not(.exiting)', (els) =>
          els.map((e) => Number((e as SVGElement).dataset['node'])),
        ),
      );
      const rings = await h.page.$eval('#chart', (e) => Number(e.getAttribute('data-max-depth')));
      // A path whose name is unique (the synthetic versions end in the index) and is not drawn at the root.
      const deep = c.analysis.distances.findIndex((d, i) => d > rings + 2 && !drawn.has(i));
      assert.ok(deep > 0, 'a path below the drawn rings');
      const name = displayName(c.graph.name(deep));
      const query = parseStorePath(c.graph.paths[deep]!.slice(11)).name;
      const expected = findByName(c.graph, query);
      assert.deepEqual(expected, [deep], `${name} is the only match`);
      await h.page.fill('#search input', query);
      await h.page.waitForTimeout(400);
      await settle(h.page);
      assert.equal(await h.page.$eval('#search-count', (e) => e.textContent), '1');
      assert.equal(await h.page.locator(`#arc-n${deep}`).count(), 1, `${name} is drawn now`);
      assert.match((await h.page.$eval(`#arc-n${deep}`, (e) => e.getAttribute('class'))) ?? '', /\bmatch\b/);
      assert.equal(await h.page.locator('#search-results li').count(), 1);
      assert.match(
        await h.page.$eval('#search-summary', (e) => e.textContent ?? ''),
        /^1 match, .*; 1 drawn in the chart\.$/,
      );
      await h.screenshot('search-deep.png');
      // A broad query: what is not drawn is marked in the list, and the list holds as many as the badge says.
      await h.page.fill('#search input', 'glibc');
      await h.page.waitForTimeout(400);
      await settle(h.page);
      const all = findByName(c.graph, 'glibc');
      const badge = Number(await h.page.$eval('#search-count', (e) => e.textContent));
      assert.equal(badge, all.length);
      const listed = await h.page.locator('#search-results li').count();
      assert.equal(listed, Math.min(300, all.length));
      const summary = await h.page.$eval('#search-summary', (e) => e.textContent ?? '');
      const m = /(\d+) drawn in the chart(?:, (\d+) deeper)?/.exec(summary)!;
      const arcs = await h.page.$$eval('#search-results .step.deeper', (els) => els.length);
      assert.equal(Number(m[1]) + Number(m[2] ?? 0), all.length, summary);
      if (all.length <= 300) assert.equal(arcs, Number(m[2] ?? 0), 'every deeper match is marked');
      // Clicking a deeper one shows it.
      const first = h.page.locator('#search-results .step.deeper').first();
      if ((await first.count()) > 0) {
        const node = Number(await first.getAttribute('data-node'));
        await first.click();
        await settle(h.page);
        assert.equal(await h.page.locator(`#arc-n${node}`).count(), 1, 'a click on a deeper match draws it');
      }
    } finally {
      await h.close();
    }
  });

  it("the field marks invalid exactly what the RE2 search cannot run, with RE2's reason", async () => {
    const c = nixosLikeFixture();
    const h = await openHarness({ width: 1200, height: 800 });
    try {
      await h.sendClosure(closureMessage(c));
      const field = async (query: string) => {
        await h.page.fill('#search input', query);
        await h.page.waitForTimeout(400);
        return h.page.$eval('#search', (e) => ({
          invalid: (e as HTMLElement & { invalid: boolean }).invalid,
          title: e.getAttribute('title') ?? '',
          count: document.getElementById('search-count')?.textContent ?? '',
        }));
      };
      // JavaScript's RegExp takes a backreference and a lookahead; RE2, which runs the search, does not.
      for (const query of ['/(perl)\\1/', '/perl(?=-)/', '/(/']) {
        const shown = await field(query);
        assert.equal(shown.invalid, true, `${query} is marked invalid`);
        assert.match(shown.title, /^Not a regular expression RE2 can run: \S/, query);
        assert.equal(shown.count, '0', `${query} finds nothing`);
      }
      const valid = await field('/^perl-[0-9.]+$/');
      assert.equal(valid.invalid, false);
      assert.equal(valid.title, '');
      assert.equal(Number(valid.count), findByName(c.graph, '/^perl-[0-9.]+$/').length);
      assert.ok(Number(valid.count) > 0, 'the fixture has a perl');
    } finally {
      await h.close();
    }
  });
});
