/**
 * Section `why-graph`: `closure-lens why --all --json` against `nix why-depends --all` on a held-out closure of
 * thousands of real store paths (preferential attachment, so it has glibc-like hubs with astronomically many
 * chains), through the CLI on 98 pairs. The integration tests do it in-process: whyGraphNix.test.ts on 600 paths
 * and 112 pairs, whyGraphHeldOutNix.test.ts on this closure and 36 pairs. Every pair must agree on the node set and
 * on the edge set; any disagreement fails the section.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { ClosureGraph, distancesFrom } from '../src/shared';
import { nixPathInfo, nixWhyDepends } from '../test/support/fixtures';
import { realiseHubClosure } from '../test/support/hubClosure';
import { seededRandom } from '../test/support/prng';
import { cliEnv, cliPath, markdownTable, seconds, type BenchSection } from './lib';

/** Paths of the held-out closure, and its seed (as in whyGraphHeldOutNix.test.ts; whyGraphNix's: 600, seed 16). */
export const HELD_OUT_PATHS = 3000;
const HELD_OUT_SEED = 4242;

interface PairResult {
  kind: string;
  nodes: number;
  edges: number;
  ok: boolean;
  nixSeconds: number;
  oursSeconds: number;
}

export const whyGraphSection: BenchSection = {
  id: 'why-graph',
  title: '`closure-lens why --all` vs `nix why-depends --all` (held-out closure)',
  async run(ctx) {
    const t0 = Date.now();
    ctx.log(`why-graph: importing a ${HELD_OUT_PATHS}-path closure with hubs`);
    const root = await realiseHubClosure(HELD_OUT_PATHS, HELD_OUT_SEED);
    const buildSeconds = (Date.now() - t0) / 1000;
    const info = await nixPathInfo([root]);
    const g = ClosureGraph.build(
      [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
      [root],
    );
    const cli = cliPath(ctx);
    const cacheDir = path.join(ctx.workDir, 'cache-why-graph');
    fs.mkdirSync(cacheDir, { recursive: true });
    const byReferrers = Array.from({ length: g.nodeCount }, (_, i) => i).sort(
      (x, y) => g.revOffsets[y + 1]! - g.revOffsets[y]! - (g.revOffsets[x + 1]! - g.revOffsets[x]!),
    );
    const rand = seededRandom(99);
    const hubs = ctx.quick ? 4 : 20;
    const randoms = ctx.quick ? 4 : 40;
    const pairs: { kind: string; from: number; to: number }[] = [];
    for (const t of byReferrers.slice(0, hubs))
      if (t !== g.root) pairs.push({ kind: 'root → hub', from: g.root, to: t });
    for (let k = 0; k < randoms; k++) {
      const t = Math.floor(rand() * g.nodeCount);
      if (t !== g.root) pairs.push({ kind: 'root → random path', from: g.root, to: t });
    }
    for (let k = 0; k < randoms; k++) {
      const from = Math.floor(rand() * g.nodeCount);
      const dist = distancesFrom(g, from);
      const reached = [...dist.keys()].filter((v) => dist[v]! > 0);
      if (reached.length === 0) continue;
      pairs.push({ kind: 'inner pair', from, to: reached[Math.floor(rand() * reached.length)]! });
    }
    const results: PairResult[] = [];
    const failures: string[] = [];
    for (const p of pairs) {
      const from = g.paths[p.from]!;
      const to = g.paths[p.to]!;
      let t = Date.now();
      const nix = await nixWhyDepends(from, to, { all: true });
      const nixSeconds = (Date.now() - t) / 1000;
      t = Date.now();
      const out = await execa(process.execPath, [cli, 'why', '--all', '--json', '--limit', '1', from, to], {
        env: cliEnv(cacheDir),
        maxBuffer: 1 << 28,
      });
      const oursSeconds = (Date.now() - t) / 1000;
      const ours = JSON.parse(out.stdout) as { nodes: string[]; edges: [string, string][] };
      const nixNodes = nix ? [...nix.nodes].sort() : [];
      const nixEdges = nix ? nix.edges.map(([x, y]) => `${x} ${y}`).sort() : [];
      const ourNodes = [...ours.nodes].sort();
      const ourEdges = ours.edges.map(([x, y]) => `${x} ${y}`).sort();
      const ok =
        JSON.stringify(ourNodes) === JSON.stringify(nixNodes) && JSON.stringify(ourEdges) === JSON.stringify(nixEdges);
      if (!ok)
        failures.push(
          `${from} → ${to}: ours ${ourNodes.length} nodes / ${ourEdges.length} edges, Nix ${nixNodes.length} / ${nixEdges.length}`,
        );
      results.push({ kind: p.kind, nodes: nixNodes.length, edges: nixEdges.length, ok, nixSeconds, oursSeconds });
    }
    if (failures.length > 0) throw new Error(`why --all disagrees with nix why-depends --all:\n${failures.join('\n')}`);
    const rows = ['root → hub', 'root → random path', 'inner pair'].map((kind) => {
      const rs = results.filter((r) => r.kind === kind);
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      return [
        kind,
        String(rs.length),
        `${rs.filter((r) => r.ok).length}/${rs.length}`,
        String(Math.max(0, ...rs.map((r) => r.nodes))),
        String(Math.max(0, ...rs.map((r) => r.edges))),
        seconds(median(rs.map((r) => r.nixSeconds))),
        seconds(median(rs.map((r) => r.oursSeconds))),
      ];
    });
    return [
      `A held-out closure of ${g.nodeCount.toLocaleString('en')} real store paths (seed ${HELD_OUT_SEED}; imported in ` +
        `${seconds(buildSeconds)}, nothing after the first run). For each pair, the nodes and the edges of ` +
        '`closure-lens why --all --json` must equal those of `nix why-depends --all` (its tree, ANSI stripped).',
      '',
      markdownTable(
        [
          'pairs',
          'count',
          'node and edge sets equal',
          'largest graph (nodes)',
          'largest graph (edges)',
          'median `nix why-depends --all`',
          'median `closure-lens why --all --json`',
        ],
        rows,
      ),
    ].join('\n');
  },
};
