/**
 * The quick pick behind "Show closure": every output of every flake in the workspace (listed as they arrive,
 * last used first), a store path, and the running system. In an untrusted workspace only the last two.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveStorePath as engineResolveStorePath } from '../core/load/storePaths';
import { isClosureLensError } from '../core/errors';
import { parseStorePath, displayName } from '../shared/storePath';
import type { NixLog } from './nixLog';
import { pushRecent, splitByRecent } from './recentOrder';
import {
  flakeDescription,
  targetKey,
  type ClosureTarget,
  type FlakeListing,
  type FlakeRef,
  type TargetDiscovery,
} from './targets';
import { UntrustedWorkspaceError } from './trust';

const RECENT_KEY = 'nixClosureLens.recentTargets';
const RECENT_KEPT = 20;
export const RUNNING_SYSTEM = '/run/current-system';

/** Last-used targets, most recent first, per workspace. */
export class RecentTargets {
  constructor(private readonly state: vscode.Memento) {}

  keys(): string[] {
    const v = this.state.get<unknown>(RECENT_KEY, []);
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  }

  async use(target: ClosureTarget): Promise<void> {
    const key = targetKey(target);
    const keys = pushRecent(this.keys(), key, RECENT_KEPT);
    await this.state.update(RECENT_KEY, keys);
  }

  /** Store-path targets used before (flake outputs come back through their listing). */
  storePaths(): ClosureTarget[] {
    return this.keys()
      .filter((k) => k.startsWith('store:'))
      .map((k) => storePathTarget(k.slice('store:'.length)));
  }
}

export function storePathTarget(storePath: string, label?: string): ClosureTarget {
  let name = storePath;
  try {
    name = displayName(parseStorePath(storePath));
  } catch {
    // Not a store path name (a symlink such as /run/current-system): keep it as it is.
  }
  return { kind: 'store-path', path: storePath, label: label ?? name };
}

type Action =
  | { readonly kind: 'target'; readonly target: ClosureTarget }
  | { readonly kind: 'ask-store-path' }
  | { readonly kind: 'running-system' }
  | { readonly kind: 'manage-trust' }
  | { readonly kind: 'show-log' };

interface ActionItem extends vscode.QuickPickItem {
  readonly action?: Action;
}

export interface PickOptions {
  readonly refresh?: boolean;
  readonly title?: string;
  /** List the outputs of these flakes only (the explorer's "Show closure" on one flake.nix); default: every flake. */
  readonly flakes?: readonly FlakeRef[];
}

/** The target pick open now, if any: the in-editor tests read it (the workbench's quick input is out of their reach). */
let openPick: vscode.QuickPick<ActionItem> | undefined;

export interface OpenPickState {
  readonly title: string | undefined;
  /** Each row's label and description, separators left out. */
  readonly rows: readonly { readonly label: string; readonly description?: string }[];
  /** The label of the row Enter would pick. */
  readonly active: string | undefined;
  readonly busy: boolean;
}

export function openPickState(): OpenPickState | undefined {
  const qp = openPick;
  return (
    qp && {
      title: qp.title,
      rows: qp.items
        .filter((i) => i.kind !== vscode.QuickPickItemKind.Separator)
        .map((i) => ({ label: i.label, ...(i.description !== undefined ? { description: i.description } : {}) })),
      active: qp.activeItems[0]?.label,
      busy: qp.busy,
    }
  );
}

