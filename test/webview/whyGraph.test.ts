/**
 * The why panel's why-graph as a list (the drawing's accessible alternative) in headless Chromium on a real NixOS
 * closure (the sbomnix SBOM): for glibc, a hub, the layers hold exactly the engine's why-graph nodes (each once, by distance from the root), each layer lists
 * first the paths most chains run through and expands on click, and a path clicked (or reached with the
 * keyboard) is selected in the sunburst.
 */
import assert from 'node:assert/strict';
import { distancesFrom, whyGraph } from '../../src/shared';
import { openHarness, type Harness } from './harness';
import { closureMessage, realSbomClosure, type TestClosure } from './closures';

describe('webview: the why-graph of a hub (real NixOS SBOM)', function () {
  this.timeout(120_000);
  let h: Harness;
  let fixture: TestClosure;

  before(async () => {
    fixture = realSbomClosure();
    h = await openHarness({ height: 1400 });
    await h.sendClosure(closureMessage(fixture));
  });
  after(async () => {
    assert.deepEqual(await h.violations(), [], 'no CSP violations');
    await h.close();
  });

  it('glibc: every node of the why-graph once, in its layer, most chains first; more on click', async () => {
    const g = fixture.graph;
    const glibc = [...g.paths.keys()].find((i) => /-glibc-2\.\d+(-\d+)?$/.test(g.paths[i]!))!;
    await h.send({ type: 'select', path: g.paths[glibc]! });
    await h.page.waitForSelector('#why-graph');
    await h.page.click('#why-graph');
    await h.page.click('#why-graph .why-graph-list summary');
    // expand every layer
    for (;;) {
      const more = await h.page.$('#why-graph .why-layer-more');
      if (!more) break;
      await more.click();
    }
    const shown = await h.page.$$eval('#why-graph .why-layer', (els) =>
      els.map((l) => [...l.querySelectorAll('.step')].map((b) => Number(b.getAttribute('data-node')))),
    );
    const wg = whyGraph(g, g.root, glibc, 0);
    const dist = distancesFrom(g, g.root);
    const shift = g.hasVirtualRoot ? 1 : 0;
    const flat = shown.flat();
    assert.equal(new Set(flat).size, flat.length, 'each path once');
    assert.deepEqual(
      [...flat].sort((a, b) => a - b),
      [...wg.nodes].filter((v) => !g.isVirtual(v)).sort((a, b) => a - b),
    );
    shown.forEach((layer, k) => layer.forEach((v) => assert.equal(dist[v]! - shift, k, `layer of ${g.paths[v]}`)));
    assert.ok(flat.length > 100, `a hub: ${flat.length} paths`);
    const description = await h.page.$eval('#why-graph', (e) => e.getAttribute('description'));
    assert.match(description!, /paths · [\d,]+ references · (about 2\^\d+|[\d,]+) chains/);
    // within a layer, most chains through first
    const through = new Map([...wg.nodes].map((v, k) => [v, wg.chainsThroughLog2[k]!]));
    for (const layer of shown)
      for (let k = 1; k < layer.length; k++) assert.ok(through.get(layer[k - 1]!)! >= through.get(layer[k]!)!);
    await h.screenshot('why-graph-glibc.png');
  });

  it('a path of the why-graph clicked is selected in the sunburst (and posted to the host)', async () => {
    const g = fixture.graph;
    const node = Number(
      await h.page.$eval('#why-graph .why-layer[data-layer="2"] .step', (b) => b.getAttribute('data-node')),
    );
    await h.page.focus('#why-graph .why-layer[data-layer="2"] .step');
    await h.page.keyboard.press('Enter');
    const posted = await h.posted();
    const last = posted.filter((m) => m.type === 'selected').pop() as { path: string } | undefined;
    assert.equal(last?.path, g.paths[node]);
  });
});
