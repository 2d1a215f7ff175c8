/**
 * What a diff compares: a target the user names (installable, store path, profile generation, JSON file), or a
 * flake output at a git revision, which is checked out with `git archive` into a temporary directory and
 * evaluated from there as a `path:` flake, so the user's work tree and `.git` stay untouched.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Target } from '../load/engine';
import { ClosureLensError } from '../errors';

export interface DiffOperand {
  readonly target: Target;
  /** How reports name this side. */
  readonly label: string;
  /** The installable as the user would write it, for rule matching; absent for store paths and files. */
  readonly installable?: string;
  /** Removes temporary checkouts; safe to call twice. */
  dispose(): Promise<void>;
}

const nothingToDispose = async (): Promise<void> => {};

/**
 * A command-line operand: a store path, a symlink into the store (`/nix/var/nix/profiles/system-42-link`,
 * `./result`, `/run/current-system`), a `.json` closure file, or else a flake installable.
 */
export function resolveOperand(spec: string, cwd: string): DiffOperand {
  const fixed = (target: Target, label: string): DiffOperand => ({ target, label, dispose: nothingToDispose });
  if (spec.startsWith('-')) {
    // Operands reach nix as installables (after `--`), and one that looks like an option is a mistake, not a flake.
    throw new ClosureLensError(
      'bad-installable',
      `'${spec}' starts with "-": it is not an installable, a store path or a file`,
      {
        fix: 'give an installable such as .#name, a /nix/store path or a .json closure file',
      },
    );
  }
  if (!spec.includes('#')) {
    // A store path needs no file system check: the engine says clearly when it is not valid.
    const direct = storePathOf(spec);
    if (direct && spec.startsWith('/nix/store/') && !fs.existsSync(spec))
      return fixed({ kind: 'store-path', path: direct }, spec);
    const local = path.resolve(cwd, spec);
    if (fs.existsSync(local)) {
      if (spec.endsWith('.json') && fs.statSync(local).isFile()) return fixed({ kind: 'json-file', file: local }, spec);
      const storePath = storePathOf(fs.realpathSync(local));
      if (storePath)
        return fixed(
          { kind: 'store-path', path: storePath },
          spec === storePath ? spec : `${spec} (${path.basename(storePath)})`,
        );
      if (!fs.existsSync(path.join(local, 'flake.nix'))) {
        throw new ClosureLensError(
          'invalid-path',
          `${spec} is neither a store path, a link into the Nix store, a .json closure file nor a flake`,
          {
            fix: 'pass a /nix/store path, a profile link such as /nix/var/nix/profiles/system-42-link, or an installable such as .#name',
          },
        );
      }
    }
  }
  return {
    target: { kind: 'installable', installable: buildableInstallable(spec), cwd },
    label: spec,
    installable: spec,
    dispose: nothingToDispose,
  };
}

/** What a configuration output builds to, as `nixos-rebuild`, home-manager and darwin-rebuild build it. */
const CONFIGURATION_BUILDS: Record<string, string> = {
  nixosConfigurations: 'config.system.build.toplevel',
  homeConfigurations: 'activationPackage',
  darwinConfigurations: 'system',
};

/** `.#nixosConfigurations.web` → `.#nixosConfigurations.web.config.system.build.toplevel`; others unchanged. */
export function buildableInstallable(installable: string): string {
  const hash = installable.indexOf('#');
  if (hash < 0) return installable;
  const m = /^([A-Za-z]+)\.("[^"]*"|[^."]+)$/.exec(installable.slice(hash + 1));
  const suffix = m ? CONFIGURATION_BUILDS[m[1]!] : undefined;
  return suffix ? `${installable}.${suffix}` : installable;
}

/** `/nix/store/<hash>-<name>` of a resolved path inside the store (a file inside a store path counts too). */
function storePathOf(real: string): string | undefined {
  return /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[^/]+/.exec(real)?.[0];
}

/** System generations of a profile directory, newest first: `{ number, link }` for `system-<n>-link`. */
export function listGenerations(
  profileDir = '/nix/var/nix/profiles',
  profile = 'system',
): { number: number; link: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(profileDir);
  } catch {
    return [];
  }
  const re = new RegExp(`^${profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-link$`);
  return names
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x) => x.m)
    .map((x) => ({ number: Number(x.m![1]), link: path.join(profileDir, x.n) }))
    .sort((a, b) => b.number - a.number);
}

