/** Typed access to the `nixClosureLens.*` settings, with the defaults declared in package.json. */
import * as vscode from 'vscode';
import { MAX_TIMEOUT_SECONDS } from '../core/nix/limits';

export const SECTION = 'nixClosureLens';

export type SizeUnits = 'iec' | 'nix';

export interface Settings {
  /** The nix binary. Restricted in untrusted workspaces (VS Code then reads only the user's value). */
  readonly nixPath: string;
  /** Arguments added to every nix call, e.g. `--option`, `max-jobs`, `4`. Restricted too. */
  readonly extraArgs: readonly string[];
  readonly timeoutMs: number;
  readonly maxArcs: number;
  readonly sizeUnits: SizeUnits;
  /** `nixosConfigurations.host`, `packages.hello`-style label or a full installable; '' = ask. */
  readonly defaultTarget: string;
  /** Where graphs are cached; '' = the extension's global storage. */
  readonly cacheDirectory: string;
  readonly querySubstituters: boolean;
  /** `--store` for closure queries (e.g. `ssh-ng://host`); '' = the local store. Restricted in untrusted workspaces. */
  readonly store: string;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const extraArgs = c.get<unknown>('extraArgs', []);
  const timeoutSeconds = c.get<number>('timeoutSeconds', 600);
  return {
    nixPath: c.get<string>('nixPath', 'nix').trim() || 'nix',
    extraArgs: Array.isArray(extraArgs) ? extraArgs.filter((a): a is string => typeof a === 'string') : [],
    // Node's timers hold at most 2^31 - 1 ms; a longer one would fire at once and stop nix at once.
    timeoutMs:
      Math.min(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds : 600, MAX_TIMEOUT_SECONDS) *
      1000,
    maxArcs: c.get<number>('sunburst.maxArcs', 2500),
    sizeUnits: c.get<string>('sizeUnits', 'iec') === 'nix' ? 'nix' : 'iec',
    defaultTarget: c.get<string>('defaultTarget', '').trim(),
    cacheDirectory: c.get<string>('cacheDirectory', '').trim(),
    querySubstituters: c.get<boolean>('querySubstituters', false),
    store: c.get<string>('store', '').trim(),
  };
}

/** Fires when any of our settings changes. */
export function onDidChangeSettings(listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) listener();
  });
}

/** The option-cost settings: automatic analysis, CodeLens and how many rows the sidebar lists. */
export function optionCostSettings(): {
  automatic: boolean;
  codeLens: boolean;
  codeLensMinBytes: number;
  heaviestCount: number;
} {
  const c = vscode.workspace.getConfiguration(SECTION);
  const mib = c.get<number>('optionCosts.codeLensThresholdMiB', 1);
  const n = c.get<number>('tree.heaviestCount', 25);
  return {
    automatic: c.get<boolean>('optionCosts.automatic', true),
    codeLens: c.get<boolean>('optionCosts.codeLens', false),
    codeLensMinBytes: (Number.isFinite(mib) && mib >= 0 ? mib : 1) * 1024 * 1024,
    heaviestCount: Number.isInteger(n) && n > 0 ? Math.min(n, 500) : 25,
  };
}
