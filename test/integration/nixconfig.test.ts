/**
 * A flake's `nixConfig` is never accepted on the user's behalf: closure-lens never passes --accept-flake-config,
 * and nix runs with stdin closed so it cannot ask either. The fixture flake (test/fixtures/faults/nixconfig-flake)
 * asks for a post-build-hook that leaves a marker and an extra substituter; with the real nix, building, listing
 * and loading it through closure-lens must leave no marker and contact no substituter, while the same build with
 * --accept-flake-config (the control) runs the hook.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ClosureEngine } from '../../src/core/load';
import { NixRunner, type CommandRecord } from '../../src/core/nix';
import { listFlakeOutputs } from '../../src/extension/flakeOutputs';
import { repoRoot } from '../support/fixtures';
import { NIX_CONFIG } from './engineFlake';

describe('a flake that sets nixConfig', function () {
  this.timeout(180_000);
  let work: string;
  let home: string;
  let hookMarker: string;

  /** A fresh copy of the fixture flake with its own derivation (so each build really builds). */
  function flakeCopy(nonce: string): string {
    const dir = fs.mkdtempSync(path.join(work, 'flake-'));
    const text = fs
      .readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'faults', 'nixconfig-flake', 'flake.nix'), 'utf8')
      .replace('@HOOK@', path.join(work, 'hook.sh'))
      .replace('@NONCE@', nonce);
    fs.writeFileSync(path.join(dir, 'flake.nix'), text);
    return dir;
  }

  // No trusted-settings.json from an earlier "yes, always": a home of its own.
  const userEnv = (): Record<string, string> => ({
    NIX_CONFIG,
    HOME: home,
    XDG_DATA_HOME: home,
    XDG_CONFIG_HOME: home,
    XDG_CACHE_HOME: home,
  });

  before(() => {
    work = fs.mkdtempSync(path.join(tmpdir(), 'nixconfig-'));
    home = fs.mkdtempSync(path.join(work, 'home-'));
    hookMarker = path.join(work, 'hook-ran');
    fs.writeFileSync(path.join(work, 'hook.sh'), `#!/bin/sh\necho "$OUT_PATHS" >> '${hookMarker}'\n`, { mode: 0o755 });
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('the control: nix with --accept-flake-config runs the flake’s post-build-hook', () => {
    const dir = flakeCopy(`control-${process.pid}-${Date.now()}`);
    execFileSync('nix', ['build', '--accept-flake-config', '--no-link', `path:${dir}#default`], {
      env: { ...process.env, ...userEnv(), NIX_CONFIG: `${NIX_CONFIG}connect-timeout = 1\n` },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    assert.ok(fs.existsSync(hookMarker), 'the hook ran, so the fixture would catch an accepted nixConfig');
    fs.rmSync(hookMarker);
  });

  it('building, listing outputs and loading the closure through closure-lens accept none of it and never prompt', async () => {
    const dir = flakeCopy(`lens-${process.pid}-${Date.now()}`);
    const commands: CommandRecord[] = [];
    const runner = new NixRunner({ env: userEnv(), onCommand: (c) => commands.push(c) });
    const engine = new ClosureEngine({ nix: runner });
    const outputs = await listFlakeOutputs(runner, dir, 'x86_64-linux');
    assert.deepEqual(
      outputs.map((o) => o.installable),
      ['.#packages.x86_64-linux.default'],
    );
    const [built] = await engine.realise(`path:${dir}#default`);
    assert.ok(built && built.startsWith('/nix/store/'));
    const loaded = await engine.load({ kind: 'installable', installable: `path:${dir}#default` });
    assert.equal(loaded.rootPath, built);

    assert.equal(fs.existsSync(hookMarker), false, 'the post-build-hook of the flake ran');
    const allStderr = commands.map((c) => c.stderr).join('\n');
    assert.doesNotMatch(
      allStderr,
      /127\.0\.0\.1:9|untrusted-cache/,
      'nix contacted the substituter the flake asked for',
    );
    // Nix saw the request and turned it down itself (it cannot ask: stdin is not a terminal).
    assert.match(allStderr, /ignoring untrusted flake configuration setting 'post-build-hook'/);
    for (const c of commands) {
      assert.ok(!c.args.some((a) => a.includes('accept-flake-config')), `nix ${c.args.join(' ')}`);
    }
  });

  // A repository's rules file chooses what to check, never how nix runs: a "target" that is a flag is refused at its
  // span, and the engine puts `--` before every installable so nothing from a file is read as an option.
  it('check refuses a rules target that is a nix flag, and the flake’s hook never runs', async () => {
    fs.rmSync(hookMarker, { force: true });
    const dir = flakeCopy(`rules-${process.pid}-${Date.now()}`);
    for (const flag of ['--accept-flake-config', '--impure', '-L']) {
      fs.writeFileSync(
        path.join(dir, '.closure-lens.json'),
        JSON.stringify({ rules: [{ target: flag, maxPaths: 10 }] }),
      );
      const r = await execa(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'check'], {
        cwd: dir,
        env: { ...process.env, ...userEnv(), NIX_CONFIG: `${NIX_CONFIG}connect-timeout = 1\n` },
        reject: false,
        stdin: 'ignore',
        timeout: 120_000,
      });
      assert.equal(fs.existsSync(hookMarker), false, `the post-build-hook ran for target ${flag}`);
      // A rules file with a problem is "could not check": exit 3 (1 is kept for a broken rule).
      assert.equal(r.exitCode, 3, `${flag}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /\.closure-lens\.json:1:\d+: "target" .*starts with "-"/);
    }
  });

  it('the engine passes an installable that looks like a flag to nix as an installable', async () => {
    fs.rmSync(hookMarker, { force: true });
    const dir = flakeCopy(`engine-${process.pid}-${Date.now()}`);
    const runner = new NixRunner({ env: { ...userEnv(), NIX_CONFIG: `${NIX_CONFIG}connect-timeout = 1\n` } });
    const engine = new ClosureEngine({ nix: runner });
    await assert.rejects(engine.realise('--accept-flake-config', { cwd: dir }));
    await assert.rejects(engine.load({ kind: 'installable', installable: '--impure', cwd: dir }));
    assert.equal(fs.existsSync(hookMarker), false, 'the post-build-hook of the flake ran');
  });

  it('no source file passes --accept-flake-config or sets accept-flake-config', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (
          /\.(ts|js|mjs|cjs|nix|json|sh)$/.test(e.name) &&
          /accept-flake-config/.test(fs.readFileSync(p, 'utf8'))
        )
          offenders.push(p);
      }
    };
    for (const d of ['src', 'webview', 'media', '.ci'])
      if (fs.existsSync(path.join(repoRoot(), d))) walk(path.join(repoRoot(), d));
    walk(path.join(repoRoot(), 'dist'));
    assert.deepEqual(offenders, []);
  });
});
