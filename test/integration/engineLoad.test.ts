/**
 * ClosureEngine against the real nix on a tiny flake built in a temp dir: the graph equals what
 * `nix path-info` says, the cache answers a second load without any nix call (counted on a real runner),
 * concurrent loads share one nix run, and realise reports real build progress.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GraphCache } from '../../src/core/load';
import { ClosureEngine, type LoadProgress } from '../../src/core/load';
import type { RealiseProgress } from '../../src/core/nix';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner, type RunOptions, type RunResult } from '../../src/core/nix';
import { NIX_CONFIG, writeEngineFlake, type EngineFlake } from './engineFlake';

/** The real runner, counting the nix calls that go through it. */
class CountingRunner extends NixRunner {
  readonly calls: string[][] = [];
  override run(args: string[], opts?: RunOptions): Promise<RunResult> {
    this.calls.push([...args]);
    return super.run(args, opts);
  }
}

function nixJson(args: string[]): unknown {
  return JSON.parse(execFileSync('nix', args, { encoding: 'utf8', env: { ...process.env, NIX_CONFIG } }));
}

/** `nix path-info -rsS --json` as path → {narSize, closureSize, references}, whatever the JSON shape (2.8 here). */
function oracle(root: string): Map<string, { narSize: number; closureSize: number; references: string[] }> {
  const doc = nixJson(['path-info', '-rsS', '--json', root]);
  const entries = Array.isArray(doc)
    ? (doc as { path: string }[]).map((e) => [e.path, e] as const)
    : Object.entries(doc as Record<string, unknown>);
  return new Map(entries.map(([p, e]) => [p, e as { narSize: number; closureSize: number; references: string[] }]));
}

