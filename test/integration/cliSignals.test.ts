/**
 * The CLI as a process among real processes (issue 20 #6, issue 19's `--build`): `closure --build` of a slow
 * fixture derivation starts a real `nix build` whose builder runs /bin/sleep; SIGTERM, SIGHUP and kill -9 of the CLI
 * must each leave neither nix nor the builder running.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/fixtures';
import { processesWith, waitUntilGone } from '../support/processes';
import { NIX_CONFIG, writeEngineFlake, type EngineFlake } from './engineFlake';

const CLI = path.join(repoRoot(), 'dist', 'cli.js');

describe('closure-lens and signals (real nix build, real processes)', function () {
  this.timeout(120_000);
  let cache: string;
  const flakes: EngineFlake[] = [];

  before(() => (cache = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-signals-'))));
  after(() => {
    fs.rmSync(cache, { recursive: true, force: true });
    for (const f of flakes) fs.rmSync(f.dir, { recursive: true, force: true });
  });

  function start(args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; stderr: string }> } {
    const child = spawn(process.execPath, [CLI, '--cache-dir', cache, ...args], {
      env: { ...process.env, NIX_CONFIG, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
      child.on('exit', (code) => resolve({ code, stderr })),
    );
    return { child, exited };
  }

  /** A fresh flake whose `slow` is building: its builder's /bin/sleep is running. */
  async function buildingSlow(): Promise<{ flake: EngineFlake; cli: ReturnType<typeof start> }> {
    const flake = writeEngineFlake();
    flakes.push(flake);
    const cli = start(['closure', '--build', flake.installable('slow')]);
    const end = Date.now() + 60_000;
    while (processesWith(flake.sleepMarker).length === 0) {
      assert.ok(Date.now() < end, 'the builder never started');
      await new Promise((r) => setTimeout(r, 100));
    }
    return { flake, cli };
  }

  async function assertAllGone(flake: EngineFlake): Promise<void> {
    assert.deepEqual(await waitUntilGone(flake.sleepMarker, 15_000), [], 'the builder (sleep) is gone');
    assert.deepEqual(await waitUntilGone(`${flake.dir}#slow`, 5000), [], 'nix is gone');
  }

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} stops nix and its builder, and the CLI exits ${code}`, async () => {
      const { flake, cli } = await buildingSlow();
      cli.child.kill(signal);
      const r = await cli.exited;
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, /was cancelled/);
      await assertAllGone(flake);
    });
  }

  it('kill -9 of the CLI: the watchdog stops nix and its builder all the same', async () => {
    const { flake, cli } = await buildingSlow();
    cli.child.kill('SIGKILL');
    await cli.exited;
    await assertAllGone(flake);
  });

  it('without --build an unbuilt target says how to build it; with --build it is built and shown', async () => {
    const flake = writeEngineFlake();
    flakes.push(flake);
    let r = await start(['closure', flake.installable('never-built')]).exited;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not built yet.*run the command again with --build/);
    const built = start(['closure', '--build', '--json', flake.installable('never-built')]);
    let stdout = '';
    built.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    r = await built.exited;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^building never-built-1\.0$/m, 'progress on stderr (one line per derivation in a log)');
    const out = JSON.parse(stdout) as { root: string; pathCount: number };
    assert.match(out.root, /-never-built-1\.0$/);
    assert.ok(fs.existsSync(out.root), 'really built');
    assert.equal(out.pathCount, 1);
  });

  it('a cache that cannot be written: the "not cached" note reaches stderr for every command and format', async () => {
    const flake = writeEngineFlake();
    flakes.push(flake);
    const built = await start(['closure', '--build', '--json', flake.installable('lib')]).exited;
    assert.equal(built.code, 0, built.stderr);
    const blocked = path.join(cache, 'a-file');
    fs.writeFileSync(blocked, 'not a directory');
    for (const args of [
      ['closure', '--json', flake.installable('lib')],
      ['why', flake.installable('lib'), 'base'],
      ['dups', '--json', flake.installable('lib')],
    ]) {
      const child = spawn(process.execPath, [CLI, '--cache-dir', path.join(blocked, 'cache'), ...args], {
        env: { ...process.env, NIX_CONFIG, NO_COLOR: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, stderr);
      assert.match(stderr, /^note: not cached: cannot write the graph cache .*ENOTDIR/m, args.join(' '));
    }
  });
});
