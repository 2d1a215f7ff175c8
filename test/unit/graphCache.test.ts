import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { ClosureAnalysis } from '../../src/core/analysis';
import { dominatorTree } from '../../src/shared';
import { CACHE_FORMAT_VERSION, GraphCache, LruMap, defaultCacheDir, type CacheIo } from '../../src/core/load';
import { ClosureEngine } from '../../src/core/load';
import { NixRunner } from '../../src/core/nix';
import { ClosureLensError } from '../../src/core/errors';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { parseClosureJson } from '../../src/core/parse';
import { realDataDir } from '../support/realData';

const REAL = realDataDir();
const ROOT = '/nix/store/svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system';

function recordedGraph(): ClosureGraph {
  const p = parseClosureJson(readFileSync(path.join(REAL, 'nix-2.26-outputs/path-info-rs.json'), 'utf8'));
  return ClosureGraph.build(p.records, p.roots);
}

function assertSameGraph(a: ClosureGraph, b: ClosureGraph): void {
  assert.deepEqual([...b.paths], [...a.paths]);
  assert.deepEqual([...b.narSize], [...a.narSize]);
  assert.deepEqual([...b.refOffsets], [...a.refOffsets]);
  assert.deepEqual([...b.refTargets], [...a.refTargets]);
  assert.deepEqual([...b.revOffsets], [...a.revOffsets]);
  assert.deepEqual([...b.revTargets], [...a.revTargets]);
  assert.deepEqual([...b.selfReference], [...a.selfReference]);
  assert.deepEqual([...b.roots], [...a.roots]);
  assert.equal(b.hasVirtualRoot, a.hasVirtualRoot);
  assert.equal(b.sizesKnown, a.sizesKnown);
  assert.equal(b.totalNarSize(), a.totalNarSize());
}

