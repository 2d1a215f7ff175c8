/**
 * The why panel of a hub in real VS Code: for glibc in the demo system, the why-graph's layers hold exactly the
 * nodes of the engine's why-graph (and of `nix why-depends --all`), and "Precise" finds the file that holds each
 * edge's reference; a hit clicked opens that file in an editor with the hash selected.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ClosureGraph, whyGraph } from '../../src/shared';
import { waitFor } from './browser';
import * as oracle from './oracle';
import type { Step } from './scenarios';
import { readSunburst } from './sunburstView';

const DEMO = 'nixosConfigurations.demo';
const HUB = 'glibc-2.39';

const shownRoot = new WeakMap<object, string>();

export const preciseWhy: Step[] = [
  {
    title: `Show closure ${DEMO}, select ${HUB}: the why-graph's layers are the engine's nodes (and nix's --all)`,
    async run(s) {
      const { workbench, workspace } = s;
      await workbench.runCommandAndPick('Nix Closure Lens: Show closure', /nixosConfigurations\.demo|\bdemo\b/, 'demo');
      const frame = workbench.webview();
      const shown = await readSunburst(frame);
      const root = await oracle.build(`${workspace.flakeRef}#${DEMO}.config.system.build.toplevel`);
      assert.equal(shown.root, root, 'the sunburst is rooted at the demo system');
      shownRoot.set(s, root);

      await frame.locator(`svg path[role=treeitem][aria-label*="${HUB}"]`).first().click();
      await frame.locator('#why h3', { hasText: HUB }).waitFor({ timeout: 15_000 });
      const graphSection = frame.locator('#why-graph');
      await graphSection.click({ position: { x: 10, y: 10 } });
      for (let k = 0; k < 100; k++) {
        const more = frame.locator('#why-graph .why-layer-more').first();
        if ((await more.count()) === 0) break;
        await more.click();
      }
      const layers = await frame
        .locator('#why-graph .why-layer')
        .evaluateAll((els) =>
          els.map((l) => [...l.querySelectorAll('.step')].map((b) => b.getAttribute('title') ?? '')),
        );
      const flat = layers.flat();
      assert.equal(new Set(flat).size, flat.length, 'each path once');

      const info = await oracle.closure(root);
      const g = ClosureGraph.build([...info.values()], [root]);
      const dep = [...info.keys()].find((p) => p.includes(`-${HUB}`));
      assert.ok(dep, `${HUB} is in the closure`);
      const engine = whyGraph(g, g.root, g.indexOf(dep)!, 0);
      const engineNodes = [...engine.nodes].map((v) => g.paths[v]!).sort();
      assert.deepEqual([...flat].sort(), engineNodes, "the layers' nodes are the engine's why-graph nodes");
      assert.deepEqual(
        engineNodes,
        [...(await oracle.whyDependsNodes(root, dep))].sort(),
        "and nix why-depends --all's",
      );
      assert.ok(flat.length >= 5, `a hub: ${flat.length} paths on some chain`);
      await workbench.screenshot('precise-why-graph-glibc');
    },
  },
  {
    title: 'Precise: each edge of the shortest chain names the file with the hash; a hit opens it, the hash selected',
    async run(s) {
      const { workbench } = s;
      assert.ok(shownRoot.get(s), 'depends on the previous step');
      const frame = workbench.webview();
      const chain = await frame
        .locator('#why .chain.shortest .step')
        .evaluateAll((els) => els.map((b) => b.getAttribute('title') ?? ''));
      assert.ok(chain.length >= 2, `a chain: ${chain.join(' → ')}`);
      await frame.locator('#precise-button').click();
      const edges = frame.locator('#precise-results .precise-edge');
      await waitFor('the precise references', async () => (await edges.count()) === chain.length - 1, 60_000);
      // Every edge: a hit whose snippet holds the next path's hash, marked (the fixture's outputs are single files).
      for (let k = 0; k + 1 < chain.length; k++) {
        const hash = chain[k + 1]!.split('/').pop()!.slice(0, 32);
        const mark = edges.nth(k).locator('.precise-hit mark').first();
        assert.equal(await mark.textContent(), hash, `edge ${k} marks the hash of ${chain[k + 1]}`);
        assert.equal(await edges.nth(k).locator('.precise-file').first().textContent(), '/');
      }
      // Open the last edge's hit: the referrer's file, the hash selected at its line.
      const last = chain.length - 2;
      const referrer = chain[last]!;
      const hash = chain[last + 1]!.split('/').pop()!.slice(0, 32);
      const text = fs.readFileSync(referrer, 'latin1');
      const at = text.indexOf(hash);
      const line = text.slice(0, at).split('\n').length;
      // The cursor (what the status bar counts, 1-based) is at the selection's end, after the hash.
      const column = at - text.lastIndexOf('\n', at - 1) + 32;
      await edges.nth(last).locator('.precise-hit').first().click();
      const name = referrer.split('/').pop()!;
      const tab = workbench.page.locator('.tabs-container .tab.active', { hasText: name });
      await tab.waitFor({ timeout: 30_000 });
      const status = workbench.page.locator('.statusbar-item', { hasText: /Ln \d+, Col \d+/ }).first();
      const position = await waitFor(
        'the selection in the status bar',
        async () => {
          const t = (await status.textContent({ timeout: 2000 })) ?? '';
          return /\(32 selected\)/.test(t) ? t : undefined;
        },
        20_000,
      );
      assert.match(position, new RegExp(`Ln ${line}, Col ${column} \\(32 selected\\)`), 'the hash is selected');
      assert.ok(
        ((await tab.getAttribute('title')) ?? (await tab.getAttribute('aria-label')) ?? '').includes(name),
        'the editor shows the referrer',
      );
      const lineText = await workbench.page.locator('.monaco-editor .view-line', { hasText: hash }).count();
      assert.ok(lineText >= 1, 'the hash is on screen in the editor');
      await workbench.screenshot('precise-open-reference');
    },
  },
];
