/**
 * NixRunner against the real nix: version detection, every error class produced by the real binary, and
 * cancelling / timing out a real build, checked by looking for the builder's process afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ClosureEngine } from '../../src/core/load';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner } from '../../src/core/nix';
import { capabilities, parseNixVersion } from '../../src/core/nix';
import { NIX_CONFIG, waitUntilGone, writeEngineFlake, writeSyntaxErrorFlake, type EngineFlake } from './engineFlake';

async function rejects(p: Promise<unknown>, code: string): Promise<ClosureLensError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClosureLensError, String(e));
    assert.equal(e.code, code, `${e.code}: ${e.message}\n${e.detail ?? ''}`);
    assert.ok(e.fix.length > 10);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('NixRunner with the real nix', function () {
  this.timeout(120_000);
  let flake: EngineFlake;
  let home: string;
  const nix = new NixRunner({ env: { NIX_CONFIG } });

  before(() => {
    flake = writeEngineFlake();
    home = mkdtempSync(path.join(tmpdir(), 'engine-home-'));
  });
  after(() => {
    rmSync(flake.dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it('detects the installed version like `nix --version` prints it', async () => {
    const v = await nix.version();
    const expected = parseNixVersion(execFileSync('nix', ['--version'], { encoding: 'utf8' }));
    assert.deepEqual(v, expected);
    assert.equal(capabilities(v).supported, true);
  });

  it('experimental features off: names the nix.conf / NIX_CONFIG line (nix-command, then flakes)', async () => {
    // No nix.conf at all: the system one (NIX_CONF_DIR) and the user ones (XDG dirs) point to an empty dir.
    const noConf = { NIX_CONF_DIR: home, HOME: home, XDG_CONFIG_HOME: home, XDG_CONFIG_DIRS: home };
    const bare = new NixRunner({ env: { ...noConf, NIX_CONFIG: 'substituters =' } });
    const e = await rejects(
      bare.run(['path-info', '--json', '/nix/store/00000000000000000000000000000000-missing']),
      'experimental-disabled',
    );
    assert.match(e.message, /'nix-command'/);
    assert.match(e.fix, /experimental-features = nix-command flakes/);
    const noFlakes = new NixRunner({
      env: { ...noConf, NIX_CONFIG: 'experimental-features = nix-command\nsubstituters =' },
    });
    const f = await rejects(noFlakes.run(['eval', '--json', flake.installable('base.name')]), 'experimental-disabled');
    assert.match(f.message, /'flakes'/);
  });

  it('an evaluation error keeps Nix’s file:line:column', async () => {
    const dir = writeSyntaxErrorFlake();
    try {
      const e = await rejects(nix.run(['eval', '--json', `path:${dir}#x`]), 'eval-error');
      assert.ok(e.position, e.detail);
      assert.match(e.position.file, /\/flake\.nix$/);
      assert.equal(e.position.line, 4);
      assert.equal(e.position.column, 9);
      assert.match(e.message, /syntax error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const t = await rejects(nix.run(['eval', '--json', flake.installable('errors.throws')]), 'eval-error');
    assert.match(t.message, /engine-flake: this always throws/);
  });

  it('a missing attribute, an invalid store path, an unknown flag, a missing binary', async () => {
    await rejects(nix.run(['eval', '--json', flake.installable('doesNotExist')]), 'missing-attribute');
    const inv = await rejects(
      nix.run(['path-info', '/nix/store/00000000000000000000000000000000-missing']),
      'invalid-path',
    );
    assert.match(inv.message, /00000000000000000000000000000000-missing/);
    const flag = await rejects(nix.run(['path-info', '--no-such-flag-here', '/nix/store']), 'unsupported-flag');
    assert.match(flag.message, /--no-such-flag-here/);
    assert.match(flag.message, /Nix \d/, 'names the version once it is known');
    await rejects(new NixRunner({ nixPath: '/nonexistent/bin/nix' }).run(['--version']), 'nix-not-found');
  });

  it('a failing builder is build-failed with the derivation and `nix log`', async () => {
    const e = await rejects(nix.run(['build', '--no-link', flake.installable('fails')]), 'build-failed');
    assert.match(e.message, /fails-1\.0\.drv failed \(exit code 3\)/);
    assert.match(e.fix, /nix log \/nix\/store\/\S+-fails-1\.0\.drv/);
  });

  it('cancelling a real build stops nix and the builder', async () => {
    const ac = new AbortController();
    const engine = new ClosureEngine({ nix });
    const started = Date.now();
    let sawBuilding = false;
    const p = engine.realise(flake.installable('slow'), {
      signal: ac.signal,
      onProgress: (pr) => {
        if (!sawBuilding && pr.current === 'slow-1.0') {
          sawBuilding = true;
          // give the builder a moment to exec /bin/sleep
          setTimeout(() => ac.abort(), 300);
        }
      },
    });
    await rejects(p, 'cancelled');
    assert.ok(sawBuilding, 'progress named the derivation being built');
    assert.ok(Date.now() - started < 30_000);
    assert.deepEqual(await waitUntilGone(flake.sleepMarker, 10_000), [], 'the builder (sleep) is gone');
    // nix exits once its builder is gone; give it the moment that takes on a loaded machine.
    assert.deepEqual(await waitUntilGone(`${flake.dir}#slow`, 10_000), [], 'nix is gone');
  });

  it('a timeout stops a real build the same way', async () => {
    const e = await rejects(
      nix.run(['build', '--no-link', '--log-format', 'internal-json', flake.installable('slow')], { timeoutMs: 3000 }),
      'timeout',
    );
    assert.match(e.message, /build .*#slow.* 3 s/);
    assert.deepEqual(await waitUntilGone(flake.sleepMarker, 10_000), []);
  });
});