async function rejects(p: Promise<unknown>, code: string): Promise<ClosureLensError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClosureLensError, String(e));
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('ClosureEngine with the real nix', function () {
  this.timeout(180_000);
  let flake: EngineFlake;
  let cacheDir: string;
  let root: string;

  before(async () => {
    flake = writeEngineFlake();
    cacheDir = mkdtempSync(path.join(tmpdir(), 'engine-cache-'));
  });
  after(() => {
    rmSync(flake.dir, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('an installable that is not built yet is a not-built error, without building it', async () => {
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    const e = await rejects(
      new ClosureEngine({ nix }).load({ kind: 'installable', installable: flake.installable('never-built') }),
      'not-built',
    );
    assert.match(e.message, /never-built-1\.0/);
    assert.match(e.fix, /nix build/);
    assert.ok(nix.calls.every((a) => a[0] !== 'build'));
  });

  it('realise builds with progress (builds done/expected, the derivation building) and returns the output', async () => {
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    const events: RealiseProgress[] = [];
    const outputs = await new ClosureEngine({ nix }).realise(flake.installable('default'), {
      onProgress: (p) => events.push(p),
    });
    assert.equal(outputs.length, 1);
    root = outputs[0]!;
    assert.match(root, /^\/nix\/store\/[a-z0-9]{32}-app-4\.0$/);
    assert.ok(existsSync(root));
    assert.ok(events.length > 0);
    const last = events[events.length - 1]!;
    assert.equal(last.buildsExpected, 4, 'base, lib, tool, app are new in this run');
    assert.equal(last.buildsDone, 4);
    assert.ok(
      events.some((e) => e.current === 'app-4.0'),
      'names the derivation being built',
    );
    assert.ok(
      events.some((e) => e.logLine === 'app-4.0> building app'),
      'passes build log lines on',
    );
    assert.ok(events.every((e) => e.message.length > 0));
    assert.deepEqual(
      nix.calls.filter((a) => a[0] === 'build').map((a) => a.slice(0, 5)),
      [['build', '--no-link', '--json', '--log-format', 'internal-json']],
    );
  });

  it('loads the store path with Nix’s paths, NAR sizes and references; never asks for -S', async () => {
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    const engine = new ClosureEngine({ nix, cache: new GraphCache(cacheDir) });
    const progress: LoadProgress[] = [];
    const loaded = await engine.load({ kind: 'store-path', path: root }, { onProgress: (p) => progress.push(p) });
    assert.equal(loaded.rootPath, root);
    assert.equal(loaded.fromCache, false);
    assert.match(loaded.source, /^nix path-info --recursive --size --json /);
    const want = oracle(root);
    const g = loaded.analysis.graph;
    assert.equal(g.pathCount, want.size);
    assert.equal(g.paths[g.root], root);
    for (const [p, e] of want) {
      const i = g.indexOf(p)!;
      assert.ok(i !== undefined, p);
      assert.equal(g.narSize[i], e.narSize);
      const refs = [...g.references(i)].map((j) => g.paths[j]!);
      if (g.selfReference[i]) refs.push(p);
      assert.deepEqual(refs.sort(), [...e.references].sort());
    }
    assert.equal(loaded.analysis.totalSize, want.get(root)!.closureSize);
    const base = g.indexOf([...want.keys()].find((p) => p.endsWith('-base-1.0'))!)!;
    assert.equal(g.selfReference[base], 1, 'the self-reference survives');
    assert.ok(
      nix.calls.every(
        (a) => !a.includes('-S') && !a.includes('--closure-size') && !a.some((x) => /^-[a-zA-Z]*S/.test(x)),
      ),
    );
    assert.deepEqual(
      progress.map((p) => p.stage),
      ['querying', 'parsing', 'analysing'],
    );
    // The load's timeline (issue 17): each step once, in the order it happens, on one clock.
    assert.deepEqual(
      loaded.timeline.map((m) => m.name),
      ['nix started', 'first byte', 'nix done', 'parsed', 'analysed', 'cached'],
    );
    for (let k = 1; k < loaded.timeline.length; k++)
      assert.ok(loaded.timeline[k]!.ms >= loaded.timeline[k - 1]!.ms, JSON.stringify(loaded.timeline));
  });

  it('a second load of the same store path makes no nix call (memory, then disk with a new engine)', async () => {
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    const engine = new ClosureEngine({ nix, cache: new GraphCache(cacheDir) });
    const fromDisk = await engine.load({ kind: 'store-path', path: root });
    assert.equal(fromDisk.fromCache, true);
    assert.deepEqual(
      fromDisk.timeline.map((m) => m.name),
      ['read from the cache'],
    );
    assert.deepEqual(nix.calls, [], 'the disk cache answered');
    const fromMemory = await engine.load({ kind: 'store-path', path: root });
    assert.equal(fromMemory.analysis, fromDisk.analysis, 'the same analysis object (its computed sizes are kept)');
    assert.deepEqual(nix.calls, []);
    // refresh asks nix again for the closure; the Nix version is remembered from the first load
    const fresh = await engine.load({ kind: 'store-path', path: root }, { refresh: true });
    assert.equal(fresh.fromCache, false);
    assert.deepEqual(
      nix.calls.map((a) => a[0]),
      ['path-info'],
    );
  });

  it('an installable resolves without -r, then reads the cached closure', async () => {
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    const engine = new ClosureEngine({ nix, cache: new GraphCache(cacheDir) });
    const loaded = await engine.load({ kind: 'installable', installable: flake.installable('default') });
    assert.equal(loaded.rootPath, root);
    assert.equal(loaded.fromCache, true);
    assert.deepEqual(
      nix.calls.filter((a) => a[0] === 'path-info'),
      [['path-info', '--json', '--', flake.installable('default')]],
    );
  });

  it('a `result` symlink and a path below a store path load the root store path', async () => {
    const link = path.join(cacheDir, 'result');
    symlinkSync(root, link);
    const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }), cache: new GraphCache(cacheDir) });
    assert.equal((await engine.load({ kind: 'store-path', path: link })).rootPath, root);
    assert.equal((await engine.load({ kind: 'store-path', path: `${root}/some/file` })).rootPath, root);
  });

  it('two loads at once share one nix run; one caller cancelling does not cancel the other', async () => {
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    await nix.version();
    const engine = new ClosureEngine({
      nix,
      cache: new GraphCache(mkdtempSync(path.join(tmpdir(), 'engine-cache-2-'))),
    });
    const ac = new AbortController();
    const a = engine.load({ kind: 'store-path', path: root }, { signal: ac.signal });
    const b = engine.load({ kind: 'store-path', path: root });
    ac.abort();
    await rejects(a, 'cancelled');
    const loaded = await b;
    assert.equal(loaded.fromCache, false);
    assert.equal(nix.calls.filter((c) => c[0] === 'path-info').length, 1, 'one nix path-info for both');
    const [c, d] = await Promise.all([
      engine.load({ kind: 'store-path', path: root }, { refresh: true }),
      engine.load({ kind: 'store-path', path: root }, { refresh: true }),
    ]);
    assert.equal(c.analysis, d.analysis);
    assert.equal(nix.calls.filter((x) => x[0] === 'path-info').length, 2);
  });

  it('a store path that is not valid, and a corrupt cache file that is rebuilt', async () => {
    const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }), cache: new GraphCache(cacheDir) });
    const e = await rejects(
      engine.load({ kind: 'store-path', path: '/nix/store/00000000000000000000000000000000-missing' }),
      'invalid-path',
    );
    assert.match(e.message, /00000000000000000000000000000000-missing is not a valid path/);
    await rejects(engine.load({ kind: 'store-path', path: '/tmp/not-a-store-path' }), 'invalid-path');

    const cache = new GraphCache(cacheDir);
    writeFileSync(cache.fileFor(root), 'garbage');
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    const rebuilt = await new ClosureEngine({ nix, cache }).load({ kind: 'store-path', path: root });
    assert.equal(rebuilt.fromCache, false);
    assert.ok(nix.calls.some((a) => a[0] === 'path-info'));
    const again = await new ClosureEngine({ nix: new CountingRunner({ env: { NIX_CONFIG } }), cache }).load({
      kind: 'store-path',
      path: root,
    });
    assert.equal(again.fromCache, true);
  });

  it('realise of a failing build or a throwing attribute: build-failed / eval-error from internal-json stderr', async () => {
    const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }) });
    const failed = await rejects(engine.realise(flake.installable('fails')), 'build-failed');
    assert.match(failed.message, /fails-1\.0\.drv failed \(exit code 3\)/);
    assert.ok(!/@nix|\u001b/.test(failed.message + failed.fix));
    const threw = await rejects(engine.realise(flake.installable('errors.throws')), 'eval-error');
    assert.match(threw.message, /engine-flake: this always throws/);
  });

  it('a Nix that claims 2.33 but lacks --json-format: the engine retries without the flag (real nix behind a wrapper)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'engine-wrapper-'));
    const real = execFileSync('sh', ['-c', 'command -v nix'], { encoding: 'utf8' }).trim();
    const wrapper = path.join(dir, 'nix');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nif [ "$1" = --version ]; then echo 'nix (Nix) 2.33.0'; exit 0; fi\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
    try {
      const nix = new CountingRunner({ nixPath: wrapper, env: { NIX_CONFIG } });
      const engine = new ClosureEngine({ nix });
      // The first load does not know the version yet: plain --json, with `nix --version` alongside.
      const first = await engine.load({ kind: 'store-path', path: root });
      assert.equal(first.analysis.graph.paths[0], root);
      assert.deepEqual(
        nix.calls.map((a) => a[0]),
        ['path-info', '--version'],
        'path-info first: it is the long one',
      );
      assert.ok(!nix.calls[0]!.includes('--json-format'));
      nix.calls.length = 0;
      const loaded = await engine.load({ kind: 'store-path', path: root }, { refresh: true });
      assert.equal(loaded.analysis.graph.paths[0], root);
      const pathInfo = nix.calls.filter((a) => a[0] === 'path-info');
      assert.equal(pathInfo.length, 2);
      assert.ok(pathInfo[0]!.includes('--json-format'), 'now it asks for the 2.33 format');
      assert.ok(!pathInfo[1]!.includes('--json-format'), 'then falls back after the real "unrecognised flag"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('learnNixVersion (run while the user types a path): one `nix --version` however often asked, then one nix per load', async () => {
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    const engine = new ClosureEngine({ nix });
    await Promise.all([engine.learnNixVersion(), engine.learnNixVersion()]);
    await engine.learnNixVersion();
    assert.deepEqual(
      nix.calls.map((a) => a[0]),
      ['--version'],
      'asked once, and not again once known',
    );
    nix.calls.length = 0;
    const loaded = await engine.load({ kind: 'store-path', path: root });
    assert.equal(loaded.analysis.graph.paths[0], root);
    assert.deepEqual(
      nix.calls.map((a) => a[0]),
      ['path-info'],
      'the load runs nix once',
    );
  });

  it('a JSON file written by `nix path-info -rs --json` loads the same graph as the store path', async () => {
    const file = path.join(cacheDir, 'closure.json');
    writeFileSync(
      file,
      execFileSync('nix', ['path-info', '-rs', '--json', root], { env: { ...process.env, NIX_CONFIG } }),
    );
    const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }) });
    const fromFile = await engine.load({ kind: 'json-file', file });
    const fromStore = await engine.load({ kind: 'store-path', path: root });
    assert.equal(fromFile.rootPath, root);
    assert.equal(fromFile.format, 'path-info-array');
    assert.deepEqual([...fromFile.analysis.graph.paths], [...fromStore.analysis.graph.paths]);
    assert.deepEqual([...fromFile.analysis.graph.narSize], [...fromStore.analysis.graph.narSize]);
  });
});
