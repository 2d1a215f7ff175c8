// The `closure-lens` executable (dist/closure-lens.js): it runs dist/cli.js through a V8 code cache in
// $XDG_CACHE_HOME/closure-lens/code. The cache may only ever save time: the output must be the bundle's own, with a
// cache that is missing, fresh, damaged, from an older build, or that cannot be written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { realDataDir } from '../support/realData';

const REPO = path.resolve(__dirname, '../../..');
const LAUNCHER = path.join(REPO, 'dist/closure-lens.js');
const BUNDLE = path.join(REPO, 'dist/cli.js');
const CLOSURE = realDataDir('nix-2.26-outputs', 'path-info-rs.json');

describe('closure-lens executable (V8 code cache launcher)', function () {
  this.timeout(60_000);
  let home: string;
  let codeDir: string;

  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-launcher-'));
    codeDir = path.join(home, 'closure-lens', 'code');
  });
  afterEach(() => {
    fs.chmodSync(home, 0o700);
    if (fs.existsSync(codeDir)) fs.chmodSync(codeDir, 0o700);
    fs.rmSync(home, { recursive: true, force: true });
  });

  function run(file: string, ...args: string[]) {
    const r = spawnSync(process.execPath, [file, ...args], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: home },
      timeout: 30_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const args = ['closure', '--json', '--from-json', CLOSURE];
  const expected = () => run(BUNDLE, ...args);

  it('prints what dist/cli.js prints, and leaves a private code cache for the subcommand', () => {
    const direct = expected();
    assert.equal(direct.code, 0, direct.stderr);
    const first = run(LAUNCHER, ...args);
    assert.deepEqual(first, direct);
    const files = fs.readdirSync(codeDir);
    assert.equal(files.length, 1, files.join(', '));
    assert.match(files[0]!, /^closure-\d+-\d+-\d+-v\d+\.\d+\.\d+-\w+\.v8$/);
    assert.ok(fs.statSync(path.join(codeDir, files[0]!)).size > 10_000, 'compiled code was written');
    assert.equal(fs.statSync(codeDir).mode & 0o777, 0o700, 'nobody else can plant code there');
    assert.equal(fs.statSync(path.join(codeDir, files[0]!)).mode & 0o777, 0o600);
    // The second run reads it, and gives the same answer.
    const before = fs.statSync(path.join(codeDir, files[0]!)).mtimeMs;
    assert.deepEqual(run(LAUNCHER, ...args), direct);
    assert.equal(fs.statSync(path.join(codeDir, files[0]!)).mtimeMs, before, 'an accepted cache is not rewritten');
  });

  it('the shipped (minified) bundle is all ASCII, read as Latin-1, and prints what dist/cli.js prints', () => {
    // out/bench/shipped-cli holds the two bundles as --production builds them (what npm pack and the .vsix ship).
    const shipped = path.join(REPO, 'out/bench/shipped-cli');
    const bytes = fs.readFileSync(path.join(shipped, 'cli.js'));
    const nonAscii = bytes.findIndex((b) => b > 0x7f);
    assert.equal(
      nonAscii,
      -1,
      `non-ASCII near: ${bytes.subarray(Math.max(0, nonAscii - 40), nonAscii + 10).toString()}`,
    );
    const direct = expected();
    assert.equal(direct.code, 0, direct.stderr);
    // Twice: without a code cache, then through the one the first run left.
    assert.deepEqual(run(path.join(shipped, 'closure-lens.js'), ...args), direct);
    assert.deepEqual(run(path.join(shipped, 'closure-lens.js'), ...args), direct);
  });

  it('a damaged cache is rejected by V8 and replaced; exit codes and user errors are the bundle’s', () => {
    assert.equal(run(LAUNCHER, ...args).code, 0);
    const file = path.join(codeDir, fs.readdirSync(codeDir)[0]!);
    fs.writeFileSync(file, Buffer.alloc(4096, 7));
    assert.deepEqual(run(LAUNCHER, ...args), expected());
    assert.notDeepEqual(fs.readFileSync(file), Buffer.alloc(4096, 7), 'rewritten');
    const bad = run(LAUNCHER, 'why', '--from-json', CLOSURE, 'no-such-package-anywhere');
    assert.deepEqual(bad, run(BUNDLE, 'why', '--from-json', CLOSURE, 'no-such-package-anywhere'));
    assert.equal(bad.code, 1);
  });

  it('a cache of an older build of the same subcommand is removed; other subcommands keep theirs', () => {
    fs.mkdirSync(codeDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(codeDir, 'closure-1-2-3-v0.0.0-x64.v8'), 'old build');
    fs.writeFileSync(path.join(codeDir, 'why-1-2-3-v0.0.0-x64.v8'), 'another subcommand');
    assert.equal(run(LAUNCHER, ...args).code, 0);
    const files = fs.readdirSync(codeDir).sort();
    assert.equal(files.length, 2, files.join(', '));
    assert.ok(files.includes('why-1-2-3-v0.0.0-x64.v8'));
    assert.ok(!files.includes('closure-1-2-3-v0.0.0-x64.v8'));
  });

  it('a cache directory that cannot be written changes nothing but speed', () => {
    fs.chmodSync(home, 0o500);
    if (process.getuid?.() === 0) {
      // root writes anyway; make the path unusable instead: a file where the directory would be
      fs.chmodSync(home, 0o700);
      fs.mkdirSync(path.join(home, 'closure-lens'));
      fs.writeFileSync(codeDir, 'not a directory');
    }
    assert.deepEqual(run(LAUNCHER, ...args), expected());
  });

  it('a cache with any byte flipped is dropped, never run: 40 flips, 40 right answers (issue 20 #2)', () => {
    const direct = expected();
    assert.equal(run(LAUNCHER, ...args).code, 0);
    const file = path.join(codeDir, fs.readdirSync(codeDir)[0]!);
    const good = fs.readFileSync(file);
    // Spread over the whole file: header, checksum, and V8's payload (where a flip used to crash V8 natively).
    for (let k = 0; k < 40; k++) {
      const at = Math.floor(((k + 0.5) * good.length) / 40);
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ (1 << (k % 8));
      fs.writeFileSync(file, bad);
      const r = run(LAUNCHER, ...args);
      assert.deepEqual(r, direct, `byte ${at} of ${good.length} flipped: exit ${r.code}, ${r.stderr.slice(0, 300)}`);
    }
    assert.deepEqual(fs.readFileSync(file).subarray(0, 16), good.subarray(0, 16), 'replaced by a sound cache');
  });

  it('caches only real subcommands: a typo, --help and --version leave nothing behind', () => {
    for (const a of [['clsoure', '--from-json', CLOSURE], ['--help'], ['--version'], ['nope']]) {
      run(LAUNCHER, ...a);
    }
    assert.deepEqual(fs.existsSync(codeDir) ? fs.readdirSync(codeDir) : [], []);
    // A global option before the command does not hide it.
    assert.equal(run(LAUNCHER, '--color=never', '--timeout', '30', ...args).code, 0);
    assert.match(fs.readdirSync(codeDir).join(','), /^closure-/);
  });

  it('keeps the code cache under --cache-dir, and none with --no-cache', () => {
    const mine = path.join(home, 'mine');
    assert.equal(run(LAUNCHER, '--cache-dir', mine, ...args).code, 0);
    assert.match(fs.readdirSync(path.join(mine, 'code')).join(','), /^closure-/);
    assert.equal(run(LAUNCHER, `--cache-dir=${mine}`, 'why', '--from-json', CLOSURE, 'perl').code, 0);
    assert.equal(fs.readdirSync(path.join(mine, 'code')).length, 2);
    assert.equal(fs.existsSync(codeDir), false, 'nothing under $XDG_CACHE_HOME');
    assert.equal(run(LAUNCHER, '--no-cache', ...args).code, 0);
    assert.equal(fs.existsSync(codeDir), false, '--no-cache writes no code cache either');
  });

  it('keeps the folder under 4 MiB: the oldest caches go first', () => {
    fs.mkdirSync(codeDir, { recursive: true, mode: 0o700 });
    const old = Date.now() / 1000 - 3600;
    for (let k = 0; k < 6; k++) {
      const f = path.join(codeDir, `diff-${k}-0-0-v0.0.0-x64.v8`);
      fs.writeFileSync(f, Buffer.alloc(1024 * 1024));
      fs.utimesSync(f, old + k, old + k);
    }
    assert.equal(run(LAUNCHER, ...args).code, 0);
    const files = fs.readdirSync(codeDir);
    const total = files.reduce((s, f) => s + fs.statSync(path.join(codeDir, f)).size, 0);
    assert.ok(total <= 4 * 1024 * 1024, `${total} bytes in ${files.join(', ')}`);
    assert.ok(
      files.some((f) => f.startsWith('closure-')),
      'the new cache stays',
    );
    assert.ok(files.includes('diff-5-0-0-v0.0.0-x64.v8') && !files.includes('diff-0-0-0-v0.0.0-x64.v8'), files.join());
  });
});
