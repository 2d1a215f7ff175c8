/**
 * The sunburst bundle in headless Chromium, checked against the engine: arcs vs retained sizes (dominator tree)
 * and BFS distances (shortest-chain tree), clicks vs why.ts chains, search vs names.ts, themes, state, CSP.
 * Screenshots land in test-artifacts/.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { allChains, shortestChain } from '../../src/shared';
import { findByName } from '../../src/shared';
import { displayName } from '../../src/shared';
import type { ClosureGraph } from '../../src/shared';
import type { DominatorTree } from '../../src/shared';
import { publishScreenshot } from '../support/readmeScreenshots';
import { openHarness, type Harness } from './harness';
import { parseWebviewState } from '../../src/shared';
import {
  closureMessage,
  nixosLikeFixture,
  realSbomClosure,
  realSbomWithoutSizes,
  sp,
  syntheticClosure,
  type TestClosure,
} from './closures';

const TAU = 2 * Math.PI;

interface DrawnArc {
  key: string;
  node: number;
  depth: number;
  x0: number;
  x1: number;
  r0: number;
  r1: number;
  cls: string;
}

async function drawnArcs(page: Page): Promise<DrawnArc[]> {
  return page.$$eval('path.arc:not(.exiting)', (els) =>
    els.map((e) => {
      const d = (e as SVGPathElement).dataset;
      return {
        key: e.id.replace(/^arc-/, ''),
        node: Number(d['node']),
        depth: Number(d['depth']),
        x0: Number(d['x0']),
        x1: Number(d['x1']),
        r0: Number(d['r0']),
        r1: Number(d['r1']),
        cls: e.getAttribute('class') ?? '',
      };
    }),
  );
}

/** A real mouse click in the middle of an arc. */
async function clickArc(page: Page, key: string): Promise<void> {
  const point = await arcMiddle(page, key);
  await page.mouse.click(point.x, point.y);
}

/** The screen position of the middle of an arc, from its angles and radii. */
function arcMiddle(page: Page, key: string): Promise<{ x: number; y: number }> {
  return page.$eval(`#arc-${key}`, (el) => {
    const d = (el as SVGPathElement).dataset;
    const angle = (Number(d['x0']) + Number(d['x1'])) / 2;
    const r = (Number(d['r0']) + Number(d['r1'])) / 2;
    const svg = (el as SVGPathElement).ownerSVGElement!;
    const p = svg.createSVGPoint();
    p.x = r * Math.sin(angle);
    p.y = -r * Math.cos(angle);
    const s = p.matrixTransform(svg.getScreenCTM()!);
    return { x: s.x, y: s.y };
  });
}

const settle = (page: Page) => page.waitForTimeout(650); // zoom transitions take 450 ms

/** Back to the root through the first breadcrumb. */
async function home(page: Page): Promise<void> {
  await page.click('#crumbs .crumb >> nth=0');
  await settle(page);
}

async function crumbs(page: Page): Promise<string[]> {
  return page.$$eval('#crumbs .crumb', (els) => els.map((e) => e.textContent ?? ''));
}

/** The full name of the centre (the disc shows it shortened when it does not fit). */
async function centerName(page: Page): Promise<string> {
  return page.$eval('g.center', (e) => (e.getAttribute('aria-label') ?? '').split(',')[0]!);
}

function domDepth(dom: DominatorTree, center: number, v: number): number {
  let d = 0;
  for (let x = v; x !== center; x = dom.idom[x]!) {
    if (x < 0) return -1;
    d++;
  }
  return d;
}

/**
 * Checks the drawn arcs against the engine's dominator tree: every path arc's angle is its share of the
 * centre's retained size, sits under its immediate dominator, and each "more" arc holds exactly the
 * children that are not drawn, all smaller than any drawn sibling.
 */
