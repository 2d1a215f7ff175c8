/**
 * querySubstituters against a real binary cache: a `file://` cache made with `nix copy`, the local copy deleted,
 * so the only place that knows the closure is the substituter. No `vscode` import (runs in plain node too).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { NixRunner } from '../../../src/core/nix';
import { parseClosureJson } from '../../../src/core/parse';
import { closureFromSubstituters, configuredSubstituters, evalOutPath } from '../../../src/extension/substituters';

const execFileAsync = promisify(execFile);
process.env['NIX_CONFIG'] ??=
  'experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nfsync-metadata = false\nbuild-users-group =\n';

async function nix(args: string[], cwd?: string): Promise<string> {
  return (await execFileAsync('nix', args, { cwd, maxBuffer: 64 * 1024 * 1024 })).stdout;
}

describe('closure sizes from a substituter (real nix, file:// binary cache)', function () {
  this.timeout(120_000);
  const runner = new NixRunner();
  let dir: string;
  let app: string;
  let localClosure: { path: string; narSize: number; references: string[] }[];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-subst-'));
    // A nonce makes these paths new to this store, so deleting them cannot disturb anything else.
    const nonce = randomBytes(6).toString('hex');
    fs.writeFileSync(
      path.join(dir, 'flake.nix'),
      `{ outputs = { self }: let
    mk = name: deps: builtins.derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh";
      args = [ "-c" "echo ${nonce} \${builtins.concatStringsSep " " (map toString deps)} > $out" ]; };
    lib = mk "subst-lib" [ ];
    tool = mk "subst-tool" [ lib ];
  in { packages.x86_64-linux.app = mk "subst-app" [ lib tool ]; }; }
`,
    );
    app = JSON.parse(await nix(['build', '--no-link', '--json', `path:${dir}#app`]))[0].outputs.out as string;
    localClosure = JSON.parse(await nix(['path-info', '-r', '-s', '--json', app]));
    await nix(['copy', '--to', `file://${dir}/cache`, app]);
    await nix(['store', 'delete', ...localClosure.map((p) => p.path)]);
    assert.equal(fs.existsSync(app), false, 'the local copy should be gone');
  });

  it('evaluates the store path of an output without building it', async () => {
    assert.equal(await evalOutPath(runner, dir, ['packages', 'x86_64-linux', 'app']), app);
    assert.equal(fs.existsSync(app), false);
  });

  it('reads the configured substituters (none in the test configuration)', async () => {
    assert.deepEqual(await configuredSubstituters(runner), []);
  });

  it('takes the closure from the first substituter that has every path, with the sizes nix had locally', async () => {
    const misses: string[] = [];
    const found = await closureFromSubstituters(runner, app, [`file://${dir}/empty-cache`, `file://${dir}/cache`], {
      onMiss: (s) => misses.push(s),
    });
    assert.ok(found);
    assert.equal(found.substituter, `file://${dir}/cache`);
    assert.deepEqual(misses, [`file://${dir}/empty-cache`]);
    const parsed = parseClosureJson(found.json);
    const got = new Map(parsed.records.map((r) => [r.path, r.narSize]));
    assert.equal(got.size, localClosure.length);
    for (const p of localClosure) assert.equal(got.get(p.path), p.narSize, p.path);
    assert.equal(fs.existsSync(app), false, 'asking a substituter must not download anything');
  });

  it('answers nothing when no substituter has the whole closure', async () => {
    assert.equal(await closureFromSubstituters(runner, app, [`file://${dir}/empty-cache`]), undefined);
  });
});
