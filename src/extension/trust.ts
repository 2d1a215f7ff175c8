/**
 * Workspace Trust: in an untrusted workspace nothing is evaluated or built, because evaluating a flake runs code
 * that the folder's author wrote. Closures of paths that are already in the store can still be shown.
 */
import * as vscode from 'vscode';

export class UntrustedWorkspaceError extends Error {
  constructor(readonly action: string) {
    super(
      `This workspace is not trusted, so Nix Closure Lens does not ${action}: evaluating a flake runs the code in it.`,
    );
    this.name = 'UntrustedWorkspaceError';
  }
}

/** Throws before any evaluation or build when the workspace is not trusted. */
export function requireTrust(action: string): void {
  if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError(action);
}

/** Tells the user why nothing was evaluated, with the way out. */
export async function explainUntrusted(err: UntrustedWorkspaceError): Promise<void> {
  const manage = 'Manage Workspace Trust';
  const storePath = 'Show closure of store path…';
  const choice = await vscode.window.showWarningMessage(
    `${err.message} Trust the folder to analyse its flake, or pick a store path that is already built.`,
    manage,
    storePath,
  );
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  else if (choice === storePath) await vscode.commands.executeCommand('nixClosureLens.showStorePath');
}