function checkDominatorArcs(c: TestClosure, arcs: DrawnArc[], center: number): { paths: number; more: number } {
  const dom = c.analysis.dominators;
  const total = dom.retained[center]!;
  const drawn = new Map(arcs.filter((a) => a.node >= 0).map((a) => [a.node, a]));
  let more = 0;
  for (const a of arcs) {
    if (a.node >= 0) {
      const angle = a.x1 - a.x0;
      assert.ok(Math.abs(angle - (TAU * dom.retained[a.node]!) / total) < 1e-5, `angle of ${c.graph.paths[a.node]}`);
      assert.equal(a.depth, domDepth(dom, center, a.node), `ring of ${c.graph.paths[a.node]} is its dominator depth`);
      const parent = dom.idom[a.node]!;
      assert.ok(parent === center || drawn.has(parent), `the immediate dominator of ${c.graph.paths[a.node]} is drawn`);
      if (parent !== center) {
        const p = drawn.get(parent)!;
        assert.ok(a.x0 >= p.x0 - 1e-6 && a.x1 <= p.x1 + 1e-6, 'a child arc lies within its parent');
      }
    } else {
      more++;
      const parent = Number(a.key.slice(1));
      const kids = Array.from(dom.children(parent));
      const hidden = kids.filter((k) => !drawn.has(k));
      const shown = kids.filter((k) => drawn.has(k));
      let sum = 0;
      for (const k of hidden) sum += dom.retained[k]!;
      assert.ok(
        Math.abs(a.x1 - a.x0 - (TAU * sum) / total) < 1e-5,
        `"more" arc under ${c.graph.paths[parent]} holds the undrawn children`,
      );
      const smallestShown = Math.min(...shown.map((k) => dom.retained[k]!));
      for (const k of hidden)
        assert.ok(dom.retained[k]! <= smallestShown, 'only children smaller than every drawn sibling are merged');
    }
  }
  // Ring 1, with the centre's own NAR size (and merged children too thin for a "more" arc) as the gap,
  // covers the full circle.
  let ring1 = (TAU * c.graph.narSize[center]!) / total;
  for (const a of arcs) if (a.depth === 1) ring1 += a.x1 - a.x0;
  if (!arcs.some((a) => a.key === `m${center}`)) {
    for (const k of dom.children(center)) if (!drawn.has(k)) ring1 += (TAU * dom.retained[k]!) / total;
  }
  assert.ok(Math.abs(ring1 - TAU) < 1e-4, `ring 1 covers the circle (${ring1})`);
  return { paths: drawn.size, more };
}

/**
 * Which arcs the pruning rule must draw, computed straight from the engine's dominator tree: a path is drawn
 * when it is within `maxDepth` rings of the centre and its angle is at least `minAngle`; each drawn node (or
 * the centre) whose undrawn children add up to that gets one "more" arc. Valid below the arc cap.
 */
async function expectedArcs(
  page: Page,
  c: TestClosure,
  center: number,
): Promise<{ paths: Set<number>; more: Set<number>; capped: boolean }> {
  const p = await page.$eval('#chart', (e) => ({
    minAngle: Number(e.getAttribute('data-min-angle')),
    maxDepth: Number(e.getAttribute('data-max-depth')),
    maxArcs: Number(e.getAttribute('data-max-arcs')),
  }));
  const dom = c.analysis.dominators;
  const minValue = (p.minAngle / TAU) * dom.retained[center]!;
  const paths = new Set<number>();
  const more = new Set<number>();
  const walk = (v: number, depth: number) => {
    if (depth >= p.maxDepth) return;
    let hidden = 0;
    for (const k of dom.children(v)) {
      if (dom.retained[k]! >= minValue) {
        paths.add(k);
        walk(k, depth + 1);
      } else hidden += dom.retained[k]!;
    }
    // Merged children get a "more" arc when it is at least as wide as the narrowest path arc may be.
    if (hidden > 0 && hidden >= minValue) more.add(v);
  };
  walk(center, 0);
  return { paths, more, capped: paths.size + more.size >= p.maxArcs };
}

function labelOf(g: ClosureGraph, i: number): string {
  return displayName(g.name(i));
}