export interface RevisionOptions {
  readonly cwd: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/**
 * The flake output `installable` as it was at git revision `rev` (any `git rev-parse` name: `HEAD`, `HEAD~1`,
 * a tag, a hash). The flake must live in a local git repository; the result is a `path:` installable into a
 * temporary copy of that commit (its flake.lock included), removed by `dispose()`.
 */
export async function operandAtRevision(installable: string, rev: string, opts: RevisionOptions): Promise<DiffOperand> {
  const { flakeDir, attr } = localFlake(installable, opts.cwd);
  const git = async (args: string[]): Promise<string> => {
    try {
      const r = await execa('git', args, {
        cwd: flakeDir,
        cancelSignal: opts.signal,
        timeout: opts.timeoutMs ?? 60_000,
        stdin: 'ignore',
      });
      return r.stdout.trim();
    } catch (e) {
      throw gitError(e, args, flakeDir);
    }
  };
  const top = await git(['rev-parse', '--show-toplevel']);
  const sub = path.relative(fs.realpathSync(top), fs.realpathSync(flakeDir));
  let commit: string;
  try {
    commit = await git(['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`]);
  } catch (e) {
    if (e instanceof ClosureLensError && e.code === 'cancelled') throw e;
    throw new ClosureLensError('git-failed', `git does not know the revision '${rev}' in ${top}`, {
      cause: e,
      fix: 'name a commit that exists: HEAD, HEAD~1, a branch, a tag or a hash (see `git log --oneline`)',
    });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-rev-'));
  const dispose = async () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await execa('git', ['archive', '--format=tar', commit], {
      cwd: top,
      cancelSignal: opts.signal,
      timeout: opts.timeoutMs ?? 120_000,
      stdin: 'ignore',
    }).pipe('tar', ['-x', '-C', dir], { cancelSignal: opts.signal, timeout: opts.timeoutMs ?? 120_000 });
  } catch (e) {
    await dispose();
    throw gitError(e, ['archive', commit], top);
  }
  const checkedOut = path.join(dir, sub);
  if (!fs.existsSync(path.join(checkedOut, 'flake.nix'))) {
    await dispose();
    throw new ClosureLensError('git-failed', `revision '${rev}' has no flake.nix in ${sub || 'the repository root'}`, {
      fix: 'pick a revision in which the flake exists, or commit flake.nix first',
    });
  }
  const pathInstallable = buildableInstallable(`path:${checkedOut}${attr === undefined ? '' : `#${attr}`}`);
  return {
    target: { kind: 'installable', installable: pathInstallable, cwd: checkedOut },
    label: commit.startsWith(rev)
      ? `${installable} @ ${commit.slice(0, 12)}`
      : `${installable} @ ${rev} (${commit.slice(0, 12)})`,
    installable,
    dispose,
  };
}

/** The local directory of a flake installable and the attribute after `#`; throws for remote flakes. */
export function localFlake(installable: string, cwd: string): { flakeDir: string; attr: string | undefined } {
  const hash = installable.indexOf('#');
  const ref = hash < 0 ? installable : installable.slice(0, hash);
  const attr = hash < 0 ? undefined : installable.slice(hash + 1);
  let dirPart: string | undefined;
  if (ref === '' || ref === '.') dirPart = '.';
  else if (ref.startsWith('path:')) dirPart = ref.slice(5);
  else if (ref.startsWith('git+file://')) dirPart = ref.slice(11);
  else if (ref.startsWith('/') || ref.startsWith('./') || ref.startsWith('../')) dirPart = ref;
  if (dirPart === undefined) {
    throw new ClosureLensError('bad-installable', `'${installable}' is not a flake in a local directory`, {
      fix: 'a diff across git revisions needs a local flake, e.g. `.#name` or `path:/abs/dir#name`',
    });
  }
  if (/[?&]dir=/.test(dirPart)) {
    const [base, query] = dirPart.split('?', 2) as [string, string];
    const sub = new URLSearchParams(query).get('dir') ?? '';
    dirPart = path.join(base, sub);
  } else {
    dirPart = dirPart.split('?', 1)[0]!;
  }
  return { flakeDir: path.resolve(cwd, dirPart), attr };
}

function gitError(e: unknown, args: string[], dir: string): ClosureLensError {
  const err = e as { code?: string; isCanceled?: boolean; timedOut?: boolean; stderr?: string; shortMessage?: string };
  if (err.isCanceled)
    return new ClosureLensError('cancelled', 'cancelled', { cause: e, fix: 'run it again when you need it' });
  if (err.code === 'ENOENT') {
    return new ClosureLensError('tool-not-found', 'git is not installed or not on PATH', {
      cause: e,
      fix: 'install git (a diff across revisions checks the flake out with `git archive`)',
    });
  }
  if (err.timedOut)
    return new ClosureLensError('timeout', `\`git ${args.join(' ')}\` timed out`, {
      cause: e,
      fix: 'try again; check that the repository is not locked',
    });
  const stderr = (err.stderr ?? '').trim();
  if (/not a git repository/i.test(stderr)) {
    return new ClosureLensError('git-failed', `${dir} is not inside a git repository`, {
      cause: e,
      detail: stderr,
      fix: 'a diff across revisions needs the flake to be in a git repository (run `git init` and commit)',
    });
  }
  return new ClosureLensError(
    'git-failed',
    `\`git ${args.join(' ')}\` failed: ${stderr.split('\n').pop() || err.shortMessage || 'unknown error'}`,
    {
      cause: e,
      detail: stderr,
      fix: 'run the same git command in the repository to see what is wrong',
    },
  );
}

/** The last `n` commits of the repository holding `dir`: full hash, subject, relative date. Empty outside git. */
export async function recentCommits(
  dir: string,
  n = 20,
  signal?: AbortSignal,
): Promise<{ hash: string; subject: string; when: string }[]> {
  try {
    const r = await execa('git', ['log', `-n${n}`, '--format=%H%x09%cr%x09%s'], {
      cwd: dir,
      cancelSignal: signal,
      timeout: 20_000,
      stdin: 'ignore',
    });
    return r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [hash, when, ...subject] = l.split('\t');
        return { hash: hash!, when: when!, subject: subject.join('\t') };
      });
  } catch {
    return [];
  }
}
