/**
 * What "Show closure" can show: an output of a flake in the workspace, or a store path. Flakes are found in every
 * folder of a multi-root workspace; their outputs are listed cheaply (flakeOutputs.ts) and remembered per flake
 * fingerprint (flakeOutputCache.ts), so an unchanged flake is listed without running nix.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PanelTarget } from '../shared/protocol';
import {
  currentSystem,
  listFlakeOutputs,
  systemFromNode,
  type FlakeOutput,
  type NixCommandRunner,
} from './flakeOutputs';
import { flakeFingerprint, type FlakeOutputCache } from './flakeOutputCache';
import { requireTrust } from './trust';
import { isClosureLensError } from '../core/errors';
import type { NixDiagnostics } from './nixDiagnostics';

export interface FlakeRef {
  /** Absolute directory holding flake.nix. */
  readonly dir: string;
  /** The workspace folder it was found in. */
  readonly folder: vscode.WorkspaceFolder;
}

export type ClosureTarget =
  | { readonly kind: 'flake-output'; readonly flake: FlakeRef; readonly output: FlakeOutput }
  | { readonly kind: 'store-path'; readonly path: string; readonly label: string };

/** A stable identity for "last used" lists and the status bar. */
export function targetKey(t: ClosureTarget): string {
  return t.kind === 'flake-output' ? `flake:${t.flake.dir}#${t.output.installable}` : `store:${t.path}`;
}