describe('sunburst webview in headless Chromium', function () {
  this.timeout(60_000);

  describe('on the NixOS-like fixture', () => {
    const fixture = nixosLikeFixture();
    const g = fixture.graph;
    let h: Harness;
    before(async () => {
      h = await openHarness();
      await h.sendClosure(closureMessage(fixture));
    });
    after(async () => {
      assert.deepEqual(await h.violations(), [], 'no CSP violations');
      await h.close();
    });

    it('draws the dominator tree: arc angles are the engine’s retained sizes', async () => {
      // The responsive grid may resize the chart once after the first draw (the side pane's content arrives); the
      // pruning rule is checked on the drawing that the last size produced.
      let arcs = await drawnArcs(h.page);
      let expected = await expectedArcs(h.page, fixture, 0);
      for (let tries = 0; tries < 20; tries++) {
        const same = new Set(arcs.filter((a) => a.node >= 0).map((a) => a.node));
        if (same.size === expected.paths.size && [...same].every((v) => expected.paths.has(v))) break;
        await settle(h.page);
        arcs = await drawnArcs(h.page);
        expected = await expectedArcs(h.page, fixture, 0);
      }
      const { paths, more } = checkDominatorArcs(fixture, arcs, 0);
      assert.equal(expected.capped, false);
      assert.deepEqual(new Set(arcs.filter((a) => a.node >= 0).map((a) => a.node)), expected.paths);
      assert.deepEqual(new Set(arcs.filter((a) => a.node < 0).map((a) => Number(a.key.slice(1)))), expected.more);
      // The fixture's root reaches 32 paths; the tiny ones (acl, attr, kmod, expat…) merge into "more" arcs.
      assert.ok(paths >= 10 && paths <= 32, `${paths} path arcs`);
      // Whatever the pixel threshold, every path worth 1% of the closure within three rings is drawn.
      const dom = fixture.analysis.dominators;
      const drawn = new Set(arcs.map((a) => a.node));
      for (let v = 1; v < g.nodeCount; v++) {
        if (dom.retained[v]! >= 0.01 * dom.retained[0]! && domDepth(dom, 0, v) <= 3)
          assert.ok(drawn.has(v), `${g.paths[v]} is drawn`);
      }
      assert.ok(more >= 1, 'tiny arcs are merged');
      assert.equal(await centerName(h.page), 'nixos-system-demo-24.05');
      await h.screenshot('sunburst-fixture.png');
    });

    it('has no inline handlers and labels every arc for screen readers', async () => {
      const inline = await h.page.$$eval('*', (els) =>
        els.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => a.name)),
      );
      assert.deepEqual(inline, []);
      const unlabeled = await h.page.$$eval(
        'path.arc',
        (els) => els.filter((e) => !e.getAttribute('aria-label')).length,
      );
      assert.equal(unlabeled, 0);
      const label = await h.page.$eval(`#arc-n${g.indexOf(sp('firmware'))}`, (e) => e.getAttribute('aria-label'));
      assert.match(label!, /^firmware, retained 300\.0 MiB \(\d+\.\d%\)$/);
    });

    it('shows a tooltip with sizes and referrers on hover', async () => {
      const perl = g.indexOf(sp('system-path'))!;
      const box = await arcMiddle(h.page, `n${perl}`);
      await h.page.mouse.move(box.x, box.y);
      const tip = await h.page.$eval('#tooltip', (e) => ({
        hidden: (e as HTMLElement).hidden,
        text: e.textContent ?? '',
      }));
      assert.equal(tip.hidden, false);
      const a = fixture.analysis;
      assert.ok(tip.text.includes('system-path'));
      assert.ok(tip.text.includes(`Closure size${formatIec(a.closureSize(perl))}`), tip.text);
      assert.ok(tip.text.includes(`Retained size${formatIec(a.retainedSize(perl))}`), tip.text);
      assert.ok(tip.text.includes(`Referrers${g.referrers(perl).length}`), tip.text);
      await h.page.mouse.move(2, 790);
    });

    it('a click zooms in, shows breadcrumbs and the chains that why.ts finds', async () => {
      const systemPath = g.indexOf(sp('system-path'))!;
      const perl = g.indexOf(sp('perl-5.38.2'))!;
      await clickArc(h.page, `n${systemPath}`);
      await settle(h.page);
      assert.equal(await centerName(h.page), 'system-path');
      assert.deepEqual(await crumbs(h.page), ['.#nixosConfigurations.demo', 'system-path']);
      checkDominatorArcs(fixture, await drawnArcs(h.page), systemPath);

      // perl is kept alive by system-path alone (two chains meet there), so it is a child of system-path.
      await clickArc(h.page, `n${perl}`);
      await settle(h.page);
      assert.deepEqual(await crumbs(h.page), ['.#nixosConfigurations.demo', 'system-path', 'perl-5.38.2']);
      assert.equal(await centerName(h.page), 'perl-5.38.2');

      const expected = shortestChain(g, 0, perl)!.map((i) => labelOf(g, i));
      const shown = await h.page.$$eval('#why .chain.shortest .step', (els) => els.map((e) => e.textContent));
      assert.deepEqual(shown, expected);
      const all = allChains(g, 0, perl, 50);
      const listed = await h.page.$$eval('#all-chains .chain', (els) =>
        els.map((c) => [...c.querySelectorAll('.step')].map((s) => s.textContent)),
      );
      assert.deepEqual(
        listed,
        all.chains.map((c) => c.map((i) => labelOf(g, i))),
      );
      assert.equal(all.totalChains, 2);
      assert.equal(await h.page.$eval('#all-chains', (e) => e.getAttribute('description')), '2 in total');

      // Each chain names the option definition nearest the dependency.
      const defs = await h.page.$$eval('#all-chains .chain', (els) =>
        els.map((c) => c.querySelector('.definition')?.textContent ?? ''),
      );
      assert.match(defs[0]!, /environment\.systemPackages brings in git-2\.44\.0/);
      assert.match(defs[0]!, /configuration\.nix:12/);
      assert.doesNotMatch(defs[0]!, /…\//, "the host's workspace-relative label, not a shortened absolute path");
      assert.match(defs[1]!, /environment\.systemPackages brings in nixos-help/);
      assert.match(defs[1]!, /…\/modules\/misc\/documentation\.nix:331/);
      // Without measured costs (no `enables` causes in this fixture) the chain names the definition that carries
      // the path; with them, the user's line that switched the module on leads (test/e2e/suite/trueCosts.test.ts).
      assert.match(defs[1]!, /removing it saves 12\.5 MiB/);

      const posted = await h.posted();
      assert.deepEqual(
        posted.filter((m) => m.type === 'selected').map((m) => (m as { path: string }).path),
        [sp('system-path'), sp('perl-5.38.2')],
      );
      const state = (await h.state()) as { selected?: string; zoom?: string };
      assert.equal(state.selected, sp('perl-5.38.2'));
      assert.equal(state.zoom, sp('perl-5.38.2'));
      await h.screenshot('sunburst-fixture-why-perl.png');
    });

    it('steps, actions and definition links post validated messages to the host', async () => {
      await h.page.click('#all-chains');
      await h.page.click('#all-chains .chain .definition-link');
      await h.page.click('#act-copy-path');
      await h.page.click('#act-reveal');
      await h.page.click('#act-why');
      const posted = (await h.posted()).slice(-4);
      assert.deepEqual(posted, [
        { type: 'openDefinition', file: '/home/alice/flake/configuration.nix', line: 12 },
        { type: 'copyPath', path: sp('perl-5.38.2') },
        { type: 'revealInTree', path: sp('perl-5.38.2') },
        { type: 'copyWhyCommand', path: sp('perl-5.38.2') },
      ]);
      // A step selects that path.
      await h.page.click('#why .chain.shortest .step[data-node="' + g.indexOf(sp('git-2.44.0')) + '"]');
      assert.equal(await h.page.$eval('#details h2', (e) => e.textContent), 'git');
    });

    it('the centre and Escape zoom out; arrows and Enter navigate', async () => {
      const before = await centerName(h.page);
      await h.page.click('.center-disc');
      await settle(h.page);
      assert.ok(
        ['system-path', 'nixos-system-demo-24.05'].includes(await centerName(h.page)),
        `${before} → ${await centerName(h.page)}`,
      );
      await h.page.focus('#chart');
      await h.page.keyboard.press('Escape');
      await settle(h.page);
      assert.equal(await centerName(h.page), 'nixos-system-demo-24.05');
      await h.page.keyboard.press('ArrowRight');
      const first = await h.page.$eval('#chart', (e) => e.getAttribute('aria-activedescendant'));
      await h.page.keyboard.press('ArrowRight');
      const second = await h.page.$eval('#chart', (e) => e.getAttribute('aria-activedescendant'));
      assert.ok(first && second && first !== second, `${first} → ${second}`);
      const node = Number(second!.replace('arc-n', ''));
      const hasChildren = fixture.analysis.dominators.children(node).length > 0;
      await h.page.keyboard.press('Enter');
      await settle(h.page);
      assert.equal(await centerName(h.page), hasChildren ? labelOf(g, node) : 'nixos-system-demo-24.05');
      // Escape goes out one level: to the immediate dominator.
      await h.page.keyboard.press('Escape');
      await settle(h.page);
      const up = hasChildren ? fixture.analysis.dominators.idom[node]! : 0;
      assert.equal(await centerName(h.page), up === 0 ? 'nixos-system-demo-24.05' : labelOf(g, up));
    });

    it('search by name and /regex/ highlights the matches and lists their total size', async () => {
      await home(h.page);
      for (const q of ['perl', '/^systemd/']) {
        await h.page.fill('#search input', '').catch(() => undefined);
        await h.page.locator('#search').click();
        await h.page.keyboard.press('Control+A');
        await h.page.keyboard.type(q);
        await h.page.waitForTimeout(400);
        const expected = findByName(g, q);
        assert.ok(expected.length >= 2, q);
        assert.equal(await h.page.$eval('#search-count', (e) => e.textContent), String(expected.length));
        const listed = await h.page.$$eval('#search-results .step', (els) =>
          els.map((e) => Number((e as HTMLElement).dataset['node'])),
        );
        assert.deepEqual(
          [...listed].sort((a, b) => a - b),
          [...expected].sort((a, b) => a - b),
        );
        let total = 0;
        for (const i of expected) total += g.narSize[i]!;
        assert.match(
          await h.page.$eval('#search-summary', (e) => e.textContent ?? ''),
          new RegExp(`^${expected.length} matches, ${escapeRe(formatIec(total))} NAR together`),
        );
        const arcs = await drawnArcs(h.page);
        const matched = arcs.filter((a) => a.cls.split(' ').includes('match'));
        const dimmed = arcs.filter((a) => a.cls.split(' ').includes('dim'));
        assert.ok(matched.length > 0 && dimmed.length > 0);
        for (const a of matched.filter((x) => x.node >= 0 && !x.cls.includes('has-hidden')))
          assert.ok(expected.includes(a.node), `${a.node} is a match`);
        for (const i of expected) {
          const arc = arcs.find((a) => a.node === i);
          if (arc) assert.ok(arc.cls.includes('match'), `${g.paths[i]} is highlighted`);
        }
        if (q === 'perl') await h.screenshot('sunburst-fixture-search.png');
      }
      await h.page.locator('#search').click();
      await h.page.keyboard.press('Escape');
      await h.page.waitForTimeout(300);
      assert.equal(await h.page.$$eval('path.arc.dim', (els) => els.length), 0);
    });

    it('the legend totals each category and highlights it on click', async () => {
      await home(h.page);
      const items = await h.page.$$eval('.legend-item', (els) => els.map((e) => e.textContent ?? ''));
      const fonts = items.find((t) => t.startsWith('Fonts'))!;
      assert.match(fonts, /^Fonts11\.0 MiB · 1%$/, fonts); // dejavu-fonts alone
      await h.page.click('.legend-item:has-text("Fonts")');
      const arcs = await drawnArcs(h.page);
      const hits = arcs.filter((a) => a.cls.split(' ').includes('match'));
      assert.deepEqual(
        hits.map((a) => a.node),
        [g.indexOf(sp('dejavu-fonts-2.37'))],
      );
      assert.ok(arcs.filter((a) => a.cls.includes('dim')).length === arcs.length - 1);
      await h.page.click('.legend-item:has-text("Fonts")');
      assert.equal(await h.page.$$eval('path.arc.dim', (e) => e.length), 0);
    });

    it('switching themes recolors the arcs from the theme variables', async () => {
      await home(h.page);
      const glibcKey = `#arc-n${g.indexOf(sp('glibc-2.39-52'))}`;
      const colors: Record<string, { fill: string; stroke: string; bg: string }> = {};
      for (const t of ['dark', 'light', 'high-contrast'] as const) {
        await h.theme(t);
        colors[t] = await h.page.$eval(glibcKey, (e) => {
          const cs = getComputedStyle(e);
          return { fill: cs.fill, stroke: cs.stroke, bg: getComputedStyle(document.body).backgroundColor };
        });
        await h.screenshot(`sunburst-fixture-${t}.png`);
      }
      assert.equal(colors['dark']!.fill, 'rgb(55, 148, 255)'); // --vscode-charts-blue, dark
      assert.equal(colors['light']!.fill, 'rgb(26, 133, 255)'); // light
      assert.equal(colors['light']!.bg, 'rgb(255, 255, 255)');
      assert.equal(colors['high-contrast']!.stroke, 'rgb(111, 195, 223)'); // --vscode-contrastBorder outlines
      assert.notEqual(colors['dark']!.stroke, colors['light']!.stroke);
      await h.theme('dark');
    });

    it('the shortest-chain tree puts every path at its BFS distance, under its why-chain parent', async () => {
      await home(h.page);
      await h.page.click('vscode-radio[value="chain"]');
      await settle(h.page);
      const arcs = (await drawnArcs(h.page)).filter((a) => a.node >= 0);
      const dist = fixture.analysis.distances;
      assert.ok(arcs.length > 20);
      for (const a of arcs) assert.equal(a.depth, dist[a.node], `${g.paths[a.node]} at distance ${dist[a.node]}`);
      // perl sits under git here (the shortest chain), not under system-path.
      const perl = arcs.find((a) => a.node === g.indexOf(sp('perl-5.38.2')))!;
      const git = arcs.find((a) => a.node === g.indexOf(sp('git-2.44.0')))!;
      assert.ok(perl.x0 >= git.x0 - 1e-6 && perl.x1 <= git.x1 + 1e-6);
      assert.equal(((await h.state()) as { mode: string }).mode, 'chain');
      await h.screenshot('sunburst-fixture-chains.png');
      await h.page.click('vscode-radio[value="dominator"]');
      await settle(h.page);
    });

    it('a "more" arc lists the paths it merges', async () => {
      await home(h.page);
      const more = (await drawnArcs(h.page)).find((a) => a.node < 0)!;
      await clickArc(h.page, more.key);
      const parent = Number(more.key.slice(1));
      const kids = Array.from(fixture.analysis.dominators.children(parent));
      const drawn = new Set((await drawnArcs(h.page)).map((a) => a.node));
      const merged = kids.filter((k) => !drawn.has(k));
      const listed = await h.page.$$eval('#more .step', (els) =>
        els.map((e) => Number((e as HTMLElement).dataset['node'])),
      );
      assert.deepEqual(listed, merged);
    });

    it('the host can select a path (from the sidebar)', async () => {
      await h.send({ type: 'select', path: sp('openssl-3.0.13') });
      await settle(h.page);
      assert.equal(await h.page.$eval('#details h2', (e) => e.textContent), 'openssl');
      assert.ok((await crumbs(h.page)).includes('openssl-3.0.13'));
    });
  });

  describe('on the real NixOS 23.11 system (SBOM, sampled sizes)', () => {
    const real = realSbomClosure();
    let h: Harness;
    before(async () => {
      h = await openHarness({ width: 1400, height: 900 });
      await h.sendClosure(closureMessage(real));
    });
    after(async () => {
      assert.deepEqual(await h.violations(), []);
      await h.close();
    });

    it('draws 628 paths as a pruned dominator tree whose angles are the retained sizes', async () => {
      assert.equal(real.graph.nodeCount, 628);
      const arcs = await drawnArcs(h.page);
      const { paths, more } = checkDominatorArcs(real, arcs, 0);
      const expected = await expectedArcs(h.page, real, 0);
      assert.equal(expected.capped, false);
      assert.equal(arcs.length, expected.paths.size + expected.more.size, 'arc count');
      assert.deepEqual(new Set(arcs.filter((a) => a.node >= 0).map((a) => a.node)), expected.paths);
      assert.deepEqual(new Set(arcs.filter((a) => a.node < 0).map((a) => Number(a.key.slice(1)))), expected.more);
      // The sampled sizes are heavy-tailed (a few paths of ~1-2 GB), so few arcs are wide enough to draw.
      assert.ok(paths >= 10 && paths < 628, `${paths} path arcs`);
      const dom = real.analysis.dominators;
      const drawn = new Set(arcs.map((a) => a.node));
      for (let v = 1; v < real.graph.nodeCount; v++) {
        if (dom.retained[v]! >= 0.01 * dom.retained[0]! && domDepth(dom, 0, v) <= 3)
          assert.ok(drawn.has(v), `${real.graph.paths[v]} is drawn`);
      }
      assert.ok(more > 0);
      assert.match(await h.page.$eval('#footer', (e) => e.textContent ?? ''), /^628 paths · /);
      await h.screenshot('sunburst-sbom.png');
    });

    it('zooms into the heaviest child and keeps the angles exact there', async () => {
      const top = real.analysis.heaviest(1)[0]!;
      const parent = real.analysis.dominators.idom[top]!;
      const target = parent === 0 ? top : parent;
      await clickArc(h.page, `n${target}`);
      await settle(h.page);
      const zoomed = await drawnArcs(h.page);
      checkDominatorArcs(real, zoomed, target);
      const expected = await expectedArcs(h.page, real, target);
      assert.equal(zoomed.length, expected.paths.size + expected.more.size, 'arc count after zooming');
      const chain = shortestChain(real.graph, 0, target)!.map((i) => labelOf(real.graph, i));
      assert.deepEqual(
        await h.page.$$eval('#why .chain.shortest .step', (els) => els.map((e) => e.textContent)),
        chain,
      );
      await h.screenshot('sunburst-sbom-zoomed.png');
    });
  });

  describe('on the real SBOM without sizes', () => {
    it('counts paths instead of bytes and says so', async () => {
      const c = realSbomWithoutSizes();
      const h = await openHarness();
      try {
        await h.sendClosure(closureMessage(c));
        assert.match(
          await h.page.$eval('#footer', (e) => e.textContent ?? ''),
          /no sizes in this input: arcs count paths/,
        );
        // Angles are dominator-subtree path counts.
        const dom = c.analysis.dominators;
        const count = new Float64Array(c.graph.nodeCount).fill(1);
        const order = [...Array(c.graph.nodeCount).keys()].sort((a, b) => domDepth(dom, 0, b) - domDepth(dom, 0, a));
        for (const v of order) if (dom.idom[v]! >= 0) count[dom.idom[v]!]! += count[v]!;
        for (const a of (await drawnArcs(h.page)).filter((x) => x.node >= 0)) {
          assert.ok(Math.abs(a.x1 - a.x0 - (TAU * count[a.node]!) / count[0]!) < 1e-5);
        }
        assert.deepEqual(await h.violations(), []);
      } finally {
        await h.close();
      }
    });
  });

  describe('README picture', () => {
    it('the fixture with perl selected and every chain open (test-artifacts/sunburst-readme.png)', async () => {
      const fixture = nixosLikeFixture();
      const h = await openHarness({ state: { v: 1, mode: 'dominator', allChains: true } });
      try {
        await h.sendClosure(closureMessage(fixture));
        await h.send({ type: 'select', path: sp('perl-5.38.2') });
        await h.page.waitForSelector('#all-chains .definition');
        await settle(h.page);
        assert.equal(await h.page.$$eval('#all-chains .chain', (e) => e.length), 2);
        publishScreenshot(await h.screenshot('sunburst-readme.png'), 'screenshot-sunburst.png');
      } finally {
        await h.close();
      }
    });
  });

  describe('state', () => {
    it('restores selection, zoom, mode and search after the webview is recreated', async () => {
      const fixture = nixosLikeFixture();
      const g = fixture.graph;
      const h = await openHarness({
        state: {
          v: 1,
          mode: 'dominator',
          allChains: true,
          selected: sp('perl-5.38.2'),
          zoom: sp('system-path'),
          search: 'glibc',
        },
      });
      try {
        await h.sendClosure(closureMessage(fixture, undefined, false));
        await h.page.waitForSelector('#why .chain');
        assert.equal(await centerName(h.page), 'system-path');
        assert.deepEqual(await crumbs(h.page), ['.#nixosConfigurations.demo', 'system-path', 'perl-5.38.2']);
        assert.equal(await h.page.$eval('#search-count', (e) => e.textContent), String(findByName(g, 'glibc').length));
        assert.equal(await h.page.$eval('#search', (e) => (e as HTMLInputElement).value), 'glibc');
        assert.equal(
          await h.page.$eval('vscode-radio[value="dominator"]', (e) => (e as HTMLInputElement).checked),
          true,
        );
        assert.equal(await h.page.$eval('#all-chains', (e) => e.hasAttribute('open')), true);
        // Attribution can arrive after the closure.
        assert.equal(await h.page.$$eval('.definition', (e) => e.length), 0);
        await h.send({ type: 'attribution', attribution: closureMessage(fixture).snapshot.attribution! });
        await h.page.waitForSelector('.definition');
        assert.match(
          await h.page.$eval('#footer', (e) => e.textContent ?? ''),
          /5 option definitions \(evaluated in 2\.3 s\)/,
        );
      } finally {
        await h.close();
      }
    });

    it('keeps only the view state (a few hundred bytes), never the closure, in getState/setState', async () => {
      const c = syntheticClosure(20_000);
      const h = await openHarness();
      try {
        await h.sendClosure(closureMessage(c));
        const arc = (await drawnArcs(h.page)).filter((a) => a.node > 0).sort((a, b) => b.x1 - b.x0 - (a.x1 - a.x0))[0]!;
        await clickArc(h.page, arc.key);
        await settle(h.page);
        const state = (await h.state()) as Record<string, unknown>;
        assert.equal(state['zoom'], c.graph.paths[arc.node], 'the zoom is kept');
        assert.deepEqual(parseWebviewState(state), state, 'what the serializer gets back is exactly what was stored');
        assert.ok(JSON.stringify(state).length < 1000, JSON.stringify(state));
      } finally {
        await h.close();
      }
    });

    it('refuses a damaged closure or attribution payload: says so, reports it to the host, draws the next good one', async () => {
      const fixture = nixosLikeFixture();
      const good = closureMessage(fixture, undefined, false);
      const h = await openHarness();
      try {
        await h.send({ ...good, snapshot: { ...good.snapshot, narSize: good.snapshot.narSize.subarray(1) } });
        await h.page.waitForSelector('#status[role="alert"]');
        assert.match(
          await h.page.$eval('#status .status-message', (e) => e.textContent ?? ''),
          /damaged payload .*"narSize" has/,
        );
        const reports = (await h.posted()).filter((m) => m.type === 'reportError');
        assert.match(
          reports.at(-1)?.type === 'reportError' ? reports.at(-1)!.message : '',
          /rejected a message from the extension: closure: snapshot: "narSize"/,
        );

        await h.sendClosure(good);
        assert.equal(await h.page.$$eval('#status', (e) => e.length), 0, 'the good closure replaced the error');
        const a = closureMessage(fixture).snapshot.attribution!;
        await h.send({ type: 'attribution', attribution: { ...a, defOffsets: a.defOffsets.subarray(1) } });
        await h.page.waitForFunction(() =>
          (window as unknown as { __posted: { type: string; message?: string }[] }).__posted.some(
            (m) => m.type === 'reportError' && /attribution/.test(m.message ?? ''),
          ),
        );
        await h.send({ type: 'select', path: sp('perl-5.38.2') });
        await h.page.waitForSelector('#why .chain');
        assert.equal(
          await h.page.$$eval('.definition', (e) => e.length),
          0,
          'no definitions from the refused attribution',
        );
      } finally {
        await h.close();
      }
    });

    it('shows loading and error messages with their fix', async () => {
      const h = await openHarness();
      try {
        // A page that waits for the user's choice shows no spinner at all; a load shows one only after 1.5 s (what
        // animates takes the CPU from nix: the animated ring it replaces kept a core a third busy).
        assert.equal(await h.page.$eval('#status .status-message', (e) => e.textContent), 'Waiting for the closure…');
        assert.equal(await h.page.locator('#status .busy-turn').count(), 0);
        await h.send({
          type: 'loading',
          title: '.#x',
          message: 'Building .#x…',
          target: { kind: 'installable', installable: '.#x' },
        });
        assert.equal(await h.page.$eval('#status .status-message', (e) => e.textContent), 'Building .#x…');
        const timing = () =>
          h.page.evaluate(() =>
            document.getAnimations().map((a) => {
              const t = a.effect!.getComputedTiming();
              return { name: (a as CSSAnimation).animationName, progress: t.progress, delay: t.delay };
            }),
          );
        const early = await timing();
        assert.deepEqual(early.map((a) => a.name).sort(), ['busy-appear', 'busy-turn']);
        assert.ok(
          early.every((a) => a.progress === null && a.delay === 1500),
          `nothing animates in the first 1.5 s: ${JSON.stringify(early)}`,
        );
        await h.page.waitForTimeout(1700);
        assert.ok(
          (await timing()).some((a) => a.name === 'busy-turn' && a.progress !== null),
          'then the glyph turns',
        );
        // A panel reloaded while still loading knows what to load.
        assert.deepEqual(((await h.state()) as { target?: unknown }).target, {
          kind: 'installable',
          installable: '.#x',
        });
        await h.send({ type: 'error', message: 'nix is not installed', fix: 'Install Nix 2.8 or later.' });
        assert.equal(await h.page.$eval('#status', (e) => e.getAttribute('role')), 'alert');
        assert.equal(await h.page.$eval('#status .status-fix', (e) => e.textContent), 'Install Nix 2.8 or later.');
      } finally {
        await h.close();
      }
    });
  });
});

function formatIec(n: number): string {
  // The webview formats with src/core/format.ts; compare against the same rules, spelled out.
  let p = 0;
  let v = n;
  while (v > 1024 && p < 8) {
    p++;
    v /= 1024;
  }
  if (p === 0) return `${(v / 1024).toFixed(1)} KiB`;
  return `${v.toFixed(1)} ${'KMGTPEZY'[p - 1]}iB`;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
