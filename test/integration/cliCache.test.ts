/**
 * The CLI's one cache directory (issue 14): `compressed` and `check` kept compressed-sizes.json under
 * $XDG_CACHE_HOME whatever --cache-dir and --no-cache said. Real nix, a built fixture store path.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/fixtures';
import { NIX_CONFIG, writeEngineFlake } from './engineFlake';

describe('closure-lens cache directory (compressed, check)', function () {
  this.timeout(180_000);
  let home: string;
  let storePath: string;
  const flake = writeEngineFlake();

  before(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-cache-'));
    const r = run(['--no-cache', 'closure', '--build', '--json', flake.installable('app')]);
    assert.equal(r.status, 0, r.stderr);
    storePath = (JSON.parse(r.stdout) as { root: string }).root;
  });
  after(() => {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(flake.dir, { recursive: true, force: true });
  });

  function run(args: string[]) {
    return spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      cwd: home ?? os.tmpdir(),
      env: { ...process.env, NIX_CONFIG, XDG_CACHE_HOME: path.join(home ?? os.tmpdir(), 'xdg') },
      timeout: 120_000,
    });
  }
  const xdgFile = () => path.join(home, 'xdg', 'closure-lens', 'compressed-sizes.json');

  it('compressed keeps its sizes under --cache-dir, and nowhere with --no-cache', () => {
    const mine = path.join(home, 'mine');
    let r = run(['--cache-dir', mine, 'compressed', storePath, '--codec', 'gzip', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(mine, 'compressed-sizes.json')), 'in --cache-dir');
    assert.equal(fs.existsSync(xdgFile()), false, 'not under $XDG_CACHE_HOME');
    r = run(['--no-cache', 'compressed', storePath, '--codec', 'gzip']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.existsSync(xdgFile()), false, '--no-cache writes none');
  });

  it('check with a compressed budget and --no-cache writes no size cache either', () => {
    fs.writeFileSync(
      path.join(home, 'rules.json'),
      JSON.stringify({ rules: [{ target: '*', maxCompressedSize: { gzip: '1 GiB' } }] }),
    );
    const r = run(['--no-cache', 'check', '--config', 'rules.json', storePath]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(fs.existsSync(xdgFile()), false);
  });
});
