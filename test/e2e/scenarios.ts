/**
 * UI scenarios: what a user does on the example flake, through the workbench only (palette, quick picks, the
 * webview, notifications). Each step of a list runs in order in one session, and a step may rely on the ones
 * before it. Screenshots land in test-artifacts/.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from './browser';
import * as oracle from './oracle';
import { outputChannelLines } from './outputChannel';
import type { Session } from './session';
import { parseTimeline, timelineLines } from './timelineLog';

export interface Step {
  readonly title: string;
  run(s: Session): Promise<void>;
}

const PALETTE_PREFIX = 'Nix Closure Lens: ';

/**
 * The workbench loads, the extension's contributions show, and it activates and works: Show closure lists the
 * example flake's outputs (which needs the bundled engine to run nix).
 */
/** The commands that act on the shown closure: the palette offers them once one is shown (package.json `when`). */
const CLOSURE_COMMANDS = [
  'Refresh',
  'Show sunburst of the current closure',
  'Why depends…',
  'Estimate compressed size',
];

export const smoke: Step[] = [
  {
    title: 'the palette offers "Nix Closure Lens: Show closure" and the activity bar the "Nix Closure" view',
    async run({ workbench }) {
      assert.ok(await workbench.hasCommand(`${PALETTE_PREFIX}Show closure`), 'the command is in the palette');
      const { page } = workbench;
      await page.locator('.activitybar .action-item a[aria-label^="Nix Closure"]').first().click();
      // A container with one view hides the view's header; the container title names it.
      await page.locator('.part.sidebar .composite.title', { hasText: /Heaviest paths/i }).waitFor({ timeout: 30_000 });
      await page.getByText('Nothing analysed yet').first().waitFor({ timeout: 30_000 });
    },
  },
  {
    title: 'the palette leaves out Refresh, Show sunburst, Why depends… and Estimate compressed size: no closure yet',
    async run({ workbench }) {
      // The previous step saw "Show closure", so the extension's contributions are known to the palette.
      for (const title of CLOSURE_COMMANDS) {
        assert.equal(await workbench.hasCommand(`${PALETTE_PREFIX}${title}`, 2000), false, `${title} is offered`);
      }
    },
  },
  {
    title: 'Show closure lists the outputs of the example flake',
    async run({ workbench, profile }) {
      await workbench.runCommand(`${PALETTE_PREFIX}Show closure`);
      for (const output of [/nixosConfigurations\.demo/, /nixosConfigurations\.slim/, /perl/, /devShells/]) {
        await workbench.quickPickRows().filter({ hasText: output }).first().waitFor({ timeout: 60_000 });
      }
      await workbench.screenshot('smoke-targets');
      const problems = await workbench
        .quickPickRows()
        .filter({ hasText: /could not be listed|failed/ })
        .allTextContents();
      assert.deepEqual(problems, [], 'every flake of the example workspace lists its outputs');
      // The example vendors nixpkgs' lib, itself a flake with nothing to analyse: logged, not offered.
      await waitFor(
        'the vendored lib flake to be listed',
        () =>
          Promise.resolve(
            outputChannelLines(profile, 'Nix Closure Lens').some((l) => /no outputs to analyse; not listed/.test(l)),
          ),
        60_000,
      );
      const empty = await workbench.quickPickRows().filter({ hasText: 'no outputs to analyse' }).allTextContents();
      assert.deepEqual(empty, [], 'a flake inside the example flake with no outputs is not a row');
      await workbench.page.keyboard.press('Escape');
    },
  },
];

const TOPLEVEL_ATTR = 'nixosConfigurations.demo.config.system.build.toplevel';

/** Shared between the steps of one session: what the earlier steps found. */
interface Found {
  toplevel?: string;
}
const found = new WeakMap<Session, Found>();
function state(s: Session): Found {
  let f = found.get(s);
  if (!f) found.set(s, (f = {}));
  return f;
}

async function showClosureOf(workbench: Session['workbench'], filter: string, row: RegExp): Promise<void> {
  await workbench.runCommandAndPick(`${PALETTE_PREFIX}Show closure`, row, filter);
}

/** Text of the side pane's "shortest chain" step buttons: their titles are the full store paths. */
async function shortestChain(s: Session): Promise<string[]> {
  const steps = s.workbench.webview().locator('#why .chain.shortest button.step');
  await steps.first().waitFor({ timeout: 15_000 });
  return steps.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
}

/** Checks a chain against nix: it starts at the root, ends at `dep`, each step references the next, and it is
 * no longer than the chain `nix why-depends` prints. */
