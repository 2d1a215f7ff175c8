/**
 * nodesByPath (the order `closure --json` lists references in, as Nix does) against a plain string sort: on real
 * closures, on made-up hashes that share their first characters (the runs the numeric key cannot order), with a
 * virtual root, and on paths of other shapes (which take the string sort).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ClosureGraph, nodesByPath, type PathRecord } from '../../src/shared';
import { parseClosureJson } from '../../src/core/parse';
import { seededRandom } from '../support/prng';
import { realDataDir } from '../support/realData';

const REAL = realDataDir();

function byString(g: ClosureGraph): number[] {
  return [...g.paths.keys()].sort((x, y) => (g.paths[x]! < g.paths[y]! ? -1 : g.paths[x]! > g.paths[y]! ? 1 : 0));
}

function graphOf(paths: string[], roots: string[] = paths): ClosureGraph {
  const records: PathRecord[] = paths.map((p) => ({ path: p, narSize: 1, references: [] }));
  return ClosureGraph.build(records, roots);
}

describe('nodesByPath', () => {
  it('orders a real closure as a string sort does', () => {
    for (const file of [
      'nix-2.26-outputs/path-info-rs.json',
      'nix2container-closure-graph/closure-graph.json',
      'nix-security-tracker-sbom/sbom.cdx.json',
    ]) {
      const parsed = parseClosureJson(readFileSync(path.join(REAL, file), 'utf8'));
      const g = ClosureGraph.build(parsed.records, parsed.roots);
      assert.ok(g.nodeCount > 5, `${file}: ${g.nodeCount} nodes`);
      assert.deepEqual([...nodesByPath(g)], byString(g), file);
    }
  });

  it('orders hashes that share their first six characters, with one root or a virtual root over several', () => {
    const random = seededRandom(7);
    const B32 = '0123456789abcdfghijklmnpqrsvwxyz';
    const pick = (): string => B32[Math.floor(random() * 32)]!;
    const prefixes = ['000000', '00000z', 'zzzzzz', 'abcdfg'];
    const paths = Array.from({ length: 400 }, (_, i) => {
      const head = i % 3 === 0 ? prefixes[i % prefixes.length]! : Array.from({ length: 6 }, pick).join('');
      return `/nix/store/${head}${Array.from({ length: 26 }, pick).join('')}-p${i}`;
    });
    const one = graphOf(paths);
    assert.equal(one.hasVirtualRoot, true);
    const order = [...nodesByPath(one)];
    assert.equal(order[0], 0, 'the virtual root first');
    assert.deepEqual(order, byString(one));
    const single = graphOf(paths.slice(0, 1));
    assert.deepEqual([...nodesByPath(single)], [0]);
  });

  it('paths of other shapes (two store dirs, characters outside nix-base32, short names) are sorted as strings', () => {
    for (const paths of [
      [
        '/nix/store/0000000000000000000000000000000a-x',
        '/gnu/store/0000000000000000000000000000000a-x',
        '/nix/store/zzzzzz-y',
      ],
      [
        '/nix/store/EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE-x',
        '/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x',
        '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x',
      ],
      ['/nix/store/abc', '/nix/store/ab', '/nix/store/abd-é'],
    ]) {
      const g = graphOf(paths);
      assert.deepEqual([...nodesByPath(g)], byString(g), JSON.stringify(paths));
    }
  });
});
