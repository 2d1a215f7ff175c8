/**
 * The sunburst survives a window reload: VS Code recreates the panel from the webview's persisted state
 * (getState/setState: which target, which path was selected), the extension's WebviewPanelSerializer reloads the
 * closure from its caches, and the page shows the same closure and selection again, without nix querying or
 * building anything.
 */
import assert from 'node:assert/strict';
import { waitFor, type Workbench } from './browser';
import * as oracle from './oracle';
import type { Step } from './scenarios';
import type { Session } from './session';
import { readSunburst, type ShownSunburst } from './sunburstView';

const DEMO = 'nixosConfigurations.demo';
const SELECTED = 'zfs-user';

const before = new WeakMap<Session, ShownSunburst>();

/** "Developer: Reload Window", as a user runs it: the page loads again, and with it the extension host. */
export async function reloadWindow(workbench: Workbench): Promise<void> {
  const { page } = workbench;
  const reloaded = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
  await workbench.runCommand('Developer: Reload Window');
  await reloaded;
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
}

/** A nix invocation that evaluates, builds or queries a closure: what a cache hit must not need. */
function loadsAClosure(invocation: string): boolean {
  return invocation.split(' ').some((arg) => arg === 'path-info' || arg === 'build' || arg === 'eval');
}

export const restoreAfterReload: Step[] = [
  {
    title: `Show closure ${DEMO}, select ${SELECTED}: the sunburst shows nix's closure`,
    async run(s) {
      const { workbench, workspace } = s;
      await workbench.runCommandAndPick('Nix Closure Lens: Show closure', /nixosConfigurations\.demo|\bdemo\b/, 'demo');
      const shown = await readSunburst(workbench.webview());
      const root = await oracle.build(`${workspace.flakeRef}#${DEMO}.config.system.build.toplevel`);
      assert.equal(shown.root, root, 'the sunburst is rooted at the demo system');
      assert.equal(
        shown.pathCount,
        (await oracle.closure(root)).size,
        `the footer counts the closure's paths: ${shown.footer}`,
      );
      const frame = workbench.webview();
      await frame.locator(`svg path[role=treeitem][aria-label*="${SELECTED}"]`).first().click();
      await frame.locator('#why h3', { hasText: SELECTED }).waitFor({ timeout: 15_000 });
      await workbench.screenshot('restore-before-reload');
      before.set(s, shown);
    },
  },
  {
    title:
      'after "Developer: Reload Window" the panel is back with the same root, paths, size and selection, and no nix query ran',
    async run(s) {
      const { workbench, workspace } = s;
      const shownBefore = before.get(s);
      assert.ok(shownBefore, 'depends on the previous step');
      const { page } = workbench;
      const nixCallsBefore = workspace.nixInvocations().length;
      await reloadWindow(workbench);

      const tab = page.locator('.tabs-container .tab', { hasText: `Closure: ${DEMO}` });
      await tab.first().waitFor({ timeout: 60_000 });
      const frame = workbench.webview();
      const shown = await readSunburst(frame, 90_000);
      await frame.locator('#why h3', { hasText: SELECTED }).waitFor({ timeout: 15_000 });
      await workbench.screenshot('restore-after-reload');
      assert.equal(shown.root, shownBefore.root, 'the same root');
      assert.equal(shown.pathCount, shownBefore.pathCount, 'the same number of paths');
      assert.equal(shown.summary, shownBefore.summary, 'the same paths and total size in the footer');
      assert.equal(await tab.count(), 1, 'one sunburst tab, not a second one');
      const since = workspace.nixInvocations().slice(nixCallsBefore);
      assert.deepEqual(
        since.filter(loadsAClosure),
        [],
        `the restore came from the caches (nix calls since the reload: ${JSON.stringify(since)})`,
      );
      // And it is live: the restored page still answers a click with a why-chain.
      await frame.locator('svg path[role=treeitem][aria-label*="perl"]').first().click();
      await waitFor(
        'the why pane to follow the click',
        async () => /perl/.test((await frame.locator('#why h3').first().textContent({ timeout: 2000 })) ?? ''),
        15_000,
      );
    },
  },
];