async function assertRealChain(chain: string[], root: string, dep: string): Promise<void> {
  assert.equal(chain[0], root, 'the chain starts at the root');
  assert.equal(chain[chain.length - 1], dep, 'the chain ends at the chosen path');
  const info = await oracle.closure(root);
  for (let k = 1; k < chain.length; k++) {
    assert.ok(info.get(chain[k - 1]!)?.references.includes(chain[k]!), `${chain[k - 1]} references ${chain[k]}`);
  }
  const nixChain = await oracle.whyDependsChain(root, dep);
  assert.ok(
    chain.length <= nixChain.length,
    `no longer than nix why-depends' chain (${chain.length} vs ${nixChain.length})`,
  );
}

/** Show closure → nixosConfigurations.demo: the sunburst, its footer checked against nix path-info. */
export const showDemo: Step = {
  title: 'Show closure from the palette, choose nixosConfigurations.demo: the sunburst shows its closure',
  async run(s) {
    const { workbench, workspace } = s;
    await showClosureOf(workbench, 'demo', /nixosConfigurations\.demo|\bdemo\b/);
    const frame = workbench.webview();
    const footer = frame.locator('#footer');
    await waitFor(
      'the sunburst footer',
      async () => /paths/.test((await footer.textContent({ timeout: 2000 })) ?? ''),
      120_000,
    );
    await frame.locator('svg path[role=treeitem]').first().waitFor({ timeout: 15_000 });
    await workbench.screenshot('sunburst-demo');

    const toplevel = await oracle.build(`${workspace.flakeRef}#${TOPLEVEL_ATTR}`);
    state(s).toplevel = toplevel;
    const info = await oracle.closure(toplevel);
    const text = (await footer.textContent()) ?? '';
    const count = Number(/([\d,]+) paths/.exec(text)?.[1]?.replace(/,/g, ''));
    assert.equal(count, info.size, `the footer counts the closure's paths: ${text}`);
    const total = [...info.values()].reduce((a, i) => a + i.narSize, 0);
    const shown = oracle.parseSize(text.split('·')[1] ?? '');
    assert.ok(shown !== undefined, `the footer shows the total size: ${text}`);
    assert.ok(Math.abs(shown - total) / total < 0.01, `total ${shown} ≈ nix path-info's ${total}`);
    const labels = await frame
      .locator('svg path[role=treeitem]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    for (const name of ['perl', 'systemd', 'zfs-user', 'glibc']) {
      assert.ok(
        labels.some((l) => l.includes(name)),
        `an arc for ${name} (arcs: ${labels.length})`,
      );
    }
  },
};

/** After a closure is shown, the palette offers the commands that act on it. */
const closureCommandsOffered: Step = {
  title: 'with a closure shown, the palette offers Refresh, Show sunburst, Why depends… and Estimate compressed size',
  async run({ workbench }) {
    for (const title of CLOSURE_COMMANDS) {
      assert.ok(await workbench.hasCommand(`${PALETTE_PREFIX}${title}`), `${title} is not offered`);
    }
  },
};

