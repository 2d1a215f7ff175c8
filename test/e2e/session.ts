/**
 * One user session for the UI scenarios: a copy of the example flake (or another workspace), a fresh code-server profile, the extension
 * loaded either from the source folder (payload route) or installed from a .vsix, and Chromium on the workbench.
 */
import { Browser, Workbench } from './browser';
import { CodeServer, installVsix, Profile, REPO } from './codeServer';
import { createWorkspace, NIX_CONFIG, type E2EWorkspace } from './workspace';

export interface SessionOptions {
  readonly name: string;
  /** Install this .vsix instead of loading the extension from the repository. */
  readonly vsix?: string;
  /** Start with Workspace Trust on: the folder is then untrusted. */
  readonly workspaceTrust?: boolean;
  /** Extra user settings. */
  readonly settings?: Record<string, unknown>;
  /** What to open (default: a copy of the example flake, createWorkspace). */
  readonly workspace?: (name: string) => E2EWorkspace;
  /** Also show code-server's and the extension host's log lines (else only the last ones, on failure). */
  readonly verbose?: boolean;
  /** Where to write them (default: stdout). */
  readonly log?: (line: string) => void;
}

export interface Session {
  readonly workspace: E2EWorkspace;
  /** code-server's profile: the extension's global storage is under profile.userDataDir. */
  readonly profile: Profile;
  readonly server: CodeServer;
  readonly workbench: Workbench;
  /** Every log line of the extension host and the workbench so far. */
  readonly logs: string[];
}

export async function withSession<T>(opts: SessionOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  const workspace = (opts.workspace ?? createWorkspace)(opts.name);
  const logs: string[] = [];
  const write = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log = (line: string): void => {
    logs.push(line);
    if (opts.verbose) write(`    | ${line}`);
  };
  const profile = Profile.create(
    {
      // The user's settings: the logging nix wrapper is honoured even in untrusted folders.
      'nixClosureLens.nixPath': workspace.nixPath,
      'security.workspace.trust.enabled': opts.workspaceTrust === true,
      ...opts.settings,
    },
    { env: { NIX_CONFIG } },
  );
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  try {
    if (opts.vsix) log(await installVsix(profile, opts.vsix));
    server = await CodeServer.start({
      profile,
      workspaceTrust: opts.workspaceTrust === true,
      onLog: (l) => log(`[code-server] ${l}`),
    });
    browser = await Browser.launch(profile, { onLog: log });
    // Errors of the workbench and of our webview's frames (console events include child frames).
    browser.page.on('pageerror', (e) => log(`[page error] ${e.message}`));
    browser.page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log(`[console.${m.type()}] ${m.text()}`);
    });
    const workbench = new Workbench(browser.page);
    await workbench.open(
      server.workbenchUrl(
        workspace.workspaceFile ?? workspace.folder,
        opts.vsix ? {} : { extensionDevelopmentPath: [REPO] },
      ),
    );
    const session: Session = { workspace, profile, server, workbench, logs };
    return await fn(session);
  } catch (err) {
    if (browser) await new Workbench(browser.page).screenshot(`${opts.name}-failure`).catch(() => undefined);
    const tail = logs
      .filter((l) => !/vsda|^\s*$/.test(l))
      .slice(-40)
      .join('\n    | ');
    if (tail && !opts.verbose) write(`    last log lines of ${opts.name}:\n    | ${tail}`);
    throw err;
  } finally {
    await browser?.close();
    await server?.stop();
    profile.remove();
    workspace.remove();
  }
}
