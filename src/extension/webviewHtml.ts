/**
 * The HTML page of the sunburst webview. Shared by the extension host (src/extension/sunburstPanel.ts) and the
 * headless-Chromium tests, so the tests run the page under the very CSP that VS Code serves.
 * No `vscode` import and no DOM use: it only builds a string.
 */

export interface SunburstPageResources {
  /** `webview.cspSource`: the origin that local resources are served from. */
  readonly cspSource: string;
  /** A fresh random nonce per page load. */
  readonly nonce: string;
  /** URIs (already converted with `asWebviewUri`) of dist/webview/sunburst.js, dist/webview/codicon.css, media/sunburst.css. */
  readonly scriptUri: string;
  readonly codiconCssUri: string;
  readonly styleUri: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  // Lit (behind @vscode-elements) styles its shadow roots with constructable stylesheets, which CSP does not
  // govern, and d3 sets styles through the CSSOM; so neither needs 'unsafe-inline'.
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/**
 * The page's first script, inline and ahead of the stylesheets (a script waits for the stylesheets above it), so
 * that it runs before any file has loaded. It says `ready` at once and holds the host's messages until the bundle
 * takes them (webview/boot.ts), and it loads the bundle (its `data-bundle`, with its own nonce) only once the page
 * has loaded: VS Code keeps a webview hidden, and its messages queued, until the page's `load` event, which a
 * script in the page would delay by its download and run. So the closure crosses to the webview while the bundle
 * loads, not after. `documentAt` and `sentAt` (ms since the epoch): when VS Code started the page and when this
 * script ran, the timeline's "webview started" and "webview first script". Plain ES2020; nothing interpolated.
 */
export const EARLY_READY_SCRIPT = `(() => {
  const me = document.currentScript;
  const api = acquireVsCodeApi();
  const held = [];
  const hold = (e) => held.push(e);
  window.addEventListener('message', hold);
  window.closureLensBoot = {
    api,
    take() {
      window.removeEventListener('message', hold);
      return held.splice(0);
    },
  };
  api.postMessage({ type: 'ready', documentAt: performance.timeOrigin, sentAt: performance.timeOrigin + performance.now() });
  window.addEventListener('load', () => {
    const bundle = document.createElement('script');
    bundle.nonce = me.nonce;
    bundle.src = me.dataset.bundle;
    document.body.append(bundle);
  }, { once: true });
})();`;

const escapeAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function sunburstPageHtml(r: SunburstPageResources): string {
  const a = {
    csp: escapeAttr(contentSecurityPolicy(r.cspSource, r.nonce)),
    nonce: escapeAttr(r.nonce),
    script: escapeAttr(r.scriptUri),
    codicon: escapeAttr(r.codiconCssUri),
    style: escapeAttr(r.styleUri),
  };
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a.csp}">
<script nonce="${a.nonce}" data-bundle="${a.script}">${EARLY_READY_SCRIPT}</script>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${a.codicon}" id="vscode-codicon-stylesheet" nonce="${a.nonce}">
<link rel="stylesheet" href="${a.style}" nonce="${a.nonce}">
<title>Closure sunburst</title>
</head>
<body>
<div id="app" class="loading">
  <p id="status" role="status" aria-live="polite">Waiting for the closure…</p>
</div>
</body>
</html>
`;
}
