/**
 * Closure diff on a real fixture flake at two git revisions and in its working tree, with
 * `nix store diff-closures` as the oracle for version changes and size deltas.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffClosures } from '../../src/core/diff';
import { operandAtRevision, localFlake, resolveOperand } from '../../src/core/diff';
import { runNix } from '../support/fixtures';
import {
  expectedClosuresLines,
  loadGraph,
  makeDiffRepo,
  parseDiffClosures,
  type DiffRepo,
} from '../fixtures/diff/repo';

describe('closure diff across git revisions (real nix, real git)', function () {
  this.timeout(300_000);
  let repo: DiffRepo;
  before(async () => {
    repo = await makeDiffRepo();
  });
  after(() => fs.rmSync(repo.dir, { recursive: true, force: true }));

  it('checks out HEAD~1 and HEAD of a flake in a subdirectory and builds the same store paths', async () => {
    for (const [rev, expected] of [
      ['HEAD~1', repo.v1],
      ['HEAD', repo.v2],
    ] as const) {
      const op = await operandAtRevision('./nix#default', rev, { cwd: repo.dir });
      try {
        assert.equal(op.target.kind, 'installable');
        const inst = (op.target as { installable: string }).installable;
        assert.match(inst, /^path:\/.*\/nix#default$/);
        const built = JSON.parse((await runNix(['build', '--no-link', '--json', inst])).stdout) as {
          outputs: { out: string };
        }[];
        assert.equal(built[0]!.outputs.out, expected, rev);
        assert.match(op.label, new RegExp(`^\\./nix#default @ ${rev.replace('~', '~')} \\([0-9a-f]{12}\\)$`));
      } finally {
        await op.dispose();
      }
      assert.ok(!fs.existsSync((op.target as { cwd: string }).cwd), 'the checkout is removed');
    }
    // The working tree is untouched: still the uncommitted v3.
    assert.match(fs.readFileSync(path.join(repo.dir, 'nix', 'pkgs.nix'), 'utf8'), /Working tree/);
  });

  it('agrees with nix store diff-closures on HEAD~1 → HEAD', async () => {
    const d = diffClosures(
      { graph: await loadGraph(repo.v1), label: 'HEAD~1' },
      { graph: await loadGraph(repo.v2), label: 'HEAD' },
    );
    const nix = parseDiffClosures((await runNix(['store', 'diff-closures', repo.v1, repo.v2])).stdout);
    assert.deepEqual(expectedClosuresLines(d), nix);
    assert.deepEqual([...nix.keys()].sort(), ['app', 'docs', 'libbar', 'libbaz', 'libfoo', 'perl', 'zlib']);
    assert.deepEqual(nix.get('libbaz'), { kib: '+12.1' }, 'a count change is a size-only line for Nix');
    // And it says more than Nix: the kinds, and why perl came in.
    const kinds = Object.fromEntries(d.packages.map((p) => [p.pname, p.kind]));
    assert.equal(kinds['app'], 'upgraded');
    assert.equal(kinds['libbar'], 'downgraded');
    assert.equal(kinds['libbaz'], 'count-changed');
    assert.equal(kinds['perl'], 'added');
    assert.equal(kinds['docs'], 'removed');
    assert.equal(kinds['libfoo'], 'rebuilt');
    const perl = d.addedPaths.find((a) => a.pname === 'perl')!;
    assert.deepEqual(
      perl.chain.map((p) => path.basename(p).slice(33)),
      ['system', 'tool-1.0', 'perl-5.38.2'],
    );
    const total = d.after.closureSize - d.before.closureSize;
    assert.equal(d.sizeDelta, total);
  });

  it('agrees with nix store diff-closures on HEAD → working tree, and the reverse', async () => {
    const g2 = await loadGraph(repo.v2);
    const g3 = await loadGraph(repo.v3);
    const forward = diffClosures({ graph: g2, label: 'HEAD' }, { graph: g3, label: 'work' });
    assert.deepEqual(
      expectedClosuresLines(forward),
      parseDiffClosures((await runNix(['store', 'diff-closures', repo.v2, repo.v3])).stdout),
    );
    const backward = diffClosures({ graph: g3, label: 'work' }, { graph: g2, label: 'HEAD' });
    assert.deepEqual(
      expectedClosuresLines(backward),
      parseDiffClosures((await runNix(['store', 'diff-closures', repo.v3, repo.v2])).stdout),
    );
    assert.equal(forward.sizeDelta, -backward.sizeDelta);
    assert.deepEqual(forward.packages.find((p) => p.pname === 'extra')!.kind, 'added');
    assert.deepEqual(backward.packages.find((p) => p.pname === 'extra')!.kind, 'removed');
  });

  it('names a revision that does not exist and a directory outside git', async () => {
    await assert.rejects(
      operandAtRevision('./nix#default', 'no-such-rev', { cwd: repo.dir }),
      (e: { code?: string; message: string }) => e.code === 'git-failed' && /no-such-rev/.test(e.message),
    );
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-nogit-'));
    try {
      await assert.rejects(
        operandAtRevision('.#default', 'HEAD', { cwd: outside }),
        (e: { code?: string; message: string }) =>
          e.code === 'git-failed' && /not inside a git repository/.test(e.message),
      );
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
    assert.throws(
      () => localFlake('github:NixOS/nixpkgs#hello', repo.dir),
      (e: { code?: string }) => e.code === 'bad-installable',
    );
  });

  it('resolves store paths, links into the store and installables', () => {
    const link = path.join(repo.dir, 'system-7-link');
    fs.symlinkSync(repo.v1, link);
    const viaLink = resolveOperand(link, repo.dir);
    assert.deepEqual(viaLink.target, { kind: 'store-path', path: repo.v1 });
    assert.deepEqual(resolveOperand(repo.v2, '/').target, { kind: 'store-path', path: repo.v2 });
    assert.deepEqual(resolveOperand('.#default', repo.dir).target, {
      kind: 'installable',
      installable: '.#default',
      cwd: repo.dir,
    });
  });
});
