/**
 * The e2e stage of `npm test` (node out/test/e2e/run.js): the extension in a real VS Code (code-server 4.100.3).
 *   1. the in-editor mocha suite (out/test/e2e/suite), run by @vscode/test-electron's runTests through shim.ts,
 *      in a trusted and in an untrusted folder;
 *   2. UI scenarios on the example flake, with the extension loaded from this folder;
 *   3. the untrusted-folder scenario (Workspace Trust on);
 *   4. the smoke scenario with the extension installed from the .vsix that `npm run package` builds.
 * Options: --only=<stage name substring>, --verbose (stream every log line), --skip-package (reuse dist/*.vsix).
 */
import { runTests } from '@vscode/test-electron';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ARTIFACTS } from './browser';
import { checkCodeServerInstalled, REPO } from './codeServer';
import * as scenarios from './scenarios';
import { withSession, type SessionOptions } from './session';
import { createWorkspace, NIX_CONFIG } from './workspace';

const argv = process.argv.slice(2);
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const verbose = argv.includes('--verbose');
const skipPackage = argv.includes('--skip-package');
/** The whole stage; each part has its own, smaller limit as well. */
const HARD_LIMIT_MS = 6 * 60_000;

const failures: string[] = [];
const timings: [string, number][] = [];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function stage(name: string, fn: () => Promise<void>): Promise<void> {
  if (only && !name.includes(only)) return;
  process.stdout.write(`\n  ${name}\n`);
  const t0 = Date.now();
  try {
    await fn();
  } catch (err) {
    failures.push(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.stdout.write(`    ✗ ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  timings.push([name, Date.now() - t0]);
}

/** Runs the steps in order in one session; stops at the first failure (later steps build on earlier ones). */
async function uiStage(name: string, opts: Omit<SessionOptions, 'name' | 'verbose'>, steps: scenarios.Step[]): Promise<void> {
  await stage(name, () =>
    withSession({ ...opts, name: name.replace(/\W+/g, '-'), verbose }, async (session) => {
      for (const step of steps) {
        const t0 = Date.now();
        try {
          await step.run(session);
        } catch (err) {
          process.stdout.write(`    ✗ ${step.title} (${seconds(Date.now() - t0)})\n`);
          throw err;
        }
        process.stdout.write(`    ✓ ${step.title} (${seconds(Date.now() - t0)})\n`);
      }
    }),
  );
}

/**
 * The suite of test/e2e/suite/*.test.ts, exactly as a desktop VS Code would run it under runTests. With
 * `workspaceTrust`, Workspace Trust is on and the folder untrusted: the suite's untrusted-workspace tests run then.
 */
async function hostSuite(workspaceTrust: boolean): Promise<void> {
  const workspace = createWorkspace('runTests');
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-shim-'));
  // runTests spawns vscodeExecutablePath directly: give it an executable that runs the shim with this node.
  const shim = path.join(bin, 'code');
  fs.writeFileSync(shim, `#!/bin/sh\nexec '${process.execPath}' '${path.join(__dirname, 'shim.js')}' "$@"\n`, { mode: 0o755 });
  try {
    await runTests({
      vscodeExecutablePath: shim,
      extensionDevelopmentPath: REPO,
      extensionTestsPath: path.join(__dirname, 'hostRunner.js'),
      launchArgs: [workspace.folder],
      extensionTestsEnv: {
        NIX_CONFIG,
        CLOSURE_LENS_E2E_NIX_LOG: workspace.nixLogFile,
        // Option costs are evaluated on request only, so that the suites' counts of nix calls see only their own
        // (test/e2e/suite/hover.test.ts switches the automatic evaluation on where it tests it).
        CLOSURE_LENS_E2E_SETTINGS: JSON.stringify({ 'nixClosureLens.nixPath': workspace.nixPath, 'nixClosureLens.optionCosts.automatic': false }),
        CLOSURE_LENS_E2E_TIMEOUT_MS: String(150_000),
        CLOSURE_LENS_E2E_TRUST: workspaceTrust ? '1' : '0',
      },
    });
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
    workspace.remove();
  }
}

/** `npm run package`: the production bundles and the .vsix in dist/, as users get them. Returns its path. */
function buildVsix(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
  const vsix = path.join(REPO, 'dist', `${pkg.name}-${pkg.version}.vsix`);
  if (!(skipPackage && fs.existsSync(vsix))) {
    fs.rmSync(vsix, { force: true });
    execFileSync('npm', ['run', '--silent', 'package'], { cwd: REPO, stdio: verbose ? 'inherit' : 'pipe' });
    // Back to the development build (source maps) for whatever runs next in this tree.
    execFileSync(process.execPath, ['.esbuild.config.mjs'], { cwd: REPO, stdio: 'inherit' });
  }
  if (!fs.existsSync(vsix)) throw new Error(`npm run package did not write ${vsix}`);
  return vsix;
}

async function main(): Promise<void> {
  checkCodeServerInstalled();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const t0 = Date.now();
  const limit = setTimeout(() => {
    process.stdout.write(`\n  e2e: still running after ${seconds(HARD_LIMIT_MS)}, giving up\n`);
    process.exit(3);
  }, HARD_LIMIT_MS);
  limit.unref();

  await stage('runTests suite in code-server (via the shim)', () => hostSuite(false));
  await stage('runTests suite in an untrusted folder (Workspace Trust on)', () => hostSuite(true));
  await uiStage('UI: a user on the example flake', {}, scenarios.userJourney);
  await uiStage('UI: an untrusted folder (Workspace Trust on)', { workspaceTrust: true }, scenarios.untrusted);
  let vsix: string | undefined;
  await stage('package: npm run package builds the .vsix', async () => {
    vsix = buildVsix();
    const files = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter(Boolean);
    process.stdout.write(`    ${path.relative(REPO, vsix)}: ${files.length} files, ${(fs.statSync(vsix).size / 1024).toFixed(0)} KiB\n`);
    for (const required of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js']) {
      if (!files.includes(required)) throw new Error(`the .vsix lacks ${required}`);
    }
    const stray = files.filter((f) => /^extension\/(src|test|node_modules|out|bench|webview)\/|\.map$|\.ts$/.test(f));
    if (stray.length > 0) throw new Error(`the .vsix holds files users do not need: ${stray.join(', ')}`);
  });
  if (vsix) await uiStage('UI: smoke with the extension installed from the .vsix', { vsix }, scenarios.smoke);

  process.stdout.write(`\n  e2e timings: ${timings.map(([n, ms]) => `${n}: ${seconds(ms)}`).join('; ')}; total ${seconds(Date.now() - t0)}\n`);
  if (failures.length > 0) {
    process.stdout.write(`\n  ${failures.length} e2e stage(s) failed:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`  e2e: all stages passed\n`);
  }
}

main().catch((err: unknown) => {
  process.stdout.write(`e2e: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
