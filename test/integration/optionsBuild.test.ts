/**
 * `closure-lens options --build` (issue 19): a configuration that is not built is built first, with real nix on
 * the fixture module system; without --build the fix names it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli';
import { repoRoot } from '../support/fixtures';
import { NIX_CONFIG } from './engineFlake';

describe('closure-lens options --build (real Nix, fixture module system)', function () {
  this.timeout(300_000);
  let dir: string;
  let cacheDir: string;

  before(() => {
    const modules = path.join(repoRoot(), 'test', 'fixtures', 'modules');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-options-build-'));
    fs.cpSync(path.join(modules, 'demo-system'), dir, { recursive: true });
    for (const entry of ['flake.nix', 'lib', 'pkgs', 'nixos', 'home-manager'])
      // dereference: lib is a link to the vendored nixpkgs lib, which a copy must carry, not point at.
      fs.cpSync(path.join(modules, entry), path.join(dir, 'nixpkgs', entry), { recursive: true, dereference: true });
    // A host name of its own: a toplevel no other test has built.
    const conf = path.join(dir, 'configuration.nix');
    const text = fs.readFileSync(conf, 'utf8');
    assert.ok(text.includes('networking.hostName = "demo";'));
    fs.writeFileSync(conf, text.replace('"demo";', `"build${process.pid}${Date.now()}";`));
    cacheDir = path.join(dir, '.cache');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const saved = process.env['NIX_CONFIG'];
    process.env['NIX_CONFIG'] = NIX_CONFIG;
    try {
      const code = await main(['--cache-dir', cacheDir, ...args], {
        cwd: dir,
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        stderrIsTTY: false,
      });
      return { code, stdout, stderr };
    } finally {
      if (saved === undefined) delete process.env['NIX_CONFIG'];
      else process.env['NIX_CONFIG'] = saved;
    }
  }

  it('without --build the fix says --build; with it the toplevel is built and measured', async () => {
    const installable = `path:${dir}#nixosConfigurations.demo`;
    const refused = await cli(['options', installable, '--json']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not built .*run the command again with --build/);
    const r = await cli(['options', '--build', installable, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { toplevel: string; definitions: unknown[] };
    assert.ok(fs.existsSync(json.toplevel), `${json.toplevel} was built`);
    assert.ok(json.definitions.length > 0);
  });
});
