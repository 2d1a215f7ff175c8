/**
 * The table view in headless Chromium, checked against the engine: row order by retained size is the
 * dominator tree's retained sizes sorted, the search filters to what names.ts finds, the keyboard selects the
 * same path the sunburst would (the host hears it), and 100,000 rows stay virtualised and scroll in a frame.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { findByName, displayName, parseStorePath } from '../../src/shared';
import { publishScreenshot } from '../support/readmeScreenshots';
import { openHarness, type Harness } from './harness';
import { closureMessage, nixosLikeFixture, sp, syntheticClosure, type TestClosure } from './closures';

interface Row {
  node: number;
  index: number;
  cells: string[];
  selected: boolean;
}

async function shownRows(page: Page): Promise<Row[]> {
  return page.$$eval('#table-view [role=row][data-node]', (els) =>
    els.map((e) => ({
      node: Number((e as HTMLElement).dataset['node']),
      index: Number(e.getAttribute('aria-rowindex')),
      cells: Array.from(e.querySelectorAll('[role=gridcell]')).map((c) => c.textContent ?? ''),
      selected: e.getAttribute('aria-selected') === 'true',
    })),
  );
}

/** Nodes (not the virtual root) by retained size, largest first, ties by index: the table's default order. */
function byRetained(c: TestClosure): number[] {
  const retained = c.analysis.dominators.retained;
  const out: number[] = [];
  for (let i = 0; i < c.graph.nodeCount; i++) if (!(c.graph.hasVirtualRoot && i === 0)) out.push(i);
  return out.sort((a, b) => retained[b]! - retained[a]! || a - b);
}

async function openTable(h: Harness): Promise<void> {
  await h.page.click('#table-toggle');
  await h.page.waitForSelector('#table-view [role=row][data-node]');
}

