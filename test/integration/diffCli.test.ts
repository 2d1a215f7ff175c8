/**
 * `closure-lens diff`, `check` and `compressed` as users run them: the built CLI (dist/cli.js) on a fixture
 * flake at two git revisions whose outputs nobody built yet, with real nix as the oracle.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ClosureDiff } from '../../src/core/diff';
import { chainOfTree, nixEnv, nixPathInfo, nixWhyDepends, repoRoot, runNix } from '../support/fixtures';
import { expectedClosuresLines, makeDiffRepo, parseDiffClosures, type DiffRepo } from '../fixtures/diff/repo';

async function cli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await execa(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), '--no-cache', ...args], {
    cwd,
    env: { ...nixEnv(), GITHUB_ACTIONS: '', ...env },
    reject: false,
    stdin: 'ignore',
    timeout: 240_000,
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const name = (p: string) => path.basename(p).slice(33);

describe('closure-lens diff (CLI, git revisions, real nix)', function () {
  this.timeout(300_000);
  let repo: DiffRepo;
  before(async () => {
    assert.ok(fs.existsSync(path.join(repoRoot(), 'dist', 'cli.js')), 'build first: node .esbuild.config.mjs');
    repo = await makeDiffRepo({ fresh: true });
  });
  after(() => fs.rmSync(repo.dir, { recursive: true, force: true }));

  it('builds both revisions and prints the diff as JSON that agrees with nix store diff-closures', async () => {
    const r = await cli(['diff', '--git', 'HEAD~1..HEAD', './nix#default', '--json'], repo.dir);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout) as ClosureDiff & { version: number };
    assert.equal(d.version, 1);
    assert.deepEqual(d.before.roots, [repo.v1]);
    assert.deepEqual(d.after.roots, [repo.v2]);
    // The CLI built them: now Nix can diff them too.
    const nix = parseDiffClosures((await runNix(['store', 'diff-closures', repo.v1, repo.v2])).stdout);
    assert.deepEqual(expectedClosuresLines(d), nix);
    const perl = d.addedPaths.find((a) => a.pname === 'perl')!;
    assert.deepEqual(perl.chain.map(name), ['system', 'tool-1.0', 'perl-5.38.2']);
    const byNix = chainOfTree((await nixWhyDepends(repo.v2, perl.path))!);
    assert.ok(perl.chain.length <= byNix.length, 'never longer than nix why-depends');
    const info = await nixPathInfo([repo.v1, repo.v2], { closureSize: true, recursive: false });
    assert.equal(d.sizeDelta, info.get(repo.v2)!.closureSize! - info.get(repo.v1)!.closureSize!);
  });

  it('compares HEAD with the working tree as text', async () => {
    const r = await cli(['diff', '--git', 'HEAD', './nix#default'], repo.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^<<< \.\/nix#default @ HEAD \([0-9a-f]{12}\)$/m);
    assert.match(r.stdout, /^>>> \.\/nix#default \(working tree\)$/m);
    assert.match(r.stdout, /^Added packages:\n\[A\*\]\s+extra\s+0\.1\s+\+100\.\d KiB\n\s+why: system → extra-0\.1$/m);
    assert.doesNotMatch(r.stdout, /Removed packages/);
    const nix = parseDiffClosures((await runNix(['store', 'diff-closures', repo.v2, repo.v3])).stdout);
    assert.deepEqual([...nix.keys()], ['extra']);
  });

  it('takes store paths and links into the store, and writes Markdown', async () => {
    fs.symlinkSync(repo.v1, path.join(repo.dir, 'system-1-link'));
    const r = await cli(['diff', './system-1-link', repo.v3, '--markdown'], repo.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^### Closure diff: `\.\/system-1-link \(\w{32}-system\)` → `\/nix\/store\/\w{32}-system`$/m,
    );
    assert.match(r.stdout, /^\| A★? \| extra \| 0\.1 \| \+100\.\d KiB \| system → extra-0\.1 \|  \|$/m);
    assert.match(r.stdout, /^#### Version changes \(3\)$/m);
  });

  it('says what is wrong with a bad revision or bad arguments (exit 1)', async () => {
    let r = await cli(['diff', '--git', 'nope~3', './nix#default'], repo.dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /git does not know the revision 'nope~3'/);
    r = await cli(['diff', './nix#default'], repo.dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /diff takes two closures, got 1/);
    r = await cli(['diff', '--json', '--markdown', 'a', 'b'], repo.dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /choose one of --json and --markdown/);
  });
});

describe('closure-lens check (CLI exit codes, real nix)', function () {
  this.timeout(300_000);
  let repo: DiffRepo;
  let rules: string;
  const write = (obj: unknown) => fs.writeFileSync(rules, JSON.stringify(obj, null, 2));
  before(async () => {
    repo = await makeDiffRepo();
    rules = path.join(repo.dir, '.closure-lens.json');
  });
  after(() => fs.rmSync(repo.dir, { recursive: true, force: true }));

  it('exits 1 when rules break, with the chain of each forbidden path and a Markdown report', async () => {
    write({
      rules: [
        {
          target: './nix#default',
          name: 'the system',
          maxClosureSize: '200 KiB',
          maxDuplicates: 0,
          forbiddenDependencies: ['perl', '/^zlib-/'],
          forbiddenDependenciesRegexes: ['-extra-'],
          mustBeAbsent: ['docs'],
        },
      ],
    });
    const report = path.join(repo.dir, 'report.md');
    const r = await cli(['check', '--markdown', report], repo.dir);
    assert.equal(r.code, 1, r.stderr);
    const size = (await nixPathInfo([repo.v3], { closureSize: true, recursive: false })).get(repo.v3)!.closureSize!;
    assert.ok(size > 200 * 1024);
    assert.match(
      r.stdout,
      /✗ maxClosureSize: closure size 2\d\d\.\d KiB exceeds the budget of 200\.0 KiB \(200 KiB\)  \[\.closure-lens\.json:6:7\]/,
    );
    assert.match(r.stdout, /✗ maxDuplicates: 1 duplicated package \(limit 0\): libbaz ×2/);
    assert.match(
      r.stdout,
      /✗ forbiddenDependencies: perl: 1 forbidden path .*\n\s+system → (tool-1\.0|extra-0\.1) → perl-5\.38\.2/,
    );
    assert.match(r.stdout, /✗ forbiddenDependencies: \/\^zlib-\/: 1 forbidden path/);
    assert.match(r.stdout, /✗ forbiddenDependenciesRegexes: -extra-: 1 forbidden path/);
    assert.match(r.stdout, /✓ mustBeAbsent: docs: absent/);
    assert.match(r.stdout, /5 rule\(s\) broken, 0 warning\(s\)\./);
    const gh = await cli(['check'], repo.dir, { GITHUB_ACTIONS: 'true' });
    assert.equal(gh.code, 1);
    assert.match(
      gh.stdout,
      /^::error file=\.closure-lens\.json,line=6,col=7,title=closure-lens maxClosureSize::the system: closure size /m,
    );
    assert.match(
      gh.stdout,
      /^::error file=\.closure-lens\.json,line=\d+,col=\d+,title=closure-lens forbiddenDependencies::the system: perl: 1 forbidden path .* — system → .* → perl-5\.38\.2$/m,
    );
    const md = fs.readFileSync(report, 'utf8');
    assert.match(md, /^### Closure rules: ❌ 5 broken$/m);
    assert.match(md, /<summary>Why `perl` is in the closure<\/summary>/);
    // The chain in the report is a real chain: every step references the next.
    const perlPath = (await nixPathInfo([repo.v3])).keys();
    const all = [...perlPath];
    const perl = all.find((p) => name(p) === 'perl-5.38.2')!;
    const byNix = chainOfTree((await nixWhyDepends(repo.v3, perl))!);
    assert.equal(byNix.length, 3);
    assert.match(
      md,
      new RegExp(
        `- system → ${name(byNix[1]!).replace('.', '\\.')} → perl-5\\.38\\.2|- system → (tool-1\\.0|extra-0\\.1) → perl-5\\.38\\.2`,
      ),
    );
  });

  it('exits 0 when every rule holds, and keeps warnings from failing', async () => {
    write({
      rules: [
        { target: './nix#default', maxClosureSize: '1 MiB', maxPaths: 10, mustBeAbsent: ['docs', 'zlib-1.2'] },
        { target: './nix#default', severity: 'warning', maxPaths: 3 },
        { target: './nix#libfoo', forbiddenDependencies: ['perl'] },
      ],
    });
    const r = await cli(['check'], repo.dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /! maxPaths: 10 store paths exceed the limit of 3/);
    assert.match(r.stdout, /0 rule\(s\) broken, 1 warning\(s\)\./);
    const json = await cli(['check', '--json'], repo.dir);
    assert.equal(json.code, 0);
    const doc = JSON.parse(json.stdout) as {
      reports: { outcomes: { rule: string; broken: boolean; actual?: number }[] }[];
    };
    assert.equal(doc.reports.length, 3);
    const size = (await nixPathInfo([repo.v3], { closureSize: true, recursive: false })).get(repo.v3)!.closureSize!;
    assert.equal(
      doc.reports[0]!.outcomes.find((o) => o.rule === 'maxClosureSize')!.actual,
      size,
      'the closure size is nix path-info -S',
    );
  });

  it('checks compressed-size budgets with the same estimate as closure-lens compressed', async () => {
    write({ rules: [{ target: './nix#default', maxCompressedSize: { zstd: '1 KiB', xz: '1 MiB' } }] });
    const r = await cli(['check', '--json'], repo.dir);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      reports: { outcomes: { rule: string; pattern: string; broken: boolean; actual: number }[] }[];
    };
    const [zstd, xz] = doc.reports[0]!.outcomes;
    assert.deepEqual([zstd!.pattern, zstd!.broken, xz!.pattern, xz!.broken], ['zstd', true, 'xz', false]);
    const est = JSON.parse((await cli(['compressed', './nix#default', '--json'], repo.dir)).stdout) as {
      totals: { zstd: number; xz: number };
    };
    assert.equal(zstd!.actual, est.totals.zstd);
    assert.equal(xz!.actual, est.totals.xz);
  });

  it('checks the targets given on the command line against glob rules', async () => {
    write({ rules: [{ target: 'packages.*.lib*', maxClosureSize: '10 KiB' }] });
    let r = await cli(['check'], repo.dir);
    assert.equal(r.code, 3, 'could not check');
    assert.match(r.stderr, /names no concrete target/);
    r = await cli(['check', './nix#libfoo', './nix#libbar'], repo.dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /✗ maxClosureSize: closure size 30\.\d KiB exceeds/);
    r = await cli(['check', './nix#app'], repo.dir);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: no rule in \.closure-lens\.json applies to \.\/nix#app/);
  });

  it('exits 3 (could not check) naming each mistake of a broken rules file, and a missing file', async () => {
    const line = '    { "target": "./nix#default", "maxClosureSize": "huge", "mustBeAbsent": "perl" }';
    fs.writeFileSync(rules, `{\n  "rules": [\n${line}\n  ]\n}\n`);
    let r = await cli(['check'], repo.dir);
    assert.equal(r.code, 3);
    const col = (s: string) => line.indexOf(s) + 1;
    assert.ok(
      r.stderr.includes(`.closure-lens.json:3:${col('"huge"')}: "maxClosureSize" must be bytes or a size`),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(`.closure-lens.json:3:${col('"perl"')}: "mustBeAbsent" must be a list of strings.`),
      r.stderr,
    );
    assert.match(r.stderr, /closure-lens: \.closure-lens\.json has 2 problem\(s\)/);
    fs.rmSync(rules);
    r = await cli(['check'], repo.dir);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no \.closure-lens\.json here or in a parent directory/);
  });
});

describe('closure-lens compressed (CLI)', function () {
  this.timeout(300_000);
  it('prints NAR, zstd and xz sizes of a closure as JSON that adds up', async () => {
    const repo = await makeDiffRepo();
    try {
      const r = await cli(['compressed', repo.v2, '--json', '--codec', 'zstd,xz,gzip'], repo.dir);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as {
        narSize: number;
        totals: Record<string, number>;
        paths: { path: string; narSize: number; zstd: number; xz: number; gzip: number }[];
      };
      const info = await nixPathInfo([repo.v2], { closureSize: true, recursive: false });
      assert.equal(doc.narSize, info.get(repo.v2)!.closureSize);
      assert.equal(doc.paths.length, 9);
      for (const c of ['zstd', 'xz', 'gzip'] as const)
        assert.equal(
          doc.totals[c],
          doc.paths.reduce((s, p) => s + p[c], 0),
        );
      const text = await cli(['compressed', repo.v2], repo.dir);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^NAR size\s+141\.\d KiB\s*$/m);
      assert.match(text.stdout, /^zstd -19\s+≈ \d+\.\d KiB\s+\d+\.\d%$/m);
    } finally {
      fs.rmSync(repo.dir, { recursive: true, force: true });
    }
  });
});

describe('closure-lens diff and check --options (option attribution, the example flake)', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-options-'));
    // The example flake links its module system in; a copy must hold the files themselves.
    fs.cpSync(path.join(repoRoot(), 'test', 'fixtures', 'example-flake'), dir, { recursive: true, dereference: true });
    const git = (args: string[]) =>
      execa('git', args, {
        cwd: dir,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@e',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@e',
        },
      });
    await git(['init', '-q']);
    await git(['add', '-A']);
    await git(['commit', '-q', '-m', 'example']);
    const conf = path.join(dir, 'configuration.nix');
    const text = fs.readFileSync(conf, 'utf8');
    assert.ok(text.includes('environment.systemPackages = [ pkgs.w3m pkgs.htop ];'));
    fs.writeFileSync(
      conf,
      text.replace(
        'environment.systemPackages = [ pkgs.w3m pkgs.htop ];',
        'environment.systemPackages = [ pkgs.w3m pkgs.htop pkgs.nfs-utils ];',
      ),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names the option definition, file and line, that brought each added package', async () => {
    const r = await cli(['diff', '--git', 'HEAD', '.#nixosConfigurations.demo', '--options'], dir);
    assert.equal(r.code, 0, r.stderr);
    const line =
      fs
        .readFileSync(path.join(dir, 'configuration.nix'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('pkgs.nfs-utils')) + 1;
    assert.match(
      r.stdout,
      new RegExp(
        `\\[A\\*\\]\\s+nfs-utils\\s+2\\.6\\.4\\s+\\+600\\.\\d KiB\\n\\s+why: nixos-system-demo-[0-9.]+ → system-path → nfs-utils-2\\.6\\.4\\n\\s+option: environment\\.systemPackages \\(configuration\\.nix:${line}\\)`,
      ),
    );
    assert.match(
      r.stdout,
      /rpcbind[^\n]*\n[^\n]*why: [^\n]*nfs-utils-2\.6\.4 → rpcbind-1\.2\.6\n\s+option: environment\.systemPackages \(configuration\.nix:/,
    );
  });

  it('names an option behind a forbidden path in check', async () => {
    fs.writeFileSync(
      path.join(dir, '.closure-lens.json'),
      JSON.stringify({ rules: [{ target: '.#nixosConfigurations.demo', forbiddenDependencies: ['rpcbind'] }] }),
    );
    const r = await cli(['check', '--options'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /✗ forbiddenDependencies: rpcbind: 1 forbidden path[^\n]*\n\s+nixos-system-demo-[0-9.]+ → system-path → nfs-utils-2\.6\.4 → rpcbind-1\.2\.6\n\s+option: environment\.systemPackages \(configuration\.nix:\d+\)/,
    );
  });
});
