import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { outputPaths, parseBuildJson } from '../../src/core/parse';
import { InternalJsonProgress, type BuildEvent } from '../../src/core/parse';
import { realDataDir } from '../support/realData';

const REAL = realDataDir('nix-2.26-outputs');

function run(file: string): { events: BuildEvent[]; tracker: InternalJsonProgress } {
  const tracker = new InternalJsonProgress();
  const events = readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => tracker.feed(l));
  return { events, tracker };
}

describe('internal-json build progress (recorded stderr of 2.8.0 and 2.26.3)', () => {
  for (const dir of [REAL, path.join(REAL, 'nix-2.8')]) {
    const v = dir === REAL ? '2.26.3' : '2.8.0';

    it(`${v}: log-demo build: progress 0/1 → 1/1, the current derivation, phases and log lines`, () => {
      const { events, tracker } = run(path.join(dir, 'build-internal-json-log-demo.stderr'));
      const builds = events.filter((e) => e.kind === 'builds');
      assert.deepEqual(builds[0], { kind: 'builds', done: 0, expected: 1, running: 0, failed: 0, current: [] });
      assert.ok(builds.some((b) => b.current.includes('log-demo-1.0') && b.running === 1));
      const last = builds[builds.length - 1]!;
      assert.equal(last.done, 1);
      assert.equal(last.expected, 1);
      assert.deepEqual(last.current, [], 'the build activity stopped');
      assert.deepEqual(
        events.filter((e) => e.kind === 'phase').map((e) => e.kind === 'phase' && e.phase),
        ['configurePhase', 'buildPhase', 'installPhase'],
      );
      const logs = events.flatMap((e) => (e.kind === 'log' ? [e.line] : []));
      assert.equal(logs.length, 8);
      assert.equal(logs[0], 'configuring log-demo');
      assert.ok(events.every((e) => e.kind !== 'log' || e.derivation === 'log-demo-1.0'));
      assert.deepEqual(tracker.errors, []);
    });

    it(`${v}: failed build: failed count and the error message, without ANSI`, () => {
      const { events, tracker } = run(path.join(dir, 'build-internal-json-failure.stderr'));
      const builds = events.filter((e) => e.kind === 'builds');
      assert.ok(builds.some((b) => b.failed === 1));
      assert.equal(tracker.errors.length, 1);
      assert.match(
        tracker.errors[0]!,
        /^error: builder for '\/nix\/store\/3kzag0zxf4gl8dsigs4gjsv5iby3d9wa-fails-to-build-1\.0\.drv' failed with exit code 3$/,
      );
    });
  }

  it('ignores garbage and non-JSON lines without throwing', () => {
    const t = new InternalJsonProgress();
    assert.deepEqual(t.feed('@nix {not json'), []);
    assert.deepEqual(t.feed('plain text'), []);
    assert.deepEqual(t.feed('@nix 42'), []);
    assert.deepEqual(t.otherLines, ['@nix {not json', 'plain text']);
  });
});

describe('parseBuildJson (recorded `nix build --json`)', () => {
  it('2.8.0 and 2.26.3 give the same output path', () => {
    for (const dir of [REAL, path.join(REAL, 'nix-2.8')]) {
      for (const f of ['build-json.json', 'build-json-cached.json']) {
        const built = parseBuildJson(readFileSync(path.join(dir, f), 'utf8'));
        assert.deepEqual(outputPaths(built), ['/nix/store/svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system']);
        assert.match(built[0]!.drvPath, /-demo-system\.drv$/);
      }
    }
  });
});
