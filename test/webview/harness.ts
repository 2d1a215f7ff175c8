/**
 * Runs the real webview bundle (dist/webview/sunburst.js) in headless Chromium, in the page that the
 * extension serves (webview/html.ts, with its CSP), behind a fake `acquireVsCodeApi` that records what the
 * webview posts: that is the boundary VS Code itself provides. Host messages arrive as window messages
 * (a structured clone of the typed arrays), as in VS Code.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { sunburstPageHtml } from '../../src/extension/webviewHtml';
import type { HostToWebview, WebviewToHost } from '../../src/shared';
import { REPO } from './closures';

export { REPO };
export const ARTIFACTS = path.join(REPO, 'test-artifacts');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.ttf': 'font/ttf',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.html': 'text/html',
};

/** Serves dist/webview and media (the panel's localResourceRoots) plus the page itself. */
async function serve(): Promise<{ server: http.Server; origin: string }> {
  const roots: Record<string, string> = {
    '/dist/webview/': path.join(REPO, 'dist', 'webview'),
    '/media/': path.join(REPO, 'media'),
  };
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        sunburstPageHtml({
          cspSource: origin,
          nonce: 'dGVzdG5vbmNlMTIzNDU2',
          scriptUri: `${origin}/dist/webview/sunburst.js`,
          codiconCssUri: `${origin}/dist/webview/codicon.css`,
          styleUri: `${origin}/media/sunburst.css`,
        }),
      );
      return;
    }
    for (const [prefix, dir] of Object.entries(roots)) {
      if (!url.pathname.startsWith(prefix)) continue;
      const file = path.join(dir, decodeURIComponent(url.pathname.slice(prefix.length)));
      if (!file.startsWith(dir + path.sep) || !fs.existsSync(file)) break;
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(fs.readFileSync(file));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, origin };
}

export type Theme = 'dark' | 'light' | 'high-contrast';

