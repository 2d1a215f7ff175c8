/**
 * The engine as the extension host configures it (a WorkerAnalyser, a graph cache) on real fixture flakes: what a
 * store-path load returns equals real Nix (`nix path-info -rsS`) and the in-process engine, the cache file it
 * leaves holds the dominator tree (format 4) so the next load computes nothing, an old-format file is rebuilt, and
 * a cancelled load leaves neither a worker thread nor a cache file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphCache } from '../../src/core/load';
import { ClosureEngine } from '../../src/core/load';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner, type RunOptions, type RunResult } from '../../src/core/nix';
import { WorkerAnalyser } from '../../src/core/worker';
import { buildPreview, checkPreview, type SunburstPreview } from '../../src/shared';
import { buildFixture, FIXTURE_NAMES, NIX_CONFIG, nixPathInfo, repoRoot } from '../support/fixtures';
import { settles } from '../support/settles';

class CountingRunner extends NixRunner {
  readonly calls: string[][] = [];
  override run(args: string[], opts?: RunOptions): Promise<RunResult> {
    this.calls.push([...args]);
    return super.run(args, opts);
  }
}

describe('ClosureEngine with the worker analyser against real Nix', function () {
  this.timeout(300_000);
  let cacheDir: string;
  let worker: WorkerAnalyser;

  before(() => {
    const script = path.join(repoRoot(), 'dist', 'closureWorker.js');
    assert.ok(fs.existsSync(script), `${script} is built by \`node .esbuild.config.mjs\``);
    worker = new WorkerAnalyser(script);
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-worker-cache-'));
  });
  after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
  afterEach(async () =>
    assert.ok(await settles(() => WorkerAnalyser.running === 0), `${WorkerAnalyser.running} worker(s) left`),
  );

  for (const name of FIXTURE_NAMES) {
    it(`${name}: Nix's sizes, the in-process engine's dominator tree, and a cached load that computes nothing`, async () => {
      const fx = await buildFixture(name);
      const info = await nixPathInfo([fx.root], { closureSize: true });
      const cache = new GraphCache(path.join(cacheDir, name));
      const nix = new CountingRunner({ env: { NIX_CONFIG } });
      const first = await new ClosureEngine({ nix, cache, analyser: worker }).load({
        kind: 'store-path',
        path: fx.root,
      });
      const inProcess = await new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }) }).load({
        kind: 'store-path',
        path: fx.root,
      });
      assert.equal(first.fromCache, false);
      const g = first.analysis.graph;
      assert.equal(g.pathCount, info.size);
      assert.deepEqual([...g.paths], [...inProcess.analysis.graph.paths]);
      for (const [p, e] of info) {
        const i = g.indexOf(p)!;
        assert.equal(g.narSize[i], e.narSize, p);
        assert.equal(first.analysis.closureSize(i), e.closureSize, p);
        assert.equal(first.analysis.retainedSize(i), inProcess.analysis.retainedSize(i), p);
      }
      assert.deepEqual([...first.analysis.dominators.idom], [...inProcess.analysis.dominators.idom]);
      assert.deepEqual([...first.analysis.dominators.childTargets], [...inProcess.analysis.dominators.childTargets]);

      // The file the worker encoded: this format, with the dominator tree.
      const file = fs.readFileSync(cache.fileFor(fx.root));
      assert.equal(file.readUInt32LE(4), 4);
      const stored = await cache.get(fx.root);
      assert.deepEqual([...stored!.dominators!.idom], [...inProcess.analysis.dominators.idom]);

      const exits = { ...WorkerAnalyser.exits };
      nix.calls.length = 0;
      const second = await new ClosureEngine({ nix, cache, analyser: worker }).load({
        kind: 'store-path',
        path: fx.root,
      });
      assert.equal(second.fromCache, true);
      assert.deepEqual(
        nix.calls.filter((a) => a[0] === 'path-info'),
        [],
      );
      assert.deepEqual(WorkerAnalyser.exits, exits, 'no worker for a cached load');
      assert.deepEqual([...second.analysis.dominators.retained], [...inProcess.analysis.dominators.retained]);
    });
  }

  it('the worker sends the sunburst preview before the load ends: the one the loaded closure makes; none from the cache', async () => {
    const fx = await buildFixture('diamonds');
    const cache = new GraphCache(path.join(cacheDir, 'preview'));
    const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }), cache, analyser: worker });
    const previews: SunburstPreview[] = [];
    let loaded = false;
    const first = await engine
      .load(
        { kind: 'store-path', path: fx.root },
        {
          onPreview: (p) => {
            assert.ok(!loaded, 'the preview came after the load ended');
            previews.push(p);
          },
        },
      )
      .finally(() => (loaded = true));
    assert.equal(previews.length, 1);
    assert.equal(checkPreview(previews[0]), undefined);
    assert.deepEqual(previews[0], buildPreview(first.analysis.graph, first.analysis.dominators));
    const names = first.timeline.map((m) => m.name);
    assert.ok(names.indexOf('preview') > names.indexOf('nix done'), names.join(', '));
    assert.ok(names.indexOf('preview') < names.indexOf('analysed'), names.join(', '));
    const again = await new ClosureEngine({
      nix: new NixRunner({ env: { NIX_CONFIG } }),
      cache,
      analyser: worker,
    }).load({ kind: 'store-path', path: fx.root }, { onPreview: (p) => previews.push(p) });
    assert.equal(again.fromCache, true);
    assert.equal(previews.length, 1, 'a cached load has no worker, and so no preview from it');
  });

  it('an old-format cache file (format 3) is rebuilt through nix and replaced by one with the dominator tree', async () => {
    const fx = await buildFixture('diamonds');
    const cache = new GraphCache(path.join(cacheDir, 'old-format'));
    const nix = new CountingRunner({ env: { NIX_CONFIG } });
    await new ClosureEngine({ nix, cache, analyser: worker }).load({ kind: 'store-path', path: fx.root });
    const file = cache.fileFor(fx.root);
    const old = Buffer.from(fs.readFileSync(file));
    old.writeUInt32LE(3, 4);
    createHash('sha256')
      .update(old.subarray(0, old.length - 32))
      .digest()
      .copy(old, old.length - 32);
    fs.writeFileSync(file, old);
    nix.calls.length = 0;
    const rebuilt = await new ClosureEngine({ nix, cache, analyser: worker }).load({
      kind: 'store-path',
      path: fx.root,
    });
    assert.equal(rebuilt.fromCache, false);
    assert.deepEqual(nix.calls.filter((a) => a[0] === 'path-info').length, 1);
    assert.equal(fs.readFileSync(file).readUInt32LE(4), 4);
    assert.ok((await cache.get(fx.root))?.dominators);
  });

  it('a load cancelled while the worker analyses: cancelled, no worker thread left, no cache file', async () => {
    const fx = await buildFixture('mini-nixos');
    const cache = new GraphCache(path.join(cacheDir, 'cancelled'));
    const engine = new ClosureEngine({ nix: new NixRunner({ env: { NIX_CONFIG } }), cache, analyser: worker });
    const ac = new AbortController();
    const stopped = WorkerAnalyser.exits.stopped;
    await assert.rejects(
      engine.load(
        { kind: 'store-path', path: fx.root },
        {
          signal: ac.signal,
          onProgress: (p) => {
            // 'parsing' comes from the worker: the load is in its hands now.
            if (p.stage === 'parsing') ac.abort();
          },
        },
      ),
      (e: unknown) => e instanceof ClosureLensError && e.code === 'cancelled',
    );
    assert.ok(await settles(() => WorkerAnalyser.running === 0));
    assert.equal(WorkerAnalyser.exits.stopped, stopped + 1, 'the worker was terminated');
    assert.equal(fs.existsSync(cache.fileFor(fx.root)), false);
    // The next load is not affected.
    const again = await engine.load({ kind: 'store-path', path: fx.root });
    assert.equal(again.analysis.graph.paths[0], fx.root);
  });
});