/** The panel and status bar title: the output's label, or the store path's name. */
export function targetTitle(t: ClosureTarget): string {
  if (t.kind !== 'flake-output') return t.label;
  // With several flakes (a multi-root workspace, or a flake below its folder) one output name can name several
  // closures: the title then says whose it is, as a target spec does (`diamonds#packages.default`).
  const several =
    (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ||
    path.resolve(t.flake.dir) !== path.resolve(t.flake.folder.uri.fsPath);
  return several ? `${flakeDescription(t.flake)}#${t.output.label}` : t.output.label;
}

/** Where the flake sits relative to its workspace folder, for quick pick descriptions. */
export function flakeDescription(f: FlakeRef): string {
  const rel = path.relative(f.folder.uri.fsPath, f.dir);
  return rel === '' ? f.folder.name : `${f.folder.name}/${rel}`;
}

export function panelTarget(t: ClosureTarget): PanelTarget {
  return t.kind === 'flake-output'
    ? { kind: 'installable', installable: t.output.installable, cwd: t.flake.dir }
    : { kind: 'store-path', path: t.path };
}

/**
 * Drops flakes that are not the workspace's own: those reached through a link into the Nix store (a `result`
 * link, an input's source) and second sightings of one directory through another link. Shallowest first.
 */
async function uniqueWorkspaceFlakes(flakes: FlakeRef[]): Promise<FlakeRef[]> {
  const seen = new Set<string>();
  const kept: FlakeRef[] = [];
  const byDepth = [...flakes].sort(
    (a, b) => a.dir.split(path.sep).length - b.dir.split(path.sep).length || a.dir.localeCompare(b.dir),
  );
  for (const f of byDepth) {
    let real: string;
    try {
      real = await fs.realpath(f.dir);
    } catch {
      continue;
    }
    if (real.startsWith('/nix/store/') || seen.has(real)) continue;
    seen.add(real);
    kept.push(f);
  }
  return kept;
}

export interface FlakeListing {
  readonly flake: FlakeRef;
  readonly outputs: readonly FlakeOutput[];
  readonly fromCache: boolean;
}

export class TargetDiscovery {
  private system: Promise<string> | undefined;
  /**
   * Why nix could not say this machine's system, when it could not (the guess from node is used instead): the
   * picker shows it, so that a broken nix is not met with a silently empty list.
   */
  systemProblem: string | undefined;

  constructor(
    private readonly nix: () => NixCommandRunner,
    private readonly cache: FlakeOutputCache,
    private readonly timeoutMs: () => number,
    private readonly onSkipped: (message: string) => void,
    private readonly diagnostics: NixDiagnostics,
  ) {}

  /** Every flake.nix in every workspace folder (node_modules and .git excluded). */
  async findFlakes(): Promise<FlakeRef[]> {
    const flakes: FlakeRef[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file') continue;
      const files = await vscode.workspace.findFiles(
        new vscode.RelativePattern(folder, '**/flake.nix'),
        '**/{node_modules,.git,.direnv}/**',
        200,
      );
      for (const f of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
        flakes.push({ dir: path.dirname(f.fsPath), folder });
      }
    }
    return uniqueWorkspaceFlakes(flakes);
  }

  /** Nix's system name, asked once per session; a guess from node if nix cannot say. */
  currentSystem(signal?: AbortSignal): Promise<string> {
    this.system ??= currentSystem(this.nix(), { signal, timeoutMs: this.timeoutMs() }).then(
      (system) => {
        this.systemProblem = undefined;
        return system;
      },
      (err: unknown) => {
        this.system = undefined;
        if (!signal?.aborted) {
          const why = isClosureLensError(err) ? err.message : err instanceof Error ? err.message : String(err);
          this.systemProblem = `${why.trim() || 'nix failed and printed nothing'}; outputs are listed for ${systemFromNode()}`;
        }
        return systemFromNode();
      },
    );
    return this.system;
  }

  /** The outputs of one flake: from the cache when the flake is unchanged, else by evaluation (trusted only). */
  async list(flake: FlakeRef, opts: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<FlakeListing> {
    requireTrust('evaluate flakes');
    const [fingerprint, system] = await Promise.all([flakeFingerprint(flake.dir), this.currentSystem(opts.signal)]);
    if (!opts.refresh) {
      const cached = await this.cache.outputs(flake.dir, fingerprint, system);
      if (cached) return { flake, outputs: cached, fromCache: true };
    }
    let outputs: FlakeOutput[];
    try {
      outputs = await listFlakeOutputs(this.nix(), flake.dir, system, {
        signal: opts.signal,
        timeoutMs: this.timeoutMs(),
        onSkipped: (category, name, why) =>
          this.onSkipped(`${flakeDescription(flake)}: skipped ${category}.${name}: ${why}`),
      });
    } catch (err) {
      if (isClosureLensError(err, 'eval-error')) {
        await this.diagnostics.report(flake.dir, flake.folder.uri.fsPath, `${err.detail ?? ''}\n${err.message}`);
      }
      throw err;
    }
    this.diagnostics.clear(flake.dir);
    if ((await flakeFingerprint(flake.dir)) === fingerprint)
      await this.cache.putOutputs(flake.dir, fingerprint, system, outputs);
    return { flake, outputs, fromCache: false };
  }

  /** Splits `<dir>#<attr>` (dir relative to a workspace folder) from a plain `<attr>` or `.#<attr>`. */
  private static splitSpec(spec: string): { dir?: string; attr: string } {
    const hash = spec.indexOf('#');
    if (hash < 0) return { attr: spec };
    const dir = spec.slice(0, hash);
    return dir === '' || dir === '.' ? { attr: spec.slice(hash + 1) } : { dir, attr: spec.slice(hash + 1) };
  }

  /**
   * Whether a spec's directory names this flake: relative to its workspace folder (`sub/dir`), absolute, or as the
   * quick pick describes it (`<folder name>/sub/dir`), which is how one folder of a multi-root workspace is named.
   */
  private static names(dir: string, f: FlakeRef): boolean {
    return path.resolve(f.folder.uri.fsPath, dir) === f.dir || dir.replace(/\/+$/, '') === flakeDescription(f);
  }

  /** The flakes a target spec can be in: the named directory's, or all of them. */
  async flakesFor(spec: string): Promise<FlakeRef[]> {
    const { dir } = TargetDiscovery.splitSpec(spec);
    const all = await this.findFlakes();
    return dir === undefined ? all : all.filter((f) => TargetDiscovery.names(dir, f));
  }

  /**
   * The output that a spec names (`nixClosureLens.defaultTarget` or a command argument): a label
   * (`nixosConfigurations.myhost`), an attribute path (`packages.x86_64-linux.hello`), an installable (`.#…`), or
   * `<dir>#<attr>` with the directory relative to its workspace folder or, in a multi-root workspace, starting with
   * the folder's name (`backend#packages.x86_64-linux.server`).
   */
  resolveDefault(spec: string, listings: readonly FlakeListing[]): ClosureTarget | undefined {
    const { dir, attr } = TargetDiscovery.splitSpec(spec);
    for (const l of listings) {
      if (dir !== undefined && !TargetDiscovery.names(dir, l.flake)) continue;
      for (const o of l.outputs) {
        if (o.label === attr || o.installable === `.#${attr}` || o.attrPath.join('.') === attr) {
          return { kind: 'flake-output', flake: l.flake, output: o };
        }
      }
    }
    return undefined;
  }
}
