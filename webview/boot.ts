/**
 * What the page's inline first script (EARLY_READY_SCRIPT in src/extension/webviewHtml.ts) leaves for the bundle:
 * the VS Code API it acquired (it can be acquired once per page) and the host's messages that arrived while the
 * bundle was loading, to be handled first and in order.
 */
import type { VsCodeApi } from './app';

export interface EarlyBoot {
  readonly api: VsCodeApi;
  /** The held messages, oldest first; stops holding, so the caller must listen from now on. */
  take(): MessageEvent[];
}

declare global {
  interface Window {
    closureLensBoot?: EarlyBoot;
  }
}

export function earlyBoot(): EarlyBoot {
  const boot = window.closureLensBoot;
  // The page always has the inline script; without it (a page built by hand) nothing could reach the host.
  if (!boot) throw new Error('the page lacks its first script (closureLensBoot): load it with sunburstPageHtml');
  return boot;
}
