/**
 * "Compare closures…": pick two closures (the shown flake output against a git revision, two system
 * generations, or two store paths / installables), diff them, and show the Markdown report in the
 * Markdown preview of a read-only virtual document. The diff itself is core/diff.ts.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { diffClosures, type OriginLookup } from '../core/diff/diff';
import { renderDiffMarkdown } from '../core/diff/report';
import {
  listGenerations,
  operandAtRevision,
  recentCommits,
  resolveOperand,
  type DiffOperand,
} from '../core/diff/targets';
import type { ClosureEngine, LoadedClosure, Target } from '../core/load/engine';
import { isClosureLensError } from '../core/errors';
import { Disposable } from './disposables';

export const DIFF_SCHEME = 'closure-lens-diff';
export const DIFF_COMMAND = 'nixClosureLens.diff';

/** The flake output shown now, when it is one: the diff against a revision starts from it. */
export interface ShownFlakeOutput {
  readonly installable: string;
  /** Directory of its flake.nix. */
  readonly dir: string;
  readonly title: string;
}

export interface DiffViewDeps {
  readonly engine: () => ClosureEngine;
  readonly shownFlakeOutput: () => ShownFlakeOutput | undefined;
  /** Option attribution of added paths, when available for the target (a configuration). */
  readonly origin?: (target: Target, loaded: LoadedClosure, signal: AbortSignal) => Promise<OriginLookup | undefined>;
  /** Throws (and explains) when the workspace is not trusted; evaluating a flake runs its code. */
  readonly requireTrust: (action: string) => void;
}

type Choice = vscode.QuickPickItem & { run: () => Promise<[DiffOperand, DiffOperand] | undefined> };

export class DiffView extends Disposable implements vscode.TextDocumentContentProvider {
  private readonly documents = new Map<string, string>();
  private readonly changed = this.register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChange = this.changed.event;
  private count = 0;