/** A few real theme colors per theme (Dark Modern, Light Modern, Dark High Contrast), as VS Code sets them. */
export const THEMES: Record<Theme, { bodyClass: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-foreground': '#cccccc',
      '--vscode-editor-foreground': '#cccccc',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-yellow': '#cca700',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-lines': 'rgba(204, 204, 204, 0.5)',
      '--vscode-terminal-ansiCyan': '#11a8cd',
      '--vscode-sideBar-background': '#181818',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-focusBorder': '#0078d4',
      '--vscode-textLink-foreground': '#4daafc',
      '--vscode-widget-border': '#313131',
      '--vscode-charts-foreground': '#cccccc',
      '--vscode-editorWidget-background': '#202020',
      '--vscode-editorHoverWidget-background': '#202020',
      '--vscode-editorHoverWidget-foreground': '#cccccc',
      '--vscode-editorHoverWidget-border': '#454545',
      '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.36)',
      '--vscode-settings-textInputBackground': '#313131',
      '--vscode-settings-textInputBorder': '#3c3c3c',
      '--vscode-settings-textInputForeground': '#cccccc',
      '--vscode-input-placeholderForeground': '#989898',
      '--vscode-settings-checkboxBackground': '#313131',
      '--vscode-settings-checkboxBorder': '#3c3c3c',
      '--vscode-settings-checkboxForeground': '#cccccc',
      '--vscode-badge-background': '#616161',
      '--vscode-badge-foreground': '#f8f8f8',
      '--vscode-list-hoverBackground': '#2a2d2e',
      '--vscode-toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)',
      '--vscode-panel-border': '#2b2b2b',
      '--vscode-icon-foreground': '#cccccc',
      '--vscode-textPreformat-foreground': '#d0d0d0',
      '--vscode-textBlockQuote-background': '#2b2b2b',
      '--vscode-tree-indentGuidesStroke': '#585858',
      '--vscode-sideBarSectionHeader-background': '#181818',
      '--vscode-sideBarTitle-foreground': '#cccccc',
      '--vscode-breadcrumb-foreground': 'rgba(204, 204, 204, 0.8)',
      '--vscode-errorForeground': '#f85149',
      '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': '"Droid Sans Mono", monospace',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      '--vscode-editor-background': '#ffffff',
      '--vscode-foreground': '#3b3b3b',
      '--vscode-editor-foreground': '#3b3b3b',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-yellow': '#bf8803',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-purple': '#652d90',
      '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
      '--vscode-terminal-ansiCyan': '#0598bc',
      '--vscode-sideBar-background': '#f8f8f8',
      '--vscode-descriptionForeground': '#3b3b3b',
      '--vscode-focusBorder': '#005fb8',
      '--vscode-textLink-foreground': '#005fb8',
      '--vscode-widget-border': '#e5e5e5',
      '--vscode-charts-foreground': '#616161',
      '--vscode-editorWidget-background': '#f8f8f8',
      '--vscode-editorHoverWidget-background': '#f8f8f8',
      '--vscode-editorHoverWidget-foreground': '#3b3b3b',
      '--vscode-editorHoverWidget-border': '#c8c8c8',
      '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.16)',
      '--vscode-settings-textInputBackground': '#ffffff',
      '--vscode-settings-textInputBorder': '#cecece',
      '--vscode-settings-textInputForeground': '#3b3b3b',
      '--vscode-input-placeholderForeground': '#767676',
      '--vscode-settings-checkboxBackground': '#f8f8f8',
      '--vscode-settings-checkboxBorder': '#cecece',
      '--vscode-settings-checkboxForeground': '#3b3b3b',
      '--vscode-badge-background': '#cccccc',
      '--vscode-badge-foreground': '#3b3b3b',
      '--vscode-list-hoverBackground': '#f2f2f2',
      '--vscode-toolbar-hoverBackground': 'rgba(184, 184, 184, 0.31)',
      '--vscode-panel-border': '#e5e5e5',
      '--vscode-icon-foreground': '#3b3b3b',
      '--vscode-textPreformat-foreground': '#3b3b3b',
      '--vscode-textBlockQuote-background': '#f2f2f2',
      '--vscode-tree-indentGuidesStroke': '#a9a9a9',
      '--vscode-sideBarSectionHeader-background': '#f8f8f8',
      '--vscode-sideBarTitle-foreground': '#3b3b3b',
      '--vscode-breadcrumb-foreground': 'rgba(59, 59, 59, 0.8)',
      '--vscode-errorForeground': '#f85149',
      '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': '"Droid Sans Mono", monospace',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      '--vscode-editor-background': '#000000',
      '--vscode-foreground': '#ffffff',
      '--vscode-editor-foreground': '#ffffff',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-yellow': '#ffd700',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-lines': 'rgba(255, 255, 255, 0.5)',
      '--vscode-terminal-ansiCyan': '#00ffff',
      '--vscode-sideBar-background': '#000000',
      '--vscode-descriptionForeground': 'rgba(255, 255, 255, 0.7)',
      '--vscode-focusBorder': '#f38518',
      '--vscode-contrastBorder': '#6fc3df',
      '--vscode-contrastActiveBorder': '#f38518',
      '--vscode-textLink-foreground': '#21a6ff',
      '--vscode-widget-border': '#6fc3df',
      '--vscode-charts-foreground': '#ffffff',
      '--vscode-editorWidget-background': '#0c141f',
      '--vscode-editorHoverWidget-background': '#0c141f',
      '--vscode-editorHoverWidget-foreground': '#ffffff',
      '--vscode-editorHoverWidget-border': '#6fc3df',
      '--vscode-widget-shadow': 'transparent',
      '--vscode-settings-textInputBackground': '#000000',
      '--vscode-settings-textInputBorder': '#6fc3df',
      '--vscode-settings-textInputForeground': '#ffffff',
      '--vscode-input-placeholderForeground': 'rgba(255, 255, 255, 0.7)',
      '--vscode-settings-checkboxBackground': '#000000',
      '--vscode-settings-checkboxBorder': '#6fc3df',
      '--vscode-settings-checkboxForeground': '#ffffff',
      '--vscode-badge-background': '#000000',
      '--vscode-badge-foreground': '#ffffff',
      '--vscode-list-hoverBackground': 'transparent',
      '--vscode-toolbar-hoverBackground': 'transparent',
      '--vscode-panel-border': '#6fc3df',
      '--vscode-icon-foreground': '#ffffff',
      '--vscode-textPreformat-foreground': '#ffffff',
      '--vscode-textBlockQuote-background': '#000000',
      '--vscode-tree-indentGuidesStroke': '#a9a9a9',
      '--vscode-sideBarSectionHeader-background': '#000000',
      '--vscode-sideBarTitle-foreground': '#ffffff',
      '--vscode-breadcrumb-foreground': 'rgba(255, 255, 255, 0.8)',
      '--vscode-errorForeground': '#f48771',
      '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': '"Droid Sans Mono", monospace',
    },
  },
};

