import * as vscode from 'vscode';

/** A definition file as the user knows it: relative to its flake source copy or to the workspace. */
export function shortFile(file: string): string {
  const m = /^\/nix\/store\/[0-9a-z]{32}-[^/]+\/(.*)$/.exec(file);
  if (m) return m[1]!;
  return vscode.workspace.asRelativePath(file, false);
}
