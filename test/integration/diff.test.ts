/**
 * Closure diff on a real fixture flake at two git revisions and in its working tree, with
 * `nix store diff-closures` as the oracle for version changes and size deltas.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffClosures, type ClosureDiff } from '../../src/core/diff';
import { operandAtRevision, localFlake, resolveOperand } from '../../src/core/diffTargets';
import { ClosureGraph } from '../../src/core/graph';
import { parseClosureJson } from '../../src/core/parse';
import { repoRoot, runNix, stripAnsi } from '../support/fixtures';

export interface DiffRepo {
  readonly dir: string;
  /** Store paths of `#default` at HEAD~1, HEAD and in the working tree. */
  readonly v1: string;
  readonly v2: string;
  readonly v3: string;
}

const FIXTURE = () => path.join(repoRoot(), 'test', 'fixtures', 'diff');

async function git(dir: string, args: string[]): Promise<string> {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  return (await execa('git', args, { cwd: dir, env })).stdout;
}

async function buildDefault(flakeDir: string): Promise<string> {
  const out = JSON.parse((await runNix(['build', '--no-link', '--json', `path:${flakeDir}#default`])).stdout) as { outputs: { out: string } }[];
  return out[0]!.outputs.out;
}

/** A git repo with the fixture flake: pkgs-v1 committed, then pkgs-v2 committed, then pkgs-v3 uncommitted. */
export async function makeDiffRepo(): Promise<DiffRepo> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-diffrepo-'));
  const src = FIXTURE();
  // The flake sits in a subdirectory, as in a monorepo: revisions must map it back.
  const flake = path.join(dir, 'nix');
  fs.mkdirSync(flake);
  for (const f of ['flake.nix', 'mk.nix']) fs.copyFileSync(path.join(src, f), path.join(flake, f));
  await git(dir, ['init', '-q']);
  const builds: string[] = [];
  for (const v of ['v1', 'v2', 'v3']) {
    fs.copyFileSync(path.join(src, `pkgs-${v}.nix`), path.join(flake, 'pkgs.nix'));
    builds.push(await buildDefault(flake));
    if (v !== 'v3') {
      await git(dir, ['add', '-A']);
      await git(dir, ['commit', '-q', '-m', v]);
    }
  }
  return { dir, v1: builds[0]!, v2: builds[1]!, v3: builds[2]! };
}

export async function loadGraph(storePath: string): Promise<ClosureGraph> {
  const parsed = parseClosureJson((await runNix(['path-info', '-r', '-s', '--json', storePath])).stdout);
  return ClosureGraph.build(parsed.records, [storePath]);
}

interface ClosuresLine {
  removed?: string[];
  added?: string[];
  kib?: string;
}

/** `nix store diff-closures` output: `name: 1.0 → 1.1, +12.3 KiB`, ANSI removed. */
export function parseDiffClosures(text: string): Map<string, ClosuresLine> {
  const out = new Map<string, ClosuresLine>();
  for (const raw of stripAnsi(text).split('\n')) {
    if (raw.trim() === '') continue;
    const m = /^(.+?): (.*)$/.exec(raw);
    assert.ok(m, `unexpected diff-closures line ${JSON.stringify(raw)}`);
    const [, name, rest] = m;
    const line: ClosuresLine = {};
    let body = rest!;
    const size = /(?:^|, )([+-]\d+\.\d) KiB$/.exec(body);
    if (size) {
      line.kib = size[1];
      body = body.slice(0, size.index);
    }
    if (body !== '') {
      const [l, r] = body.split(' → ') as [string, string];
      const list = (s: string) => (s === '∅' ? [] : s.split(', ').map((v) => (v === 'ε' ? '' : v)).sort());
      line.removed = list(l);
      line.added = list(r);
    }
    out.set(name!, line);
  }
  return out;
}

