/**
 * The `closure-lens` executable (dist/closure-lens.js) starts `nix path-info` of a cold `closure <store path>` before
 * the CLI bundle loads (src/cli/prestart.ts), and the runner takes that process over. It may only save time: the
 * output, the errors and the exit codes must be dist/cli.js's (which starts nix itself), nix must run once, and
 * cancellation, the timeout and the kill -9 watchdog must hold for the prestarted process as for any nix call.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { buildFixture, nixEnv, repoRoot } from '../support/fixtures';
import { processesWith, waitUntilGone } from '../support/processes';

const LAUNCHER = path.join(repoRoot(), 'dist', 'closure-lens.js');
const BUNDLE = path.join(repoRoot(), 'dist', 'cli.js');

describe('closure-lens starts nix before its bundle loads (real nix)', function () {
  this.timeout(120_000);
  let tmp: string;
  let root: string;
  /** A nix that logs each call (`path-info …`) to calls.log, then runs the real one. */
  let loggingNix: string;
  /** A nix that never answers: a shell loop, its command line naming tmp. */
  let hangingNix: string;
  /** A nix that prints the closure's real JSON at once and exits: done long before the CLI bundle has loaded. */
  let instantNix: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-prestart-'));
    root = (await buildFixture('mini-nixos')).root;
    const realNix = (await execa('sh', ['-c', 'command -v nix'])).stdout.trim();
    loggingNix = path.join(tmp, 'logging-nix');
    fs.writeFileSync(loggingNix, `#!/bin/sh\necho "$*" >> '${tmp}/calls.log'\nexec '${realNix}' "$@"\n`, {
      mode: 0o755,
    });
    const json = (await execa('nix', ['path-info', '--recursive', '--size', '--json', root], { env: nixEnv() })).stdout;
    fs.writeFileSync(path.join(tmp, 'closure.json'), json);
    instantNix = path.join(tmp, 'instant-nix');
    fs.writeFileSync(
      instantNix,
      `#!/bin/sh\ncase "$1" in --version) echo 'nix (Nix) 2.8.0' ;; *) echo 'a warning' >&2; cat '${tmp}/closure.json' ;; esac\n`,
      { mode: 0o755 },
    );
    hangingNix = path.join(tmp, 'hanging-nix');
    fs.writeFileSync(hangingNix, '#!/bin/sh\nwhile :; do /bin/sleep 1; done\n', { mode: 0o755 });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const calls = (): string[] => {
    const log = path.join(tmp, 'calls.log');
    const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
    fs.rmSync(log, { force: true });
    return lines.filter((l) => l !== '');
  };

  function run(file: string, args: string[], cache: string) {
    return execa(process.execPath, [file, '--cache-dir', cache, ...args], {
      env: { ...nixEnv(), NO_COLOR: '1' },
      reject: false,
      stdin: 'ignore',
      timeout: 60_000,
    });
  }

  it('a cold closure: one nix path-info, the output of dist/cli.js; a warm one runs no nix', async () => {
    const args = ['--nix', loggingNix, 'closure', '--json', root];
    const direct = await run(BUNDLE, args, path.join(tmp, 'cache-direct'));
    assert.equal(direct.exitCode, 0, direct.stderr);
    calls();
    const cache = path.join(tmp, 'cache-launcher');
    const cold = await run(LAUNCHER, args, cache);
    assert.equal(cold.exitCode, 0, cold.stderr);
    assert.equal(cold.stdout, direct.stdout);
    assert.equal(cold.stderr, direct.stderr);
    const coldCalls = calls();
    // Two would mean the prestarted process was not the engine's command: stopped, and nix started again.
    assert.deepEqual(
      coldCalls.filter((c) => c.startsWith('path-info')),
      [`path-info --recursive --size --json -- ${root}`],
    );
    const warm = await run(LAUNCHER, args, cache);
    assert.equal(warm.stdout, direct.stdout);
    assert.deepEqual(calls(), [], 'a cached closure starts no nix');
    // Cold again, with the Nix version remembered now: still one call, with the flags the engine chose.
    for (const f of fs.readdirSync(cache)) if (f.endsWith('.graph')) fs.rmSync(path.join(cache, f));
    const again = await run(LAUNCHER, [...args, '--top', '3'], cache);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.deepEqual(calls(), [`path-info --recursive --size --json -- ${root}`]);
  });

  it('a nix that is done before the bundle has loaded: none of its output is lost', async () => {
    const args = ['--nix', instantNix, 'closure', '--json', root];
    const direct = await run(BUNDLE, args, path.join(tmp, 'cache-instant-direct'));
    assert.equal(direct.exitCode, 0, direct.stderr);
    for (let k = 0; k < 3; k++) {
      const launched = await run(LAUNCHER, args, path.join(tmp, `cache-instant-${k}`));
      assert.deepEqual(
        { code: launched.exitCode, stdout: launched.stdout, stderr: launched.stderr },
        { code: 0, stdout: direct.stdout, stderr: direct.stderr },
      );
    }
  });

  it('a nix that fails, or is missing: the error line and exit code of dist/cli.js', async () => {
    for (const args of [
      ['closure', '--json', '/nix/store/00000000000000000000000000000000-missing-1.0'],
      ['--nix', path.join(tmp, 'no-such-nix'), 'closure', root],
    ]) {
      const direct = await run(BUNDLE, args, path.join(tmp, 'cache-fail-direct'));
      const launched = await run(LAUNCHER, args, path.join(tmp, 'cache-fail-launcher'));
      assert.equal(direct.exitCode, 1, direct.stderr);
      assert.deepEqual(
        { code: launched.exitCode, stdout: launched.stdout, stderr: launched.stderr },
        { code: direct.exitCode, stdout: direct.stdout, stderr: direct.stderr },
      );
    }
  });

  it('--timeout stops a prestarted nix with the runner’s message', async () => {
    const args = ['--nix', hangingNix, '--timeout', '1', 'closure', root];
    const launched = await run(LAUNCHER, args, path.join(tmp, 'cache-timeout'));
    assert.equal(launched.exitCode, 1);
    assert.match(launched.stderr, /did not finish within 1 s and was stopped/);
    assert.deepEqual(await waitUntilGone(`${hangingNix}\0path-info`, 10_000), [], 'the stopped nix is gone');
  });

  function start(args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; stderr: string }> } {
    const child = spawn(process.execPath, [LAUNCHER, '--cache-dir', path.join(tmp, 'cache-signals'), ...args], {
      env: { ...nixEnv(), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr }))) };
  }

  /** The hanging nix's own command line (the CLI's names the script too, followed by its other arguments). */
  const hangingNixRunning = () => `${hangingNix}\0path-info`;

  /** Until a process whose command line has `marker` runs (a child of `parent` when given). */
  async function untilRunning(marker: string, parent?: number): Promise<void> {
    const end = Date.now() + 30_000;
    const ppid = (pid: number) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      } catch {
        return undefined; // exited meanwhile
      }
    };
    const found = () => processesWith(marker).filter((p) => parent === undefined || ppid(p) === parent);
    while (found().length === 0) {
      assert.ok(Date.now() < end, 'nix never started');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('SIGTERM stops the prestarted nix and exits 143; kill -9 leaves it to the watchdog', async () => {
    const term = start(['--nix', hangingNix, 'closure', root]);
    await untilRunning(hangingNixRunning());
    // Long enough for the bundle to load and the runner to take the process over.
    await new Promise((r) => setTimeout(r, 1500));
    term.child.kill('SIGTERM');
    const r = await term.exited;
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /was cancelled/);
    assert.deepEqual(await waitUntilGone(hangingNixRunning(), 10_000), []);

    // As soon as nix and the watchdog run (the launcher starts both before the bundle loads), and later: the
    // watchdog ends nix either way. (Like every nix call, nix starts a moment before its watchdog does.)
    for (const delay of [0, 1500]) {
      const killed = start(['--nix', hangingNix, 'closure', root]);
      await untilRunning(hangingNixRunning());
      await untilRunning('closure-lens-watchdog', killed.child.pid);
      await new Promise((r) => setTimeout(r, delay));
      killed.child.kill('SIGKILL');
      await killed.exited;
      assert.deepEqual(await waitUntilGone(hangingNixRunning(), 15_000), [], `kill -9 after ${delay} ms`);
    }
  });
});