/** Lets the user choose a target; resolves undefined when they dismissed the pick. */
export async function pickTarget(
  discovery: TargetDiscovery,
  recent: RecentTargets,
  log: NixLog,
  opts: PickOptions = {},
): Promise<ClosureTarget | undefined> {
  const qp = vscode.window.createQuickPick<ActionItem>();
  qp.title = opts.title ?? 'Nix Closure Lens: Show closure';
  qp.placeholder = 'Choose what to analyse (type to filter)';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const abort = new AbortController();
  const listings: FlakeListing[] = [];
  const problems: ActionItem[] = [];
  const hasRunningSystem = await exists(RUNNING_SYSTEM);

  // Active items reported back that this code did not make active are the user's doing.
  const madeActive = new WeakSet<ActionItem>();
  let chosenByUser: ActionItem | undefined;
  qp.onDidChangeActive((active) => {
    if (active[0] && !madeActive.has(active[0])) chosenByUser = active[0];
  });

  const render = () => {
    const all: ClosureTarget[] = [
      ...listings.flatMap((l) =>
        l.outputs.map((output) => ({ kind: 'flake-output' as const, flake: l.flake, output })),
      ),
      // On one flake (its flake.nix in the explorer) only that flake's outputs, recently used or not.
      ...(opts.flakes ? [] : recent.storePaths()),
    ];
    const { recent: used, rest } = splitByRecent(all, targetKey, recent.keys());
    const items: ActionItem[] = [];
    if (used.length > 0) {
      items.push({ label: 'recently used', kind: vscode.QuickPickItemKind.Separator });
      for (const t of used) items.push(targetItem(t, multiFlake));
    }
    for (const l of listings) {
      const outputs = rest.filter((t) => t.kind === 'flake-output' && t.flake.dir === l.flake.dir);
      if (outputs.length === 0) continue;
      items.push({ label: flakeDescription(l.flake), kind: vscode.QuickPickItemKind.Separator });
      // Typing a filter hides the separators: with several flakes, each row names its own.
      for (const t of outputs) items.push(targetItem(t, multiFlake));
    }
    items.push(...problems);
    items.push({ label: 'other', kind: vscode.QuickPickItemKind.Separator });
    items.push({
      label: '$(file-symlink-file) Store path…',
      description: 'a /nix/store path or a link to one, such as ./result',
      action: { kind: 'ask-store-path' },
    });
    if (hasRunningSystem) {
      items.push({ label: '$(vm) Running system', description: RUNNING_SYSTEM, action: { kind: 'running-system' } });
    }
    qp.items = items;
    // Keep the item the user moved to (or filtered to); otherwise the first one, so that Enter picks the last used
    // target and not "Store path…", which was first before the flakes were listed.
    const keep =
      chosenByUser &&
      items.find((i) => i.action && i.label === chosenByUser!.label && i.description === chosenByUser!.description);
    const next = keep ?? items.find((i) => i.action);
    if (next) {
      if (!keep) madeActive.add(next);
      qp.activeItems = [next];
    }
  };

  let multiFlake = false;
  const listAll = async () => {
    if (!vscode.workspace.isTrusted) {
      problems.push({
        label: '$(shield) Flake outputs need a trusted workspace',
        detail: 'Evaluating a flake runs its code. Select this to manage Workspace Trust.',
        action: { kind: 'manage-trust' },
        alwaysShow: true,
      });
      return;
    }
    qp.busy = true;
    try {
      const flakes = opts.flakes ?? (await discovery.findFlakes());
      multiFlake = flakes.length > 1;
      if (flakes.length === 0) {
        problems.push({ label: '$(info) No flake.nix in this workspace', alwaysShow: true });
      }
      await Promise.all(
        flakes.map(async (flake) => {
          try {
            const listing = await discovery.list(flake, { refresh: opts.refresh, signal: abort.signal });
            listings.push(listing);
            listings.sort((a, b) => a.flake.dir.localeCompare(b.flake.dir));
            // A flake inside another one (a vendored nixpkgs lib, a subflake) with nothing to analyse is not a
            // target the user meant: it is logged, not listed. A flake of its own with none still says so.
            const parent = flakes.find((o) => o !== flake && flake.dir.startsWith(o.dir + path.sep));
            if (listing.outputs.length === 0 && parent) {
              log.info(`${flakeDescription(flake)}: no outputs to analyse; not listed (a flake inside ${parent.dir})`);
            } else if (listing.outputs.length === 0) {
              problems.push({
                label: `$(info) ${flakeDescription(flake)}: no outputs to analyse`,
                detail:
                  'It defines no nixosConfigurations, packages, devShells, homeConfigurations or darwinConfigurations for this system.',
                action: { kind: 'show-log' },
                alwaysShow: true,
              });
            }
          } catch (err) {
            if (abort.signal.aborted) return;
            if (err instanceof UntrustedWorkspaceError) return;
            log.error(
              `listing the outputs of ${flake.dir} failed`,
              isClosureLensError(err) ? `${err.oneLine()}\n${err.detail ?? ''}` : err,
            );
            problems.push({
              label: `$(error) ${flakeDescription(flake)}: its outputs could not be listed`,
              detail: isClosureLensError(err) ? err.message : err instanceof Error ? err.message : String(err),
              action: { kind: 'show-log' },
              alwaysShow: true,
            });
          }
          render();
        }),
      );
      if (discovery.systemProblem !== undefined) {
        log.error(`\`nix eval builtins.currentSystem\` failed: ${discovery.systemProblem}`);
        problems.push({
          label: '$(error) Nix could not say which system this machine is',
          // The way out first: the row is one line wide, and the failed command line can be long.
          detail: `Select to show the log. \`nix eval builtins.currentSystem\` failed: ${discovery.systemProblem}.`,
          action: { kind: 'show-log' },
          alwaysShow: true,
        });
      }
    } catch (err) {
      // Anything else (finding the flakes, say) is shown too: an empty list with no word is the worst answer.
      log.error('listing the flake outputs failed', err);
      problems.push({
        label: '$(error) The flake outputs could not be listed',
        detail: err instanceof Error ? err.message : String(err),
        action: { kind: 'show-log' },
        alwaysShow: true,
      });
    } finally {
      qp.busy = false;
    }
  };

  render();
  qp.show();
  openPick = qp;
  const listing = listAll().then(render);
  const chosen = await new Promise<Action | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const action = qp.selectedItems[0]?.action;
      if (action) resolve(action);
    });
    qp.onDidHide(() => resolve(undefined));
  });
  abort.abort();
  if (openPick === qp) openPick = undefined;
  qp.dispose();
  await listing.catch(() => undefined);
  switch (chosen?.kind) {
    case undefined:
      return undefined;
    case 'target':
      return chosen.target;
    case 'ask-store-path':
      return askStorePath();
    case 'running-system':
      return runningSystemTarget();
    case 'manage-trust':
      await vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    case 'show-log':
      log.show();
      return undefined;
  }
}

