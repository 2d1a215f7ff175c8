/**
 * The `closure-lens` CLI (dist/cli.js, run as a user runs it) against real Nix on the fixture flakes:
 * `closure`, `why` and `dups` with --json, by store path and by `path:` flake installable, plus bad input
 * (one clear line on stderr, exit 1, never a stack trace).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import {
  buildFixture,
  chainOfTree,
  FIXTURE_NAMES,
  nixEnv,
  nixPathInfo,
  nixWhyDepends,
  repoRoot,
  stripAnsi,
  type NixPathInfo,
} from '../support/fixtures';
import { realDataDir } from '../support/realData';

interface ClosureJson {
  root: string;
  pathCount: number;
  closureSize: number;
  paths: { path: string; narSize: number; closureSize: number; retainedSize: number; references: string[] }[];
}
interface WhyJson {
  root: string;
  dependency: string;
  chains: string[][];
  truncated: boolean;
}
interface DupsJson {
  groups: { pname: string; paths: string[]; extraBytes: number }[];
}

const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cli-cache-'));
process.on('exit', () => fs.rmSync(cacheHome, { recursive: true, force: true }));

async function cli(args: string[], opts: { cwd?: string } = {}) {
  const cliJs = path.join(repoRoot(), 'dist', 'cli.js');
  assert.ok(fs.existsSync(cliJs), `${cliJs} is missing: run \`node .esbuild.config.mjs\` first`);
  return execa(process.execPath, [cliJs, ...args], {
    env: { ...nixEnv(), XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' },
    cwd: opts.cwd,
    reject: false,
    stdin: 'ignore',
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
}

async function cliJson<T>(args: string[]): Promise<T> {
  const r = await cli(args);
  assert.equal(r.exitCode, 0, `closure-lens ${args.join(' ')} failed (exit ${r.exitCode}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A user error: exit 1, one line on stderr that is not a stack trace. */
function assertUserError(
  r: { exitCode?: number; stderr: string; stdout: string },
  mentions: RegExp,
  what: string,
): void {
  assert.equal(r.exitCode, 1, `${what}: exit 1 (stderr: ${r.stderr})`);
  const lines = stripAnsi(r.stderr).trim().split('\n');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error: .*\n.*\.js:\d+/, `${what}: no stack trace`);
  assert.match(lines[0]!, mentions, what);
}

function reachable(info: Map<string, NixPathInfo>, root: string, skipped?: string): Set<string> {
  const seen = new Set<string>();
  if (root === skipped) return seen;
  seen.add(root);
  const queue = [root];
  for (let h = 0; h < queue.length; h++) {
    for (const r of info.get(queue[h]!)!.references) {
      if (!seen.has(r) && r !== skipped) {
        seen.add(r);
        queue.push(r);
      }
    }
  }
  return seen;
}

const bytesOf = (info: Map<string, NixPathInfo>, set: Iterable<string>) => {
  let s = 0;
  for (const p of set) s += info.get(p)!.narSize;
  return s;
};

