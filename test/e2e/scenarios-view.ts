/**
 * The closure view as a user meets it in real VS Code (issue 18): the sunburst in a split editor about 700 px
 * wide with nothing clipped, the table sorted by retained size, a search for a path deeper than the drawn
 * rings, the light and high-contrast themes, and each command's visible outcome (Analyse option costs, the
 * status bar's accessible label, "Evaluate without it" from a hover). Screenshots: test-artifacts/e2e/view-*.png.
 * The stage runs with automatic option costs off (run.ts), so that the hover offers "Evaluate without it".
 */
import assert from 'node:assert/strict';
import type { FrameLocator, Page } from 'playwright-core';
import { waitFor } from './browser';
import { showDemo, type Step } from './scenarios';

const PALETTE_PREFIX = 'Nix Closure Lens: ';

/** Elements of the webview that stick out of its window or whose text is cut; [] when all is well. */
async function clipped(frame: FrameLocator): Promise<string[]> {
  return frame.locator('body').evaluate(() => {
    const w = document.documentElement.clientWidth;
    const h = document.documentElement.clientHeight;
    const out: string[] = [];
    const sel = '#toolbar, #crumbs .crumb, #mode, #table-toggle, #search, .legend-item, #footer, aside#side h2';
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(sel))) {
      if (el.offsetParent === null) continue;
      const r = el.getBoundingClientRect();
      const name = `${el.id || el.className} “${(el.textContent ?? '').trim().slice(0, 24)}”`;
      if (r.left < -0.5 || r.top < -0.5 || r.right > w + 0.5 || r.bottom > h + 0.5)
        out.push(
          `${name} at ${r.left.toFixed(0)},${r.top.toFixed(0)}–${r.right.toFixed(0)},${r.bottom.toFixed(0)} in ${w}×${h}`,
        );
      else if (el.id !== 'toolbar' && el.scrollWidth > el.clientWidth + 1) out.push(`${name} is cut`);
    }
    return out;
  });
}

/** Hovers `word` on the first line of the open editor that holds it, until the hover's text passes `until`. */
async function hoverUntil(page: Page, word: string, until: (text: string) => boolean, what: string): Promise<string> {
  const line = page.locator('.editor-instance .view-line', { hasText: word }).first();
  await line.waitFor({ timeout: 20_000 });
  const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content');
  return waitFor(
    what,
    async () => {
      const box = await line.boundingBox();
      const lineText = (await line.textContent()) ?? '';
      if (!box) return undefined;
      const charWidth = box.width / Math.max(1, lineText.length);
      await page.mouse.move(box.x + box.width + 200, box.y + 200);
      await page.mouse.move(box.x + (lineText.indexOf(word) + 4) * charWidth, box.y + box.height / 2);
      const t = await hover
        .first()
        .textContent({ timeout: 3000 })
        .catch(() => '');
      return t && until(t) ? t : undefined;
    },
    90_000,
    500,
  );
}

async function chooseTheme(page: Page, runPick: () => Promise<void>): Promise<void> {
  await runPick();
  await page.waitForTimeout(800);
}

