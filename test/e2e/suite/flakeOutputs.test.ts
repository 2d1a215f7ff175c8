/**
 * Target discovery and error mapping against real Nix. No `vscode` import: these run in the extension host with the
 * rest of the suite, and also in plain node (`npx mocha out/test/e2e/suite/flakeOutputs.test.js`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { NixRunner } from '../../../src/core/nix';
import { isClosureLensError } from '../../../src/core/errors';
import {
  attrPathFragment,
  currentSystem,
  installableFor,
  listFlakeOutputs,
  outputFromAttrPath,
  parseInstallable,
  systemFromNode,
} from '../../../src/extension/flakeOutputs';
import { flakeFingerprint, FlakeOutputCache } from '../../../src/extension/flakeOutputCache';
import { errorLocations, mapToWorkTree, sourceRootsFor } from '../../../src/extension/errorLocations';

const execFileAsync = promisify(execFile);

const NIX_CONFIG =
  'experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nfsync-metadata = false\nbuild-users-group =\n';
process.env['NIX_CONFIG'] ??= NIX_CONFIG;

/** Names that need quoting or percent-encoding in an installable, and one that Nix cannot select at all. */
const ODD_NAMES = [
  'hello',
  'odd.name',
  'with space',
  'pct%41',
  'hash#x',
  'dollar${x}',
  "it's",
  'semi;colon&amp',
  'ünï',
  'q"uote',
];

function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `closure-lens-${label}-`));
}

/** A flake whose package names are ODD_NAMES; each derivation's name is its index, so a selection can be checked. */
function writeOddFlake(dir: string, system: string): void {
  const pkgs = ODD_NAMES.map((n, i) => `      ${JSON.stringify(n).replace(/\$\{/g, '\\${')} = mk "p${i}";`).join('\n');
  fs.writeFileSync(
    path.join(dir, 'flake.nix'),
    `{
  outputs = { self }: let
    mk = name: builtins.derivation { inherit name; system = "${system}"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
  in {
    packages.${system} = {
${pkgs}
    };
    nixosConfigurations."my.host" = { config.system.build.toplevel = mk "toplevel"; };
    homeConfigurations.me = { activationPackage = mk "hm"; };
  };
}
`,
  );
}

async function nixEvalRaw(cwd: string, installable: string): Promise<string> {
  const { stdout } = await execFileAsync('nix', ['eval', '--raw', installable], { cwd, env: { ...process.env } });
  return stdout;
}

describe('flake outputs (real nix)', function () {
  this.timeout(120_000);
  const nix = new NixRunner();
  let system: string;

  before(async () => {
    system = await currentSystem(nix);
  });

  it('knows the system nix builds for, as node would guess it here', () => {
    assert.equal(system, systemFromNode());
  });

  it('lists every category with attribute names only, and skips names nix cannot select', async () => {
    const dir = tempDir('odd');
    writeOddFlake(dir, system);
    const skipped: string[] = [];
    const outputs = await listFlakeOutputs(nix, dir, system, { onSkipped: (_c, name) => skipped.push(name) });
    assert.deepEqual(skipped, ['q"uote']);
    const labels = outputs.map((o) => o.label);
    assert.deepEqual(
      labels.filter((l) => l.startsWith('packages')).sort(),
      ODD_NAMES.filter((n) => !n.includes('"'))
        .map((n) => `packages.${/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(n) ? n : JSON.stringify(n)}`)
        .sort(),
    );
    assert.ok(labels.includes('nixosConfigurations."my.host"'));
    assert.ok(labels.includes('homeConfigurations.me'));
    assert.equal(outputs.filter((o) => o.category === 'devShells' || o.category === 'darwinConfigurations').length, 0);
  });

  it('builds installables that select exactly the named attribute, however odd the name', async () => {
    const dir = tempDir('odd-select');
    writeOddFlake(dir, system);
    const outputs = await listFlakeOutputs(nix, dir, system);
    for (const o of outputs.filter((x) => x.category === 'packages')) {
      const expected = `p${ODD_NAMES.indexOf(o.name)}`;
      // `.name` appended to the fragment: the same quoting must hold for a longer path.
      assert.equal(await nixEvalRaw(dir, installableFor([...o.attrPath, 'name'])), expected, o.installable);
    }
    const host = outputs.find((o) => o.category === 'nixosConfigurations')!;
    assert.equal(await nixEvalRaw(dir, `${host.installable}.name`), 'toplevel');
  });

  it('parses its own installables back, and recognises each category shape', () => {
    for (const name of ODD_NAMES.filter((n) => !n.includes('"'))) {
      const attrPath = ['packages', 'x86_64-linux', name];
      assert.deepEqual(parseInstallable(installableFor(attrPath)), attrPath);
      assert.equal(outputFromAttrPath(attrPath)?.name, name);
    }
    assert.equal(
      outputFromAttrPath(['nixosConfigurations', 'a.b', 'config', 'system', 'build', 'toplevel'])?.name,
      'a.b',
    );
    assert.equal(outputFromAttrPath(['nixosConfigurations', 'a']), undefined);
    assert.throws(() => attrPathFragment(['q"uote']));
  });

  it('reports a broken flake as an evaluation error whose position maps back to the work tree', async () => {
    const root = tempDir('broken');
    const dir = path.join(root, 'sub');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'flake.nix'),
      `{\n  outputs = { self }: {\n    nixosConfigurations = builtins.listToAttrs [ (undefinedThing) ];\n  };\n}\n`,
    );
    let error: unknown;
    try {
      await listFlakeOutputs(nix, dir, system);
    } catch (e) {
      error = e;
    }
    assert.ok(isClosureLensError(error, 'eval-error'), `expected an eval-error, got ${String(error)}`);
    const text = `${error.detail ?? ''}\n${error.message}`;
    const locs = errorLocations(text);
    assert.ok(locs.length > 0, text);
    assert.match(locs[0]!.file, /^\/nix\/store\/[a-z0-9]{32}-source\/flake\.nix$/);
    assert.equal(locs[0]!.line, 3);
    assert.equal(await mapToWorkTree(locs[0]!.file, sourceRootsFor(dir, root)), path.join(dir, 'flake.nix'));
  });
});

