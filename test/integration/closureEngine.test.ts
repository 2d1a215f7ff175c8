/**
 * The engine end to end (nix runner → parser → graph → analyses → cache) on real fixture flakes: what
 * `ClosureEngine.load` returns for a store path and for a `path:` installable equals real Nix, and a second
 * load of the same store path comes from the cache without calling nix.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphCache } from '../../src/core/load';
import { ClosureEngine } from '../../src/core/load';
import { NixRunner } from '../../src/core/nix';
import { buildFixture, FIXTURE_NAMES, NIX_CONFIG, nixPathInfo } from '../support/fixtures';

/** A runner that counts its nix calls, so a cache hit can be told from a fresh query. */
class CountingRunner extends NixRunner {
  calls: string[][] = [];
  override run(...args: Parameters<NixRunner['run']>): ReturnType<NixRunner['run']> {
    this.calls.push(args[0]);
    return super.run(...args);
  }
}

describe('ClosureEngine.load against real Nix (fixture flakes)', function () {
  this.timeout(300_000);
  let cacheDir: string;
  let savedConfig: string | undefined;

  before(() => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-engine-cache-'));
    savedConfig = process.env['NIX_CONFIG'];
    process.env['NIX_CONFIG'] = NIX_CONFIG;
  });
  after(() => {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    if (savedConfig === undefined) delete process.env['NIX_CONFIG'];
    else process.env['NIX_CONFIG'] = savedConfig;
  });

  for (const name of FIXTURE_NAMES) {
    it(`${name}: a store path loads with Nix's paths, sizes and closure sizes; the second load is cached`, async () => {
      const fx = await buildFixture(name);
      const info = await nixPathInfo([fx.root], { closureSize: true });
      const nix = new CountingRunner();
      const engine = new ClosureEngine({ nix, cache: new GraphCache(path.join(cacheDir, name)) });
      const first = await engine.load({ kind: 'store-path', path: fx.root });
      assert.equal(first.rootPath, fx.root);
      assert.equal(first.fromCache, false);
      const g = first.analysis.graph;
      assert.equal(g.pathCount, info.size);
      for (const [p, e] of info) {
        const i = g.indexOf(p);
        assert.ok(i !== undefined, `${p} is in the graph`);
        assert.equal(g.narSize[i], e.narSize, p);
        assert.equal(first.analysis.closureSize(i), e.closureSize, p);
      }
      assert.ok(
        nix.calls.every((args) => !args.includes('-S') && !args.includes('--closure-size')),
        `never asks Nix for closure sizes: ${JSON.stringify(nix.calls)}`,
      );

      const callsBefore = nix.calls.length;
      const second = await new ClosureEngine({ nix, cache: new GraphCache(path.join(cacheDir, name)) }).load({
        kind: 'store-path',
        path: fx.root,
      });
      assert.equal(second.fromCache, true);
      const pathInfoCalls = nix.calls.slice(callsBefore).filter((a) => a.includes('path-info'));
      assert.deepEqual(pathInfoCalls, [], 'no path-info call for a cached store path');
      assert.deepEqual([...second.analysis.graph.paths].sort(), [...g.paths].sort());
      for (const p of info.keys()) {
        assert.equal(
          second.analysis.closureSize(second.analysis.graph.indexOf(p)!),
          first.analysis.closureSize(g.indexOf(p)!),
        );
        assert.equal(
          second.analysis.retainedSize(second.analysis.graph.indexOf(p)!),
          first.analysis.retainedSize(g.indexOf(p)!),
        );
      }
    });
  }

  it('a `path:` flake installable builds and loads the same closure as its store path', async () => {
    const fx = await buildFixture('mini-nixos');
    const engine = new ClosureEngine({
      nix: new NixRunner(),
      cache: new GraphCache(path.join(cacheDir, 'installable')),
    });
    const loaded = await engine.load({ kind: 'installable', installable: fx.installable('initrd') });
    assert.equal(loaded.rootPath, fx.output('initrd'));
    const info = await nixPathInfo([fx.output('initrd')], { closureSize: true });
    assert.equal(loaded.analysis.graph.pathCount, info.size);
    assert.equal(loaded.analysis.totalSize, info.get(fx.output('initrd'))!.closureSize);
  });

  it('cancellation: an aborted load rejects with a cancelled error', async () => {
    const fx = await buildFixture('chain');
    const engine = new ClosureEngine({ nix: new NixRunner(), cache: new GraphCache(path.join(cacheDir, 'cancel')) });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(engine.load({ kind: 'store-path', path: fx.root }, { signal: ac.signal }), (e: unknown) => {
      return e instanceof Error && (e as { code?: string }).code === 'cancelled';
    });
  });
});
