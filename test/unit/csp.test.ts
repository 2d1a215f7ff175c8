/**
 * The sunburst webview's Content Security Policy, as the page the extension serves states it (webview/html.ts):
 * nonce-only scripts, nothing from remote origins, no 'unsafe-eval' and no 'unsafe-inline' scripts. The headless
 * test (test/webview) runs the page under this policy and checks for violations; this one checks the policy itself,
 * so that loosening it fails a test even when the page still works.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contentSecurityPolicy, EARLY_READY_SCRIPT, sunburstPageHtml } from '../../src/extension/webviewHtml';
import { repoRoot } from '../support/fixtures';

// What VS Code passes as webview.cspSource, and a nonce like the panel's (18 random bytes, base64url).
const CSP_SOURCE = 'https://*.vscode-cdn.net';
const NONCE = 'q0Zx3r5-kP_7aB9cD1eF2gH4';

function directives(policy: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (!name) continue;
    assert.ok(!out.has(name), `${name} appears twice`);
    out.set(name.toLowerCase(), sources);
  }
  return out;
}

describe('webview Content Security Policy', () => {
  const policy = contentSecurityPolicy(CSP_SOURCE, NONCE);
  const d = directives(policy);

  it('denies by default and allows scripts by nonce only', () => {
    assert.deepEqual(d.get('default-src'), ["'none'"]);
    assert.deepEqual(d.get('script-src'), [`'nonce-${NONCE}'`]);
    for (const name of [
      'script-src-elem',
      'script-src-attr',
      'worker-src',
      'child-src',
      'frame-src',
      'connect-src',
      'object-src',
    ]) {
      const sources = d.get(name);
      assert.ok(
        sources === undefined || sources.join(' ') === "'none'",
        `${name} opens what default-src closes: ${sources?.join(' ')}`,
      );
    }
  });

  it('has no unsafe-eval, no unsafe-inline script, and no origin but the webview resource origin', () => {
    assert.doesNotMatch(policy, /unsafe-eval|wasm-unsafe-eval|unsafe-hashes|strict-dynamic/);
    assert.doesNotMatch((d.get('script-src') ?? []).join(' '), /unsafe-inline/);
    for (const [name, sources] of d) {
      for (const s of sources) {
        const allowed =
          s === "'none'" ||
          s === "'self'" ||
          s === `'nonce-${NONCE}'` ||
          s === CSP_SOURCE ||
          (s === 'data:' && /^(img|font)-src$/.test(name));
        assert.ok(allowed, `${name} allows ${s}`);
      }
    }
  });

  it('the page states exactly that policy, and every script and stylesheet carries the nonce', () => {
    const html = sunburstPageHtml({
      cspSource: CSP_SOURCE,
      nonce: NONCE,
      scriptUri: `${CSP_SOURCE}/dist/webview/sunburst.js`,
      codiconCssUri: `${CSP_SOURCE}/dist/webview/codicon.css`,
      styleUri: `${CSP_SOURCE}/media/sunburst.css`,
    });
    const metas = [...html.matchAll(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/g)];
    assert.equal(metas.length, 1);
    assert.equal(metas[0]![1]!.replace(/&#39;|&apos;/g, "'"), policy);
    assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), 'the policy comes before any script');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length > 0);
    // One script: the fixed first script (no value is interpolated into it), which loads the bundle named by its
    // data-bundle once the page has loaded, with its own nonce.
    assert.equal(scripts.length, 1, 'one script');
    const [, attrs, body] = scripts[0]!;
    assert.match(attrs!, new RegExp(`nonce="${NONCE}"`));
    assert.equal(body, EARLY_READY_SCRIPT);
    assert.match(attrs!, /data-bundle="https:\/\/\*\.vscode-cdn\.net\/dist\/webview\/sunburst\.js"/);
    assert.ok(html.indexOf('<script') < html.indexOf('<link'), 'it runs before any stylesheet loads');
    for (const [link] of html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*>/g))
      assert.match(link, new RegExp(`nonce="${NONCE}"`));
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handler attributes');
    assert.doesNotMatch(
      html,
      /(src|href|data-bundle)="(?!https:\/\/\*\.vscode-cdn\.net\/)[^"]*"/,
      'no resource from another origin',
    );
  });

  it('the built webview bundle needs no eval (it would be blocked, not allowed)', () => {
    const bundle = path.join(repoRoot(), 'dist', 'webview', 'sunburst.js');
    assert.ok(fs.existsSync(bundle), `${bundle} is missing: run \`node .esbuild.config.mjs\``);
    // A method that is merely named eval (re2js's prefilter has one: `eval(input, pos) {`) is not a call of eval.
    const calls = fs
      .readFileSync(bundle, 'utf8')
      .split('\n')
      .filter(
        (line) => /\bnew Function\s*\(|[^.\w]eval\s*\(/.test(line) && !/^\s*eval\s*\([\w\s,]*\)\s*\{\s*$/.test(line),
      );
    assert.deepEqual(calls, []);
  });
});
