/**
 * Section `scale`: a synthetic 100,000-path closure (real size and degree distributions, see generate.ts) loaded,
 * sized and dominated in a fresh node process; target under 1 s and under 300 MB peak.
 */
import { execa } from 'execa';
import * as path from 'node:path';
import { syntheticClosure } from './generate';
import { markdownTable, seconds, summarize, verdict, type BenchSection } from './lib';

interface ChildResult {
  paths: number;
  edges: number;
  readSeconds: number;
  parseSeconds: number;
  graphSeconds: number;
  dominatorSeconds: number;
  closureSizeSeconds: number;
  totalSeconds: number;
  visiblePaths: number;
  maxRssMiB: number;
}

export async function runScaleChild(repo: string, file: string, extra: string[] = []): Promise<ChildResult & Record<string, number>> {
  const child = path.join(repo, 'out', 'bench', 'scale-child.js');
  const r = await execa(process.execPath, [child, file, ...extra], { reject: false, timeout: 10 * 60_000 });
  if (r.exitCode !== 0) throw new Error(`scale child failed (exit ${r.exitCode}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as ChildResult & Record<string, number>;
}

export const scaleSection: BenchSection = {
  id: 'scale',
  title: '100,000 paths: load, closure sizes, dominators, peak memory',
  async run(ctx) {
    const synthetic = await syntheticClosure(ctx, 100_000);
    const runs = ctx.quick ? 2 : 5;
    const results: ChildResult[] = [];
    for (let k = 0; k < runs; k++) {
      ctx.log(`scale: run ${k + 1}/${runs}`);
      results.push(await runScaleChild(ctx.repo, synthetic.file));
    }
    const med = (f: (r: ChildResult) => number) => summarize(results.map(f));
    const total = med((r) => r.totalSeconds);
    const rss = med((r) => r.maxRssMiB);
    const rows = [
      ['read file', seconds(med((r) => r.readSeconds).median)],
      ['parse JSON (parseClosureJson)', seconds(med((r) => r.parseSeconds).median)],
      ['build graph', seconds(med((r) => r.graphSeconds).median)],
      ['dominator tree + retained sizes', seconds(med((r) => r.dominatorSeconds).median)],
      [`closure sizes (root + ${results[0]!.visiblePaths} heaviest, exact)`, seconds(med((r) => r.closureSizeSeconds).median)],
      ['**total**', `**${seconds(total.median)}** (${seconds(total.min)}–${seconds(total.max)})`],
      ['peak memory (maxRSS of the child, node itself included)', `**${rss.max.toFixed(0)} MiB** (median ${rss.median.toFixed(0)})`],
    ];
    return [
      `Input: \`${path.relative(ctx.repo, synthetic.file)}\` — ${synthetic.paths.toLocaleString('en')} paths, ` +
        `${synthetic.edges.toLocaleString('en')} references, ${(synthetic.bytes / 2 ** 20).toFixed(1)} MiB of ` +
        '`nix path-info -rs --json` (Nix 2.8 array form, every field). Each run is a fresh `node` process ' +
        `(\`out/bench/scale-child.js\`); median of ${runs} runs.`,
      '',
      markdownTable(['phase', 'median'], rows),
      '',
      `- load + closure sizes + dominators < 1 s: ${verdict(total.median < 1)} (${seconds(total.median)})`,
      `- peak memory < 300 MB: ${verdict(rss.max * 2 ** 20 < 300e6)} (${(rss.max * 2 ** 20 / 1e6).toFixed(0)} MB worst run)`,
    ].join('\n');
  },
};