describe('GraphCache', () => {
  let dir: string;
  let cache: GraphCache;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'graph-cache-'));
    cache = new GraphCache(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips the recorded closure, with self-reference, sizes and metadata', async () => {
    const g = recordedGraph();
    assert.equal(await cache.get(ROOT), undefined, 'a miss before anything is stored');
    await cache.put(ROOT, g, { source: 'nix path-info -rs --json', format: 'path-info-object', notes: ['n1'] });
    const hit = await cache.get(ROOT);
    assert.ok(hit);
    assertSameGraph(g, hit.graph);
    assert.equal(hit.source, 'nix path-info -rs --json');
    assert.equal(hit.format, 'path-info-object');
    assert.deepEqual(hit.notes, ['n1']);
    assert.ok(hit.graph.selfReference[hit.graph.indexOf('/nix/store/6y9dvx5dcmb4ljb4hy6w9aqsrskma8l0-glibc-2.39-52')!]);
    assert.equal(hit.graph.indexOf(ROOT), 0);
  });

  it('round-trips a virtual root over several roots and a graph without sizes (CycloneDX)', async () => {
    const sbom = parseClosureJson(readFileSync(path.join(REAL, 'nix-security-tracker-sbom/sbom.cdx.json'), 'utf8'));
    const g = ClosureGraph.build(sbom.records, sbom.roots);
    await cache.put('/nix/store/39j31iqf9qw9b77hn3vyc1r9rdqdmd8y-nixos-system-nixos-23.11.20231119.e4ad989', g, {
      source: 'sbom',
    });
    const hit = await cache.get(
      '/nix/store/39j31iqf9qw9b77hn3vyc1r9rdqdmd8y-nixos-system-nixos-23.11.20231119.e4ad989',
    );
    assertSameGraph(g, hit!.graph);
    assert.equal(hit!.graph.sizesKnown, false);

    const ci = parseClosureJson(
      readFileSync(path.join(REAL, 'nix2container-closure-graph/closure-graph.json'), 'utf8'),
    );
    const multi = ClosureGraph.build(ci.records, ci.roots);
    assert.equal(multi.hasVirtualRoot, true);
    await cache.put('virtual:key', multi, { source: 'closure-graph.json' });
    assertSameGraph(multi, (await cache.get('virtual:key'))!.graph);
  });

  it('is compact: one string table and typed arrays (a 20,000-path closure in under 60 bytes per path)', async () => {
    const records: PathRecord[] = [];
    const n = 20_000;
    const name = (i: number): string =>
      `/nix/store/${String(i)
        .padStart(32, 'a')
        .replace(/[^a-z0-9]/g, 'a')
        .replace(/[eotu]/g, 'a')}-pkg-${i}`;
    for (let i = 0; i < n; i++) {
      const refs = [2 * i + 1, 2 * i + 2].filter((j) => j < n).map(name);
      records.push({ path: name(i), narSize: 1000 + i, references: refs });
    }
    const g = ClosureGraph.build(records, [name(0)]);
    await cache.put(name(0), g, { source: 'synthetic' });
    const size = readFileSync(cache.fileFor(name(0))).length;
    assert.ok(size < n * 60, `${size} bytes`);
    assertSameGraph(g, (await cache.get(name(0)))!.graph);
  });

  it('ignores a corrupt, truncated, foreign or old-version file, and rebuilding replaces it', async () => {
    const g = recordedGraph();
    await cache.put(ROOT, g, { source: 's' });
    const file = cache.fileFor(ROOT);
    const good = readFileSync(file);

    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    writeFileSync(file, flipped);
    assert.equal(await cache.get(ROOT), undefined, 'a flipped byte');

    writeFileSync(file, good.subarray(0, good.length - 10));
    assert.equal(await cache.get(ROOT), undefined, 'truncated');

    writeFileSync(file, good.subarray(0, 10));
    assert.equal(await cache.get(ROOT), undefined, 'truncated inside the prefix');

    const old = Buffer.from(good);
    old.writeUInt32LE(CACHE_FORMAT_VERSION + 1, 4);
    writeFileSync(file, old);
    assert.equal(await cache.get(ROOT), undefined, 'another format version');

    writeFileSync(file, '{"not": "a graph"}');
    assert.equal(await cache.get(ROOT), undefined, 'garbage');

    // The file of another root copied over this one (its header names the other root).
    const other = '/nix/store/w3xj4mhvmw7axlpsb21imfk9rllx62d0-hello-2.12.1';
    await cache.put(other, g, { source: 's' });
    writeFileSync(file, readFileSync(cache.fileFor(other)));
    assert.equal(await cache.get(ROOT), undefined, 'another root');

    await cache.put(ROOT, g, { source: 'rebuilt' });
    assert.equal((await cache.get(ROOT))!.source, 'rebuilt');
  });

  it('a write that fails with ENOSPC (/dev/full) leaves the cached graph as it was and no temporary file', async () => {
    const g = recordedGraph();
    await cache.put(ROOT, g, { source: 'first' });
    const before = readFileSync(cache.fileFor(ROOT));
    const fullDisk: CacheIo = {
      openForWrite: () => fsp.open('/dev/full', 'w'),
      rename: (a, b) => fsp.rename(a, b),
    };
    const failing = new GraphCache({ dir, io: fullDisk });
    await assert.rejects(failing.put(ROOT, g, { source: 'second' }), (e: unknown) => {
      assert.ok(e instanceof ClosureLensError);
      assert.equal(e.code, 'cache-failed');
      assert.match(e.message, /ENOSPC/);
      assert.match(e.fix, /free disk space/);
      return true;
    });
    assert.deepEqual(readFileSync(cache.fileFor(ROOT)), before);
    assert.equal((await cache.get(ROOT))!.source, 'first');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('a rename that fails removes its temporary file and keeps what was there', async () => {
    const g = recordedGraph();
    // The cache file's name is taken by a non-empty directory: rename(2) fails for real.
    mkdirSync(path.join(cache.fileFor(ROOT), 'x'), { recursive: true });
    await assert.rejects(
      cache.put(ROOT, g, { source: 's' }),
      (e: unknown) => e instanceof ClosureLensError && e.code === 'cache-failed',
    );
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    assert.ok(existsSync(path.join(cache.fileFor(ROOT), 'x')));
    assert.equal(await cache.get(ROOT), undefined);
  });

  it('an unwritable location is a cache-failed error, not a crash', async () => {
    writeFileSync(path.join(dir, 'file'), '');
    const c = new GraphCache(path.join(dir, 'file', 'sub'));
    await assert.rejects(
      c.put(ROOT, recordedGraph(), { source: 's' }),
      (e: unknown) => e instanceof ClosureLensError && e.code === 'cache-failed',
    );
    assert.equal(await c.get(ROOT), undefined);
  });

  it('default directory: $XDG_CACHE_HOME/closure-lens, else ~/.cache/closure-lens', () => {
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/closure-lens');
    assert.match(defaultCacheDir({}), /\/\.cache\/closure-lens$/);
    assert.match(
      defaultCacheDir({ XDG_CACHE_HOME: 'relative' }),
      /\/\.cache\/closure-lens$/,
      'XDG paths must be absolute',
    );
  });
});

