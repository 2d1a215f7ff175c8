/**
 * VS Code's cancellable progress notification for work that may be quick: the work starts at once and the
 * notification opens only when it is still running after a delay (as the workbench delays its own). A closure of
 * 10,000 paths loads in about a second, and the notification's animated bar kept a core 6–12 % busy in Chromium
 * (measured in code-server) beside nix while it ran; the panel says "Loading …" meanwhile.
 */
import * as vscode from 'vscode';

/** Long enough for a store path read from the local store, short enough that a build shows its Cancel at once. */
export const PROGRESS_DELAY_MS = 1000;

export function withDelayedProgress<T>(
  title: string,
  task: (report: (message: string) => void, signal: AbortSignal) => Promise<T>,
  delayMs = PROGRESS_DELAY_MS,
): Promise<T> {
  const abort = new AbortController();
  let lastMessage: string | undefined;
  let progress: vscode.Progress<{ message?: string }> | undefined;
  const report = (message: string) => {
    lastMessage = message;
    progress?.report({ message });
  };
  const running = task(report, abort.signal);
  const settled = running.then(
    () => undefined,
    () => undefined,
  );
  const timer = setTimeout(() => {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (p, token) => {
        progress = p;
        if (lastMessage !== undefined) p.report({ message: lastMessage });
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          await settled;
        } finally {
          sub.dispose();
          progress = undefined;
        }
      },
    );
  }, delayMs);
  void settled.then(() => clearTimeout(timer));
  return running;
}
