/**
 * code-server 4.100.3 (VS Code 1.100.3) as the real VS Code of the e2e tests: a fresh profile per run, started on
 * an ephemeral port in its own process group, with the gallery, telemetry and update checks off (no network).
 * Each flag and variable below says why it is needed.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The checkout: the first folder above this bundle (out/test/e2e or out/bench) with the build script. */
export const REPO = ((): string => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir))
    if (fs.existsSync(path.join(dir, '.esbuild.config.mjs'))) return dir;
  throw new Error(`no checkout of the repository above ${__dirname}`);
})();
export const CODE_SERVER_VERSION = '4.100.3';
const CODE_SERVER_DIR = path.join(REPO, 'test/e2e/code-server/node_modules/code-server');
export const CODE_SERVER_ENTRY = path.join(CODE_SERVER_DIR, 'out/node/entry.js');

/** Fails with the fix when code-server is missing or is another version. */
export function checkCodeServerInstalled(): void {
  const pkg = path.join(CODE_SERVER_DIR, 'package.json');
  if (!fs.existsSync(CODE_SERVER_ENTRY) || !fs.existsSync(pkg)) {
    throw new Error(`code-server is not installed in ${path.dirname(CODE_SERVER_DIR)}. Run: bash .ci/setup`);
  }
  const version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version?: string }).version;
  if (version !== CODE_SERVER_VERSION) {
    throw new Error(`code-server ${version} is installed, the tests need ${CODE_SERVER_VERSION}. Run: bash .ci/setup`);
  }
}

/** A throwaway home for one code-server instance and its browser: R in the notes. */
export class Profile {
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly root: string,
    extraEnv: NodeJS.ProcessEnv,
  ) {
    this.userDataDir = path.join(root, 'user-data');
    this.extensionsDir = path.join(root, 'extensions');
    for (const d of ['user-data/User', 'extensions', 'config', 'data', 'cache', 'tmp', 'chromium']) {
      fs.mkdirSync(path.join(root, d), { recursive: true });
    }
    // Chromium and code-server both get these, so nothing is written to $HOME.
    this.env = {
      ...process.env,
      XDG_CONFIG_HOME: path.join(root, 'config'),
      XDG_DATA_HOME: path.join(root, 'data'),
      XDG_CACHE_HOME: path.join(root, 'cache'),
      TMPDIR: path.join(root, 'tmp'),
      EXTENSIONS_GALLERY: '{}',
      ...extraEnv,
    };
  }

  /**
   * `root`: a directory to use (created if needed), else a fresh temp dir. `env`: added to the environment of
   * code-server (and so of the extension host) and Chromium.
   */
  static create(settings: Record<string, unknown>, opts: { root?: string; env?: NodeJS.ProcessEnv } = {}): Profile {
    const dir = opts.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-e2e-'));
    const profile = new Profile(dir, opts.env ?? {});
    profile.writeSettings(settings);
    return profile;
  }

  writeSettings(settings: Record<string, unknown>): void {
    const all = {
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'security.workspace.trust.enabled': false,
      'git.openRepositoryInParentFolders': 'never',
      ...settings,
    };
    fs.writeFileSync(path.join(this.userDataDir, 'User/settings.json'), JSON.stringify(all, null, 2));
  }

  get chromiumProfileDir(): string {
    return path.join(this.root, 'chromium');
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export interface StartOptions {
  readonly profile: Profile;
  /** Start with Workspace Trust on (the default for users); the tests otherwise turn it off. */
  readonly workspaceTrust?: boolean;
  /** 0 = an ephemeral port. */
  readonly port?: number;
  /** Every output line of code-server. */
  readonly onLog?: (line: string) => void;
}

export class CodeServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** `vscode-remote://` URIs are the only form of path the payload route accepts. */
  remote(p: string): string {
    return `vscode-remote://127.0.0.1:${this.port}${path.resolve(p)}`;
  }

  /**
   * The workbench URL with a folder (or a multi-root workspace: a `.code-workspace` file) and, optionally, the
   * payload route's extension development and tests paths.
   */
  workbenchUrl(
    folder: string,
    opts: { extensionDevelopmentPath?: string[]; extensionTestsPath?: string } = {},
  ): string {
    const payload: [string, string][] = [];
    for (const p of opts.extensionDevelopmentPath ?? []) payload.push(['extensionDevelopmentPath', this.remote(p)]);
    if (opts.extensionTestsPath) payload.push(['extensionTestsPath', this.remote(opts.extensionTestsPath)]);
    const kind = folder.endsWith('.code-workspace') ? 'workspace' : 'folder';
    let url = `${this.url}?${kind}=${encodeURIComponent(path.resolve(folder))}`;
    if (payload.length > 0) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    return url;
  }

  static async start(opts: StartOptions): Promise<CodeServer> {
    checkCodeServerInstalled();
    const { profile } = opts;
    const args = [
      CODE_SERVER_ENTRY,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${opts.port ?? 0}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--user-data-dir',
      profile.userDataDir,
      '--extensions-dir',
      profile.extensionsDir,
      '--config',
      path.join(profile.root, 'config/config.yaml'),
    ];
    if (!opts.workspaceTrust) args.push('--disable-workspace-trust');
    // Detached: its own process group, so that stop() also ends the file watcher and extension host.
    const child = spawn(process.execPath, args, {
      env: profile.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('code-server did not report its port within 60 s')), 60_000);
      let buffered = '';
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString();
        for (const line of text.split('\n')) if (line.trim()) opts.onLog?.(line);
        buffered += text;
        const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(buffered);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited before it listened (code ${code}, signal ${signal}):\n${buffered}`));
      });
    });
    return new CodeServer(child, port);
  }

  async stop(): Promise<void> {
    const { pid } = this.child;
    if (pid === undefined || this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
  }
}

/** Installs a .vsix into a profile's extensions dir, as a user would with `code-server --install-extension`. */
export async function installVsix(profile: Profile, vsix: string): Promise<string> {
  checkCodeServerInstalled();
  const { stdout, stderr } = await execFileAsync(
    process.execPath,
    [
      CODE_SERVER_ENTRY,
      '--user-data-dir',
      profile.userDataDir,
      '--extensions-dir',
      profile.extensionsDir,
      '--install-extension',
      vsix,
    ],
    { env: profile.env, timeout: 120_000 },
  );
  return `${stdout}${stderr}`;
}
