/** The e2e workspace (the example flake) and nix run in it, for the suites that compare with nix. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as vscode from 'vscode';

const execFileAsync = promisify(execFile);

export function folder(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the e2e harness opens the example flake as the workspace folder');
  return f.uri.fsPath;
}

export async function nix(args: string[]): Promise<string> {
  return (await execFileAsync('nix', args, { cwd: folder(), maxBuffer: 64 * 1024 * 1024 })).stdout;
}
