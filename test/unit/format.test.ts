// Sizes and trees exactly as Nix prints them, checked against recorded Nix 2.8 and 2.26 output.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ClosureGraph } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { parseClosureJson } from '../../src/core/parse';
import { drawChains, formatBytes, renderTable, stripAnsi } from '../../src/shared';
import { realDataDir } from '../support/realData';

const REAL = realDataDir('nix-2.26-outputs');
const read = (f: string) => readFileSync(path.join(REAL, f), 'utf8');
const ROOT = '/nix/store/svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system';

function fixtureAnalysis(): ClosureAnalysis {
  const parsed = parseClosureJson(read('path-info-rs.json'), 'path-info-rs.json');
  return new ClosureAnalysis(ClosureGraph.build(parsed.records, [ROOT]));
}

describe('format: sizes like nix path-info -h', () => {
  // Nix prints `<path padded>\t<nar>\t<closure>` with the sizes aligned by its own printf format.
  const rendered = (style: 'nix' | 'iec') => {
    const a = fixtureAnalysis();
    const g = a.graph;
    const width = Math.max(...g.paths.map((p) => p.length));
    const lines = g.paths.map(
      (p, i) =>
        `${p.padEnd(width)}\t${formatBytes(g.narSize[i]!, style, { align: true })}\t${formatBytes(a.closureSize(i), style, { align: true })}`,
    );
    return lines.sort();
  };
  const recorded = (file: string) => read(file).split('\n').filter(Boolean).sort();

  it('reproduces Nix 2.26 `path-info -rsSh` byte for byte (KiB style)', () => {
    assert.deepEqual(rendered('iec'), recorded('path-info-rsSh.txt'));
  });

  it('reproduces Nix 2.8 `path-info -rsSh` byte for byte (K style)', () => {
    assert.deepEqual(rendered('nix'), recorded('nix-2.8/path-info-rsSh.txt'));
  });

  it('rounds exact ties to even like C printf, and switches units above (not at) 1024', () => {
    assert.equal(formatBytes(256), '0.2 KiB'); // 0.25 KiB
    assert.equal(formatBytes(1280, 'nix'), '1.2K'); // 1.25 K
    assert.equal(formatBytes(1792, 'nix'), '1.8K'); // 1.75 K
    assert.equal(formatBytes(1024, 'nix'), '1024.0');
    assert.equal(formatBytes(1025, 'nix'), '1.0K');
    assert.equal(formatBytes(1024), '1.0 KiB');
    assert.equal(formatBytes(0), '0.0 KiB');
    assert.equal(formatBytes(0, 'nix'), '0.0');
    assert.equal(formatBytes(409_763_840), '390.8 MiB');
    assert.equal(formatBytes(409_763_840, 'nix'), '390.8M');
    assert.equal(formatBytes(3 * 1024 ** 3 + 1), '3.0 GiB');
    assert.equal(formatBytes(1536, 'iec', { align: true }), '   1.5 KiB');
    assert.equal(formatBytes(224, 'nix', { align: true }), ' 224.0 ');
  });
});

describe('format: chains like nix why-depends', () => {
  const strip = (file: string) => stripAnsi(read(file)).split('\n').filter(Boolean);

  it('draws the shortest chain exactly as Nix does', () => {
    const a = fixtureAnalysis();
    const perl = a.find('perl');
    assert.equal(perl.length, 1);
    const set = a.why(perl[0]!);
    const lines = drawChains(set.chains.map((c) => c.map((i) => a.graph.paths[i]!)));
    assert.deepEqual(lines, strip('why-depends.txt'));
    assert.deepEqual(lines, strip('nix-2.8/why-depends.txt'));
  });

  it('draws all chains as the tree of `why-depends --all`', () => {
    const a = fixtureAnalysis();
    const set = a.why(a.find('perl')[0]!, { all: true });
    assert.deepEqual(
      drawChains(set.chains.map((c) => c.map((i) => a.graph.paths[i]!))),
      strip('nix-2.8/why-depends-all.txt'),
    );
  });

  it('draws the single chains pasted in real issues', () => {
    // Real `nix why-depends` trees (plain, complete, single chain) quoted in GitHub issues.
    const md = readFileSync(path.resolve(REAL, '../why-depends-issues/why-depends-trees.md'), 'utf8');
    const blocks = [...md.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!.split('\n').filter(Boolean));
    let checked = 0;
    for (const block of blocks) {
      // The tree starts at the line above the first `└───` (earlier lines are prompts and other output).
      const start = block.findIndex((l) => l.startsWith('└───')) - 1;
      if (start < 0) continue;
      const tree = block.slice(start);
      if (tree.length < 2 || !tree.slice(1).every((l) => /^( {4})*└───\/nix\/store\/\S+$/.test(l))) continue;
      if (!tree.slice(1).every((l, k) => l.indexOf('└') === 4 * k)) continue;
      const chain = tree.map((l) => l.replace(/^[\s└─]*/, ''));
      assert.deepEqual(drawChains([chain]), tree);
      checked++;
    }
    assert.equal(checked, 3, 'the three plain single-chain trees of the collection');
  });

  it('merges shared prefixes and keeps first-listed order', () => {
    assert.deepEqual(
      drawChains([
        ['a', 'b', 'd'],
        ['a', 'c', 'd'],
        ['a', 'b', 'e', 'd'],
      ]),
      ['a', '├───b', '│   ├───d', '│   └───e', '│       └───d', '└───c', '    └───d'],
    );
    assert.deepEqual(drawChains([]), []);
    assert.deepEqual(drawChains([['x']]), ['x']);
  });
});

describe('format: tables', () => {
  it('aligns columns, right-aligned where asked, without trailing spaces', () => {
    assert.deepEqual(
      renderTable(
        [
          ['PATH', 'NAR', 'CLOSURE'],
          ['/nix/store/a-long-name', '1.5 KiB', '3.4 KiB'],
          ['/nix/store/b', '224.0 KiB', '1.0 MiB'],
        ],
        ['left', 'right', 'right'],
      ),
      [
        'PATH                          NAR  CLOSURE',
        '/nix/store/a-long-name    1.5 KiB  3.4 KiB',
        '/nix/store/b            224.0 KiB  1.0 MiB',
      ],
    );
  });
});
