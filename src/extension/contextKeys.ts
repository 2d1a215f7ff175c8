/**
 * Sets the context keys (contributions.ts) that package.json's `when` clauses read, so that a command shows in the palette and the menus
 * only where it can act: Refresh, Why depends… and the compressed-size estimate need a shown closure, "Analyse
 * option costs" a configuration, "Show closure of running system" a NixOS machine, and the explorer offers
 * "Show closure" on the links into the Nix store that the workspace holds (`result` of `nix build`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findStoreLinks } from '../core/load/storeLinks';
import { RULES_FILE_NAME } from '../core/rules';
import type { AnalysedTargets } from './analysedTargets';
import type { ClosureService } from './closureService';
import { Disposable } from './disposables';
import { CONTEXT_KEYS } from './contributions';
import { RUNNING_SYSTEM } from './targetPicker';

/** Files whose presence a context key tells. */
const MARKER_FILES: Record<string, string> = {
  'flake.nix': CONTEXT_KEYS.hasFlake,
  [RULES_FILE_NAME]: CONTEXT_KEYS.hasRules,
};

/** Rescanning after a burst of file events (a `nix build` writes many files) waits this long. */
const RESCAN_DELAY_MS = 500;

export class ContextKeys extends Disposable {
  private readonly values = new Map<string, unknown>();
  private links = new Map<string, string>();
  private rescanTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();

  constructor(service: ClosureService, analysed: AnalysedTargets) {
    super();
    const follow = () => {
      void this.set(CONTEXT_KEYS.hasClosure, service.current !== undefined);
      const options = analysed.current?.options.kind;
      void this.set(CONTEXT_KEYS.hasConfiguration, options !== undefined && options !== 'not-a-configuration');
    };
    follow();
    this.register(service.onDidChangeCurrent(follow));
    this.register(analysed.onDidChange(follow));
    void this.set(CONTEXT_KEYS.hasRunningSystem, fs.existsSync(RUNNING_SYSTEM));
    void this.set(CONTEXT_KEYS.hoveredOptionCost, false);

    // `nix build` makes `result`, `nix build -o name` any name: every created or deleted entry may be a link.
    const watcher = this.register(vscode.workspace.createFileSystemWatcher('**/*', false, true, false));
    // Only a new link or a known link's removal costs a scan, not the churn of a build in the workspace.
    this.register(
      watcher.onDidCreate((uri) => {
        if (uri.scheme === 'file' && isSymbolicLink(uri.fsPath)) this.rescanSoon();
        const marker = MARKER_FILES[path.basename(uri.fsPath)];
        if (marker) void this.set(marker, true);
      }),
    );
    this.register(
      watcher.onDidDelete((uri) => {
        if ([...this.links.keys()].some((l) => l === uri.fsPath || l.startsWith(`${uri.fsPath}/`))) this.rescanSoon();
        void this.findMarkers();
      }),
    );
    void this.findMarkers();
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.rescanSoon()));
    this.register({ dispose: () => clearTimeout(this.rescanTimer) });
    this.rescan();
  }

  /** Call when a hover showed an option's cost. */
  optionCostHovered(): void {
    if (this.values.get(CONTEXT_KEYS.hoveredOptionCost) !== true) void this.set(CONTEXT_KEYS.hoveredOptionCost, true);
  }

  /** Whether the workspace holds a flake.nix and a rules file (one cheap search each). */
  private async findMarkers(): Promise<void> {
    for (const [name, key] of Object.entries(MARKER_FILES)) {
      const found = await vscode.workspace.findFiles(`**/${name}`, '**/{node_modules,.git,.direnv}/**', 1);
      await this.set(key, found.length > 0);
    }
  }

  /** The value last given to a key (for the in-editor tests: VS Code has no API to read a context key). */
  value(key: string): unknown {
    return this.values.get(key);
  }

  private async set(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
    await vscode.commands.executeCommand('setContext', key, value);
  }

  private rescanSoon(): void {
    clearTimeout(this.rescanTimer);
    this.rescanTimer = setTimeout(() => this.rescan(), RESCAN_DELAY_MS);
  }

  /** Scans again (after the previous scan, so the last one wins). */
  rescan(): Promise<void> {
    this.scanning = this.scanning.then(async () => {
      const roots = (vscode.workspace.workspaceFolders ?? [])
        .filter((f) => f.uri.scheme === 'file')
        .map((f) => f.uri.fsPath);
      this.links = await findStoreLinks(roots).catch(() => new Map<string, string>());
      // `resourcePath` in a `when` clause is the URI's path, which for a local file is its file system path.
      await this.set(CONTEXT_KEYS.storeLinks, Object.fromEntries([...this.links.keys()].map((p) => [p, true])));
    });
    return this.scanning;
  }
}

function isSymbolicLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
