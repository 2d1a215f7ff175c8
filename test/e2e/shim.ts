/**
 * A stand-in for the `code` executable, so that @vscode/test-electron's `runTests` runs unchanged suites in
 * code-server: `runTests({ vscodeExecutablePath: <a script running this file>, ... })`.
 *
 * From the desktop command line it uses the folder (first positional argument), `--extensionDevelopmentPath=` and
 * `--extensionTestsPath=`, and ignores the desktop-only flags (code-server rejects unknown options). It starts
 * code-server on a fresh profile, opens the payload URL in Chromium, and exits with the code the workbench reports
 * through `window.codeAutomationExit`: 0 when the suite's `run()` resolved.
 *
 * Environment:
 *   CLOSURE_LENS_E2E_TRUST=1       start with Workspace Trust on (the folder is then untrusted)
 *   CLOSURE_LENS_E2E_SETTINGS      JSON object of extra user settings
 *   CLOSURE_LENS_E2E_TIMEOUT_MS    hard limit for the whole run (default 180000)
 *   CLOSURE_LENS_E2E_VERBOSE=1     print every log line of code-server and the workbench
 */
import { Browser, Workbench } from './browser';
import { CodeServer, Profile } from './codeServer';

interface DesktopArgs {
  folder?: string;
  extensionDevelopmentPath: string[];
  extensionTestsPath?: string;
}

function parseDesktopArgs(argv: readonly string[]): DesktopArgs {
  const parsed: DesktopArgs = { extensionDevelopmentPath: [] };
  for (const arg of argv) {
    const m = /^--([^=]+)=(.*)$/s.exec(arg);
    if (m?.[1] === 'extensionDevelopmentPath') parsed.extensionDevelopmentPath.push(m[2] ?? '');
    else if (m?.[1] === 'extensionTestsPath') parsed.extensionTestsPath = m[2];
    else if (!arg.startsWith('-') && parsed.folder === undefined) parsed.folder = arg;
  }
  return parsed;
}

/** Log lines that say nothing about the extension: the workbench's and code-server's routine. */
const NOISE =
  /vsda|^\s*$|Ignoring fetching additional builtin extensions|Creating a socket|Resolving connection token|Resolved connection token|Service Worker|ChatSessionStore|Updating additional builtin extensions cache|Creation of workbench contribution/;

async function main(): Promise<number> {
  const args = parseDesktopArgs(process.argv.slice(2));
  if (!args.folder) throw new Error('no folder: pass the workspace folder in launchArgs');
  const trust = process.env['CLOSURE_LENS_E2E_TRUST'] === '1';
  const extra = JSON.parse(process.env['CLOSURE_LENS_E2E_SETTINGS'] ?? '{}') as Record<string, unknown>;
  const timeoutMs = Number(process.env['CLOSURE_LENS_E2E_TIMEOUT_MS'] ?? 180_000);

  const verbose = process.env['CLOSURE_LENS_E2E_VERBOSE'] === '1';
  const serverLog: string[] = [];
  const profile = Profile.create({ ...extra, 'security.workspace.trust.enabled': trust });
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    server = await CodeServer.start({
      profile,
      workspaceTrust: trust,
      onLog: (line) => {
        if (NOISE.test(line)) return;
        if (verbose) process.stderr.write(`[code-server] ${line}\n`);
        serverLog.push(line);
        if (serverLog.length > 60) serverLog.shift();
      },
    });
    let onExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (onExit = resolve));
    browser = await Browser.launch(profile, {
      onExit: (code) => onExit(code),
      onLog: (line) => {
        if (verbose || !NOISE.test(line)) process.stdout.write(`${line}\n`);
      },
    });
    const timedOut = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        process.stderr.write(`e2e shim: no result after ${timeoutMs / 1000} s, giving up\n`);
        resolve(3);
      }, timeoutMs);
    });
    const workbench = new Workbench(browser.page);
    const url = server.workbenchUrl(args.folder, {
      extensionDevelopmentPath: args.extensionDevelopmentPath,
      ...(args.extensionTestsPath === undefined ? {} : { extensionTestsPath: args.extensionTestsPath }),
    });
    await browser.page.goto(url);
    const code = await Promise.race([exited, timedOut]);
    if (code !== 0) {
      await workbench.screenshot(`runTests-exit-${code}`).catch(() => undefined);
      if (!verbose)
        process.stderr.write(`last lines of code-server:\n${serverLog.map((l) => `[code-server] ${l}`).join('\n')}\n`);
    }
    return code;
  } finally {
    if (timer) clearTimeout(timer);
    await browser?.close();
    await server?.stop();
    profile.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`e2e shim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
