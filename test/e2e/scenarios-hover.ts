/**
 * UI scenario of the sidebar tree and the option hovers: a user shows the demo configuration's closure, expands the
 * "Nix Closure" tree and clicks a heaviest path (the sunburst opens on it), then hovers over an option in
 * configuration.nix, reads its cost, and follows the hover's "Show in sunburst" link. Numbers are checked against
 * the engine on real nix output, computed here.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ClosureAnalysis } from '../../src/core/analysis';
import { OptionAttribution } from '../../src/core/attribution';
import { AttributionService } from '../../src/core/attribution';
import { formatBytes } from '../../src/shared';
import { ClosureGraph } from '../../src/shared';
import { NixRunner } from '../../src/core/nix';
import { parseClosureJson } from '../../src/core/parse';
import { waitFor } from './browser';
import type { Step } from './scenarios';
import type { Session } from './session';
import { NIX_CONFIG } from './workspace';

const PALETTE_PREFIX = 'Nix Closure Lens: ';
const DEMO = 'nixosConfigurations.demo';

interface Expected {
  readonly analysis: ClosureAnalysis;
  readonly attribution: OptionAttribution;
  readonly toplevel: string;
}
const expectations = new WeakMap<Session, Promise<Expected>>();

/** The engine on real nix output, for this session's copy of the example flake. */
function expected(s: Session): Promise<Expected> {
  let p = expectations.get(s);
  if (!p) {
    p = (async () => {
      const nix = new NixRunner({ env: { NIX_CONFIG }, timeoutMs: 120_000 });
      const flake = s.workspace.flakeRef;
      const toplevel = (
        await nix.run(['eval', '--raw', `${flake}#${DEMO}.config.system.build.toplevel.outPath`])
      ).stdout.trim();
      const parsed = parseClosureJson((await nix.run(['path-info', '-r', '--json', toplevel])).stdout, 'nix path-info');
      const graph = ClosureGraph.build(parsed.records, [toplevel]);
      const ev = await new AttributionService(nix).evaluate(`${flake}#${DEMO}`, { cwd: s.workspace.folder });
      return {
        analysis: new ClosureAnalysis(graph),
        attribution: new OptionAttribution({ graph, evaluation: ev }),
        toplevel,
      };
    })();
    expectations.set(s, p);
  }
  return p;
}

/** The "Nix Closure" tree's row with this label. */
function treeRow(s: Session, label: string) {
  return s.workbench.page.locator('.part.sidebar .monaco-list-row[role=treeitem]', {
    has: s.workbench.page.locator('.label-name', {
      hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    }),
  });
}