/** What diff-closures should print for our diff: versions when they changed, sizes from 8 KiB. */
export function expectedClosuresLines(d: ClosureDiff): Map<string, ClosuresLine> {
  const out = new Map<string, ClosuresLine>();
  for (const p of d.packages) {
    const line: ClosuresLine = {};
    if (p.versionsRemoved.length > 0 || p.versionsAdded.length > 0) {
      line.removed = [...p.versionsRemoved].sort();
      line.added = [...p.versionsAdded].sort();
    }
    if (Math.abs(p.sizeDelta) >= 8 * 1024) line.kib = `${p.sizeDelta > 0 ? '+' : '-'}${(Math.abs(p.sizeDelta) / 1024).toFixed(1)}`;
    if (line.removed || line.kib) out.set(p.pname, line);
  }
  return out;
}

describe('closure diff across git revisions (real nix, real git)', function () {
  this.timeout(300_000);
  let repo: DiffRepo;
  before(async () => {
    repo = await makeDiffRepo();
  });
  after(() => fs.rmSync(repo.dir, { recursive: true, force: true }));

  it('checks out HEAD~1 and HEAD of a flake in a subdirectory and builds the same store paths', async () => {
    for (const [rev, expected] of [['HEAD~1', repo.v1], ['HEAD', repo.v2]] as const) {
      const op = await operandAtRevision('./nix#default', rev, { cwd: repo.dir });
      try {
        assert.equal(op.target.kind, 'installable');
        const inst = (op.target as { installable: string }).installable;
        assert.match(inst, /^path:\/.*\/nix#default$/);
        const built = JSON.parse((await runNix(['build', '--no-link', '--json', inst])).stdout) as { outputs: { out: string } }[];
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
    const d = diffClosures({ graph: await loadGraph(repo.v1), label: 'HEAD~1' }, { graph: await loadGraph(repo.v2), label: 'HEAD' });
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
    assert.deepEqual(perl.chain.map((p) => path.basename(p).slice(33)), ['system', 'tool-1.0', 'perl-5.38.2']);
    const total = d.after.closureSize - d.before.closureSize;
    assert.equal(d.sizeDelta, total);
  });

  it('agrees with nix store diff-closures on HEAD → working tree, and the reverse', async () => {
    const g2 = await loadGraph(repo.v2);
    const g3 = await loadGraph(repo.v3);
    const forward = diffClosures({ graph: g2, label: 'HEAD' }, { graph: g3, label: 'work' });
    assert.deepEqual(expectedClosuresLines(forward), parseDiffClosures((await runNix(['store', 'diff-closures', repo.v2, repo.v3])).stdout));
    const backward = diffClosures({ graph: g3, label: 'work' }, { graph: g2, label: 'HEAD' });
    assert.deepEqual(expectedClosuresLines(backward), parseDiffClosures((await runNix(['store', 'diff-closures', repo.v3, repo.v2])).stdout));
    assert.equal(forward.sizeDelta, -backward.sizeDelta);
    assert.deepEqual(forward.packages.find((p) => p.pname === 'extra')!.kind, 'added');
    assert.deepEqual(backward.packages.find((p) => p.pname === 'extra')!.kind, 'removed');
  });

  it('names a revision that does not exist and a directory outside git', async () => {
    await assert.rejects(operandAtRevision('./nix#default', 'no-such-rev', { cwd: repo.dir }), (e: { code?: string; message: string }) =>
      e.code === 'git-failed' && /no-such-rev/.test(e.message));
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-nogit-'));
    try {
      await assert.rejects(operandAtRevision('.#default', 'HEAD', { cwd: outside }), (e: { code?: string; message: string }) =>
        e.code === 'git-failed' && /not inside a git repository/.test(e.message));
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
    assert.throws(() => localFlake('github:NixOS/nixpkgs#hello', repo.dir), (e: { code?: string }) => e.code === 'bad-installable');
  });

  it('resolves store paths, links into the store and installables', () => {
    const link = path.join(repo.dir, 'system-7-link');
    fs.symlinkSync(repo.v1, link);
    const viaLink = resolveOperand(link, repo.dir);
    assert.deepEqual(viaLink.target, { kind: 'store-path', path: repo.v1 });
    assert.deepEqual(resolveOperand(repo.v2, '/').target, { kind: 'store-path', path: repo.v2 });
    assert.deepEqual(resolveOperand('.#default', repo.dir).target, { kind: 'installable', installable: '.#default', cwd: repo.dir });
  });
});
