/**
 * The failure matrix against real processes: nix missing from PATH, a nix SIGKILLed halfway through its output,
 * a nix that stays silent (timeout, cancellation), memory while many closures are opened in turn, and names
 * full of shell and Nix metacharacters. The fake nixes in test/fixtures/faults are shell scripts around the real
 * nix, so every result still comes from Nix.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { execa } from 'execa';
import { GraphCache } from '../../src/core/load';
import { ClosureEngine } from '../../src/core/load';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner } from '../../src/core/nix';
import { repoRoot } from '../support/fixtures';
import { NIX_CONFIG, writeEngineFlake, type EngineFlake } from './engineFlake';

const faults = (name: string): string => path.join(repoRoot(), 'test', 'fixtures', 'faults', name);

async function rejects(p: Promise<unknown>, code?: string): Promise<ClosureLensError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClosureLensError, `not a ClosureLensError: ${String(e)}`);
    if (code) assert.equal(e.code, code, `${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${code ?? 'an error'}`);
}

async function waitForFile(file: string, ms: number): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fs.existsSync(file)) {
      const text = fs.readFileSync(file, 'utf8');
      if (text.endsWith('\n')) return text.trim();
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${file} did not appear within ${ms} ms`);
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

function nixBuild(installable: string): string {
  const out = execFileSync('nix', ['build', '--no-link', '--json', installable], {
    encoding: 'utf8',
    env: { ...process.env, NIX_CONFIG },
  });
  return (JSON.parse(out) as { outputs: { out: string } }[])[0]!.outputs.out;
}

/**
 * Files of a cache directory: the graphs and any temporary file a write left behind. The remembered
 * `nix --version` answer (nix-versions.json) is not graph data, so it is left out.
 */
function cacheFiles(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f !== 'nix-versions.json')
        .sort()
    : [];
}

