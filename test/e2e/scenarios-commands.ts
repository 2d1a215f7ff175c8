/**
 * The palette's other commands on a shown closure, run as a user runs them (issue 18): each ends with something
 * the user sees, checked against nix. "Estimate compressed size" → a notification with the NAR total and the
 * zstd and xz estimates; "Set a size budget" → .closure-lens.json opens with a budget for the shown closure;
 * "Show closure of store path…" → its panel opens while the box asks (Escape closes both; Enter draws in it);
 * "Compare closures…" → two installables typed → the diff report opens with both closures' path counts.
 * Screenshots: test-artifacts/e2e/commands-*.png.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatBytes } from '../../src/shared/format';
import { waitFor } from './browser';
import * as oracle from './oracle';
import { showDemo, type Step } from './scenarios';
import { readSunburst } from './sunburstView';

const PALETTE_PREFIX = 'Nix Closure Lens: ';
const toplevel = (name: string) => `.#nixosConfigurations.${name}.config.system.build.toplevel`;

export const paletteCommands: Step[] = [
  showDemo,
  {
    title: '"Estimate compressed size" ends with a notification: the NAR total as nix has it, zstd and xz',
    async run({ workbench, workspace }) {
      await workbench.runCommand(`${PALETTE_PREFIX}Estimate compressed size`);
      const done = workbench.notification(/NAR .* · zstd -\d+ ≈ .* · xz -\d+ ≈/);
      await done.first().waitFor({ timeout: 120_000 });
      await workbench.screenshot('commands-compressed-size');
      const text = (await done.first().textContent()) ?? '';
      const nar = await oracle.closureSize(await oracle.outPath(`${workspace.flakeRef}${toplevel('demo').slice(1)}`));
      assert.ok(
        text.includes(`NAR ${formatBytes(nar)}`),
        `the NAR total of the closure (${formatBytes(nar)}): ${text}`,
      );
      // The fixture's files are mostly repeated bytes, so both squeeze them to a few KiB (the numbers themselves
      // are checked against zstd and xz in test/integration/compression.test.ts).
      for (const codec of ['zstd', 'xz']) {
        const m = new RegExp(`${codec} -\\d+ ≈ ([\\d.]+ \\S+) \\(\\d+%\\)`).exec(text);
        assert.ok(m, `${codec} in ${text}`);
        const bytes = oracle.parseSize(m[1]!);
        assert.ok(bytes !== undefined && bytes > 0 && bytes < nar, `${codec}: ${m[1]} of ${formatBytes(nar)}`);
      }
    },
  },
  {
    title: '"Set a size budget" opens .closure-lens.json with a budget 10 % over the shown closure',
    async run({ workbench, workspace }) {
      const file = path.join(workspace.folder, '.closure-lens.json');
      fs.rmSync(file, { force: true });
      await workbench.runCommand(`${PALETTE_PREFIX}Set a size budget`);
      await workbench.page.locator('.tab', { hasText: '.closure-lens.json' }).first().waitFor({ timeout: 30_000 });
      await workbench.page
        .locator('.editor-instance .view-line', { hasText: 'maxClosureSize' })
        .first()
        .waitFor({ timeout: 30_000 });
      await workbench.screenshot('commands-size-budget');
      const rules = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        rules: { target: string; maxClosureSize: string }[];
      };
      const nar = await oracle.closureSize(await oracle.outPath(`${workspace.flakeRef}${toplevel('demo').slice(1)}`));
      assert.equal(rules.rules.length, 1);
      assert.match(rules.rules[0]!.target, /nixosConfigurations\.demo/);
      assert.equal(rules.rules[0]!.maxClosureSize, `${Math.ceil((nar * 1.1) / 2 ** 20)} MiB`);
      fs.rmSync(file, { force: true });
      await workbench.runCommand('View: Close All Editors');
    },
  },
  {
    title: '"Show closure of store path…" opens its panel while the box asks: Escape closes both, Enter fills it',
    async run({ workbench, workspace }) {
      const { page } = workbench;
      const box = page.locator('.quick-input-widget', { hasText: 'A store path, or a link to one' });
      const input = page.locator('.quick-input-widget input');
      // The sunburst's tabs ("Closure" while the box asks, then "Closure: <path>"), not the diff report's.
      const closureTabs = page.locator('.tab', { hasText: /Closure(?! diff)/ });
      const openWithBox = async () => {
        await workbench.runCommand(`${PALETTE_PREFIX}Show closure of store path…`);
        await box.waitFor({ timeout: 15_000 });
        await waitFor('the panel opened beside the box', async () => (await closureTabs.count()) === 1, 15_000);
      };
      await openWithBox();
      // The box keeps the focus: what the user types goes there.
      await page.keyboard.type('/nix/st');
      assert.equal(await input.inputValue(), '/nix/st');
      // (Its validation message may have replaced the prompt by now.)
      assert.ok(await page.locator('.quick-input-widget').isVisible(), 'the box is still open');
      await workbench.screenshot('commands-store-path-box');
      await page.keyboard.press('Escape');
      await waitFor('the panel closed with the box', async () => (await closureTabs.count()) === 0, 15_000);

      const root = await oracle.outPath(`${workspace.flakeRef}${toplevel('demo').slice(1)}`);
      await openWithBox();
      await input.fill(root);
      await page.waitForTimeout(500); // the input's validation (the path exists) runs first
      // A load this quick opens no progress notification (it would open after PROGRESS_DELAY_MS, 1 s): its
      // animated bar would only take the CPU from nix.
      const progressToast = workbench.notification(path.basename(root).slice(33));
      let toastSeen = false;
      let loading = true;
      const watching = (async () => {
        while (loading) {
          if ((await progressToast.count()) > 0) toastSeen = true;
          await page.waitForTimeout(50);
        }
      })();
      const started = Date.now();
      await page.keyboard.press('Enter');
      const shown = await readSunburst(workbench.webview(), 120_000).finally(() => (loading = false));
      await watching;
      if (Date.now() - started < 900) assert.ok(!toastSeen, 'a load under a second opened a progress notification');
      assert.equal(shown.root, root);
      assert.equal(shown.pathCount, (await oracle.closure(root)).size, shown.footer);
      assert.equal(await closureTabs.count(), 1, 'the sunburst is in the panel that opened with the box');
      await workbench.runCommand('View: Close All Editors');
    },
  },
  {
    title: '"Compare closures…" of two typed installables opens the diff report with both path counts',
    async run({ workbench, workspace }) {
      await workbench.runCommandAndPick(`${PALETTE_PREFIX}Compare closures`, /Two store paths, links or installables/);
      const input = workbench.page.locator('.quick-input-widget input');
      for (const [title, name] of [
        ['Before', 'slim'],
        ['After', 'demo'],
      ] as const) {
        await workbench.page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor();
        await input.fill(toplevel(name));
        await workbench.page.keyboard.press('Enter');
      }
      const tab = workbench.page.locator('.tab', { hasText: /Closure diff/ }).first();
      await tab.waitFor({ timeout: 180_000 });
      const preview = workbench.page
        .frameLocator('iframe.webview.ready[src*="markdown-language-features"]')
        .frameLocator('#active-frame');
      const [slim, demo] = await Promise.all(
        ['slim', 'demo'].map(async (n) =>
          oracle.closure(await oracle.outPath(`${workspace.flakeRef}${toplevel(n).slice(1)}`)),
        ),
      );
      const row = preview.locator('tr', { hasText: 'store paths' });
      const cells = await waitFor(
        'the store paths row of the report',
        async () => {
          const t = await row
            .first()
            .locator('td')
            .allTextContents()
            .catch(() => []);
          return t.length >= 3 ? t : undefined;
        },
        60_000,
      );
      await workbench.screenshot('commands-compare');
      const options = await preview.locator('td', { hasText: /\.nix:\d+/ }).allTextContents();
      assert.ok(options.length > 0, 'the report names the options behind added packages');
      for (const o of options) assert.doesNotMatch(o, /\/tmp\//, `files relative to the workspace: ${o}`);
      assert.deepEqual(
        cells.slice(1, 3).map(Number),
        [slim!.size, demo!.size],
        `before and after: ${cells.join(' | ')}`,
      );
    },
  },
];
