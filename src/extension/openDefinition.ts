/**
 * The why panel's link to an option definition: opens the file at the line, but only a file that the attribution
 * sent to the webview named (`allowed`), so that a webview message cannot make the host open arbitrary files.
 */
import * as vscode from 'vscode';

export async function openDefinition(
  file: string,
  line: number | null,
  allowed: ReadonlySet<string>,
  log?: (line: string) => void,
): Promise<void> {
  if (!allowed.has(file)) {
    log?.(`sunburst: ignored openDefinition for a file not in the attribution: ${file.slice(0, 200)}`);
    return;
  }
  const uri = vscode.Uri.file(file);
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    void vscode.window.showErrorMessage(
      `Closure Lens: the definition's file ${file} does not exist (any more). Run "Show closure" again to refresh the option data.`,
    );
    return;
  }
  const position = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
  await vscode.window.showTextDocument(uri, {
    viewColumn: vscode.ViewColumn.One,
    selection: new vscode.Range(position, position),
    preview: true,
  });
}
