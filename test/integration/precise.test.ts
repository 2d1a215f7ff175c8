/**
 * `--precise` against real `nix why-depends --precise` on the `precise` fixture, whose store paths are directory
 * trees (several files, symlinks with and without a store path, a binary with two embedded paths between
 * non-printable bytes, a hit across a 64 KiB boundary, hits at the start and end of a file) and single files:
 * for every edge of the why-graph, the files and the bytes around each hit equal Nix's, in Nix's order.
 */
import assert from 'node:assert/strict';
import { ClosureGraph } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { findReferences, snippetText } from '../../src/core/precise';
import {
  buildFixture,
  nixPathInfo,
  nixWhyDependsPrecise,
  type BuiltFixture,
  type PreciseEdge,
} from '../support/fixtures';

describe('precise references against real `nix why-depends --precise` (directory-tree fixture)', function () {
  this.timeout(300_000);
  let fx: BuiltFixture;
  let a: ClosureAnalysis;

  before(async () => {
    fx = await buildFixture('precise');
    const info = await nixPathInfo([fx.root]);
    a = new ClosureAnalysis(
      ClosureGraph.build(
        [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
        [fx.root],
      ),
    );
  });

  /** Our hits for every edge of the why-graph from → to, as Nix prints them (first hit per file). */
  async function ourEdges(from: string, to: string): Promise<Map<string, string[]>> {
    const g = a.graph;
    const wg = a.whyGraph(g.indexOf(to)!, { from: g.indexOf(from)! });
    const byEdge = new Map<string, string[]>();
    for (let k = 0; k < wg.edges.length; k += 2) {
      const [u, v] = [g.paths[wg.edges[k]!]!, g.paths[wg.edges[k + 1]!]!];
      const hits = (await findReferences(u, [v])).get(v)!;
      byEdge.set(`${u} ${v}`, hits.map(snippetText));
    }
    return byEdge;
  }

  const PAIRS: [string, string][] = [
    ['default', 'glibc'],
    ['default', 'perl'],
    ['default', 'zlib'],
    ['git', 'glibc'],
    ['git', 'perl'],
    ['zlib', 'glibc'],
    ['perl', 'glibc'],
  ];

  for (const [from, to] of PAIRS) {
    it(`${from} → ${to}: every edge's files and snippets equal Nix's --all --precise`, async () => {
      const nix = await nixWhyDependsPrecise(fx.output(from), fx.output(to), { all: true });
      const ours = await ourEdges(fx.output(from), fx.output(to));
      const nixEdges = new Map<string, PreciseEdge>();
      for (const e of nix.edges) if (!nixEdges.has(`${e.from} ${e.to}`)) nixEdges.set(`${e.from} ${e.to}`, e);
      assert.deepEqual([...ours.keys()].sort(), [...nixEdges.keys()].sort(), 'the edges');
      for (const [key, hits] of ours) {
        assert.ok(hits.length > 0, `a hit for ${key}`);
        assert.deepEqual(hits, nixEdges.get(key)!.hits, `hits of ${key}`);
      }
    });
  }

  it('without --all, Nix prints the first hit of each edge on the chain: ours is the same', async () => {
    for (const [from, to] of PAIRS) {
      const nix = await nixWhyDependsPrecise(fx.output(from), fx.output(to));
      for (const e of nix.edges) {
        const ours = (await findReferences(e.from, [e.to])).get(e.to)!;
        assert.deepEqual([snippetText(ours[0]!)], e.hits, `${e.from} → ${e.to}`);
      }
    }
  });

  it('the fixture has what it promises: a binary, symlinks, a hit past 64 KiB, several hits in one file', async () => {
    const perl = fx.output('perl');
    const git = fx.output('git');
    const hits = (await findReferences(git, [perl, fx.output('zlib'), fx.output('glibc')])).get(perl)!;
    assert.deepEqual(
      hits.map((h) => [h.file, h.kind]),
      [
        ['git/libexec/git-core/git-send-email', 'file'],
        ['git/libexec/git-core/git-svn', 'file'],
        ['git/libexec/git-core/perl', 'symlink'],
        ['git/share/big.txt', 'file'],
      ],
    );
    assert.equal(hits[3]!.offset, 65520 + '/nix/store/'.length);
    const all = (await findReferences(git, [perl], { allHits: true, chunkSize: 4096 })).get(perl)!;
    assert.equal(all.filter((h) => h.file === 'git/libexec/git-core/git-svn').length, 2, 'every hit when asked');
    assert.deepEqual(
      all.filter((h) => h.file === 'git/share/big.txt').map((h) => h.offset),
      [65531],
      'found across chunks of 4 KiB',
    );
    const binary = (await findReferences(git, [fx.output('zlib')])).get(fx.output('zlib'))!;
    assert.equal(binary[0]!.file, 'git/bin/git');
    // the last 21 bytes of the ELF header (NULs, 0x03, '>', 0xff 0xfe 0xc8, LF, CR, TAB, ESC) before the path
    assert.equal(binary[0]!.before, `${'.'.repeat(7)}>${'.'.repeat(13)}/nix/store/`, 'non-printable bytes as dots');
    const single = (await findReferences(perl, [fx.output('glibc')])).get(fx.output('glibc'))!;
    assert.equal(single[0]!.file, 'perl/bin/perl');
    // the glibc fixture is one file: a self-query on a file names it `/`
    const glibcOnly = (await findReferences(fx.output('glibc'), [fx.output('glibc')])).get(fx.output('glibc'))!;
    assert.deepEqual(glibcOnly, []);
  });
});