describe('table view in headless Chromium', function () {
  this.timeout(120_000);

  describe('on the NixOS-like fixture', () => {
    const c = nixosLikeFixture();
    let h: Harness;
    before(async () => {
      // Wide enough that the table needs no sideways scroll beside the side pane (the README picture).
      h = await openHarness({ width: 1400, height: 800 });
      await h.sendClosure(closureMessage(c));
      await openTable(h);
    });
    after(async () => {
      if (h) publishScreenshot(await h.screenshot('table-fixture.png'), 'screenshot-table.png');
      await h?.close();
    });

    it('lists every path, largest retained size first, with labelled size columns', async () => {
      const headers = await h.page.$$eval('#table-view [role=columnheader]', (els) =>
        els.map((e) => ({ text: e.textContent?.trim(), sort: e.getAttribute('aria-sort') })),
      );
      assert.deepEqual(
        headers.map((x) => x.text?.replace(/[▾▴]/g, '').trim()),
        ['Name', 'Version', 'NAR size', 'Closure size', 'Retained size', 'Referrers', 'Brought by'],
      );
      assert.equal(
        headers
          .find((x) => x.sort !== 'none')
          ?.text?.replace(/[▾▴]/g, '')
          .trim(),
        'Retained size',
      );
      assert.equal(headers[4]!.sort, 'descending');
      const cut = await h.page.$$eval('#table-view .table-sort', (els) =>
        els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent),
      );
      assert.deepEqual(cut, [], 'no column header is cut');
      const count = await h.page.$eval('#table-view', (e) => Number(e.getAttribute('aria-rowcount')));
      assert.equal(count, c.graph.nodeCount + 1, 'a header row and one row per path');
      const rows = await shownRows(h.page);
      assert.deepEqual(
        rows.map((r) => r.node),
        byRetained(c),
      );
      assert.deepEqual(
        rows.map((r) => r.index),
        rows.map((_, k) => k + 2),
      );
      const perl = rows.find((r) => r.node === c.graph.indexOf(sp('perl-5.38.2')))!;
      assert.equal(perl.cells[0], 'perl');
      assert.equal(perl.cells[1], '5.38.2');
      assert.equal(perl.cells[5], String(c.graph.referrers(perl.node).length));
      assert.match(perl.cells[6]!, /environment\.systemPackages/, 'the option that brought perl in');
    });

    it('sorts by any column, both ways, and says so in aria-sort', async () => {
      await h.page.click('#table-view .col-nar button');
      let rows = await shownRows(h.page);
      const nar = c.graph.narSize;
      const sorted = rows.map((r) => r.node).sort((a, b) => nar[b]! - nar[a]! || a - b);
      assert.deepEqual(
        rows.map((r) => r.node),
        sorted,
      );
      assert.equal(
        await h.page.$eval('#table-view .col-nar[role=columnheader]', (e) => e.getAttribute('aria-sort')),
        'descending',
      );
      await h.page.click('#table-view .col-name button');
      rows = await shownRows(h.page);
      const names = rows.map((r) => parseStorePath(c.graph.paths[r.node]!.replace(/^\/nix\/store\//, '')).pname);
      assert.deepEqual(
        names,
        [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      assert.equal(
        await h.page.$eval('#table-view .col-name[role=columnheader]', (e) => e.getAttribute('aria-sort')),
        'ascending',
      );
      await h.page.click('#table-view .col-retained button');
    });

    it('filters with the search, to what names.ts finds', async () => {
      await h.page.fill('#search input', 'perl');
      await h.page.waitForTimeout(400);
      const rows = await shownRows(h.page);
      const found = findByName(c.graph, 'perl');
      assert.ok(found.length >= 2);
      assert.deepEqual(
        rows.map((r) => r.node).sort((a, b) => a - b),
        [...found].sort((a, b) => a - b),
      );
      const badge = await h.page.$eval('#search-count', (e) => e.textContent);
      assert.equal(Number(badge), rows.length, 'the count is what the table shows');
      await h.page.fill('#search input', '');
      await h.page.waitForTimeout(400);
      assert.equal((await shownRows(h.page)).length, c.graph.nodeCount);
    });

    it('arrows and Enter select the path the sunburst selects; w shows why; / searches', async () => {
      await h.page.focus('#table-view');
      await h.page.keyboard.press('Home');
      await h.page.keyboard.press('ArrowDown');
      await h.page.keyboard.press('ArrowDown');
      await h.page.keyboard.press('Enter');
      const third = byRetained(c)[2]!;
      const posted = await h.posted();
      assert.deepEqual(posted.at(-1), { type: 'selected', path: c.graph.paths[third] });
      const rows = await shownRows(h.page);
      assert.deepEqual(
        rows.filter((r) => r.selected).map((r) => r.node),
        [third],
      );
      assert.equal(await h.page.$eval('#table-view', (e) => e.getAttribute('aria-activedescendant')), 'row-2');
      assert.equal(
        await h.page.$eval('#details h2', (e) => e.textContent),
        parseStorePath(c.graph.paths[third]!.slice(11)).pname,
      );
      await h.page.keyboard.press('ArrowDown');
      await h.page.keyboard.press('w');
      const fourth = byRetained(c)[3]!;
      assert.equal(
        await h.page.$eval('#why h3', (e) => e.textContent),
        `Why is ${displayName(parseStorePath(c.graph.paths[fourth]!.slice(11)))} here?`,
      );
      await h.page.focus('#table-view');
      await h.page.keyboard.press('/');
      assert.equal(await h.page.evaluate(() => document.activeElement?.id), 'search');
    });
  });

  it('10,000 paths sorted by retained size: the top rows are the engine’s, only the visible rows exist', async () => {
    const c = syntheticClosure(10_000);
    const h = await openHarness({ width: 1200, height: 800 });
    try {
      await h.sendClosure(closureMessage(c));
      await openTable(h);
      const rows = await shownRows(h.page);
      assert.ok(rows.length < 80, `${rows.length} rows in the DOM`);
      assert.deepEqual(
        rows.map((r) => r.node),
        byRetained(c).slice(0, rows.length),
      );
      assert.equal(await h.page.$eval('#table-view', (e) => Number(e.getAttribute('aria-rowcount'))), 10_001);
      await h.screenshot('table-10000.png');
    } finally {
      await h.close();
    }
  });

  it('100,000 paths scroll in well under a frame of script per step, to the last row', async () => {
    const c = syntheticClosure(100_000);
    const h = await openHarness({ width: 1200, height: 800 });
    try {
      await h.sendClosure(closureMessage(c));
      await openTable(h);
      const times = await h.page.evaluate(async () => {
        const scroller = document.querySelector('#table-view .table-scroller')!;
        const table = document.getElementById('table-view')!;
        const out: number[] = [];
        for (let k = 1; k <= 20; k++) {
          scroller.scrollTop = (k / 20) * scroller.scrollHeight;
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          out.push(Number(table.dataset['renderMs']));
        }
        return out;
      });
      times.sort((a, b) => a - b);
      const median = times[times.length >> 1]!;
      // Two frames of waiting per step; headless Chromium paces frames at ~16 ms.
      assert.ok(
        median < 60,
        `median scroll step ${median.toFixed(1)} ms (${times.map((t) => t.toFixed(0)).join(' ')})`,
      );
      const rows = await shownRows(h.page);
      assert.ok(rows.length < 80, `${rows.length} rows in the DOM`);
      assert.equal(rows.at(-1)!.index, 100_000 + 1, 'the last row is reachable');
      assert.equal(rows.at(-1)!.node, byRetained(c).at(-1));
    } finally {
      await h.close();
    }
  });
});
