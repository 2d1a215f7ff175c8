/**
 * What option attribution reads from nixpkgs' lib.evalModules, pinned: the attributes and shapes of options
 * (definitionsWithLocations after mkIf/mkMerge/overrides/ordering, files, declarations,
 * declarationPositions, highestPrio, isDefined, valueMeta of submodules) and the definition order. The
 * fixtures evaluate on the vendored real lib (test/fixtures/nixpkgs-lib, linked as test/fixtures/modules/lib);
 * semantics.expected.json was recorded from that lib, so a lib update that changes any of it fails here.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, runNix } from '../support/fixtures';

describe('the vendored nixpkgs lib gives attribution what it reads', function () {
  this.timeout(120_000);
  const dir = path.join(repoRoot(), 'test', 'fixtures', 'modules', 'tests');

  it('gives the same options, definitions, order, priorities and submodule values as nixpkgs lib', async () => {
    const actual = JSON.parse((await runNix(['eval', '--json', '-f', path.join(dir, 'default.nix')])).stdout) as Record<
      string,
      unknown
    >;
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'semantics.expected.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
    for (const key of Object.keys(expected)) assert.deepEqual(actual[key], expected[key], key);
    // Spot checks of what attribution reads, so that a re-recording cannot silently drop them.
    const list = expected['list'] as { files: string[]; definitions: { value: string[] }[] };
    assert.deepEqual(
      list.definitions.map((d) => d.value),
      [['b'], ['a1'], ['a2-flag']],
      'mkIf false and the overridden default are not definitions',
    );
    const alice = expected['alicePackages'] as { loc: string[] };
    assert.deepEqual(alice.loc, ['users', 'alice', 'packages'], 'submodule options carry their full location');
  });
});