describe('closure-lens CLI against real Nix (fixture flakes)', function () {
  this.timeout(600_000);

  describe('closure --json', () => {
    for (const name of FIXTURE_NAMES) {
      it(`${name}: every path, size, closure size, retained size and reference equals Nix's`, async () => {
        const fx = await buildFixture(name);
        const info = await nixPathInfo([fx.root], { closureSize: true });
        const out = await cliJson<ClosureJson>(['closure', fx.root, '--json']);
        assert.equal(out.root, fx.root);
        assert.equal(out.pathCount, info.size);
        assert.equal(out.closureSize, info.get(fx.root)!.closureSize);
        assert.deepEqual(out.paths.map((p) => p.path).sort(), [...info.keys()].sort());
        const total = info.get(fx.root)!.closureSize!;
        for (const p of out.paths) {
          const e = info.get(p.path)!;
          assert.equal(p.narSize, e.narSize, p.path);
          assert.equal(p.closureSize, e.closureSize, p.path);
          const withoutSelf = (rs: string[]) => rs.filter((r) => r !== p.path).sort();
          assert.deepEqual(withoutSelf(p.references), withoutSelf(e.references), `references of ${p.path}`);
          assert.equal(
            p.retainedSize,
            total - bytesOf(info, reachable(info, fx.root, p.path)),
            `retained size of ${p.path}`,
          );
        }
      });
    }

    it('a `path:` flake installable gives the same closure as its store path', async () => {
      const fx = await buildFixture('mini-nixos');
      const byPath = await cliJson<ClosureJson>(['closure', fx.root, '--json']);
      const byFlake = await cliJson<ClosureJson>(['closure', fx.installable('toplevel'), '--json']);
      assert.equal(byFlake.root, fx.root);
      assert.deepEqual(byFlake, byPath);
    });

    it('installables of multi-output packages: the same paths as `nix path-info -r <installable>`', async () => {
      const fx = await buildFixture('mini-nixos');
      for (const attr of ['util-linux', 'openssl', 'systemd', 'linux', 'zfs-user']) {
        const installable = fx.installable(attr);
        const nix = await execa('nix', ['path-info', '-r', installable], { env: nixEnv() });
        const out = await cliJson<ClosureJson>(['closure', installable, '--json']);
        assert.deepEqual(out.paths.map((p) => p.path).sort(), nix.stdout.split('\n').filter(Boolean).sort(), attr);
      }
    });

    it('a second query for the same store path is served from the cache and gives the same answer', async () => {
      const fx = await buildFixture('diamonds');
      const first = await cliJson<ClosureJson>(['closure', fx.root, '--json']);
      const second = await cliJson<ClosureJson>(['closure', fx.root, '--json']);
      assert.deepEqual(second, first);
    });

    it('--from-json reads a recorded `nix path-info -rs --json` (Nix 2.26 object form) with the same numbers', async () => {
      const dir = realDataDir('nix-2.26-outputs');
      const file = path.join(dir, 'path-info-rs.json');
      const withS = JSON.parse(fs.readFileSync(path.join(dir, 'path-info-rsS.json'), 'utf8')) as Record<
        string,
        { closureSize: number }
      >;
      const out = await cliJson<ClosureJson>(['closure', '--from-json', file, '--json']);
      assert.equal(out.pathCount, Object.keys(withS).length);
      for (const p of out.paths) assert.equal(p.closureSize, withS[p.path]!.closureSize, p.path);
    });

    it('human output: a table of paths with sizes as `nix path-info -h` prints them', async () => {
      const fx = await buildFixture('mini-nixos');
      const r = await cli(['closure', fx.root]);
      assert.equal(r.exitCode, 0, r.stderr);
      const text = stripAnsi(r.stdout);
      assert.ok(text.includes('perl-5.38.2'), text);
      // the root's closure size as Nix's -h prints it (e.g. 22.0M) appears somewhere
      // (same binary units: `22.5M` there may read `22.5 MiB` here)
      const h = await execa('nix', ['path-info', '-Sh', fx.root], { env: nixEnv() });
      const rootSize = h.stdout.trim().split(/\s+/).pop()!;
      const m = /^([\d.]+)([KMG])$/.exec(rootSize);
      assert.ok(m, `nix printed ${rootSize}`);
      assert.match(
        text,
        new RegExp(`(^|\\s)${m[1]!.replace('.', '\\.')} ?${m[2]}(iB)?(\\s|$)`, 'm'),
        `the total ${rootSize} appears`,
      );
    });
  });

  describe('why --json', () => {
    it('mini-nixos: why perl — a shortest chain of real edges, never longer than nix why-depends', async () => {
      const fx = await buildFixture('mini-nixos');
      const info = await nixPathInfo([fx.root]);
      for (const dep of [fx.output('perl'), 'perl']) {
        const out = await cliJson<WhyJson>(['why', fx.root, dep, '--json']);
        assert.equal(out.root, fx.root);
        assert.equal(out.dependency, fx.output('perl'));
        assert.equal(out.chains.length, 1);
        const chain = out.chains[0]!;
        assert.equal(chain[0], fx.root);
        assert.equal(chain[chain.length - 1], fx.output('perl'));
        for (let k = 0; k + 1 < chain.length; k++) assert.ok(info.get(chain[k]!)!.references.includes(chain[k + 1]!));
        const nix = chainOfTree((await nixWhyDepends(fx.root, fx.output('perl')))!);
        assert.ok(chain.length <= nix.length);
        assert.equal(chain.length, 5, 'toplevel → system-path → (nixos-help → w3m | man-db → groff) → perl');
      }
    });

    for (const name of FIXTURE_NAMES) {
      it(`${name}: --all, for every path: the nodes of the chains = the nodes of nix why-depends --all (when not truncated)`, async () => {
        const fx = await buildFixture(name);
        const info = await nixPathInfo([fx.root]);
        let compared = 0;
        // a spread of a dozen paths per fixture (each is two process starts); why.test.ts covers every path in process
        const all = [...info.keys()].filter((p) => p !== fx.root).sort();
        const step = Math.max(1, Math.floor(all.length / 12));
        const sample = all.filter((_, k) => k % step === 0);
        for (const p of sample) {
          const out = await cliJson<WhyJson>(['why', fx.root, p, '--all', '--json']);
          // shortest first
          for (let k = 1; k < out.chains.length; k++) assert.ok(out.chains[k]!.length >= out.chains[k - 1]!.length);
          if (out.truncated) continue;
          const nix = (await nixWhyDepends(fx.root, p, { all: true }))!;
          assert.deepEqual([...new Set(out.chains.flat())].sort(), [...nix.nodes].sort(), `--all nodes for ${p}`);
          compared++;
        }
        assert.ok(compared > sample.length / 2, `compared ${compared} of ${sample.length}`);
      });
    }

    it('diamonds: the lattice has more chains than the limit: truncated, shortest first', async () => {
      const fx = await buildFixture('diamonds');
      const out = await cliJson<WhyJson>(['why', fx.output('lattice'), fx.output('perl'), '--all', '--json']);
      assert.equal(out.truncated, true);
      assert.ok(out.chains.length >= 1);
      for (let k = 1; k < out.chains.length; k++) assert.ok(out.chains[k]!.length >= out.chains[k - 1]!.length);
    });

    it('human output: the chain drawn as nix why-depends draws it (ANSI aside), when both pick the same chain', async () => {
      const fx = await buildFixture('chain');
      const link20 = fx.output('link-20');
      const r = await cli(['why', fx.root, link20]);
      assert.equal(r.exitCode, 0, r.stderr);
      const nix = await execa('nix', ['why-depends', fx.root, link20], { env: nixEnv() });
      assert.equal(stripAnsi(r.stdout).trimEnd(), stripAnsi(nix.stdout).trimEnd());
    });

    it('a self-referencing path asked about itself', async () => {
      const fx = await buildFixture('edge-cases');
      const out = await cliJson<WhyJson>(['why', fx.output('self-only'), fx.output('self-only'), '--json']);
      assert.deepEqual(out.chains, [[fx.output('self-only')]]);
    });
  });

  describe('dups --json', () => {
    it('mini-nixos: systemd, util-linux (out and lib), openssl and zlib, each with the bytes it costs', async () => {
      const fx = await buildFixture('mini-nixos');
      const info = await nixPathInfo([fx.root]);
      const out = await cliJson<DupsJson>(['dups', fx.root, '--json']);
      const byMembers = new Map(
        out.groups.map((g) => [
          g.paths
            .map((p) => p.replace(/^\/nix\/store\/[0-9a-z]{32}-/, ''))
            .sort()
            .join(' + '),
          g,
        ]),
      );
      for (const expected of [
        'systemd-255.4 + systemd-minimal-255.4',
        'util-linux-2.39.3 + util-linux-minimal-2.39.3',
        'util-linux-2.39.3-lib + util-linux-minimal-2.39.3-lib',
        'openssl-1.1.1w + openssl-3.0.13',
        'zlib-1.3.1 + zlib-1.3.1',
      ]) {
        assert.ok(byMembers.has(expected), `${expected} in ${[...byMembers.keys()].join('; ')}`);
      }
      const total = bytesOf(info, reachable(info, fx.root));
      for (const g of out.groups) {
        // the cost: what leaves the closure when every member but the first is gone
        const others = new Set(g.paths.slice(1));
        const seen = new Set([fx.root]);
        const queue = [fx.root];
        for (let h = 0; h < queue.length; h++) {
          for (const r of info.get(queue[h]!)!.references) {
            if (!seen.has(r) && !others.has(r)) {
              seen.add(r);
              queue.push(r);
            }
          }
        }
        assert.equal(g.extraBytes, total - bytesOf(info, seen), g.pname);
      }
    });

    it('edge-cases: no duplicates', async () => {
      const fx = await buildFixture('edge-cases');
      const out = await cliJson<DupsJson>(['dups', fx.root, '--json']);
      assert.deepEqual(out.groups, []);
    });
  });

  describe('bad input: exit 1 and one clear line', () => {
    let tmp: string;
    before(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cli-bad-'));
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('a store path that is not valid', async () => {
      const r = await cli(['closure', '/nix/store/00000000000000000000000000000000-missing-1.0', '--json']);
      assertUserError(
        r,
        /00000000000000000000000000000000-missing-1\.0|not valid|not built|not in the store/i,
        'invalid store path',
      );
    });

    it('a dependency that is not in the closure', async () => {
      const fx = await buildFixture('mini-nixos');
      const r = await cli(['why', fx.root, fx.output('hello'), '--json']);
      assertUserError(r, /hello/, 'dependency outside the closure');
      const byName = await cli(['why', fx.root, 'no-such-package']);
      assertUserError(byName, /no-such-package/, 'unknown name');
    });

    it('an ambiguous name lists the paths it matches', async () => {
      const fx = await buildFixture('mini-nixos');
      const r = await cli(['why', fx.root, 'zlib']);
      assertUserError(r, /zlib-1\.3\.1.*zlib-1\.3\.1|ambiguous/i, 'ambiguous name');
    });

    it('an unknown flag', async () => {
      const r = await cli(['closure', '--no-such-flag', '/nix/store/x']);
      assertUserError(r, /--no-such-flag/, 'unknown flag');
    });

    it('malformed, truncated and empty JSON, and JSON with missing references', async () => {
      const fx = await buildFixture('edge-cases');
      const full = (await execa('nix', ['path-info', '-rs', '--json', fx.root], { env: nixEnv() })).stdout;
      const cases: [string, string, RegExp][] = [
        ['malformed.json', '{"this is": not json', /malformed\.json/],
        ['truncated.json', full.slice(0, Math.floor(full.length / 2)), /truncated\.json/],
        ['empty.json', '[]', /empty\.json|no store paths|empty/i],
        [
          'missing-refs.json',
          JSON.stringify((JSON.parse(full) as { path: string }[]).filter((e) => !e.path.endsWith('-lonely-1.0'))),
          /lonely|incomplete|references/i,
        ],
      ];
      for (const [file, text, mentions] of cases) {
        fs.writeFileSync(path.join(tmp, file), text);
        const r = await cli(['closure', '--from-json', path.join(tmp, file), '--json']);
        assertUserError(r, mentions, file);
      }
      const missingFile = await cli(['closure', '--from-json', path.join(tmp, 'does-not-exist.json')]);
      assertUserError(missingFile, /does-not-exist\.json/, 'missing file');
    });

    it('a flake attribute that does not exist', async () => {
      const fx = await buildFixture('edge-cases');
      const r = await cli(['closure', fx.installable('doesNotExist'), '--json']);
      assertUserError(r, /doesNotExist/, 'missing flake attribute');
    });
  });
});