export const hoverAndTree: Step[] = [
  {
    title: 'Show closure of nixosConfigurations.demo; the Nix Closure tree lists it with its closure size',
    async run(s) {
      const { workbench } = s;
      await workbench.runCommand(`${PALETTE_PREFIX}Show closure`);
      await workbench.pick(/nixosConfigurations\.demo|\bdemo\b/, 'demo');
      const footer = workbench.webview().locator('#footer');
      await waitFor(
        'the sunburst footer',
        async () => /paths/.test((await footer.textContent({ timeout: 2000 })) ?? ''),
        120_000,
      );
      await workbench.page.locator('.activitybar .action-item a[aria-label^="Nix Closure"]').first().click();
      const e = await expected(s);
      const target = treeRow(s, DEMO).first();
      await target.waitFor({ timeout: 30_000 });
      const description = await target.locator('.label-description').textContent();
      assert.equal(description, `${formatBytes(e.analysis.totalSize)} · ${e.analysis.graph.pathCount} paths`);
    },
  },
  {
    title: 'clicking a heaviest path in the tree opens the sunburst on it',
    async run(s) {
      const e = await expected(s);
      const g = e.analysis.graph;
      // The heaviest path after the toplevel itself: a real dependency with a why panel of its own.
      const heavy = e.analysis.heaviest(25).find((i) => g.paths[i] !== e.toplevel)!;
      const name = g.name(heavy);
      const row = treeRow(s, name.pname).first();
      await row.waitFor({ timeout: 30_000 });
      assert.equal(
        await row.locator('.label-description').textContent(),
        `${name.version} · ${formatBytes(e.analysis.retainedSize(heavy))}`,
      );
      await s.workbench.screenshot('tree-demo');
      await row.click();
      await s.workbench.webview().locator('#why h3', { hasText: name.pname }).waitFor({ timeout: 20_000 });
      await s.workbench.screenshot('tree-click-sunburst');
    },
  },
  {
    title: 'hovering environment.systemPackages in configuration.nix shows its removal cost, as the engine computes it',
    async run(s) {
      const { page } = s.workbench;
      const e = await expected(s);
      const configuration = path.join(s.workspace.folder, 'configuration.nix');
      const d = e.attribution.definitions.find(
        (x) => x.file === configuration && x.option === 'environment.systemPackages',
      );
      assert.ok(d, 'the engine finds the definition in configuration.nix');
      const cost = e.attribution.removalCost(d.id);
      const g = e.attribution.graph;
      const lost = e.attribution
        .lostNodes(e.attribution.exclusiveNodes(d.id))
        .sort((a, b) => g.narSize[b]! - g.narSize[a]! || a - b);

      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill('configuration.nix');
      await page
        .locator('.quick-input-widget .monaco-list-row', { hasText: 'configuration.nix' })
        .first()
        .waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      const line = page.locator('.editor-instance .view-line', { hasText: 'environment.systemPackages' }).first();
      await line.waitFor({ timeout: 20_000 });

      // The option costs arrive after Show closure (automatic): hover until the hover has them.
      const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content');
      const text = await waitFor(
        'the hover with the removal cost',
        async () => {
          const box = await line.boundingBox();
          const lineText = (await line.textContent()) ?? '';
          if (!box) return undefined;
          const charWidth = box.width / Math.max(1, lineText.length);
          const x = box.x + (lineText.indexOf('environment') + 4) * charWidth;
          await page.mouse.move(box.x + box.width + 200, box.y + 200);
          await page.mouse.move(x, box.y + box.height / 2);
          const t = await hover
            .first()
            .textContent({ timeout: 3000 })
            .catch(() => '');
          return t && t.includes('Removal cost') ? t : undefined;
        },
        90_000,
        500,
      );
      await s.workbench.screenshot('hover-environment-systemPackages');
      assert.ok(text.includes(`Removal cost: ${formatBytes(cost)}`), text);
      assert.ok(text.includes(`${((100 * cost) / e.analysis.totalSize).toFixed(1)} % of the closure`), text);
      // The hover leads with the measured cost (evaluated without the definition); here it agrees with the graph's.
      assert.ok(text.includes(`· ${lost.length} ${lost.length === 1 ? 'path' : 'paths'} ·`), text);
      assert.ok(text.includes('measured by evaluating without it'), text);
      assert.ok(text.includes(DEMO), text);

      // "Show in sunburst" on the hover: the sunburst selects that path.
      await hover.locator('a', { hasText: 'Show in sunburst' }).first().click();
      // (the heaviest path it takes away, else the first path it carries)
      const focus = lost[0] ?? d.nodes[0]!;
      await s.workbench
        .webview()
        .locator('#why h3', { hasText: g.name(focus).pname })
        .waitFor({ timeout: 20_000 });
      await s.workbench.screenshot('hover-show-in-sunburst');
    },
  },
  {
    title: 'the status bar shows the closure size; clicking it brings the closed sunburst back',
    async run(s) {
      const { workbench } = s;
      const e = await expected(s);
      const item = workbench.page
        .locator('.statusbar-item', { hasText: `${DEMO}: ${formatBytes(e.analysis.totalSize)}` })
        .first();
      await item.waitFor({ timeout: 15_000 });
      await workbench.runCommand('View: Close All Editors');
      await waitFor(
        'the sunburst to close',
        async () => (await workbench.page.locator('.tabs-container .tab', { hasText: 'Closure:' }).count()) === 0,
        15_000,
      );
      await item.click();
      const footer = workbench.webview().locator('#footer');
      await waitFor(
        'the sunburst footer',
        async () => /paths/.test((await footer.textContent({ timeout: 2000 })) ?? ''),
        30_000,
      );
      assert.ok(((await footer.textContent()) ?? '').includes(`${e.analysis.graph.pathCount} paths`));
    },
  },
];
