/**
 * The e2e stage of `npm test` (node out/test/e2e/run.js): the extension in a real VS Code (code-server 4.100.3).
 *   - `npm run package` first (it rewrites dist/ with the production bundles, then the development build is back);
 *   - then two lanes in parallel, each a sequence of fresh code-server sessions:
 *     A. the in-editor mocha suite (out/test/e2e/suite) through @vscode/test-electron's runTests and shim.ts;
 *        the UI journey on the example flake; the UI of the tree and hovers; a multi-root workspace of two flakes;
 *     B. the same suite in an untrusted folder (Workspace Trust on); the untrusted-folder UI scenario; the smoke
 *        scenario with the extension installed from the .vsix; the sunburst restored after a window reload; the
 *        why-graph of a hub; the palette's compressed size, size budget and closure diff; a 10,000-path closure in the table (and a nix that cannot name the system); the
 *        suite of out/test/e2e/suite-multiroot in a multi-root workspace of two flakes.
 * Each stage's output is printed as one block when it ends. Screenshots: test-artifacts/e2e/.
 * Options: --only=<stage name substring>, --verbose (log lines of the sessions too), --skip-package (reuse the .vsix),
 * --serial (one lane).
 */
import { runTests } from '@vscode/test-electron';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { ARTIFACTS } from './browser';
import { checkCodeServerInstalled, REPO } from './codeServer';
import * as scenarios from './scenarios';
import { hoverAndTree } from './scenarios-hover';
import { multiRoot, multiRootWorkspace } from './scenarios-multiroot';
import { restoreAfterReload } from './scenarios-restore';
import { largeClosure, workspaceWithoutSystem } from './scenarios-large';
import { closureView } from './scenarios-view';
import { paletteCommands } from './scenarios-commands';
import { preciseWhy } from './scenarios-precise';
import { withSession, type SessionOptions } from './session';
import { packageVsix } from './vsix';
import { createWorkspace, NIX_CONFIG } from './workspace';

const argv = process.argv.slice(2);
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const verbose = argv.includes('--verbose');
const skipPackage = argv.includes('--skip-package');
const serial = argv.includes('--serial');
/** The whole stage; each part has its own, smaller limit as well. */
const HARD_LIMIT_MS = 10 * 60_000;

const failures: string[] = [];
const timings: [string, number][] = [];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Where a stage writes: collected, and printed as one block when the stage ends (lanes run in parallel). */
interface StageOutput {
  line(text: string): void;
  readonly stream: NodeJS.WritableStream;
}