describe('flake output cache', () => {
  it('changes the fingerprint when a .nix file or flake.lock changes, not for other files', async () => {
    const dir = tempDir('fp');
    fs.writeFileSync(path.join(dir, 'flake.nix'), '{ outputs = _: { }; }\n');
    fs.mkdirSync(path.join(dir, 'modules'));
    fs.writeFileSync(path.join(dir, 'modules/a.nix'), '{ }\n');
    const a = await flakeFingerprint(dir);
    assert.equal(await flakeFingerprint(dir), a);
    fs.writeFileSync(path.join(dir, 'README.md'), 'notes\n');
    assert.equal(await flakeFingerprint(dir), a);
    fs.writeFileSync(path.join(dir, 'modules/a.nix'), '{ x = 1; }\n');
    const b = await flakeFingerprint(dir);
    assert.notEqual(b, a);
    fs.writeFileSync(path.join(dir, 'flake.lock'), '{}\n');
    assert.notEqual(await flakeFingerprint(dir), b);
  });

  it('in a git work tree, follows the tracked .nix files of the whole repository and ignores untracked ones', async () => {
    const repo = tempDir('fp-git');
    const sub = path.join(repo, 'hosts');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'flake.nix'), '{ outputs = _: import ../common.nix; }\n');
    fs.writeFileSync(path.join(repo, 'common.nix'), '{ }\n');
    const git = (...args: string[]) =>
      execFileAsync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
    await git('init', '-q');
    await git('add', '.');
    await git('commit', '-q', '-m', 'init');
    const a = await flakeFingerprint(sub);
    fs.writeFileSync(path.join(sub, 'untracked.nix'), '{ x = 1; }\n');
    assert.equal(await flakeFingerprint(sub), a, 'an untracked file is invisible to Nix');
    fs.writeFileSync(path.join(repo, 'common.nix'), '{ y = 2; }\n');
    assert.notEqual(await flakeFingerprint(sub), a, 'a tracked file outside the flake directory is part of its source');
  });

  it('keeps store paths per fingerprint, survives a reload, and starts over from a corrupt file', async () => {
    const file = path.join(tempDir('cache'), 'flake-outputs.json');
    const c1 = new FlakeOutputCache(file);
    await c1.putStorePath('/flake', 'fp1', '.#a', '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a');
    const c2 = new FlakeOutputCache(file);
    assert.equal(await c2.storePath('/flake', 'fp1', '.#a'), '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a');
    assert.equal(await c2.storePath('/flake', 'fp2', '.#a'), undefined);
    fs.writeFileSync(file, '{"format": 2, "flak');
    assert.equal(await new FlakeOutputCache(file).storePath('/flake', 'fp1', '.#a'), undefined);
  });
});