describe('failure modes with real processes', function () {
  this.timeout(180_000);
  let flake: EngineFlake;
  let work: string;

  before(() => {
    flake = writeEngineFlake();
    work = fs.mkdtempSync(path.join(tmpdir(), 'faults-'));
  });
  after(() => {
    fs.rmSync(flake.dir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('nix not on PATH: the CLI exits 1 and says to install Nix or set the nix path', async () => {
    const cliJs = path.join(repoRoot(), 'dist', 'cli.js');
    const empty = fs.mkdtempSync(path.join(work, 'path-'));
    const r = await execa(process.execPath, [cliJs, 'closure', '/nix/store/00000000000000000000000000000000-x'], {
      env: { PATH: empty, HOME: work, XDG_CACHE_HOME: path.join(work, 'cache'), NO_COLOR: '1' },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    });
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /cannot run 'nix': not found/);
    assert.match(r.stderr, /install Nix.*--nix/);
  });

  it('nix SIGKILLed halfway through its output: the load fails and no cache entry (not even a partial one) is left', async () => {
    const root = nixBuild(flake.installable('app'));
    const cacheDir = path.join(work, 'cache-killed');
    const pidFile = path.join(work, 'half.pid');
    const runner = new NixRunner({ nixPath: faults('half-nix.sh'), env: { NIX_CONFIG, FAULT_PID_FILE: pidFile } });
    const engine = new ClosureEngine({ nix: runner, cache: new GraphCache(cacheDir) });
    const load = engine.load({ kind: 'store-path', path: root });
    const pid = Number(await waitForFile(pidFile, 60_000));
    process.kill(pid, 'SIGKILL');
    const e = await rejects(load);
    assert.notEqual(e.code, 'cancelled', 'the user did not cancel it');
    assert.match(
      e.message,
      /half-nix\.sh path-info .* was killed by SIGKILL/,
      'the message names the command and how it died',
    );
    assert.deepEqual(cacheFiles(cacheDir), [], 'no graph and no temporary file in the cache');
    // The next load (a nix that finishes) fills the cache with one whole graph of the closure nix reports.
    const whole = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }), cache: new GraphCache(cacheDir) });
    const loaded = await whole.load({ kind: 'store-path', path: root });
    const expected = execFileSync('nix', ['path-info', '-r', root], {
      encoding: 'utf8',
      env: { ...process.env, NIX_CONFIG },
    })
      .trim()
      .split('\n');
    assert.deepEqual([...loaded.analysis.graph.paths].filter((p) => p !== '').sort(), expected.sort());
    assert.deepEqual(
      cacheFiles(cacheDir).map((f) => path.extname(f)),
      ['.graph'],
    );
  });

  it('a cache write on a full disk (a tiny tmpfs) leaves the cache as it was; the closure is still shown, with a note', async () => {
    const root = nixBuild(flake.installable('app'));
    const other = nixBuild(flake.installable('lib'));
    const tiny = path.join(work, 'tiny');
    fs.mkdirSync(tiny);
    // Root can mount one (CI runs as root); without it this test fails rather than skips.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', tiny]);
    try {
      const cacheDir = path.join(tiny, 'graphs');
      const engine = (): ClosureEngine =>
        new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }), cache: new GraphCache(cacheDir) });
      const first = await engine().load({ kind: 'store-path', path: root });
      assert.deepEqual(
        first.notes.filter((n) => n.startsWith('not cached')),
        [],
      );
      const [graphFile] = cacheFiles(cacheDir);
      assert.ok(graphFile?.endsWith('.graph'));
      const before = fs.readFileSync(path.join(cacheDir, graphFile));
      // Fill the disk to the last byte.
      const filler = fs.openSync(path.join(tiny, 'filler'), 'w');
      try {
        const block = Buffer.alloc(4096, 1);
        for (;;) fs.writeSync(filler, block);
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        fs.closeSync(filler);
      }
      // Refresh rewrites the same entry: the write fails, the old file stays byte for byte.
      const again = await engine().load({ kind: 'store-path', path: root }, { refresh: true });
      assert.ok(
        again.notes.some((n) => /^not cached: cannot write the graph cache .*\(ENOSPC\) — free disk space/.test(n)),
        again.notes.join('\n'),
      );
      assert.deepEqual(fs.readFileSync(path.join(cacheDir, graphFile)), before);
      // A new entry: shown, not cached, no temporary file left behind.
      const fresh = await engine().load({ kind: 'store-path', path: other });
      assert.equal(fresh.rootPath, other);
      assert.ok(fresh.notes.some((n) => n.includes('ENOSPC')));
      assert.deepEqual(cacheFiles(cacheDir), [graphFile]);
    } finally {
      execFileSync('umount', [tiny]);
    }
  });

  it('a nix that prints nothing hits the timeout: the message names the command, the limit and a setting that exists', async () => {
    const pidFile = path.join(work, 'silent-timeout.pid');
    const runner = new NixRunner({
      nixPath: faults('silent-nix.sh'),
      env: { NIX_CONFIG, FAULT_PID_FILE: pidFile },
      timeoutMs: 2000,
    });
    const engine = new ClosureEngine({ nix: runner });
    const e = await rejects(engine.load({ kind: 'installable', installable: flake.installable('app') }), 'timeout');
    assert.match(e.message, /silent-nix\.sh path-info .* did not finish within 2 s/);
    // The fix must name the real knobs: the extension's setting (as package.json declares it) and the CLI flag.
    const settings = Object.keys(
      (
        JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as {
          contributes: { configuration: { properties: Record<string, unknown> } };
        }
      ).contributes.configuration.properties,
    );
    const named = e.fix.match(/nixClosureLens\.[A-Za-z.]+/g) ?? [];
    assert.ok(named.length > 0, `the fix names no setting: ${e.fix}`);
    for (const s of named) assert.ok(settings.includes(s), `the fix names ${s}, which package.json does not declare`);
    assert.match(e.fix, /--timeout/);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.equal(alive(pid), false, 'the silent nix was stopped');
  });

  it('cancelling stops a silent nix within a second (SIGTERM, without waiting for the kill grace period)', async () => {
    const pidFile = path.join(work, 'silent-cancel.pid');
    // The default grace period (3 s) before SIGKILL: stopping within a second means nix obeyed SIGTERM.
    const runner = new NixRunner({ nixPath: faults('silent-nix.sh'), env: { NIX_CONFIG, FAULT_PID_FILE: pidFile } });
    const engine = new ClosureEngine({ nix: runner });
    const ac = new AbortController();
    const load = engine.load({ kind: 'installable', installable: flake.installable('lib') }, { signal: ac.signal });
    const pid = Number(await waitForFile(pidFile, 30_000));
    const aborted = Date.now();
    ac.abort();
    await rejects(load, 'cancelled');
    while (alive(pid) && Date.now() - aborted < 5000) await new Promise((r) => setTimeout(r, 10));
    const stoppedAfter = Date.now() - aborted;
    assert.equal(alive(pid), false);
    assert.ok(stoppedAfter < 1000, `nix was still running ${stoppedAfter} ms after the cancel`);
  });

  it('memory stays bounded while many closures are opened in turn: the engine keeps only its last N graphs', async () => {
    const keep = 2;
    const attrs = ['base', 'lib', 'tool', 'app'];
    const roots = attrs.map((a) => nixBuild(flake.installable(a)));
    const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }), memoryEntries: keep });
    const refs: WeakRef<object>[] = [];
    for (const root of roots) {
      const loaded = await engine.load({ kind: 'store-path', path: root });
      // Touch the analyses a view uses, so their arrays exist too.
      loaded.analysis.dominators;
      refs.push(new WeakRef(loaded.analysis.graph));
    }
    const gc = exposeGc();
    for (let round = 0; round < 5 && refs.filter((r) => r.deref()).length > keep; round++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    const liveGraphs = refs.map((r, i) => (r.deref() ? attrs[i] : undefined)).filter((a) => a !== undefined);
    assert.deepEqual(liveGraphs, attrs.slice(-keep), 'only the most recently opened graphs stay in memory');
    // The evicted ones still load (from nix again, without the disk cache here).
    assert.equal((await engine.load({ kind: 'store-path', path: roots[0]! })).fromCache, false);
  });

  describe('names with shell and Nix metacharacters reach nix as plain arguments', () => {
    const marker = (): string => path.join(work, 'pwned');
    const nasty = (m: string): string[] => [
      `x;touch ${m}`,
      `$(touch ${m})`,
      `\`touch ${m}\``,
      `' && touch ${m} '`,
      `\${builtins.abort ''spliced''}`,
      `\${(import <nixpkgs> {})}`,
      `a|b&c>d<e*f?g[h]`,
    ];

    it('an attribute name: nix reports the attribute literally, nothing runs, nothing is evaluated', async () => {
      const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }) });
      for (const name of nasty(marker())) {
        const installable = `${flake.installable('packages.x86_64-linux')}."${name}"`;
        const e = await rejects(engine.load({ kind: 'installable', installable }));
        assert.doesNotMatch(
          `${e.message}\n${e.detail ?? ''}`,
          /evaluation aborted|file 'nixpkgs' was not found/,
          `${name} was evaluated`,
        );
        assert.ok(
          `${e.message}\n${e.detail ?? ''}`.includes(name),
          `the error does not name ${name} literally: ${e.message}\n${e.detail}`,
        );
        assert.equal(fs.existsSync(marker()), false, `${name} ran a command`);
      }
    });

    it('a flake directory whose path holds them: a ClosureLensError, and nothing runs', async () => {
      const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }) });
      for (const name of nasty(marker())) {
        const dir = path.join(work, name.replace(/\//g, '_'));
        fs.mkdirSync(dir, { recursive: true });
        fs.copyFileSync(path.join(flake.dir, 'flake.nix'), path.join(dir, 'flake.nix'));
        const r = await engine.load({ kind: 'installable', installable: 'path:.#base', cwd: dir }).then(
          (loaded) => loaded.rootPath,
          (e: unknown) => {
            assert.ok(e instanceof ClosureLensError, String(e));
            return e.code;
          },
        );
        // Either nix reads the flake (the name is just a directory) or it rejects the path; never a shell or a splice.
        assert.ok(r.startsWith('/nix/store/') || r === 'not-built', `${name}: ${r}`);
        assert.equal(fs.existsSync(marker()), false, `${name} ran a command`);
      }
    });
  });
});

/** The V8 collector as a function (node runs tests without --expose-gc). */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
