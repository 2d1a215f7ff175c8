// The built CLI (dist/cli.js) on recorded real data: outputs checked against what real Nix printed for the
// same closure, and every kind of bad input gets exit 1 with one line on stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stripAnsi } from '../../src/shared';
import { realDataDir } from '../support/realData';

const REPO = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO, 'dist/cli.js');
const REAL = realDataDir();
const OUT = path.join(REAL, 'nix-2.26-outputs');
const FIXTURE_226 = path.join(OUT, 'path-info-rs.json');
const FIXTURE_28 = path.join(OUT, 'nix-2.8/path-info-rs.json');
const SBOM = path.join(REAL, 'nix-security-tracker-sbom/sbom.cdx.json');
const CLOSURE_INFO = path.join(REAL, 'nix2container-closure-graph/closure-graph.json');
const ROOT = '/nix/store/svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system';
const PERL = '/nix/store/vhaimlrz1i7ffqzgwvipdbzdvzid7kvb-perl-5.38.2';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let scratch: string;
function cli(...args: string[]): Run {
  // No nix is needed for --from-json; a private cache directory keeps the user's cache untouched.
  const r = spawnSync(process.execPath, [CLI, ...args, '--cache-dir', path.join(scratch, 'cache')], {
    encoding: 'utf8',
    cwd: scratch,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: Run): T {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

/** Exit 1, exactly one line on stderr that starts with the program name, and no stack trace. */
function assertUserError(r: Run, mentions: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^closure-lens: /);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:|internal error/);
  assert.match(lines[0]!, mentions);
}

const nixWhy = (file: string) => stripAnsi(fs.readFileSync(path.join(OUT, file), 'utf8'));
/** Real `nix path-info -rsS --json` (Nix 2.26): the oracle for closure sizes. */
const nixClosureSizes = (): Record<string, { closureSize: number; narSize: number; references: string[] }> =>
  JSON.parse(fs.readFileSync(path.join(OUT, 'path-info-rsS.json'), 'utf8'));

interface ClosureOut {
  root: string | null;
  pathCount: number;
  closureSize: number | null;
  paths: {
    path: string;
    narSize: number | null;
    closureSize: number | null;
    retainedSize: number | null;
    references: string[];
  }[];
}
interface WhyOut {
  root: string;
  dependency: string;
  chains: string[][];
  truncated: boolean;
  totalChains: number;
}
interface DupsOut {
  groups: { pname: string; paths: string[]; extraBytes: number | null }[];
}

describe('cli (dist/cli.js)', function () {
  before(function () {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`node .esbuild.config.mjs\` first`);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cli-'));
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  describe('closure', () => {
    it('--json gives every path with exactly the sizes `nix path-info -rsS` reports', () => {
      const out = json<ClosureOut>(cli('closure', '--from-json', FIXTURE_226, '--json'));
      const nix = nixClosureSizes();
      assert.equal(out.root, ROOT);
      assert.equal(out.pathCount, Object.keys(nix).length);
      assert.equal(out.closureSize, nix[ROOT]!.closureSize);
      assert.deepEqual(out.paths.map((p) => p.path).sort(), Object.keys(nix).sort());
      for (const p of out.paths) {
        assert.equal(p.closureSize, nix[p.path]!.closureSize, p.path);
        assert.equal(p.narSize, nix[p.path]!.narSize, p.path);
        assert.deepEqual(
          p.references,
          [...nix[p.path]!.references].sort(),
          `references of ${p.path}, as Nix lists them`,
        );
      }
      // Heaviest first; the root retains everything, a leaf only itself.
      assert.equal(out.paths[0]!.path, ROOT);
      assert.equal(out.paths[0]!.retainedSize, out.closureSize);
      for (let k = 1; k < out.paths.length; k++)
        assert.ok(out.paths[k - 1]!.retainedSize! >= out.paths[k]!.retainedSize!);
      const glibc = out.paths.find((p) => p.path.endsWith('-glibc-2.39-52'))!;
      assert.equal(glibc.retainedSize, glibc.narSize, 'a self-reference does not count twice');
      // Dominator subtrees add up: system-path retains all it reaches except what initrd also reaches.
      const sp = out.paths.find((p) => p.path.endsWith('-system-path'))!;
      assert.equal(sp.retainedSize, 3216);
    });

    it('reads Nix 2.8 path-info, closureInfo JSON and a CycloneDX SBOM', () => {
      const from28 = json<ClosureOut>(cli('closure', '--from-json', FIXTURE_28, '--json'));
      const from226 = json<ClosureOut>(cli('closure', '--from-json', FIXTURE_226, '--json'));
      assert.deepEqual(from28, from226);

      // exportReferencesGraph output carries Nix's own closureSize per path: ours must match it.
      const recorded = JSON.parse(fs.readFileSync(CLOSURE_INFO, 'utf8')) as { path: string; closureSize: number }[];
      const info = json<ClosureOut>(cli('closure', '--from-json', CLOSURE_INFO, '--json'));
      for (const r of recorded)
        assert.equal(info.paths.find((p) => p.path === r.path)!.closureSize, r.closureSize, r.path);

      const sbom = json<ClosureOut>(cli('closure', '--from-json', SBOM, '--json'));
      assert.equal(sbom.pathCount, 628);
      assert.match(sbom.root!, /-nixos-system-nixos-23\.11/);
      assert.equal(sbom.closureSize, null, 'an SBOM has no sizes, and none are made up');
      assert.ok(sbom.paths.every((p) => p.narSize === null && p.closureSize === null));
    });

    it('prints an aligned table with sizes as `nix path-info -h` prints them, heaviest first', () => {
      const r = cli('closure', '--from-json', FIXTURE_226, '--top', '3');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines[0], ROOT);
      assert.equal(lines[1], '12 paths, closure size 4.0 KiB');
      assert.match(lines[3]!, /^PATH +NAR +CLOSURE +RETAINED$/);
      // Nix 2.26 `path-info -rsSh`: system-path is 1.5 KiB, its closure 3.4 KiB.
      assert.match(
        lines[4]!,
        /^\/nix\/store\/mmaa15g4alfdn1jni05nadllsk07y633-system-path +1\.5 KiB +3\.4 KiB +3\.1 KiB$/,
      );
      assert.equal(lines.length, 8);
      assert.equal(lines[7], '… 8 more paths (--top N shows more)');
      const columnEnds = lines.slice(3, 7).map((l) => l.length);
      assert.equal(new Set(columnEnds).size, 1, 'right-aligned columns end together');
    });
  });

  describe('why', () => {
    it('draws the chain exactly as `nix why-depends` does, with a name for the dependency', () => {
      const byName = cli('why', '--from-json', FIXTURE_226, 'perl');
      assert.equal(byName.code, 0, byName.stderr);
      assert.equal(byName.stdout, nixWhy('why-depends.txt'));
      assert.match(byName.stderr, /2 in all \(--all lists them\)/);
      const byPath = cli('why', '--from-json', FIXTURE_226, PERL);
      assert.equal(byPath.stdout, byName.stdout);
    });

    it('--all draws the tree of `nix why-depends --all`', () => {
      const r = cli('why', '--all', '--from-json', FIXTURE_226, 'perl');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, nixWhy('nix-2.8/why-depends-all.txt'));
      assert.equal(r.stderr, '');
    });

    it('--json lists chains shortest first, with truncation and a count', () => {
      const one = json<WhyOut>(cli('why', '--from-json', FIXTURE_226, 'perl', '--json'));
      assert.deepEqual(one, {
        version: 1,
        root: ROOT,
        dependency: PERL,
        chains: [
          [
            ROOT,
            '/nix/store/mmaa15g4alfdn1jni05nadllsk07y633-system-path',
            '/nix/store/444l97hl77slbd78g83jbg265za634qb-zfs-user-2.2.4',
            PERL,
          ],
        ],
        truncated: true,
        totalChains: 2,
      });
      const all = json<WhyOut>(cli('why', '--from-json', FIXTURE_226, 'perl', '--json', '--all'));
      assert.equal(all.chains.length, 2);
      assert.equal(all.truncated, false);
      // The node set of `--all` is the node set of Nix's tree.
      const nixNodes = new Set(nixWhy('why-depends-all.txt').match(/\/nix\/store\/\S+/g));
      assert.deepEqual(new Set(all.chains.flat()), nixNodes);
      const limited = json<WhyOut>(cli('why', '--from-json', FIXTURE_226, 'perl', '--json', '--all', '--limit', '1'));
      assert.deepEqual(limited.chains, one.chains);
      assert.equal(limited.truncated, true);
    });

    it('finds chains in a real NixOS closure (SBOM), over real edges', () => {
      const out = json<WhyOut>(cli('why', '--from-json', SBOM, 'perl', '--json', '--all', '--limit', '10'));
      assert.match(out.dependency, /-perl-5\.38\.0$/);
      assert.equal(out.chains.length, 10);
      assert.equal(out.truncated, true);
      assert.ok(out.totalChains > 10);
      for (let k = 1; k < out.chains.length; k++) assert.ok(out.chains[k]!.length >= out.chains[k - 1]!.length);
      const closure = json<ClosureOut>(cli('closure', '--from-json', SBOM, '--json'));
      const refs = new Map(closure.paths.map((p) => [p.path, new Set(p.references)]));
      for (const chain of out.chains) {
        assert.equal(chain[0], closure.root);
        for (let k = 0; k + 1 < chain.length; k++)
          assert.ok(refs.get(chain[k]!)!.has(chain[k + 1]!), `${chain[k]} → ${chain[k + 1]}`);
      }
    });

    it('asks which path when a name is ambiguous, listing the matches', () => {
      const r = cli('why', '--from-json', FIXTURE_226, '/^system/');
      assertUserError(r, /'\/\^system\/' matches 3 paths: /);
      for (const name of ['systemd-255.4', 'systemd-minimal-255.4', 'system-path'])
        assert.ok(r.stderr.includes(`-${name}`), name);
    });
  });

  describe('dups', () => {
    it('--json groups systemd with systemd-minimal and prices the smaller copy', () => {
      const out = json<DupsOut>(cli('dups', '--from-json', FIXTURE_226, '--json'));
      assert.deepEqual(out, {
        version: 1,
        groups: [
          {
            pname: 'systemd',
            paths: [
              '/nix/store/pdlwq7cajabz7fvzzcnnsdm6ldan2q5h-systemd-255.4',
              '/nix/store/l4q5dn90iisp0njdzrswvn7ak928gnym-systemd-minimal-255.4',
            ],
            // systemd-minimal's own 208 bytes: its glibc and util-linux stay, systemd needs them too.
            extraBytes: 208,
          },
        ],
      });
    });

    it('finds real duplicates in a NixOS closure', () => {
      const out = json<DupsOut>(cli('dups', '--from-json', SBOM, '--json'));
      const byName = new Map(out.groups.map((g) => [g.pname, g]));
      assert.equal(byName.get('openssl')?.paths.length, 2);
      assert.ok(byName.get('coreutils')?.paths.some((p) => p.endsWith('-coreutils-full-9.3')));
      assert.ok(!byName.has('linux'), 'linux and linux-modules-shrunk are different things');
      const text = cli('dups', '--from-json', SBOM);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /^PACKAGE +EXTRA +RETAINED +PATHS$/m);
    });
  });

  describe('bad input: exit 1 and one line that says what to do', () => {
    const write = (name: string, text: string) => {
      const f = path.join(scratch, name);
      fs.writeFileSync(f, text);
      return f;
    };

    it('malformed JSON', () =>
      assertUserError(cli('closure', '--from-json', write('bad.json', '{"a": [1, }')), /not valid JSON/));
    it('truncated JSON', () => {
      const text = fs.readFileSync(FIXTURE_226, 'utf8');
      assertUserError(
        cli('closure', '--from-json', write('cut.json', text.slice(0, text.length / 2))),
        /truncated|ends early/,
      );
    });
    it('missing references', () => {
      const doc = JSON.parse(fs.readFileSync(FIXTURE_226, 'utf8')) as Record<string, unknown>;
      delete doc['/nix/store/mmaa15g4alfdn1jni05nadllsk07y633-system-path'];
      assertUserError(cli('closure', '--from-json', write('missing.json', JSON.stringify(doc))), /system-path/);
    });
    it('an empty closure', () =>
      assertUserError(cli('closure', '--from-json', write('empty.json', '[]')), /no store paths|empty/));
    it('a file that does not exist', () =>
      assertUserError(cli('dups', '--from-json', 'nope.json'), /nope\.json does not exist/));
    it('an invalid store path as target', () =>
      assertUserError(cli('closure', '/nix/store/not-a-hash-foo'), /not a store path/));
    it('an invalid store path as dependency', () =>
      assertUserError(cli('why', '--from-json', FIXTURE_226, '/nix/store/abc'), /not a store path/));
    it('a dependency that is not in the closure', () => {
      // The same query that makes `nix why-depends` print "does not depend on" (why-depends-not-in-closure).
      assertUserError(
        cli('why', '--from-json', FIXTURE_226, '/nix/store/vnmys07p64fnfi2gc4fnb0y353869sxw-kmod-31'),
        /is not in the closure of/,
      );
      assertUserError(cli('why', '--from-json', FIXTURE_226, 'firefox'), /nothing named 'firefox'/);
    });
    it('an unknown flag, command or bad number', () => {
      assertUserError(cli('closure', '--from-json', FIXTURE_226, '--frobnicate'), /--frobnicate/);
      assertUserError(cli('frobnicate'), /unknown command 'frobnicate'/);
      assertUserError(cli('--frobnicate'), /unknown option '--frobnicate'/);
      assertUserError(cli('closure', '--from-json', FIXTURE_226, '--top', '0'), /--top needs a positive whole number/);
      assertUserError(cli('why', '--from-json', FIXTURE_226), /why needs a dependency/);
      assertUserError(cli('closure'), /no target given/);
      assertUserError(cli('closure', '--timeout', 'soon', '--from-json', FIXTURE_226), /--timeout needs a number/);
    });
  });

  describe('help', () => {
    it('--help lists the commands; --version prints the version', () => {
      const help = cli('--help');
      assert.equal(help.code, 0);
      for (const c of ['closure', 'why', 'dups', '--from-json', '--no-cache']) assert.ok(help.stdout.includes(c), c);
      const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
      assert.equal(cli('--version').stdout, `closure-lens ${pkg.version}\n`);
      const why = cli('why', '--help');
      assert.equal(why.code, 0);
      assert.match(why.stdout, /closure-lens why <target> <dependency>/);
    });
  });
});