export const closureView: Step[] = [
  showDemo,
  {
    title: 'a split editor at ~700 px: nothing in the webview is clipped, the side pane goes below the chart',
    async run({ workbench }) {
      const { page } = workbench;
      await workbench.runCommand('View: Toggle Primary Side Bar Visibility');
      await workbench.runCommand('View: Split Editor Right');
      const iframe = page.locator('iframe.webview.ready[src*="extensionId="]').first();
      const width = await waitFor(
        'the sunburst to be narrow',
        async () => {
          const b = await iframe.boundingBox();
          return b && b.width < 800 ? b.width : undefined;
        },
        20_000,
      );
      assert.ok(width >= 500, `the webview is ${width} px wide`);
      const frame = workbench.webview();
      await frame.locator('svg path[role=treeitem]').first().waitFor({ timeout: 15_000 });
      await frame.locator('svg path[role=treeitem][aria-label*="zfs-user"]').first().click();
      await frame.locator('#why h3', { hasText: 'zfs-user' }).waitFor({ timeout: 15_000 });
      await page.waitForTimeout(700);
      assert.deepEqual(await clipped(frame), [], `nothing clipped at ${width.toFixed(0)} px`);
      const narrow = await frame.locator('#app').evaluate((e) => e.classList.contains('narrow'));
      assert.equal(narrow, width < 760, 'the side pane sits below the chart when narrow');
      await workbench.screenshot('view-split-700');
    },
  },
  {
    title: 'the table lists every path, sorted by retained size; Enter selects like a click',
    async run({ workbench }) {
      const frame = workbench.webview();
      await frame.locator('#table-toggle').click();
      await frame.locator('#table-view [role=row][data-node]').first().waitFor({ timeout: 15_000 });
      const footer = (await frame.locator('#footer').textContent()) ?? '';
      const paths = Number(/([\d,]+) paths/.exec(footer)![1]!.replace(/,/g, ''));
      assert.equal(Number(await frame.locator('#table-view').getAttribute('aria-rowcount')), paths + 1);
      assert.equal(
        await frame.locator('#table-view [role=columnheader].col-retained').getAttribute('aria-sort'),
        'descending',
      );
      await frame.locator('#table-view').focus();
      await workbench.page.keyboard.press('ArrowDown');
      await workbench.page.keyboard.press('Enter');
      const name = (await frame.locator('#table-view .table-row.active .col-name').textContent())?.trim() ?? '';
      await frame.locator('#details h2', { hasText: name }).waitFor({ timeout: 10_000 });
      await workbench.screenshot('view-table');
      await frame.locator('#table-toggle').click();
    },
  },
  {
    title: 'searching a path deeper than the drawn rings draws it',
    async run({ workbench }) {
      const frame = workbench.webview();
      const drawn = await frame
        .locator('svg path[role=treeitem]')
        .evaluateAll((els) => els.map((e) => (e.getAttribute('aria-label') ?? '').split(',')[0]!));
      // The example flake's perl lies under nixos-help → w3m: search it and expect an arc for it.
      await frame.locator('#search input').fill('perl');
      await workbench.page.waitForTimeout(1200);
      const count = Number(await frame.locator('#search-count').textContent());
      const listed = await frame.locator('#search-results li').count();
      assert.equal(count, listed, 'the badge counts what the list shows');
      const summary = (await frame.locator('#search-summary').textContent()) ?? '';
      const m = /(\d+) drawn in the chart(?:, (\d+) deeper)?/.exec(summary);
      assert.ok(m && Number(m[1]) >= 1, `a match is drawn: ${summary} (before: ${drawn.length} arcs)`);
      assert.ok((await frame.locator('svg path.arc.match').count()) >= 1);
      await workbench.screenshot('view-search-deep');
    },
  },
  {
    title: 'light and high-contrast themes: search dims, labels keep 4.5:1',
    async run({ workbench }) {
      const { page } = workbench;
      for (const [theme, shot] of [
        [/Light Modern/, 'view-theme-light'],
        [/Dark High Contrast/, 'view-theme-high-contrast'],
      ] as const) {
        await chooseTheme(page, () => workbench.runCommandAndPick('Preferences: Color Theme', theme, theme.source));
        const frame = workbench.webview();
        // The palette's Escape reaches the search field when it had focus, and clears it: search again.
        await frame.locator('#search input').fill('perl');
        await page.waitForTimeout(1200);
        const worst = await frame.locator('body').evaluate(() => {
          const rgb = (css: string) => {
            const v = /rgba?\(([^)]+)\)/
              .exec(css)![1]!
              .split(/[,\s/]+/)
              .filter(Boolean)
              .map(Number);
            return [v[0]! / 255, v[1]! / 255, v[2]! / 255, v[3] ?? 1];
          };
          const lum = (c: number[]) =>
            [0.2126, 0.7152, 0.0722].reduce((s, k, i) => {
              const x = c[i]!;
              return s + k * (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
            }, 0);
          const bg = rgb(getComputedStyle(document.body).backgroundColor);
          let min = Infinity;
          for (const t of Array.from(document.querySelectorAll('g.labels text'))) {
            const arc = document.getElementById(`arc-${t.getAttribute('data-key')}`);
            if (!arc) continue;
            const s = getComputedStyle(arc);
            const f = rgb(s.fill);
            const a = Number(s.fillOpacity) * f[3]!;
            const painted = [0, 1, 2].map((i) => f[i]! * a + bg[i]! * (1 - a));
            const l1 = lum(painted);
            const l2 = lum(rgb(getComputedStyle(t).fill));
            min = Math.min(min, (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05));
          }
          return min;
        });
        assert.ok(worst >= 4.5, `${theme.source}: the weakest label contrast is ${worst.toFixed(2)}:1`);
        assert.ok((await frame.locator('svg path.arc.dim').count()) > 0, 'the search dims the other arcs');
        await workbench.screenshot(shot);
      }
    },
  },
  {
    title: '"Analyse option costs" ends with a visible result; the status bar has a plain accessible label',
    async run({ workbench }) {
      await workbench.runCommand(`${PALETTE_PREFIX}Analyse option costs`);
      const done = workbench.notification(/option costs of .* (are ready|cancelled)|option costs of .*:/);
      await done.first().waitFor({ timeout: 120_000 });
      await workbench.screenshot('view-analyse-options');
      const item = workbench.page
        .locator('.statusbar-item[id*="nixClosureLens.size"] a, .statusbar-item[id*="nixClosureLens.size"]')
        .first();
      const label = (await item.getAttribute('aria-label')) ?? '';
      assert.match(label, /^Nix Closure Lens: /, label);
      assert.doesNotMatch(label, /\*\*|\\\./, 'no Markdown in the accessible label');
    },
  },
  {
    title: '"Evaluate without it" on a hover: progress in the status bar, then the result in a notification',
    async run({ workbench }) {
      const { page } = workbench;
      const option = 'boot.initrd.supportedFilesystems';
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill('configuration.nix');
      await workbench.quickPickRows().filter({ hasText: 'configuration.nix' }).first().waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      // zfs in the initrd carries no store path of its own: only an evaluation without it tells its cost.
      await hoverUntil(
        page,
        option,
        (t) => t.includes('Evaluate without it'),
        'the hover offering "Evaluate without it"',
      );
      await workbench.screenshot('view-evaluate-without-it-hover');
      await page.locator('.monaco-hover:not(.hidden) a', { hasText: 'Evaluate without it' }).first().click();
      const progress = page.locator('.statusbar-item', { hasText: /measuring option costs… \d+\/\d+/ });
      const result = workbench.notification(
        new RegExp(`without ${option.replace(/\./g, '\\.')} (is .* smaller|evaluates to the same system)`),
      );
      // Poll both, so that the order in which they appear is known.
      let progressSeen = false;
      const said = await waitFor(
        'the result of "Evaluate without it"',
        async () => {
          if (!progressSeen && (await progress.count()) > 0) {
            progressSeen = true;
            await workbench.screenshot('view-evaluate-without-it-progress');
          }
          return (await result.count()) > 0 ? ((await result.first().textContent()) ?? '') : undefined;
        },
        180_000,
        100,
      );
      assert.ok(progressSeen, `the status bar showed progress before the result: ${said}`);
      await workbench.screenshot('view-evaluate-without-it-result');
      // The hover now leads with the same measured cost.
      const size = /is (\d+(?:\.\d+)? [KMGT]?i?B) smaller/.exec(said)?.[1];
      assert.ok(size, `the notification gives the size: ${said}`);
      const hover = await hoverUntil(
        page,
        option,
        (t) => t.includes('measured by evaluating without it'),
        'the hover with the measured cost',
      );
      assert.ok(hover.includes(`Removal cost: ${size}`), `the hover agrees with the notification: ${hover}`);
    },
  },
];
