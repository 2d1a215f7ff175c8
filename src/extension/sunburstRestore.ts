/** Restores sunburst panels after a window reload (VS Code's webview serializer for the sunburst view type). */
import * as vscode from 'vscode';
import { parseWebviewState, SUNBURST_VIEW_TYPE, type PanelTarget } from '../shared/protocol';
import { SunburstPanel, type SunburstHooks } from './sunburstPanel';

/**
 * Restores sunburst panels after a window reload. `restore` gets the revived panel and its target (validated
 * from the webview's persisted state) and should load the closure (from the cache) and call `setClosure`.
 */
export function registerSunburstSerializer(
  context: vscode.ExtensionContext,
  restore: (panel: SunburstPanel, target: PanelTarget) => void | Promise<void>,
  hooks: SunburstHooks = {},
): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(SUNBURST_VIEW_TYPE, {
    async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, raw: unknown) {
      const state = parseWebviewState(raw);
      if (!state.target) {
        // Nothing to reload from: keep the tab but say how to get the view back.
        const orphan = SunburstPanel.revive(
          webviewPanel,
          context.extensionUri,
          { kind: 'json-file', file: '(none)' },
          'closure',
          hooks,
        );
        orphan.setError(
          'This sunburst could not be restored: it does not say which closure it showed.',
          'Run "Closure Lens: Show closure" again.',
        );
        return;
      }
      const panel = SunburstPanel.revive(
        webviewPanel,
        context.extensionUri,
        state.target,
        state.title ?? 'closure',
        hooks,
      );
      try {
        await restore(panel, state.target);
      } catch (e) {
        const err = e as { message?: string; fix?: string };
        panel.setError(err.message ?? String(e), err.fix);
      }
    },
  });
}
