/**
 * Debian's Chromium driven by playwright-core, and the workbench gestures a user makes: the command palette, quick
 * picks, notifications, the webview's frame. Selectors are the ones verified against code-server 4.100.3 (CONTRIBUTING.md, "The e2e rig").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { chromium, type BrowserContext, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { publishScreenshot, type ReadmePicture } from '../support/readmeScreenshots';
import { REPO, type Profile } from './codeServer';

/** Screenshots of the e2e runs (test-artifacts/ is shared with the webview tests). */
export const ARTIFACTS = path.join(REPO, 'test-artifacts/e2e');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const EXTENSION_ID = 'nix-closure-lens.nix-closure-lens';

export interface AutomationHooks {
  /** window.codeAutomationExit(code): the extension tests finished. */
  readonly onExit?: (code: number) => void;
  /** window.codeAutomationLog(level, args): every log line of the extension host and the workbench. */
  readonly onLog?: (line: string) => void;
}

export class Browser {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async launch(profile: Profile, hooks: AutomationHooks = {}): Promise<Browser> {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}. Run: bash .ci/setup`);
    const context = await chromium.launchPersistentContext(profile.chromiumProfileDir, {
      executablePath: CHROMIUM,
      headless: true,
      env: profile.env,
      viewport: { width: 1400, height: 900 },
      args: ['--disable-gpu', '--disable-quic', '--disable-background-networking'],
    });
    // Both must exist before the page loads: the workbench looks them up once.
    await context.exposeFunction('codeAutomationExit', (code: number) => hooks.onExit?.(code));
    await context.exposeFunction('codeAutomationLog', (_level: number, args: unknown[]) =>
      hooks.onLog?.(format(...(Array.isArray(args) ? args : [args]))),
    );
    const page = context.pages()[0] ?? (await context.newPage());
    return new Browser(context, page);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}

/** The gestures of one user on one workbench page. */
export class Workbench {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  }

  /** F1 until the command palette shows (the first key press can come before the workbench has focus). */
  async openPalette(): Promise<Locator> {
    const widget = this.page.locator('.quick-input-widget');
    for (let attempt = 0; attempt < 5; attempt++) {
      // A focused webview (after a click in the sunburst) can take focus back and close the palette: move focus
      // to the workbench first, as a user clicking elsewhere would.
      if (await this.page.evaluate(() => document.activeElement?.tagName === 'IFRAME')) {
        await this.page
          .locator('.part.sidebar .composite.title, .part.statusbar')
          .first()
          .click({ position: { x: 2, y: 2 } })
          .catch(() => undefined);
      }
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('F1');
      if (
        await widget
          .locator('input')
          .waitFor({ state: 'visible', timeout: 3000 })
          .then(
            () => true,
            () => false,
          )
      )
        return widget;
    }
    throw new Error('the command palette did not open (F1)');
  }

  /**
   * Opens the palette on `title` and returns its row, reopening until it shows: a development extension's
   * contributions reach the workbench only after its extension host has scanned it, and the palette lists the
   * commands known when it opened.
   */
  private async commandRow(title: string, timeoutMs: number): Promise<Locator | undefined> {
    const deadline = Date.now() + timeoutMs;
    do {
      const widget = await this.openPalette();
      await widget.locator('input').fill(`>${title}`);
      const row = widget.locator('.monaco-list-row', { hasText: title }).first();
      if (
        await row.waitFor({ timeout: 2000 }).then(
          () => true,
          () => false,
        )
      )
        return row;
    } while (Date.now() < deadline);
    await this.page.keyboard.press('Escape');
    return undefined;
  }

  /** F1, type the title, wait for the row and run it. */
  async runCommand(title: string): Promise<void> {
    const row = await this.commandRow(title, 30_000);
    if (!row) throw new Error(`the command palette does not offer "${title}"`);
    await row.click();
    // Wait for the palette to go, so that what comes next (a quick pick of the command) is not typed into it.
    const input = this.page.locator('.quick-input-widget input');
    await waitFor(
      'the command palette to close',
      async () => !(await input.isVisible()) || !(await input.inputValue()).startsWith('>'),
      10_000,
      50,
    );
  }

  /**
   * Whether the palette offers a command with that title (checked without running it). To check that it is not
   * offered, first wait for one that is (the extension's contributions are known then) and pass a short timeout.
   */
  async hasCommand(title: string, timeoutMs = 30_000): Promise<boolean> {
    const found = (await this.commandRow(title, timeoutMs)) !== undefined;
    await this.page.keyboard.press('Escape');
    return found;
  }

  /**
   * Runs a command that asks with a quick pick, and picks `row` (after typing `filter`). Runs the command again
   * when its quick pick does not show, which happens when a webview took the focus back from the palette.
   */
  async runCommandAndPick(title: string, row: string | RegExp, filter?: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    for (let attempt = 1; ; attempt++) {
      await this.runCommand(title);
      const shown = await waitFor(
        'the quick pick of the command',
        async () => (await input.isVisible()) && !(await input.inputValue()).startsWith('>'),
        10_000,
        100,
      ).then(
        () => true,
        () => false,
      );
      if (shown) break;
      if (attempt === 3) throw new Error(`"${title}" showed no quick pick`);
    }
    await this.pick(row, filter);
  }

  /** The quick pick now shown: its rows. */
  quickPickRows(): Locator {
    return this.page.locator('.quick-input-widget .monaco-list-row');
  }

  /**
   * Every item of the open quick pick, in order. Its rows are virtualised: focus goes to the first item and then
   * down a page at a time until each index up to the one marked last has been rendered.
   */
  async quickPickEntries(timeoutMs = 15_000): Promise<QuickPickEntry[]> {
    const rows = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    const seen = new Map<number, QuickPickEntry>();
    let last = -1;
    await rows.first().waitFor({ timeout: timeoutMs });
    await this.page.keyboard.press('Control+Home');
    await waitFor(
      'every quick pick item to be rendered',
      async () => {
        const rendered = await rows.evaluateAll((els) =>
          els.map((r) => {
            // A group's title is drawn on its first item; rows are reused, so a hidden title may hold stale text.
            const title = r.querySelector<HTMLElement>('.quick-input-list-separator');
            return {
              index: Number(r.getAttribute('data-index')),
              last: r.getAttribute('data-last-element') === 'true',
              group: title?.checkVisibility() ? (title.textContent ?? '').trim() : '',
              label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
              description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
            };
          }),
        );
        for (const { last: isLast, ...entry } of rendered) {
          seen.set(entry.index, entry);
          if (isLast) last = entry.index;
        }
        if (last >= 0 && seen.size === last + 1) return true;
        await this.page.keyboard.press('PageDown');
        return false;
      },
      timeoutMs,
      100,
    );
    return [...seen.values()].sort((a, b) => a.index - b.index);
  }

  /** Picks the row holding `text` in the open quick pick, optionally typing a filter first. */
  async pick(text: string | RegExp, filter?: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    if (filter !== undefined) await input.fill(filter);
    const row = this.quickPickRows().filter({ hasText: text }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
  }

  /** A notification toast whose text matches. */
  notification(text: string | RegExp): Locator {
    return this.page.locator('.notifications-toasts .notification-toast', { hasText: text });
  }

  /** The document inside our webview: the outer iframe is the workbench's, the inner one holds our HTML. */
  webview(): FrameLocator {
    return this.page
      .frameLocator(`iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`)
      .frameLocator('#active-frame');
  }

  /** A screenshot in test-artifacts/<name>.png; also media/`picture` when UPDATE_SCREENSHOTS=1. */
  async screenshot(name: string, picture?: ReadmePicture): Promise<string> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path: file, animations: 'disabled' });
    if (picture) publishScreenshot(file, picture);
    return file;
  }
}

/** One item of a quick pick as the user sees it. */
export interface QuickPickEntry {
  readonly index: number;
  /** The title of the group this item starts (a separator's label), else ''. */
  readonly group: string;
  readonly label: string;
  readonly description: string;
}

/** Polls until `check` returns a value (not undefined/false), or throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
