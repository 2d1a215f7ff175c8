/**
 * The drawn why-graph in headless Chromium. On a real NixOS closure (the sbomnix SBOM), glibc's why-graph has
 * hundreds of nodes: the drawing keeps to the node budget, draws each node once in its layer (the longest chain
 * from the root, computed here on the engine's edges), folds the rest of each layer into "+N more" behind the
 * nodes most chains run through, draws exactly the engine's edges among drawn nodes (and their ends touch the right
 * boxes), unfolds on click, walks with the keyboard and selects on click or Enter. On the hand-made NixOS-like
 * closure with attribution, every node and edge is drawn and an edge shows its cause and asks for its references.
 */
import assert from 'node:assert/strict';
import { buildSnapshot, whyGraph, type ClosureGraph, type WhyGraph } from '../../src/shared';
import { EXPAND_STEP, NODE_BUDGET } from '../../webview/chart/whyGraphLayout';
import { openHarness, type Harness } from './harness';
import { closureMessage, nixosLikeFixture, realSbomClosure, sp, type TestClosure } from './closures';

interface DrawnNodeInfo {
  key: string;
  node: number;
  layer: number;
  hidden: number;
}

async function drawnNodes(h: Harness): Promise<DrawnNodeInfo[]> {
  return h.page.$$eval('#why-graph .why-graph-svg [data-key]', (els) =>
    els.map((e) => ({
      key: e.getAttribute('data-key')!,
      node: e.hasAttribute('data-node') ? Number(e.getAttribute('data-node')) : -1,
      layer: Number(e.getAttribute('data-layer')),
      hidden: Number(e.getAttribute('data-hidden') ?? 0),
    })),
  );
}

/** Drawn edges as `from to` (node indices, or `more-<layer>` for a fold), and whether each end touches its box. */
async function drawnEdges(h: Harness): Promise<{ id: string; touches: boolean }[]> {
  return h.page.$$eval('#why-graph .wg-edge-group', (groups) =>
    groups.map((g) => {
      const from = g.getAttribute('data-from')!;
      const to = g.getAttribute('data-to')!;
      const path = g.querySelector('.wg-edge') as SVGPathElement;
      const m = path.getScreenCTM()!;
      const at = (len: number) => path.getPointAtLength(len).matrixTransform(m);
      const start = at(0);
      const end = at(path.getTotalLength());
      const box = (id: string) => {
        const sel = /^\d+$/.test(id) ? `[data-node="${id}"]` : `[data-key="${id}"]`;
        return (g as SVGGElement).ownerSVGElement!.querySelector(`${sel} rect:not(.wg-cat)`)!.getBoundingClientRect();
      };
      const a = box(from);
      const b = box(to);
      const near = (x: number, y: number) => Math.abs(x - y) < 1.5;
      const touches =
        near(start.y, a.bottom) &&
        start.x > a.left &&
        start.x < a.right &&
        near(end.y, b.top) &&
        end.x > b.left &&
        end.x < b.right;
      return { id: `${from} ${to}`, touches };
    }),
  );
}

/** Opens the why-graph's collapsible (it starts closed). */
async function openWhyGraph(h: Harness): Promise<void> {
  if (!(await h.page.isVisible('#why-graph .why-graph-svg')))
    await h.page.click('#why-graph', { position: { x: 30, y: 10 } });
  await h.page.waitForSelector('#why-graph .why-graph-svg', { state: 'visible' });
}

/** Layer of each node by the longest chain from the root, on the engine's why-graph edges (a virtual root dropped). */
function longestLayers(g: ClosureGraph, wg: WhyGraph): Map<number, number> {
  const referrers = new Map<number, number[]>();
  for (let e = 0; e < wg.edges.length; e += 2)
    (referrers.get(wg.edges[e + 1]!) ?? referrers.set(wg.edges[e + 1]!, []).get(wg.edges[e + 1]!)!).push(wg.edges[e]!);
  const memo = new Map<number, number>();
  const depth = (v: number): number => {
    const m = memo.get(v);
    if (m !== undefined) return m;
    const d = Math.max(-1, ...(referrers.get(v) ?? []).map(depth)) + 1;
    memo.set(v, d);
    return d;
  };
  const shift = g.isVirtual(wg.from) ? 1 : 0;
  const out = new Map<number, number>();
  for (const v of wg.nodes) if (!g.isVirtual(v)) out.set(v, depth(v) - shift);
  return out;
}