// Runs in the page before any of its scripts: the fake VS Code API and a CSP-violation recorder.
const INIT = (initial: { state: unknown; theme: { bodyClass: string; vars: Record<string, string> } }) => {
  const w = window as unknown as Record<string, unknown>;
  const posted: unknown[] = [];
  const violations: string[] = [];
  let state = initial.state;
  w['__posted'] = posted;
  w['__violations'] = violations;
  w['__getState'] = () => state;
  w['acquireVsCodeApi'] = () => ({
    postMessage: (m: unknown) => posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => state,
    setState: (s: unknown) => {
      state = JSON.parse(JSON.stringify(s));
    },
  });
  document.addEventListener('securitypolicyviolation', (e) =>
    violations.push(`${e.violatedDirective}: ${e.blockedURI}`),
  );
  const applyTheme = (t: { bodyClass: string; vars: Record<string, string> }) => {
    document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast');
    document.body.classList.add(t.bodyClass);
    for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v);
  };
  w['__applyTheme'] = applyTheme;
  document.addEventListener('DOMContentLoaded', () => applyTheme(initial.theme));
  // Host messages arrive JSON-encoded with typed arrays as base64, are rebuilt here, and are then posted
  // to the window: the webview receives a structured clone, as from VS Code.
  const types: Record<string, { new (b: ArrayBuffer): ArrayBufferView }> = {
    Float64Array,
    Int32Array,
    Uint8Array,
  };
  const revive = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o['__typed'] === 'string') {
        const bin = atob(o['b64'] as string);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        return new types[o['__typed'] as string]!(bytes.buffer);
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
    }
    return v;
  };
  w['__deliver'] = (json: string) => {
    const msg = revive(JSON.parse(json));
    w['__t0'] = performance.now();
    window.postMessage(msg, '*');
  };
};

function encode(msg: HostToWebview): string {
  return JSON.stringify(msg, (_k, v: unknown) => {
    if (v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array) {
      return { __typed: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    }
    return v;
  });
}

export interface Harness {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  origin: string;
  /** Sends a host → webview message. */
  send(msg: HostToWebview): Promise<void>;
  /**
   * Sends a closure and waits until it is drawn. Times in ms: `ms` from the webview's receipt of the message to
   * the SVG built, `sinceDelivery` from the post (so the structured clone is included), `painted` until the
   * frame that shows it.
   */
  sendClosure(
    msg: Extract<HostToWebview, { type: 'closure' }>,
  ): Promise<{ ms: number; sinceDelivery: number; painted: number }>;
  posted(): Promise<WebviewToHost[]>;
  state(): Promise<unknown>;
  violations(): Promise<string[]>;
  theme(t: Theme): Promise<void>;
  screenshot(name: string, keepPointer?: boolean): Promise<string>;
  close(): Promise<void>;
}

export async function openHarness(
  options: { state?: unknown; theme?: Theme; width?: number; height?: number } = {},
): Promise<Harness> {
  const bundle = path.join(REPO, 'dist', 'webview', 'sunburst.js');
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`node .esbuild.config.mjs\` first`);
  const { server, origin } = await serve();
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking'],
  });
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    deviceScaleFactor: 1,
  });
  await context.addInitScript(INIT, { state: options.state, theme: THEMES[options.theme ?? 'dark'] });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(origin + '/');
  await page.waitForFunction(() =>
    (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'),
  );

  const h: Harness = {
    browser,
    context,
    page,
    origin,
    async send(msg) {
      await page.evaluate((json) => (window as unknown as { __deliver(j: string): void }).__deliver(json), encode(msg));
    },
    async sendClosure(msg) {
      const before = Number((await page.evaluate(() => document.body.dataset['drawn'])) ?? '0');
      // Resolves after the frame that shows the drawing: a task queued from requestAnimationFrame runs after paint.
      const done = page.evaluate(
        () =>
          new Promise<{ ms: number; at: number; painted: number }>((resolve) =>
            window.addEventListener(
              'closurelens:drawn',
              (e) => {
                const at = performance.now();
                requestAnimationFrame(() =>
                  setTimeout(
                    () => resolve({ ms: (e as CustomEvent<{ ms: number }>).detail.ms, at, painted: performance.now() }),
                    0,
                  ),
                );
              },
              { once: true },
            ),
          ),
      );
      await h.send(msg);
      const r = await done;
      const t0 = await page.evaluate(() => (window as unknown as { __t0: number }).__t0);
      await page.waitForFunction((n) => Number(document.body.dataset['drawn']) > n, before);
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
      return { ms: r.ms, sinceDelivery: r.at - t0, painted: r.painted - t0 };
    },
    posted: () => page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted),
    state: () => page.evaluate(() => (window as unknown as { __getState(): unknown }).__getState()),
    violations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
    async theme(t) {
      await page.evaluate(
        (th) => (window as unknown as { __applyTheme(x: unknown): void }).__applyTheme(th),
        THEMES[t],
      );
    },
    async screenshot(name, keepPointer = false) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      // Park the pointer off the chart so no stale hover tooltip is in the picture.
      if (!keepPointer) await page.mouse.move(page.viewportSize()!.width - 2, page.viewportSize()!.height - 2);
      const file = path.join(ARTIFACTS, name);
      await page.screenshot({ path: file, animations: 'disabled' });
      return file;
    },
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    },
  };
  return h;
}
