/**
 * "Set a size budget": opens the `.closure-lens.json` next to the shown flake (or at the root of the first
 * workspace folder), and when there is none yet, writes one with a budget for the shown closure: its size plus a
 * tenth, rounded up to whole MiB, so that the rule holds today and says so as soon as the closure grows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RULES_FILE_NAME } from '../core/rules';
import type { ClosureService, CurrentClosure } from './closureService';
import { Disposable } from './disposables';

export const EDIT_RULES_COMMAND = 'nixClosureLens.editRules';

const MIB = 1024 * 1024;

export class RulesFileCommand extends Disposable {
  constructor(private readonly service: ClosureService) {
    super();
    this.register(vscode.commands.registerCommand(EDIT_RULES_COMMAND, () => this.open()));
  }

  /** Opens (after creating, if needed) the rules file; its path, or undefined when there is no folder for it. */
  async open(): Promise<string | undefined> {
    const current = this.service.current;
    const dir =
      current?.target.kind === 'flake-output'
        ? current.target.flake.dir
        : vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
    if (!dir) {
      void vscode.window.showErrorMessage(
        `Nix Closure Lens: open a folder first (File > Open Folder…); ${RULES_FILE_NAME} belongs at the root of a flake.`,
      );
      return undefined;
    }
    const file = path.join(dir, RULES_FILE_NAME);
    if (!fs.existsSync(file)) {
      const edit = new vscode.WorkspaceEdit();
      edit.createFile(vscode.Uri.file(file), { contents: Buffer.from(starterRules(current)), ignoreIfExists: true });
      if (!(await vscode.workspace.applyEdit(edit))) {
        void vscode.window.showErrorMessage(`Nix Closure Lens: could not create ${file}. Is the folder writable?`);
        return undefined;
      }
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
    return file;
  }
}

/** The text of a new rules file: a budget for the shown closure, or a placeholder target to fill in. */
export function starterRules(current: CurrentClosure | undefined): string {
  const target =
    current?.target.kind === 'flake-output'
      ? current.target.output.installable
      : (current?.loaded.rootPath ?? '.#nixosConfigurations.myhost.config.system.build.toplevel');
  const size = current ? current.loaded.analysis.totalSize : 2 * 1024 * MIB;
  const budget = `${Math.ceil((size * 1.1) / MIB)} MiB`;
  const rule = { target, maxClosureSize: budget };
  return `${JSON.stringify({ rules: [rule] }, null, 2)}\n`;
}