describe('webview: the drawn why-graph', function () {
  this.timeout(120_000);

  describe('a hub of a real NixOS closure (glibc in the sbomnix SBOM)', () => {
    let h: Harness;
    let fixture: TestClosure;
    let glibc: number;
    let wg: WhyGraph;

    before(async () => {
      fixture = realSbomClosure();
      const g = fixture.graph;
      glibc = [...g.paths.keys()].find((i) => /-glibc-2\.\d+(-\d+)?$/.test(g.paths[i]!))!;
      wg = whyGraph(g, g.root, glibc, 0);
      h = await openHarness({ height: 1400 });
      await h.sendClosure(closureMessage(fixture));
      await h.send({ type: 'select', path: g.paths[glibc]! });
      await h.page.waitForSelector('#why-graph .why-graph-svg', { state: 'attached' });
      await openWhyGraph(h);
    });
    after(async () => {
      assert.deepEqual(await h.violations(), [], 'no CSP violations');
      await h.close();
    });

    it('keeps to the budget: each node once, in its layer, most chains first, the rest folded', async () => {
      const g = fixture.graph;
      const nodes = await drawnNodes(h);
      const paths = nodes.filter((n) => n.node >= 0);
      const folds = nodes.filter((n) => n.node < 0);
      const all = [...wg.nodes].filter((v) => !g.isVirtual(v));
      assert.ok(all.length > 300, `a hub: ${all.length} nodes`);
      assert.equal(new Set(paths.map((n) => n.node)).size, paths.length, 'each node once');
      const layers = longestLayers(g, wg);
      const layerCount = Math.max(...layers.values()) + 1;
      assert.ok(paths.length <= Math.max(NODE_BUDGET, 2 * layerCount), `${paths.length} drawn`);
      assert.equal(paths.length + folds.reduce((s, f) => s + f.hidden, 0), all.length, 'drawn + folded = the graph');
      for (const n of paths) assert.equal(n.layer, layers.get(n.node), `layer of ${g.paths[n.node]}`);
      const bottom = paths.filter((n) => n.layer === layerCount - 1).map((n) => n.node);
      assert.deepEqual(bottom, [glibc], 'glibc alone at the bottom');
      if (!g.isVirtual(g.root))
        assert.deepEqual(
          paths.filter((n) => n.layer === 0).map((n) => n.node),
          [g.root],
        );
      // in each layer, the drawn nodes have at least as many chains through them as any folded one
      const through = new Map([...wg.nodes].map((v, k) => [v, wg.chainsThroughLog2[k]!]));
      const drawn = new Set(paths.map((n) => n.node));
      for (const f of folds) {
        const inLayer = all.filter((v) => layers.get(v) === f.layer);
        const least = Math.min(...inLayer.filter((v) => drawn.has(v)).map((v) => through.get(v)!));
        const most = Math.max(...inLayer.filter((v) => !drawn.has(v)).map((v) => through.get(v)!));
        assert.ok(least >= most, `layer ${f.layer}: ${least} < ${most}`);
        assert.equal(f.hidden, inLayer.length - inLayer.filter((v) => drawn.has(v)).length);
      }
      await h.screenshot('why-graph-drawing-glibc.png');
    });

    it('draws the engine’s edges among drawn nodes, each once, to or from a fold once, ends on the right boxes', async () => {
      const g = fixture.graph;
      const nodes = await drawnNodes(h);
      const keyOf = new Map<number, string>();
      const layers = longestLayers(g, wg);
      for (const v of wg.nodes) if (!g.isVirtual(v)) keyOf.set(v, `more-${layers.get(v)}`);
      for (const n of nodes) if (n.node >= 0) keyOf.set(n.node, String(n.node));
      const expected = new Set<string>();
      for (let e = 0; e < wg.edges.length; e += 2) {
        const a = keyOf.get(wg.edges[e]!);
        const b = keyOf.get(wg.edges[e + 1]!);
        if (a === undefined || b === undefined || a === b) continue;
        if (!(a.startsWith('more-') && b.startsWith('more-'))) expected.add(`${a} ${b}`);
      }
      const edges = await drawnEdges(h);
      const ids = edges.map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, 'each edge once');
      assert.deepEqual([...ids].sort(), [...expected].sort());
      assert.ok(ids.filter((id) => /^\d+ \d+$/.test(id)).length > 20, 'edges between drawn paths');
      const off = edges.filter((e) => !e.touches).map((e) => e.id);
      assert.deepEqual(off, [], 'every edge runs from the bottom of its referrer to the top of its reference');
    });

    it('a "+N more" clicked unfolds the next nodes of its layer, focus on the first of them', async () => {
      const before = await drawnNodes(h);
      const fold = before.filter((n) => n.node < 0).sort((a, b) => b.hidden - a.hidden)[0]!;
      const inLayer = (ns: DrawnNodeInfo[]) => ns.filter((n) => n.node >= 0 && n.layer === fold.layer).length;
      await h.page.click(`#why-graph [data-key="${fold.key}"]`);
      const after = await drawnNodes(h);
      const step = Math.min(EXPAND_STEP, fold.hidden);
      assert.equal(inLayer(after), inLayer(before) + step);
      const left = after.find((n) => n.key === fold.key);
      assert.equal(left?.hidden ?? 0, fold.hidden - step);
      const focused = await h.page.evaluate(() => document.activeElement?.getAttribute('data-layer'));
      assert.equal(Number(focused), fold.layer);
      // the earlier drawn nodes stay
      const was = new Set(before.filter((n) => n.node >= 0).map((n) => n.node));
      const now = new Set(after.filter((n) => n.node >= 0).map((n) => n.node));
      for (const v of was) assert.ok(now.has(v), `${v} still drawn`);
      // Option attribution arriving later rebuilds the side pane: what the user unfolded stays unfolded.
      const g = fixture.graph;
      const attribution = buildSnapshot(fixture.analysis, {
        attribution: {
          definitions: [
            { option: 'environment.systemPackages', file: '/etc/nixos/configuration.nix', line: 3, removalCost: 0 },
          ],
          paths: { [g.paths[glibc]!]: [0] },
        },
      }).attribution!;
      await h.send({ type: 'attribution', attribution });
      await openWhyGraph(h);
      const again = await drawnNodes(h);
      assert.equal(inLayer(again), inLayer(after), 'the unfolded layer after attribution arrived');
    });

    it('walks with the keyboard (Tab, arrows) and Enter selects the path', async () => {
      const g = fixture.graph;
      const focused = () =>
        h.page.evaluate(() => ({
          node: Number(document.activeElement?.getAttribute('data-node') ?? -1),
          layer: Number(document.activeElement?.getAttribute('data-layer') ?? -1),
          key: document.activeElement?.getAttribute('data-key') ?? '',
        }));
      await h.page.focus('#why-graph .why-graph-svg [data-key]');
      const first = await focused();
      assert.equal(first.layer, 0);
      await h.page.keyboard.press('ArrowDown');
      const down = await focused();
      assert.equal(down.layer, 1, 'ArrowDown: the next layer');
      await h.page.keyboard.press('Home');
      const home = await focused();
      await h.page.keyboard.press('ArrowRight');
      const right = await focused();
      assert.equal(right.layer, 1);
      assert.notEqual(right.key, home.key, 'ArrowRight: the next node of the layer');
      await h.page.keyboard.press('ArrowLeft');
      assert.equal((await focused()).key, home.key);
      await h.page.keyboard.press('Tab');
      assert.notEqual((await focused()).key, home.key, 'Tab: the next node');
      await h.page.keyboard.press('Shift+Tab');
      const target = await focused();
      assert.ok(target.node >= 0);
      await h.page.keyboard.press('Enter');
      const last = (await h.posted()).filter((m) => m.type === 'selected').pop() as { path: string } | undefined;
      assert.equal(last?.path, g.paths[target.node]);
      // the why panel now answers for that path: its why-graph ends at it
      await h.page.waitForFunction(
        (node) => document.querySelector('#why-graph .wg-node.target')?.getAttribute('data-node') === String(node),
        target.node,
      );
      assert.ok(await h.page.isVisible('#why-graph .why-graph-svg'), 'the why-graph stays open across selections');
    });

    it('a node clicked is selected in the sunburst', async () => {
      const g = fixture.graph;
      await h.send({ type: 'select', path: g.paths[glibc]! });
      await h.page.waitForSelector('#why-graph .why-graph-svg', { state: 'attached' });
      await openWhyGraph(h);
      const node = Number(
        await h.page.$eval('#why-graph .wg-node[data-layer="1"]', (e) => e.getAttribute('data-node')),
      );
      await h.page.click(`#why-graph .wg-node[data-node="${node}"]`);
      const last = (await h.posted()).filter((m) => m.type === 'selected').pop() as { path: string } | undefined;
      assert.equal(last?.path, g.paths[node]);
      const state = (await h.state()) as { selected?: string };
      assert.equal(state.selected, g.paths[node], 'the page selects it (persisted selection)');
    });
  });

  describe('a small why-graph with attribution (perl in a NixOS-like closure)', () => {
    let h: Harness;
    let fixture: TestClosure;

    before(async () => {
      fixture = nixosLikeFixture();
      h = await openHarness({ height: 1400 });
      await h.sendClosure(closureMessage(fixture));
      await h.send({ type: 'select', path: sp('perl-5.38.2') });
      await h.page.waitForSelector('#why-graph .why-graph-svg', { state: 'attached' });
      await openWhyGraph(h);
    });
    after(async () => {
      assert.deepEqual(await h.violations(), [], 'no CSP violations');
      await h.close();
    });

    it('within the budget every node and every edge is drawn, nothing folded', async () => {
      const g = fixture.graph;
      const wg = whyGraph(g, g.root, g.indexOf(sp('perl-5.38.2'))!, 0);
      const nodes = await drawnNodes(h);
      assert.equal(nodes.filter((n) => n.node < 0).length, 0);
      assert.deepEqual(
        nodes.map((n) => n.node).sort((a, b) => a - b),
        [...wg.nodes].sort((a, b) => a - b),
      );
      const expected: string[] = [];
      for (let e = 0; e < wg.edges.length; e += 2) expected.push(`${wg.edges[e]} ${wg.edges[e + 1]}`);
      const edges = await drawnEdges(h);
      assert.deepEqual(edges.map((e) => e.id).sort(), expected.sort());
      assert.ok(edges.every((e) => e.touches));
    });

    it('an edge hovered shows its cause, the user’s own line first; a node lists its references with causes', async () => {
      const g = fixture.graph;
      const git = g.indexOf(sp('git-2.44.0'))!;
      const perl = g.indexOf(sp('perl-5.38.2'))!;
      const w3m = g.indexOf(sp('w3m-0.5.3'))!;
      await h.page.dispatchEvent(
        `#why-graph .wg-edge-group[data-from="${git}"][data-to="${perl}"] .wg-edge-hit`,
        'mouseenter',
      );
      const cause = await h.page.$eval('#why-graph .why-graph-detail .why-graph-cause', (e) => ({
        text: e.textContent,
        own: e.classList.contains('own'),
      }));
      assert.match(cause.text!, /environment\.systemPackages brings it in \(your line: configuration\.nix:12\)/);
      assert.ok(cause.own);
      const title = await h.page.$eval(
        `#why-graph .wg-edge-group[data-from="${git}"][data-to="${perl}"] .wg-edge-hit title`,
        (e) => e.textContent,
      );
      assert.match(title!, /configuration\.nix:12/);
      await h.page.focus(`#why-graph .wg-node[data-node="${perl}"]`);
      const listed = await h.page.$$eval('#why-graph .why-graph-detail .why-graph-edge', (els) =>
        els.map((e) => ({
          from: Number(e.getAttribute('data-from')),
          cause: e.querySelector('.why-graph-cause')!.textContent,
        })),
      );
      assert.equal(listed[0]!.from, git, 'the reference your own line causes comes first');
      const byFrom = new Map(listed.map((x) => [x.from, x.cause]));
      assert.deepEqual([...byFrom.keys()].sort(), [git, w3m].sort());
      assert.match(byFrom.get(git)!, /your line: .*configuration\.nix:12/);
      assert.match(byFrom.get(w3m)!, /documentation/);
    });

    it('an edge’s Precise asks the host for that one edge and shows the answer there', async () => {
      const git = sp('git-2.44.0');
      const perl = sp('perl-5.38.2');
      const g = fixture.graph;
      await h.page.focus(`#why-graph .wg-node[data-node="${g.indexOf(perl)}"]`);
      const edge = `#why-graph .why-graph-edge[data-from="${g.indexOf(git)}"]`;
      await h.page.click(`${edge} .precise-request`);
      const last = (await h.posted()).filter((m) => m.type === 'preciseRequest').pop();
      assert.deepEqual(last, { type: 'preciseRequest', chain: [git, perl] });
      await h.send({
        type: 'preciseResult',
        chain: [git, perl],
        edges: [
          {
            from: git,
            to: perl,
            hits: [
              {
                file: 'libexec/git-core/git-send-email',
                kind: 'file',
                offset: 2,
                before: '#!',
                hash: perl.split('/').pop()!.slice(0, 32),
                after: '-perl-5.38.2/bin/perl',
              },
            ],
          },
        ],
      });
      await h.page.waitForSelector(`${edge} .precise-hit`);
      assert.equal(
        await h.page.$eval(`${edge} .precise-file`, (e) => e.textContent),
        'libexec/git-core/git-send-email',
      );
      assert.equal(await h.page.$('#precise-results .precise-hit'), null, 'not in the chain’s answer');
    });
  });
});
