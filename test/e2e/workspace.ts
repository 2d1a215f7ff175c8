/**
 * The folder a test run opens: a copy of the example flake in a temp dir (flakes in git repos only see tracked
 * files, and the tests must not write into the repo), with a fresh nonce for its slow-build output. Or a multi-root
 * workspace: a .code-workspace file whose folders are copies of fixture flakes. Also a logging `nix`: a script, set
 * as nixClosureLens.nixPath, that appends each argument vector to a file and then execs the real nix, so tests can
 * check which nix commands the extension ran (e.g. none in an untrusted folder).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './codeServer';

export const EXAMPLE_FLAKE = path.join(REPO, 'test/fixtures/example-flake');

/** The offline Nix settings of test/support/nix-env.sh, for code-server's (and so the extension's) environment. */
export { NIX_CONFIG } from '../support/fixtures';

export interface E2EWorkspace {
  /** The folder opened in VS Code: a copy of the example flake (in a multi-root workspace, its first folder). */
  readonly folder: string;
  /** A multi-root workspace: the .code-workspace file VS Code opens instead of `folder`. */
  readonly workspaceFile?: string;
  /** Every workspace folder, in the order of the workspace file. */
  readonly folders: readonly string[];
  /** `path:<folder>`: a flake reference for oracle nix calls. */
  readonly flakeRef: string;
  /**
   * Written to slow-build-nonce: the slow-build derivation's `nonce` attribute, so also its builder's env (empty in
   * a multi-root workspace of fixture flakes, which have no slow build).
   */
  readonly slowBuildNonce: string;
  /** The logging nix executable. */
  readonly nixPath: string;
  /** One line per nix invocation: its arguments joined by spaces. */
  readonly nixLogFile: string;
  nixInvocations(): string[];
  remove(): void;
}

function realNix(): string {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'nix');
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  throw new Error('nix is not on PATH. Run: bash .ci/setup');
}

/** `name`: a label for the temp dir. */
export function createWorkspace(name: string): E2EWorkspace {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `closure-lens-${name}-`));
  const folder = path.join(root, 'example-flake');
  fs.cpSync(EXAMPLE_FLAKE, folder, { recursive: true, dereference: true });
  const slowBuildNonce = randomBytes(8).toString('hex');
  fs.writeFileSync(path.join(folder, 'slow-build-nonce'), slowBuildNonce);
  return withNixLog(root, { folder, folders: [folder], slowBuildNonce });
}

/**
 * A multi-root workspace: `<root>/<fixture>/` copies of test/fixtures/flakes/<fixture> (their derivations.nix link
 * dereferenced), listed in that order in `<root>/multi-root.code-workspace`.
 */
export function createMultiRootWorkspace(name: string, fixtures: readonly string[]): E2EWorkspace {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `closure-lens-${name}-`));
  const folders = fixtures.map((f) => {
    const dir = path.join(root, f);
    fs.cpSync(path.join(REPO, 'test/fixtures/flakes', f), dir, { recursive: true, dereference: true });
    return dir;
  });
  const workspaceFile = path.join(root, 'multi-root.code-workspace');
  fs.writeFileSync(
    workspaceFile,
    JSON.stringify({ folders: fixtures.map((f) => ({ path: f })), settings: {} }, null, 2),
  );
  // No slow-build here: the nonce is never written.
  return withNixLog(root, { folder: folders[0]!, folders, workspaceFile, slowBuildNonce: '' });
}

type Opened = Pick<E2EWorkspace, 'folder' | 'folders' | 'workspaceFile' | 'slowBuildNonce'>;

function withNixLog(root: string, opened: Opened): E2EWorkspace {
  const { folder } = opened;
  const nixLogFile = path.join(root, 'nix-invocations.log');
  fs.writeFileSync(nixLogFile, '');
  const nixPath = path.join(root, 'bin/nix');
  fs.mkdirSync(path.dirname(nixPath));
  // exec keeps the pid, so the extension's cancellation signals reach nix itself.
  fs.writeFileSync(nixPath, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${nixLogFile}'\nexec '${realNix()}' "$@"\n`, {
    mode: 0o755,
  });

  return {
    ...opened,
    flakeRef: `path:${folder}`,
    nixPath,
    nixLogFile,
    nixInvocations: () =>
      fs
        .readFileSync(nixLogFile, 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