describe('LruMap', () => {
  it('keeps the most recently used entries', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    assert.equal(m.get('a'), 1); // a is now the most recent
    m.set('c', 3);
    assert.deepEqual(m.keys(), ['a', 'c']);
    assert.equal(m.get('b'), undefined);
  });
});

describe('GraphCache format 4: the dominator tree is stored with the graph', () => {
  let dir: string;
  let cache: GraphCache;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'graph-cache-4-'));
    cache = new GraphCache(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const noNix = (): NixRunner => new NixRunner({ nixPath: '/nonexistent/nix-must-not-be-called' });

  /** The file of `rootPath` rewritten as format `version`, with a valid checksum (so only the version is wrong). */
  function rewriteAsVersion(file: string, version: number): void {
    const buf = Buffer.from(readFileSync(file));
    buf.writeUInt32LE(version, 4);
    createHash('sha256')
      .update(buf.subarray(0, buf.length - 32))
      .digest()
      .copy(buf, buf.length - 32);
    writeFileSync(file, buf);
  }

  for (const [what, file] of [
    ['the recorded closure', 'nix-2.26-outputs/path-info-rs.json'],
    ['the real SBOM (no sizes)', 'nix-security-tracker-sbom/sbom.cdx.json'],
    ['several roots (a virtual root)', 'nix2container-closure-graph/closure-graph.json'],
  ] as const) {
    it(`round-trips idom, retained sizes and children for ${what}; they are the tree of the decoded graph`, async () => {
      const p = parseClosureJson(readFileSync(path.join(REAL, file), 'utf8'));
      const g = ClosureGraph.build(p.records, p.roots);
      const tree = dominatorTree(g);
      await cache.put(ROOT, g, { source: 's' }, { dominators: tree });
      const hit = await cache.get(ROOT);
      assert.ok(hit?.dominators);
      assertSameGraph(g, hit.graph);
      // Computed afresh on the graph that was read back: the same tree.
      const fresh = dominatorTree(hit.graph);
      for (const k of ['idom', 'retained', 'childOffsets', 'childTargets'] as const) {
        assert.deepEqual([...hit.dominators[k]], [...fresh[k]], k);
        assert.deepEqual([...hit.dominators[k]], [...tree[k]], k);
      }
      for (let i = 0; i < g.nodeCount; i++) assert.deepEqual([...hit.dominators.children(i)], [...fresh.children(i)]);
      const seeded = new ClosureAnalysis(hit.graph, { dominators: hit.dominators });
      assert.equal(seeded.dominators, hit.dominators, 'the analysis uses the stored tree instead of computing one');
      assert.deepEqual(seeded.heaviest(5), new ClosureAnalysis(hit.graph).heaviest(5));
    });
  }

  it('a graph stored without its dominator tree reads back without one', async () => {
    await cache.put(ROOT, recordedGraph(), { source: 's' });
    const hit = await cache.get(ROOT);
    assert.ok(hit);
    assert.equal(hit.dominators, undefined);
  });

  it('a format 3 file (intact, checksum right) is ignored: the engine asks nix again instead of reading it', async () => {
    const g = recordedGraph();
    await cache.put(ROOT, g, { source: 'nix path-info', format: 'path-info-object' }, { dominators: dominatorTree(g) });
    const fromCache = await new ClosureEngine({ nix: noNix(), cache }).load({ kind: 'store-path', path: ROOT });
    assert.equal(fromCache.fromCache, true);
    assert.ok(fromCache.analysis.graph.nodeCount > 0);
    assert.equal(CACHE_FORMAT_VERSION, 4);
    rewriteAsVersion(cache.fileFor(ROOT), 3);
    assert.equal(await cache.get(ROOT), undefined);
    // With the old file ignored the load goes to nix, which this runner does not have.
    await assert.rejects(
      new ClosureEngine({ nix: noNix(), cache }).load({ kind: 'store-path', path: ROOT }),
      (e: unknown) => e instanceof ClosureLensError && e.code === 'nix-not-found',
    );
    // Rebuilding replaces it with a file of this format.
    await cache.put(ROOT, g, { source: 'rebuilt' }, { dominators: dominatorTree(g) });
    assert.equal(readFileSync(cache.fileFor(ROOT)).readUInt32LE(4), 4);
    assert.ok((await cache.get(ROOT))?.dominators);
  });
});
