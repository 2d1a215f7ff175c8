/**
 * The engine's paths that need no nix: JSON files of every recorded format, store-path resolution, and the
 * errors a user can cause. Loads through nix are in test/integration/engine-load.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ClosureEngine, resolveStorePath } from '../../src/core/load';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner } from '../../src/core/nix';
import { realDataDir } from '../support/realData';

const REPO = path.resolve(__dirname, '../../..');
const REAL = realDataDir();
const ROOT = '/nix/store/svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system';

/** What `nix path-info -rsS --json` (2.26.3) recorded as the root's closure size. */
function recordedClosureSize(): number {
  const doc = JSON.parse(readFileSync(path.join(REAL, 'nix-2.26-outputs/path-info-rsS.json'), 'utf8')) as Record<
    string,
    { closureSize: number }
  >;
  return doc[ROOT]!.closureSize;
}

// A runner whose binary does not exist: any nix call would fail loudly with nix-not-found.
const noNix = (): NixRunner => new NixRunner({ nixPath: '/nonexistent/nix-must-not-be-called' });

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClosureLensError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return;
  }
  assert.fail(`expected ${code}`);
}

describe('ClosureEngine without nix (JSON files)', () => {
  const files: [string, string, number][] = [
    [path.join(REAL, 'nix-2.26-outputs/path-info-rs.json'), 'path-info-object', 12],
    [path.join(REAL, 'nix-2.26-outputs/nix-2.8/path-info-rsS.json'), 'path-info-array', 12],
    [path.join(REPO, 'test/fixtures/recorded/path-info-nix-2.33-json-format-2.json'), 'path-info-v2', 12],
    [path.join(REPO, 'test/fixtures/recorded/path-info-lix-with-invalid.json'), 'path-info-array', 12],
  ];
  for (const [file, format, count] of files) {
    it(`loads ${path.basename(file)} (${format})`, async () => {
      const loaded = await new ClosureEngine({ nix: noNix() }).load({ kind: 'json-file', file });
      assert.equal(loaded.format, format);
      assert.equal(loaded.rootPath, ROOT);
      assert.equal(loaded.fromCache, false);
      assert.equal(loaded.source, file);
      assert.equal(loaded.analysis.graph.pathCount, count);
      assert.equal(
        loaded.analysis.totalSize,
        recordedClosureSize(),
        'the closure size `nix path-info -S` recorded for the root',
      );
      if (file.includes('lix')) assert.ok(loaded.notes.some((n) => /invalid paths left out/.test(n)));
    });
  }

  it('several top-level paths get a virtual root; the file names the closure', async () => {
    const file = path.join(REAL, 'nix2container-closure-graph/closure-graph.json');
    const loaded = await new ClosureEngine({ nix: noNix() }).load({ kind: 'json-file', file });
    assert.equal(loaded.rootPath, file);
    assert.equal(loaded.analysis.graph.hasVirtualRoot, true);
    assert.equal(loaded.analysis.graph.pathCount, 5);
  });

  it('an SBOM loads with unknown sizes and says so', async () => {
    const loaded = await new ClosureEngine({ nix: noNix() }).load({
      kind: 'json-file',
      file: path.join(REAL, 'nix-security-tracker-sbom/sbom.cdx.json'),
    });
    assert.equal(loaded.analysis.graph.sizesKnown, false);
    assert.ok(loaded.notes.some((n) => /no sizes/.test(n)));
  });

  describe('user errors', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(path.join(tmpdir(), 'engine-unit-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('a missing file, a truncated file, a file of invalid paths only', async () => {
      const engine = new ClosureEngine({ nix: noNix() });
      await rejects(
        engine.load({ kind: 'json-file', file: path.join(dir, 'nope.json') }),
        'file-not-found',
        /nope\.json: no such file/,
      );
      writeFileSync(path.join(dir, 'cut.json'), '[{"path":"/nix/store/');
      await rejects(
        engine.load({ kind: 'json-file', file: path.join(dir, 'cut.json') }),
        'malformed-json',
        /cut\.json.*ends early/,
      );
      await rejects(
        engine.load({ kind: 'json-file', file: path.join(REAL, 'nix-2.26-outputs/path-info-missing.json') }),
        'invalid-path',
        /only invalid paths/,
      );
    });

    it('a store path that is neither in a store nor a link into one', async () => {
      await rejects(
        new ClosureEngine({ nix: noNix() }).load({ kind: 'store-path', path: '/etc/hostname' }),
        'invalid-path',
        /not a store path/,
      );
      await rejects(
        new ClosureEngine({ nix: noNix() }).load({ kind: 'store-path', path: 'relative/x' }),
        'invalid-path',
        /not a store path/,
      );
    });

    it('resolveStorePath cuts paths below the store object and follows links', async () => {
      const store = path.join(dir, 'store');
      const obj = path.join(store, 'svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system');
      mkdirSync(path.join(obj, 'bin'), { recursive: true });
      symlinkSync(obj, path.join(dir, 'result'));
      symlinkSync(path.join(obj, 'bin'), path.join(dir, 'bin-link'));
      assert.equal(await resolveStorePath(`${ROOT}/bin/hello`), ROOT);
      assert.equal(await resolveStorePath(ROOT), ROOT);
      assert.equal(await resolveStorePath(path.join(dir, 'result')), obj);
      assert.equal(await resolveStorePath(path.join(dir, 'bin-link')), obj);
    });

    it('an aborted signal rejects at once, and the nix-less engine never ran nix', async () => {
      const ac = new AbortController();
      ac.abort();
      await rejects(
        new ClosureEngine({ nix: noNix() }).load({ kind: 'store-path', path: ROOT }, { signal: ac.signal }),
        'cancelled',
        /cancelled/,
      );
      // Without the abort, the same load reaches nix, which is missing here.
      await rejects(
        new ClosureEngine({ nix: noNix() }).load({ kind: 'store-path', path: ROOT }),
        'nix-not-found',
        /nix-must-not-be-called/,
      );
    });
  });
});