async function stage(name: string, fn: (out: StageOutput) => Promise<void>): Promise<void> {
  if (only && !name.includes(only)) return;
  process.stdout.write(`  … ${name}\n`);
  const chunks: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => chunks.push(d.toString()));
  const out: StageOutput = { line: (text) => chunks.push(`${text}\n`), stream };
  const t0 = Date.now();
  let error: unknown;
  try {
    await fn(out);
  } catch (err) {
    error = err;
    failures.push(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  const ms = Date.now() - t0;
  timings.push([name, ms]);
  const result =
    error === undefined
      ? `✓ ${name} (${seconds(ms)})`
      : `✗ ${name} failed (${seconds(ms)}): ${error instanceof Error ? error.message : String(error)}`;
  process.stdout.write(`\n  ${name}\n${chunks.join('')}    ${result}\n`);
}

/** Runs the steps in order in one session; stops at the first failure (later steps build on earlier ones). */
async function uiStage(
  name: string,
  opts: Omit<SessionOptions, 'name' | 'verbose' | 'log'>,
  steps: scenarios.Step[],
): Promise<void> {
  await stage(name, (out) =>
    withSession({ ...opts, name: name.replace(/\W+/g, '-'), verbose, log: out.line }, async (session) => {
      for (const step of steps) {
        const t0 = Date.now();
        try {
          await step.run(session);
        } catch (err) {
          out.line(`    ✗ ${step.title} (${seconds(Date.now() - t0)})`);
          throw err;
        }
        out.line(`    ✓ ${step.title} (${seconds(Date.now() - t0)})`);
      }
    }),
  );
}

/**
 * The suite of test/e2e/suite/*.test.ts, exactly as a desktop VS Code would run it under runTests. With
 * `workspaceTrust`, Workspace Trust is on and the folder untrusted: the suite's untrusted-workspace tests run then.
 * With `multiRoot`, test/e2e/suite-multiroot/*.test.ts in the multi-root workspace of scenarios-multiroot.ts.
 */
async function hostSuite(workspaceTrust: boolean, out: StageOutput, opts: { multiRoot?: boolean } = {}): Promise<void> {
  const workspace = opts.multiRoot ? multiRootWorkspace('runTests-multiroot') : createWorkspace('runTests');
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-shim-'));
  // runTests spawns vscodeExecutablePath directly: give it an executable that runs the shim with this node. Its
  // output goes to a file that becomes part of this stage's block (@vscode/test-electron 2.x, the last line that
  // supports Node 20, would print it straight to stdout, in the middle of the other lane's stages).
  const shim = path.join(bin, 'code');
  const shimLog = path.join(bin, 'output.log');
  fs.writeFileSync(
    shim,
    `#!/bin/sh\nexec '${process.execPath}' '${path.join(__dirname, 'shim.js')}' "$@" >>'${shimLog}' 2>&1\n`,
    { mode: 0o755 },
  );
  try {
    await runTests({
      vscodeExecutablePath: shim,
      extensionDevelopmentPath: REPO,
      extensionTestsPath: path.join(__dirname, 'hostRunner.js'),
      launchArgs: [workspace.workspaceFile ?? workspace.folder],
      extensionTestsEnv: {
        NIX_CONFIG,
        CLOSURE_LENS_E2E_NIX_LOG: workspace.nixLogFile,
        // Option costs are evaluated on request only, so that the suites' counts of nix calls see only their own
        // (test/e2e/suite/hover.test.ts switches the automatic evaluation on where it tests it).
        CLOSURE_LENS_E2E_SETTINGS: JSON.stringify({
          'nixClosureLens.nixPath': workspace.nixPath,
          'nixClosureLens.optionCosts.automatic': false,
        }),
        // The suite grows with every feature; a hang, not a slow machine, should hit this.
        CLOSURE_LENS_E2E_TIMEOUT_MS: String(300_000),
        CLOSURE_LENS_E2E_TRUST: workspaceTrust ? '1' : '0',
        CLOSURE_LENS_E2E_SUITE: opts.multiRoot ? 'suite-multiroot' : 'suite',
        CLOSURE_LENS_E2E_VERBOSE: verbose ? '1' : '0',
      },
    });
  } finally {
    if (fs.existsSync(shimLog)) out.stream.write(fs.readFileSync(shimLog));
    fs.rmSync(bin, { recursive: true, force: true });
    workspace.remove();
  }
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

  let vsix: string | undefined;
  await stage('package: npm run package builds the .vsix', async (out) => {
    vsix = packageVsix({ reuse: skipPackage, ...(verbose ? { log: out.line } : {}) });
    const files = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).split('\n').filter(Boolean);
    out.line(
      `    ${path.relative(REPO, vsix)}: ${files.length} files, ${(fs.statSync(vsix).size / 1024).toFixed(0)} KiB`,
    );
    for (const required of [
      'extension/package.json',
      'extension/package.nls.json',
      'extension/dist/extension.js',
      'extension/dist/cli.js',
    ]) {
      if (!files.includes(required)) throw new Error(`the .vsix lacks ${required}`);
    }
    const stray = files.filter((f) => /^extension\/(src|test|node_modules|out|bench|webview)\/|\.map$|\.ts$/.test(f));
    if (stray.length > 0) throw new Error(`the .vsix holds files users do not need: ${stray.join(', ')}`);
  });

  const laneA = async (): Promise<void> => {
    await stage('runTests suite in code-server (via the shim)', (out) => hostSuite(false, out));
    await uiStage('UI: a user on the example flake', {}, scenarios.userJourney);
    await uiStage('UI: the Nix Closure tree and option hovers', {}, hoverAndTree);
    await uiStage('UI: a multi-root workspace of two flakes', { workspace: multiRootWorkspace }, multiRoot);
    await uiStage(
      'UI: the closure view at 700 px, its table, search and themes',
      { settings: { 'nixClosureLens.optionCosts.automatic': false } },
      closureView,
    );
  };
  const laneB = async (): Promise<void> => {
    await stage('runTests suite in an untrusted folder (Workspace Trust on)', (out) => hostSuite(true, out));
    await uiStage('UI: an untrusted folder (Workspace Trust on)', { workspaceTrust: true }, scenarios.untrusted);
    if (vsix) await uiStage('UI: smoke with the extension installed from the .vsix', { vsix }, scenarios.packagedSmoke);
    await uiStage('UI: the sunburst is restored after a window reload', {}, restoreAfterReload);
    await uiStage('UI: why-graph of a hub and precise references', {}, preciseWhy);
    await uiStage('UI: compressed size, a size budget and a closure diff from the palette', {}, paletteCommands);
    await uiStage(
      'UI: a 10,000-path closure in the table; nix cannot name the system',
      { workspace: workspaceWithoutSystem },
      largeClosure,
    );
    await stage('runTests suite in a multi-root workspace (two flakes)', (out) =>
      hostSuite(false, out, { multiRoot: true }),
    );
  };
  if (serial) {
    await laneA();
    await laneB();
  } else {
    await Promise.all([laneA(), laneB()]);
  }

  process.stdout.write(
    `\n  e2e timings: ${timings.map(([n, ms]) => `${n}: ${seconds(ms)}`).join('; ')}; total ${seconds(Date.now() - t0)}\n`,
  );
  if (failures.length > 0) {
    process.stdout.write(
      `\n  ${failures.length} e2e stage(s) failed:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`,
    );
    process.exitCode = 1;
  }
  // The plain closing line that CI reads, counted in stages (each stage runs a whole suite or scenario).
  process.stdout.write(`\ne2e: ${timings.length - failures.length} passed, ${failures.length} failed\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`e2e: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
