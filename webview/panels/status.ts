/**
 * The page while there is no closure to draw: waiting for the user's choice, loading, or an error with its fix.
 * `loading` shows a glyph that turns (media/sunburst.css: only after 1.5 s, then in eight steps a second). The
 * animated ring it replaces repainted every frame and kept a core 25–35 % busy in Chromium (measured in
 * code-server) beside nix; a page that waits for the user's choice animates nothing.
 */
import { clear, h } from '../dom';

export type StatusKind = 'waiting' | 'loading' | 'error';

export function renderStatus(app: HTMLElement, kind: StatusKind, message: string, fix?: string): void {
  app.className = kind;
  clear(app);
  app.append(
    h(
      'div',
      { class: 'status', role: kind === 'error' ? 'alert' : 'status', 'aria-live': 'polite', id: 'status' },
      kind === 'loading'
        ? h('span', { class: 'codicon codicon-loading busy-turn', 'aria-hidden': 'true' })
        : kind === 'error'
          ? h('vscode-icon', { name: 'error', size: 24 })
          : null,
      h('p', { class: 'status-message' }, message),
      fix ? h('p', { class: 'status-fix' }, fix) : null,
    ),
  );
}