/** The explorer's context menu: "Show closure" on flake.nix, and on a `result` link (which it then shows). */
const explorerMenu: Step = {
  title: 'the explorer offers "Show closure" on flake.nix and on a result link; on the link it shows its closure',
  async run({ workbench, workspace }) {
    const { page } = workbench;
    // One sunburst at a time, so that the webview found below is the link's.
    await workbench.runCommand('View: Close All Editors');
    const perl = await oracle.build(`${workspace.flakeRef}#packages.x86_64-linux.perl`);
    fs.symlinkSync(perl, path.join(workspace.folder, 'result'));
    await page.keyboard.press('Control+Shift+E');
    const row = (name: string) =>
      page
        .locator('.explorer-folders-view .monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }) });
    const menuItem = page.locator('.context-view .action-label', { hasText: /^Show closure$/ });
    /** Right-clicks the row until its menu offers the command (the link's context key follows a file event). */
    const openMenu = async (name: string) => {
      await row(name).first().waitFor({ timeout: 30_000 });
      await waitFor(
        `"Show closure" in the context menu of ${name}`,
        async () => {
          await row(name).first().click({ button: 'right' });
          const shown = await menuItem
            .first()
            .waitFor({ timeout: 2000 })
            .then(
              () => true,
              () => false,
            );
          if (!shown) await page.keyboard.press('Escape');
          return shown;
        },
        20_000,
        100,
      );
    };
    await openMenu('flake.nix');
    await workbench.screenshot('explorer-menu-flake');
    await page.keyboard.press('Escape');
    await openMenu('result');
    await menuItem.first().click();
    // A context-key update can redraw the open menu under the pointer and swallow the click: the item is still
    // there, focused, so Enter runs it.
    if (
      await menuItem
        .first()
        .isVisible()
        .catch(() => false)
    )
      await page.keyboard.press('Enter');
    await page
      .locator('.tab', { hasText: /Closure: perl/ })
      .first()
      .waitFor({ timeout: 60_000 });
    const footer = await waitFor(
      'the sunburst footer of the link',
      async () => {
        const text = (await workbench.webview().locator('#footer').textContent({ timeout: 2000 })) ?? '';
        return /paths/.test(text) ? text : undefined;
      },
      120_000,
    );
    const count = Number(/([\d,]+) paths/.exec(footer)?.[1]?.replace(/,/g, ''));
    assert.equal(count, (await oracle.closure(perl)).size, `the footer counts perl's closure: ${footer}`);
  },
};

/** The story of the issue: Show closure → sunburst → click a path → why → Why depends… perl → cancel a build. */
/** Issue 17: every Show closure leaves one line in the log saying where the time went, command to paint. */
const timelineInLog: Step = {
  title: "the log has the load's timeline: nix, parse, analysis, post and the webview's paint, in order",
  async run(s) {
    let line: string | undefined;
    await waitFor(
      'a timeline line in the Nix Closure Lens output channel',
      () => {
        line = timelineLines(s.profile).find((l) => /timeline .*demo/.test(l));
        return Promise.resolve(line !== undefined);
      },
      30_000,
    );
    const { marks } = parseTimeline(line!);
    const names = marks.map((m) => m.name);
    for (const want of ['panel', 'webview started', 'webview ready', 'posted', 'painted'])
      assert.ok(names.includes(want), `"${want}" in ${JSON.stringify(line)}`);
    assert.ok(
      names.includes('nix started') || names.includes('read from the cache') || names.includes('in memory'),
      `the closure's source in ${JSON.stringify(line)}`,
    );
    for (let k = 1; k < marks.length; k++)
      assert.ok(marks[k]!.ms >= marks[k - 1]!.ms, `marks in order: ${JSON.stringify(line)}`);
    const webview =
      /webview \([\d,]+ arcs\): (preview arrived -[\d,]+, (preview painted [+-][\d,]+, )?)?script \+[\d,]+, model \+[\d,]+, page \+[\d,]+, drawn \+[\d,]+, painted \+[\d,]+/;
    assert.match(line!, webview);
  },
};

export const userJourney: Step[] = [
  ...smoke,
  showDemo,
  timelineInLog,
  {
    title: 'clicking the zfs-user arc shows why it is in the closure, chain checked against nix',
    async run(s) {
      const frame = s.workbench.webview();
      await frame.locator('svg path[role=treeitem][aria-label*="zfs-user"]').first().click();
      await frame.locator('#why h3', { hasText: 'zfs-user' }).waitFor({ timeout: 15_000 });
      const chain = await shortestChain(s);
      const toplevel = state(s).toplevel!;
      const zfs = [...(await oracle.closure(toplevel)).keys()].find((p) => p.endsWith('-zfs-user-2.2.4'))!;
      await assertRealChain(chain, toplevel, zfs);
      // The README's first picture: the tree, the sunburst and why zfs-user is there (UPDATE_SCREENSHOTS=1).
      await s.workbench.page.mouse.move(1150, 17); // off the chart: its tooltip goes
      await s.workbench.page.waitForTimeout(500);
      await s.workbench.screenshot('why-zfs-user', 'screenshot-vscode.png');
    },
  },
  {
    title: '"Why depends…" perl: the chains name only paths between the toplevel and perl',
    async run(s) {
      const { workbench } = s;
      await workbench.runCommandAndPick(`${PALETTE_PREFIX}Why depends…`, /perl-5\.38\.2|\bperl\b/, 'perl');
      const toplevel = state(s).toplevel!;
      const perl = [...(await oracle.closure(toplevel)).keys()].find((p) => p.endsWith('-perl-5.38.2'))!;
      const onSomePath = await oracle.whyDependsNodes(toplevel, perl);
      // The text document with the chains.
      const editor = workbench.page.locator('.editor-instance .view-lines').first();
      await waitFor(
        'the why-depends document',
        async () => /perl/.test((await editor.textContent({ timeout: 2000 })) ?? ''),
        30_000,
      );
      const lines = await editor.locator('.view-line').allTextContents();
      const names = lines.flatMap((l) => l.match(/[0-9a-z]{32}-[A-Za-z0-9+._?=-]+/g) ?? []);
      assert.ok(names.length > 0, 'the document names store paths');
      for (const n of names) assert.ok(onSomePath.has(`/nix/store/${n}`), `${n} lies on a toplevel → perl path`);
      await workbench.screenshot('why-depends-perl-document');
      // And the sunburst selects perl: its shortest chain is a real one.
      await workbench.page.locator('.tabs-container .tab', { hasText: 'Closure: nixosConfigurations.demo' }).click();
      await workbench.webview().locator('#why h3', { hasText: 'perl' }).waitFor({ timeout: 15_000 });
      await assertRealChain(await shortestChain(s), toplevel, perl);
      await workbench.screenshot('why-depends-perl-sunburst');
    },
  },
  {
    title: 'cancelling a slow build stops nix within seconds and caches nothing',
    async run(s) {
      const { workbench, workspace, profile } = s;
      const slow = await oracle.outPath(`${workspace.flakeRef}#packages.x86_64-linux.slow-build`);
      assert.equal(await oracle.isValid(slow), false, 'slow-build has never been built (fresh nonce)');
      await showClosureOf(workbench, 'slow-build', /slow-build/);
      const toast = workbench.notification(/slow-build/);
      await toast.first().waitFor({ timeout: 60_000 });
      await waitFor(
        'the slow-build builder to run',
        () => oracle.processesWithEnv('nonce', workspace.slowBuildNonce).length > 0,
        60_000,
      );
      await workbench.screenshot('slow-build-progress');
      const cancelled = Date.now();
      await toast.first().locator('.monaco-button', { hasText: 'Cancel' }).click();
      await waitFor(
        'the builder to stop',
        () => oracle.processesWithEnv('nonce', workspace.slowBuildNonce).length === 0,
        10_000,
        100,
      );
      await waitFor('the progress notification to close', async () => (await toast.count()) === 0, 10_000);
      const stoppedAfter = Date.now() - cancelled;
      assert.ok(stoppedAfter < 10_000, `stopped ${stoppedAfter} ms after Cancel`);
      assert.equal(await oracle.isValid(slow), false, 'no partial output in the store');
      const storage = path.join(profile.userDataDir, 'User/globalStorage');
      // The output listing may name slow-build; no cache may hold its store path (its hash part).
      const hash = path.basename(slow).slice(0, 32);
      const cached = fs.existsSync(storage) ? grepFiles(storage, hash) : [];
      assert.deepEqual(cached, [], 'no cache of the extension holds the cancelled output');
      // The panel stays and says what happened, with the way back (issue 18: it used to vanish without a word).
      await workbench.page
        .locator('.tabs-container .tab', { hasText: /slow-build/ })
        .first()
        .waitFor({ timeout: 10_000 });
      // Read in every frame: the demo's sunburst may still be open in the other editor group.
      const said = await waitFor(
        'the panel to say the load was cancelled',
        async () => {
          for (const frame of workbench.page.frames()) {
            const text = await frame
              .locator('#status[role=alert]')
              .textContent({ timeout: 200 })
              .catch(() => null);
            if (text && /cancelled/.test(text)) return text;
          }
          return undefined;
        },
        10_000,
      );
      assert.match(said, /Loading .*slow-build.* was cancelled\./, said);
      assert.match(said, /Run "Show closure" again/, said);
      await workbench.screenshot('slow-build-cancelled');
    },
  },
];

/** For the .vsix: the smoke test, then the sunburst, so the packaged webview bundle is exercised as well. */
export const packagedSmoke: Step[] = [...smoke, showDemo, closureCommandsOffered, explorerMenu];

/** Workspace Trust on, folder not trusted: Show closure explains why and runs no nix evaluation or build. */
export const untrusted: Step[] = [
  {
    title: 'in an untrusted folder, Show closure says flake outputs need trust and evaluates nothing',
    async run({ workbench, workspace }) {
      const { page } = workbench;
      // The startup dialog asks whether to trust the folder's authors: a user who does not.
      const dontTrust = page.locator('.monaco-dialog-box .monaco-button', { hasText: /No, I don.t trust|Don.t Trust/ });
      if (
        await dontTrust
          .first()
          .waitFor({ timeout: 20_000 })
          .then(
            () => true,
            () => false,
          )
      )
        await dontTrust.first().click();
      await workbench.runCommand(`${PALETTE_PREFIX}Show closure`);
      await workbench
        .quickPickRows()
        .filter({ hasText: /trusted workspace/ })
        .first()
        .waitFor({ timeout: 30_000 });
      await workbench.screenshot('untrusted-show-closure');
      await page.keyboard.press('Escape');
      const evaluations = workspace
        .nixInvocations()
        .filter((c) => c.split(' ').some((t) => t === 'eval' || t === 'build'));
      assert.deepEqual(evaluations, [], 'no nix eval or build ran');
    },
  },
];

function grepFiles(dir: string, needle: string): string[] {
  const hits: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    if (fs.readFileSync(file, 'latin1').includes(needle)) hits.push(file);
  }
  return hits;
}
