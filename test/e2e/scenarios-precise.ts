/**
 * The why panel of a hub in real VS Code: for glibc in the demo system, the why-graph's layers hold exactly the
 * nodes of the engine's why-graph (and of `nix why-depends --all`), and "Precise" finds the file that holds each
 * edge's reference; a hit clicked opens that file in an editor with the hash selected. The why-graph is drawn too:
 * its nodes and edges are the engine's (folded ones counted), one edge's Precise finds its file, and a node clicked
 * is selected.
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

/** What the drawing shows: each drawn path with its layer, and the paths folded into "+N more". */
interface Drawn {
  nodes: { index: number; path: string; layer: number }[];
  folded: number;
  edges: [number, number][];
}

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

      // The option attribution arrives after the closure and redraws the side pane (closing what was opened in
      // it): wait for it before opening anything.
      await frame.locator('#footer', { hasText: 'option definitions' }).waitFor({ timeout: 120_000 });
      await frame.locator(`svg path[role=treeitem][aria-label*="${HUB}"]`).first().click();
      await frame.locator('#why h3', { hasText: HUB }).waitFor({ timeout: 15_000 });
      const graphSection = frame.locator('#why-graph');
      await graphSection.click({ position: { x: 10, y: 10 } });
      // the list under the drawing, its accessible alternative
      const list = frame.locator('#why-graph .why-graph-list');
      for (let k = 0; k < 200; k++) {
        // A redraw (measured option costs arriving) closes the list and its layers: open them again.
        if ((await list.getAttribute('open')) === null) await list.locator('summary').click();
        const more = frame.locator('#why-graph .why-layer-more').first();
        if ((await more.count()) === 0) break;
        await more.click({ timeout: 5_000 }).catch(() => undefined);
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
  {
    title: `the drawn why-graph of ${HUB}: the engine's nodes and edges, one edge's Precise, a node clicked selects it`,
    async run(s) {
      const { workbench } = s;
      const root = shownRoot.get(s);
      assert.ok(root, 'depends on the first step');
      // The reference opened over the closure's tab: back to it. The page comes back with glibc selected and the
      // why-graph open, as the first step left them (both are in its persisted state).
      await workbench.page.locator('.tabs-container .tab', { hasText: 'Closure:' }).first().click();
      const frame = workbench.webview();
      await frame.locator('#why h3', { hasText: HUB }).waitFor({ timeout: 30_000 });
      await frame.locator('#why-graph .why-graph-svg').waitFor({ timeout: 15_000 });
      const readDrawing = () =>
        frame.locator('#why-graph .why-graph-svg').evaluate((svg): Drawn => {
          const nodes = [...svg.querySelectorAll('.wg-node')].map((n) => ({
            index: Number(n.getAttribute('data-node')),
            path: n.querySelector('title')?.textContent ?? '',
            layer: Number(n.getAttribute('data-layer')),
          }));
          const folded = [...svg.querySelectorAll('.wg-more')].reduce(
            (t, m) => t + Number(m.getAttribute('data-hidden')),
            0,
          );
          const edges = [...svg.querySelectorAll('.wg-edge-group')]
            .map((e) => [e.getAttribute('data-from') ?? '', e.getAttribute('data-to') ?? ''])
            .filter(([a, b]) => /^\d+$/.test(a!) && /^\d+$/.test(b!))
            .map(([a, b]) => [Number(a), Number(b)] as [number, number]);
          return { nodes, folded, edges };
        });
      const drawn = await readDrawing();
      const info = await oracle.closure(root);
      const g = ClosureGraph.build([...info.values()], [root]);
      const dep = [...info.keys()].find((p) => p.includes(`-${HUB}`))!;
      const engine = whyGraph(g, g.root, g.indexOf(dep)!, 0);
      const paths = drawn.nodes.map((n) => n.path);
      assert.equal(new Set(paths).size, paths.length, 'each path drawn once');
      const engineNodes = new Set([...engine.nodes].map((v) => g.paths[v]!));
      for (const p of paths) assert.ok(engineNodes.has(p), `${p} is on a chain`);
      assert.equal(paths.length + drawn.folded, engineNodes.size, 'drawn and folded: every node of the why-graph');
      const bottom = Math.max(...drawn.nodes.map((n) => n.layer));
      assert.deepEqual(
        drawn.nodes.filter((n) => n.layer === bottom).map((n) => n.path),
        [dep],
        `${HUB} alone at the bottom`,
      );
      assert.deepEqual(
        drawn.nodes.filter((n) => n.layer === 0).map((n) => n.path),
        [root],
        'the root alone on top',
      );
      const pathOf = new Map(drawn.nodes.map((n) => [n.index, n.path]));
      const drawnEdges = drawn.edges.map(([a, b]) => `${pathOf.get(a)} ${pathOf.get(b)}`).sort();
      const engineEdges: string[] = [];
      for (let e = 0; e < engine.edges.length; e += 2) {
        const a = g.paths[engine.edges[e]!]!;
        const b = g.paths[engine.edges[e + 1]!]!;
        if (paths.includes(a) && paths.includes(b)) engineEdges.push(`${a} ${b}`);
      }
      assert.deepEqual(drawnEdges, engineEdges.sort(), "the edges among drawn paths are the engine's");
      assert.ok(drawnEdges.length >= 3, `${drawnEdges.length} edges drawn`);

      // one edge's Precise: the first reference to the hub listed under the drawing
      await frame.locator('#why-graph .wg-node.target').focus();
      const edge = frame.locator('#why-graph .why-graph-detail .why-graph-edge').first();
      await edge.waitFor({ timeout: 10_000 });
      await edge.locator('.precise-request').click();
      const mark = edge.locator('.precise-hit mark').first();
      await mark.waitFor({ timeout: 60_000 });
      assert.equal(await mark.textContent(), dep.split('/').pop()!.slice(0, 32), "the hit marks the hub's hash");
      await workbench.screenshot('precise-why-graph-drawn');

      // a node clicked is selected: the why panel then answers for it
      const pick = drawn.nodes.find((n) => n.layer === 1)!;
      await frame.locator(`#why-graph .wg-node[data-node="${pick.index}"]`).click();
      await waitFor(
        'the why-graph of the path clicked',
        async () =>
          (await frame
            .locator('#why-graph .wg-node.target title')
            .first()
            .textContent({ timeout: 2000 })
            .catch(() => null)) === pick.path,
        15_000,
      );
    },
  },
];
