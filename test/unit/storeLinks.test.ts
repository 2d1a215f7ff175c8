/**
 * findStoreLinks: the `result` links that the explorer offers "Show closure" on. Links made by a real
 * `nix build` (of the chain fixture) into the real store, next to links elsewhere, dangling links and directories.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findStoreLinks, storePathOfLink } from '../../src/core/load/storeLinks';
import { buildFixture, type BuiltFixture } from '../support/fixtures';

describe('findStoreLinks: links into the Nix store in a project', function () {
  this.timeout(120_000);
  let dir: string;
  let chain: BuiltFixture;
  /** A second output of the fixture, so that each link maps to its own store path. */
  let other: string;

  before(async () => {
    chain = await buildFixture('chain');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-links-'));
    fs.mkdirSync(path.join(dir, 'sub/deeper/deepest/too-deep'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.mkdirSync(path.join(dir, '.hidden'));
    fs.symlinkSync(chain.root, path.join(dir, 'result'));
    other = Object.values(chain.outputs).find((p) => p !== chain.root)!;
    fs.symlinkSync(other, path.join(dir, 'sub/result-bin'));
    fs.symlinkSync(chain.root, path.join(dir, 'sub/deeper/deepest/result'));
    fs.symlinkSync(chain.root, path.join(dir, 'sub/deeper/deepest/too-deep/result'));
    fs.symlinkSync(chain.root, path.join(dir, 'node_modules/result'));
    fs.symlinkSync(chain.root, path.join(dir, '.hidden/result'));
    fs.symlinkSync(os.tmpdir(), path.join(dir, 'not-the-store'));
    fs.symlinkSync('/nix/store/00000000000000000000000000000000-gone', path.join(dir, 'result-dangling'));
    fs.writeFileSync(path.join(dir, 'result-file'), 'a plain file named like a link');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds the links to store paths up to the depth asked, and maps each to its store path', async () => {
    const links = await findStoreLinks([dir], { maxDepth: 3 });
    assert.deepEqual(
      [...links.entries()].sort(),
      [
        [path.join(dir, 'result'), chain.root],
        [path.join(dir, 'sub/deeper/deepest/result'), chain.root],
        [path.join(dir, 'sub/result-bin'), other],
      ].sort(),
    );
  });

  it('reads no deeper than maxDepth and stops after maxEntries entries', async () => {
    assert.deepEqual([...(await findStoreLinks([dir], { maxDepth: 0 })).keys()], [path.join(dir, 'result')]);
    assert.equal((await findStoreLinks([dir], { maxDepth: 4 })).size, 4);
    // The root alone has more entries than this: nothing below it is read.
    const cut = await findStoreLinks([dir], { maxDepth: 4, maxEntries: 3 });
    assert.ok([...cut.keys()].every((k) => path.dirname(k) === dir));
  });

  it('a missing root is no error', async () => {
    assert.equal((await findStoreLinks([path.join(dir, 'missing')])).size, 0);
  });

  it('storePathOfLink: the store path, or undefined for a link elsewhere, a dangling link, a plain file', async () => {
    assert.equal(await storePathOfLink(path.join(dir, 'result')), chain.root);
    assert.equal(await storePathOfLink(path.join(dir, 'not-the-store')), undefined);
    assert.equal(await storePathOfLink(path.join(dir, 'result-dangling')), undefined);
    assert.equal(await storePathOfLink(path.join(dir, 'result-file')), undefined);
  });
});
