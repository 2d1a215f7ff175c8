/**
 * A multi-root workspace (a .code-workspace with two folders, each a fixture flake: chain, then diamonds), through
 * the workbench: "Show closure" lists the targets of both flakes, each under and labelled with its folder, and the
 * target picked from the second folder loads that flake's closure, checked against nix.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { QuickPickEntry } from './browser';
import { waitFor } from './browser';
import * as oracle from './oracle';
import type { Step } from './scenarios';
import type { Session } from './session';
import { reloadWindow } from './scenarios-restore';
import { readSunburst, type ShownSunburst } from './sunburstView';
import { createMultiRootWorkspace, type E2EWorkspace } from './workspace';

/** The workspace's folders, in the order of its .code-workspace file. */
export const MULTI_ROOT_FIXTURES = ['chain', 'diamonds'] as const;

export function multiRootWorkspace(name: string): E2EWorkspace {
  return createMultiRootWorkspace(name, MULTI_ROOT_FIXTURES);
}

const SHOW_CLOSURE = 'Nix Closure Lens: Show closure';

/** The items under each group title (separator) of the quick pick. */
function groups(entries: readonly QuickPickEntry[]): Map<string, QuickPickEntry[]> {
  const byGroup = new Map<string, QuickPickEntry[]>();
  let current: QuickPickEntry[] | undefined;
  for (const e of entries) {
    if (e.group !== '') byGroup.set(e.group, (current = []));
    current?.push(e);
  }
  return byGroup;
}

function folderOf(s: Session, fixture: string): string {
  const dir = s.workspace.folders.find((f) => path.basename(f) === fixture);
  assert.ok(dir, `the workspace has a ${fixture} folder`);
  return dir;
}

const diamondsShown = new WeakMap<Session, ShownSunburst>();

export const multiRoot: Step[] = [
  {
    title: "Show closure lists the packages of both flakes, each group under its folder's name",
    async run(s) {
      const { workbench } = s;
      await workbench.runCommand(SHOW_CLOSURE);
      // A flake's group shows once its listing is complete; the rows are virtualised, so all are read each time,
      // until two readings agree (a listing arriving during a reading shifts the rows).
      let previous = '';
      const entries = await waitFor(
        'a group for each folder',
        async () => {
          const all = await workbench.quickPickEntries();
          const titles = all.map((e) => e.group);
          const same = JSON.stringify(all) === previous;
          previous = JSON.stringify(all);
          return same && MULTI_ROOT_FIXTURES.every((f) => titles.includes(f)) ? all : undefined;
        },
        90_000,
        300,
      );
      await workbench.screenshot('multi-root-targets');
      const problems = entries.filter((e) => /could not be listed|No flake\.nix/.test(e.label));
      assert.deepEqual(problems, [], 'every flake of the workspace lists its outputs');
      const byGroup = groups(entries);
      for (const fixture of MULTI_ROOT_FIXTURES) {
        const expected = (await oracle.packageNames(`path:${folderOf(s, fixture)}`)).map((n) => `packages.${n}`).sort();
        const shown = (byGroup.get(fixture) ?? []).map((e) => e.label).sort();
        assert.deepEqual(
          shown,
          expected,
          `the ${fixture} group lists exactly its flake's packages (groups: ${[...byGroup.keys()].join(', ')})`,
        );
      }
      await workbench.page.keyboard.press('Escape');
    },
  },
  {
    title:
      'filtered to packages.default, each row names its folder; the diamonds one shows the diamonds closure (nix path-info -rS)',
    async run(s) {
      const { workbench } = s;
      await workbench.runCommand(SHOW_CLOSURE);
      // Before any filter: once the targets are listed, the first one is active (Enter picks it), not "Store path…".
      const focused = workbench.page.locator('.quick-input-widget .monaco-list-row.focused .label-name');
      await waitFor(
        'the first target to be active',
        async () => /^packages\./.test(((await focused.textContent({ timeout: 2000 })) ?? '').trim()),
        60_000,
      );
      const input = workbench.page.locator('.quick-input-widget input');
      await input.fill('packages.default');
      const rows = workbench.quickPickRows().filter({ hasText: 'packages.default' });
      await waitFor(
        'a packages.default row per folder',
        async () => (await rows.count()) === MULTI_ROOT_FIXTURES.length,
        60_000,
      );
      // Filtering hides the separators: the description is then all that tells the two rows apart.
      const entries = (await workbench.quickPickEntries()).filter((e) => e.label === 'packages.default');
      await workbench.screenshot('multi-root-filtered');
      assert.deepEqual(
        entries.map((e) => e.description).sort(),
        [...MULTI_ROOT_FIXTURES].sort(),
        `each packages.default row is labelled with its folder: ${JSON.stringify(entries)}`,
      );
      await rows
        .filter({ has: workbench.page.locator('.label-description', { hasText: /^\s*diamonds\s*$/ }) })
        .first()
        .click();

      const shown = await readSunburst(workbench.webview());
      diamondsShown.set(s, shown);
      await workbench.screenshot('multi-root-diamonds-sunburst');
      const root = await oracle.build(`path:${folderOf(s, 'diamonds')}#default`);
      const otherRoot = await oracle.build(`path:${folderOf(s, 'chain')}#default`);
      const closure = await oracle.closure(root);
      assert.equal(shown.root, root, "the sunburst is rooted at the diamonds flake's default package");
      assert.equal(shown.pathCount, closure.size, `the footer counts nix path-info -r's paths: ${shown.footer}`);
      const total = await oracle.closureSize(root);
      assert.ok(
        Math.abs(shown.size - total) <= shown.sizeTolerance,
        `the footer's total ${shown.footer} is nix path-info -S's ${total} bytes`,
      );
      // The check tells the two flakes apart: the first folder's closure has another size.
      assert.notEqual(await oracle.closureSize(otherRoot), total, 'the chain and diamonds closures differ');
    },
  },
  {
    title: "after a window reload the second folder's sunburst comes back with the same closure",
    async run(s) {
      const { workbench } = s;
      const before = diamondsShown.get(s);
      assert.ok(before, 'depends on the previous step');
      await reloadWindow(workbench);
      await workbench.page
        .locator('.tabs-container .tab', { hasText: 'Closure: diamonds#packages.default' })
        .first()
        .waitFor({ timeout: 60_000 });
      const shown = await readSunburst(workbench.webview(), 90_000);
      assert.equal(shown.root, before.root, "the restored panel is the diamonds flake's, not the first folder's");
      assert.equal(shown.summary, before.summary);
    },
  },
];
