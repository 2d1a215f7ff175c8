/**
 * Compressed sizes against the real tools: the same `nix-store --dump` output through the system zstd and xz,
 * node's gzip, and the narinfo FileSize that `nix copy --to file://` writes.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { CompressionEstimator, narinfoSizes, parseNarinfo } from '../../src/core/compression';
import { buildFixture, nixEnv, nixPathInfo, runNix } from '../support/fixtures';
import { realDataDir } from '../support/realData';

/** The oracle: the real programs on the NAR written to a file (`nix-store --dump`, no shell). */
async function realCompressedSize(storePath: string, tool: string, args: string[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-nar-'));
  try {
    const nar = path.join(dir, 'x.nar');
    await execa('nix-store', ['--dump', storePath], { env: nixEnv(), stdout: { file: nar } });
    const r = await execa(tool, [...args, nar], { encoding: 'buffer', stripFinalNewline: false });
    return (r.stdout as Uint8Array).length;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('compressed closure size (real zstd, xz, gzip)', function () {
  this.timeout(300_000);
  let paths: { path: string; narSize: number }[];
  let tmp: string;

  before(async () => {
    const fx = await buildFixture('mini-nixos');
    const info = await nixPathInfo([fx.root]);
    paths = [...info.values()].map((i) => ({ path: i.path, narSize: i.narSize }));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-compress-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('matches zstd -19 and xz -6 run on the same NARs, path by path', async () => {
    const est = new CompressionEstimator({ codecs: ['zstd', 'xz', 'gzip'], env: nixEnv(), concurrency: 2 });
    const progress: number[] = [];
    const r = await est.estimate(paths, { onProgress: (p) => progress.push(p.pathsDone) });
    assert.equal(r.perPath.size, paths.length);
    assert.equal(progress[progress.length - 1], paths.length);
    let zstdSum = 0;
    let xzSum = 0;
    for (const p of paths) {
      const zstd = await realCompressedSize(p.path, 'zstd', ['-19', '-c']);
      const xz = await realCompressedSize(p.path, 'xz', ['-6', '-c']);
      const nar = (
        await execa('nix-store', ['--dump', p.path], { env: nixEnv(), encoding: 'buffer', stripFinalNewline: false })
      ).stdout as Uint8Array;
      assert.equal(nar.length, p.narSize, 'the dump is the NAR whose size path-info reports');
      const gzip = zlib.gzipSync(nar, { level: 9 }).length;
      assert.deepEqual(r.perPath.get(p.path), { zstd, xz, gzip }, p.path);
      zstdSum += zstd;
      xzSum += xz;
    }
    assert.equal(r.totals.zstd, zstdSum);
    assert.equal(r.totals.xz, xzSum);
    assert.equal(
      r.narSize,
      paths.reduce((s, p) => s + p.narSize, 0),
    );
  });

  it('honours other levels', async () => {
    const p = paths.reduce((a, b) => (a.narSize > b.narSize ? a : b));
    const est = new CompressionEstimator({ codecs: ['zstd'], levels: { zstd: 3 }, env: nixEnv() });
    const r = await est.estimate([p]);
    assert.equal(r.totals.zstd, await realCompressedSize(p.path, 'zstd', ['-3', '-c']));
  });

  it('caches per store path, also across estimators through the cache file', async () => {
    const cacheFile = path.join(tmp, 'sizes.json');
    const first = await new CompressionEstimator({ codecs: ['zstd'], env: nixEnv(), cacheFile }).estimate(paths);
    assert.equal(first.cachedPaths, 0);
    assert.ok(fs.existsSync(cacheFile));
    // No nix-store on PATH: every answer must come from the cache.
    const second = await new CompressionEstimator({
      codecs: ['zstd'],
      env: { ...nixEnv(), PATH: '/nonexistent' },
      cacheFile,
    }).estimate(paths);
    assert.equal(second.cachedPaths, paths.length);
    assert.equal(second.totals.zstd, first.totals.zstd);
  });

  it('is cancellable', async () => {
    const ac = new AbortController();
    const est = new CompressionEstimator({ codecs: ['xz'], env: nixEnv(), concurrency: 1 });
    const run = est.estimate(paths, { signal: ac.signal, onProgress: (p) => p.pathsDone >= 1 && ac.abort() });
    await assert.rejects(run, (e: { code?: string }) => e.code === 'cancelled');
  });

  it('names a missing compressor and how to get it', async () => {
    // A PATH with nix-store and nothing else.
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync((await execa('sh', ['-c', 'command -v nix-store'])).stdout, path.join(bin, 'nix-store'));
    const est = new CompressionEstimator({ codecs: ['zstd'], env: { ...nixEnv(), PATH: bin } });
    await assert.rejects(
      est.compressPath(paths[0]!.path, paths[0]!.narSize),
      (e: { code?: string; message: string; fix: string }) =>
        e.code === 'tool-not-found' && /^zstd is not installed/.test(e.message) && /apt install zstd/.test(e.fix),
    );
  });

  it('a path that is not in the store is reported as such', async () => {
    const est = new CompressionEstimator({ codecs: ['zstd'], env: nixEnv() });
    await assert.rejects(
      est.compressPath('/nix/store/00000000000000000000000000000000-missing'),
      (e: { code?: string }) => e.code === 'invalid-path',
    );
  });

  it('reads FileSize from a binary cache that nix copy wrote', async () => {
    const cache = path.join(tmp, 'cache');
    await runNix(['copy', '--to', `file://${cache}?compression=zstd`, ...paths.map((p) => p.path)]);
    const sizes = await narinfoSizes(`file://${cache}`, [
      ...paths.map((p) => p.path),
      '/nix/store/00000000000000000000000000000000-missing',
    ]);
    assert.deepEqual(sizes.missing, ['/nix/store/00000000000000000000000000000000-missing']);
    assert.deepEqual([...sizes.compressions], [['zstd', paths.length]]);
    let onDisk = 0;
    for (const info of sizes.perPath.values()) onDisk += fs.statSync(path.join(cache, info.url)).size;
    assert.equal(sizes.fileSize, onDisk, 'FileSize is the size of the compressed NAR files');
    assert.equal(
      sizes.narSize,
      paths.reduce((s, p) => s + p.narSize, 0),
    );
  });
});

describe('narinfo parsing (real cache.nixos.org narinfos)', () => {
  it('parses all 978 sample documents', async () => {
    const file = realDataDir('tvix-narinfo-sample', 'narinfo.zst');
    const text = (await execa('zstd', ['-d', '-c', file])).stdout;
    const docs = text.split(/\n\s*\n/).filter((d) => d.trim() !== '');
    assert.equal(docs.length, 978);
    const parsed = docs.map(parseNarinfo);
    const byCompression = new Map<string, number>();
    for (const p of parsed) byCompression.set(p.compression, (byCompression.get(p.compression) ?? 0) + 1);
    assert.equal(byCompression.get('xz'), 977);
    assert.equal(byCompression.get('bzip2'), 1);
    assert.ok(parsed.every((p) => p.fileSize! > 0 && p.narSize > 0 && p.storePath.startsWith('/nix/store/')));
    const max = parsed.reduce((a, b) => (a.narSize > b.narSize ? a : b));
    assert.ok(max.narSize > 2e9, 'the 2.06 GB NAR from SOURCE.txt');
  });
});

describe('nix-store beside the configured nix', () => {
  it('takes the sibling, the sibling of the symlink target, or PATH', async () => {
    const { nixStoreBeside } = await import('../../src/core/compression/compressedSize');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-nixpath-'));
    try {
      assert.equal(nixStoreBeside('nix'), 'nix-store');
      // A wrapper script with no nix-store beside it (as the e2e harness's logging nix).
      fs.mkdirSync(path.join(dir, 'wrap'));
      fs.writeFileSync(path.join(dir, 'wrap', 'nix'), '#!/bin/sh\nexec nix "$@"\n');
      assert.equal(nixStoreBeside(path.join(dir, 'wrap', 'nix')), 'nix-store');
      // A real installation directory.
      fs.mkdirSync(path.join(dir, 'real'));
      fs.writeFileSync(path.join(dir, 'real', 'nix'), '');
      fs.writeFileSync(path.join(dir, 'real', 'nix-store'), '');
      assert.equal(nixStoreBeside(path.join(dir, 'real', 'nix')), path.join(dir, 'real', 'nix-store'));
      // A profile link to it.
      fs.mkdirSync(path.join(dir, 'profile'));
      fs.symlinkSync(path.join(dir, 'real', 'nix'), path.join(dir, 'profile', 'nix'));
      assert.equal(nixStoreBeside(path.join(dir, 'profile', 'nix')), path.join(dir, 'real', 'nix-store'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
