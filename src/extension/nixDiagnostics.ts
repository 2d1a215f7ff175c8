/**
 * Puts Nix's evaluation and build errors on the workspace lines they name. Positions in the flake's store copy
 * are mapped back to the work tree. Diagnostics are grouped per flake and cleared when that flake next succeeds.
 */
import * as vscode from 'vscode';
import { errorHeadline, errorLocations, mapToWorkTree, sourceRootsFor } from './errorLocations';

export class NixDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('nix-closure-lens');
  /** flake directory → files that carry its diagnostics. */
  private readonly byFlake = new Map<string, vscode.Uri[]>();

  /**
   * Reports `errorText` for the flake in `flakeDir`. Returns the files Nix named that were found in the work tree
   * (as Nix wrote them, and where they are), so that messages can name the user's file instead of a store copy.
   */
  async report(
    flakeDir: string,
    workspaceFolder: string,
    errorText: string,
  ): Promise<{ nixFile: string; file: string }[]> {
    this.clear(flakeDir);
    const message = errorHeadline(errorText);
    const roots = sourceRootsFor(flakeDir, workspaceFolder);
    const perFile = new Map<string, vscode.Diagnostic[]>();
    const mapped: { nixFile: string; file: string }[] = [];
    for (const loc of errorLocations(errorText)) {
      const file = await mapToWorkTree(loc.file, roots);
      if (!file) continue;
      if (!mapped.some((m) => m.nixFile === loc.file)) mapped.push({ nixFile: loc.file, file });
      const pos = new vscode.Position(Math.max(0, loc.line - 1), Math.max(0, loc.column - 1));
      const d = new vscode.Diagnostic(
        new vscode.Range(pos, pos.translate(0, 1)),
        message,
        vscode.DiagnosticSeverity.Error,
      );
      d.source = 'Nix Closure Lens';
      d.code = 'nix';
      const list = perFile.get(file) ?? [];
      list.push(d);
      perFile.set(file, list);
    }
    const uris: vscode.Uri[] = [];
    for (const [file, diags] of perFile) {
      const uri = vscode.Uri.file(file);
      this.collection.set(uri, diags);
      uris.push(uri);
    }
    this.byFlake.set(flakeDir, uris);
    return mapped;
  }

  clear(flakeDir: string): void {
    for (const uri of this.byFlake.get(flakeDir) ?? []) this.collection.delete(uri);
    this.byFlake.delete(flakeDir);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