  constructor(private readonly deps: DiffViewDeps) {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, this));
    // With two arguments (store paths, links or installables, relative to the first workspace folder) the
    // pickers are skipped: for keybindings, tasks and the in-editor tests.
    this.register(
      vscode.commands.registerCommand(DIFF_COMMAND, (before?: unknown, after?: unknown) =>
        typeof before === 'string' && typeof after === 'string' ? this.showSpecs(before, after) : this.pickAndShow(),
      ),
    );
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return (
      this.documents.get(uri.toString()) ?? 'This closure diff is no longer available: run "Compare closures…" again.'
    );
  }

  async pickAndShow(): Promise<vscode.Uri | undefined> {
    const choices = this.choices();
    const pick = await vscode.window.showQuickPick(choices, {
      title: 'Compare closures',
      placeHolder: 'What to compare',
    });
    if (!pick) return undefined;
    let operands: [DiffOperand, DiffOperand] | undefined;
    try {
      operands = await pick.run();
      if (!operands) return undefined;
      return await this.show(operands[0], operands[1]);
    } catch (err) {
      await this.showError(err);
      return undefined;
    } finally {
      await Promise.all((operands ?? []).map((o) => o.dispose()));
    }
  }

  /** The diff of two typed closures; the URI of the report, or undefined when it failed or was cancelled. */
  async showSpecs(before: string, after: string): Promise<vscode.Uri | undefined> {
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    try {
      return await this.show(resolveOperand(before, cwd), resolveOperand(after, cwd));
    } catch (err) {
      await this.showError(err);
      return undefined;
    }
  }

  /** Loads both sides with a cancellable progress notification and opens the report. */
  async show(before: DiffOperand, after: DiffOperand): Promise<vscode.Uri | undefined> {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Nix Closure Lens: comparing closures',
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          const load = async (o: DiffOperand): Promise<LoadedClosure> => {
            if (o.target.kind === 'installable') this.deps.requireTrust('evaluate and build flake outputs');
            progress.report({ message: o.label });
            const engine = this.deps.engine();
            const report = (m: { message: string }) => progress.report({ message: `${o.label}: ${m.message}` });
            // A revision's outputs are usually not built yet.
            if (o.target.kind === 'installable') {
              await engine.realise(o.target.installable, {
                signal: abort.signal,
                onProgress: report,
                ...(o.target.cwd ? { cwd: o.target.cwd } : {}),
              });
            }
            return engine.load(o.target, { signal: abort.signal, onProgress: report });
          };
          const a = await load(before);
          const b = await load(after);
          progress.report({ message: 'finding the options behind added paths…' });
          const origin = await this.deps.origin?.(after.target, b, abort.signal);
          return diffClosures(
            { graph: a.analysis.graph, label: before.label },
            { graph: b.analysis.graph, label: after.label },
            origin ? { origin } : {},
          );
        } catch (err) {
          if (abort.signal.aborted || isClosureLensError(err, 'cancelled')) return undefined;
          throw err;
        } finally {
          sub.dispose();
        }
      },
    );
    if (!result) return undefined;
    const name = `${shortLabel(before.label)} → ${shortLabel(after.label)}`.replace(/[/\\]/g, '∕');
    const uri = vscode.Uri.from({ scheme: DIFF_SCHEME, path: `/Closure diff ${name}.md`, query: String(++this.count) });
    this.documents.set(uri.toString(), renderDiffMarkdown(result));
    this.changed.fire(uri);
    await vscode.commands.executeCommand('markdown.showPreview', uri);
    return uri;
  }

  private choices(): Choice[] {
    const choices: Choice[] = [];
    const shown = this.deps.shownFlakeOutput();
    if (shown) {
      choices.push({
        label: '$(git-commit) Working tree against a git revision',
        description: shown.title,
        detail: 'The shown flake output as committed (HEAD or an older commit) against your uncommitted changes.',
        run: () => this.revisionAgainstWorkTree(shown),
      });
      choices.push({
        label: '$(git-compare) Two git revisions',
        description: shown.title,
        detail: 'The shown flake output at two commits.',
        run: () => this.twoRevisions(shown),
      });
    }
    const generations = listGenerations();
    if (generations.length >= 2) {
      choices.push({
        label: '$(history) Two system generations',
        description: `${generations.length} in /nix/var/nix/profiles`,
        detail: 'Like nvd diff /nix/var/nix/profiles/system-41-link /nix/var/nix/profiles/system-42-link.',
        run: () => this.twoGenerations(generations),
      });
    }
    choices.push({
      label: '$(file-symlink-directory) Two store paths, links or installables',
      detail: 'Store paths, links into the store (./result, /run/current-system) or flake installables (.#name).',
      run: () => this.twoTyped(),
    });
    return choices;
  }

  private async pickCommit(dir: string, title: string): Promise<string | undefined> {
    const commits = await recentCommits(dir, 30);
    if (commits.length === 0) {
      void vscode.window.showWarningMessage(
        `Nix Closure Lens: ${dir} is not in a git repository with commits, so there is no revision to compare against.`,
      );
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      commits.map((c, i) => ({
        label: i === 0 ? 'HEAD' : `HEAD~${i}`,
        description: c.subject,
        detail: `${c.hash.slice(0, 12)} · ${c.when}`,
        rev: c.hash,
      })),
      { title, matchOnDescription: true },
    );
    return pick?.rev;
  }

  private async revisionAgainstWorkTree(shown: ShownFlakeOutput): Promise<[DiffOperand, DiffOperand] | undefined> {
    const rev = await this.pickCommit(shown.dir, 'Compare the working tree against which commit?');
    if (!rev) return undefined;
    this.deps.requireTrust('evaluate and build flake outputs');
    const before = await operandAtRevision(shown.installable, rev, { cwd: shown.dir });
    const work = resolveOperand(shown.installable, shown.dir);
    return [before, { ...work, label: `${shown.installable} (working tree)` }];
  }

  private async twoRevisions(shown: ShownFlakeOutput): Promise<[DiffOperand, DiffOperand] | undefined> {
    const older = await this.pickCommit(shown.dir, 'Older commit');
    if (!older) return undefined;
    const newer = await this.pickCommit(shown.dir, 'Newer commit');
    if (!newer) return undefined;
    this.deps.requireTrust('evaluate and build flake outputs');
    const before = await operandAtRevision(shown.installable, older, { cwd: shown.dir });
    try {
      return [before, await operandAtRevision(shown.installable, newer, { cwd: shown.dir })];
    } catch (err) {
      await before.dispose();
      throw err;
    }
  }

  private async twoGenerations(
    generations: { number: number; link: string }[],
  ): Promise<[DiffOperand, DiffOperand] | undefined> {
    const items = generations.map((g) => ({
      label: `Generation ${g.number}`,
      description: g.link,
      picked: false,
      link: g.link,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Pick two generations (older first is not required)',
      canPickMany: true,
    });
    if (!picked) return undefined;
    if (picked.length !== 2) {
      void vscode.window.showWarningMessage(
        `Nix Closure Lens: pick exactly two generations (you picked ${picked.length}).`,
      );
      return undefined;
    }
    // Older generation first, so additions read as what the newer one added.
    const [a, b] = [...picked].sort(
      (x, y) => Number(/(\d+)-link$/.exec(x.link)![1]) - Number(/(\d+)-link$/.exec(y.link)![1]),
    );
    return [resolveOperand(a!.link, '/'), resolveOperand(b!.link, '/')];
  }

  private async twoTyped(): Promise<[DiffOperand, DiffOperand] | undefined> {
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const ask = (title: string, value: string) =>
      vscode.window.showInputBox({
        title,
        value,
        prompt: `A /nix/store path, a link into the store, or an installable relative to ${path.basename(cwd)} (e.g. .#name)`,
        validateInput: (v) => (v.trim() === '' ? 'Enter a store path, link or installable' : undefined),
      });
    const before = await ask('Before', '/run/current-system');
    if (!before) return undefined;
    const after = await ask('After', './result');
    if (!after) return undefined;
    return [resolveOperand(before.trim(), cwd), resolveOperand(after.trim(), cwd)];
  }

  private async showError(err: unknown): Promise<void> {
    if (isClosureLensError(err)) {
      await vscode.window.showErrorMessage(`Nix Closure Lens: ${err.message}`, { detail: err.fix, modal: false });
    } else if (err instanceof Error && err.name === 'UntrustedWorkspaceError') {
      await vscode.window.showWarningMessage(`Nix Closure Lens: ${err.message}`);
    } else {
      await vscode.window.showErrorMessage(
        `Nix Closure Lens: comparing closures failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

function shortLabel(label: string): string {
  const m = /#([^ ]+)/.exec(label);
  const rev = / @ (\S+)/.exec(label)?.[1];
  const base = m ? m[1]!.split('.').slice(0, 2).join('.') : path.basename(label.split(' ')[0]!);
  return rev ? `${base}@${rev}` : label.includes('working tree') ? `${base} (work)` : base;
}