function targetItem(t: ClosureTarget, withFlake: boolean): ActionItem {
  if (t.kind === 'store-path') {
    return { label: `$(package) ${t.label}`, description: t.path, action: { kind: 'target', target: t } };
  }
  return {
    label: `$(${ICONS[t.output.category]}) ${t.output.label}`,
    description: withFlake ? flakeDescription(t.flake) : undefined,
    action: { kind: 'target', target: t },
  };
}

const ICONS: Record<string, string> = {
  nixosConfigurations: 'server',
  packages: 'package',
  devShells: 'terminal',
  homeConfigurations: 'home',
  darwinConfigurations: 'device-desktop',
};

async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The store path that user input stands for: a store path, or a link into the store (./result, /run/current-system). */
export async function storePathFromInput(input: string, base?: string): Promise<{ path: string } | { error: string }> {
  const trimmed = input.trim();
  if (trimmed === '') return { error: 'Enter a store path, such as /nix/store/…-hello-2.12, or a link to one.' };
  const abs = path.isAbsolute(trimmed) ? trimmed : base ? path.resolve(base, trimmed) : undefined;
  if (!abs) return { error: 'Enter an absolute path (no workspace folder to resolve a relative one against).' };
  try {
    return { path: await engineResolveStorePath(abs) };
  } catch (err) {
    return { error: isClosureLensError(err) ? `${err.message}: ${err.fix}.` : String(err) };
  }
}

export async function askStorePath(): Promise<ClosureTarget | undefined> {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const input = await vscode.window.showInputBox({
    title: 'Nix Closure Lens: Show closure of store path',
    prompt: 'A store path, or a link to one (./result, /run/current-system)',
    placeHolder: '/nix/store/…-name',
    ignoreFocusOut: true,
    validateInput: async (value) => {
      const r = await storePathFromInput(value, base);
      return 'error' in r ? r.error : undefined;
    },
  });
  if (input === undefined) return undefined;
  const r = await storePathFromInput(input, base);
  if ('error' in r) {
    void vscode.window.showErrorMessage(`Nix Closure Lens: ${r.error}`);
    return undefined;
  }
  return storePathTarget(r.path);
}

export async function runningSystemTarget(): Promise<ClosureTarget | undefined> {
  const r = await storePathFromInput(RUNNING_SYSTEM);
  if ('error' in r) {
    void vscode.window.showErrorMessage(
      `Nix Closure Lens: there is no running NixOS system here (${RUNNING_SYSTEM} does not exist). ` +
        'Use "Show closure of store path…" for another system, or "Show closure" for a configuration in the workspace.',
    );
    return undefined;
  }
  const target = storePathTarget(r.path);
  return target.kind === 'store-path' ? storePathTarget(r.path, `running system (${target.label})`) : target;
}
