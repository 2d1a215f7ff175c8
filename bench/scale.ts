/**
 * Section `scale`: a synthetic 100,000-path closure (real size and degree distributions, see generate.ts) loaded,
 * sized and dominated in a fresh node process, from `nix path-info` JSON (cold) and from the engine's graph cache
 * (warm); target under 1 s and under 300 MB peak.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { syntheticClosure } from './generate';
import {
  markdownTable,
  seconds,
  stableCopy,
  summarize,
  verdict,
  type BenchContext,
  type BenchSection,
  type Timing,
} from './lib';

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

export async function runScaleChild(
  ctx: BenchContext,
  file: string,
  extra: string[] = [],
): Promise<ChildResult & Record<string, number>> {
  const child = stableCopy(ctx, path.join('out', 'bench', 'scale-child.js'));
  const r = await execa(process.execPath, [child, file, ...extra], { reject: false, timeout: 10 * 60_000 });
  if (r.exitCode !== 0 || r.stdout.trim() === '')
    throw new Error(`scale child failed (exit ${r.exitCode}, ${r.stdout.length} bytes out):\n${r.stderr}`);
  return JSON.parse(r.stdout) as ChildResult & Record<string, number>;
}

export const scaleSection: BenchSection = {
  id: 'scale',
  title: '100,000 paths: load, closure sizes, dominators, peak memory',
  async run(ctx) {
    const synthetic = await syntheticClosure(ctx, 100_000);
    const cacheDir = path.join(ctx.workDir, 'cache-scale');
    fs.rmSync(cacheDir, { recursive: true, force: true });
    await runScaleChild(ctx, synthetic.file, ['--prime-cache', cacheDir]);
    const runs = ctx.quick ? 2 : 5;
    const cold: ChildResult[] = [];
    const warm: ChildResult[] = [];
    const generic: ChildResult[] = [];
    const records: ChildResult[] = [];
    for (let k = 0; k < runs; k++) {
      ctx.log(`scale: round ${k + 1}/${runs}`);
      cold.push(await runScaleChild(ctx, synthetic.file));
      warm.push(await runScaleChild(ctx, synthetic.file, ['--cache', cacheDir, '--root', synthetic.root]));
      generic.push(await runScaleChild(ctx, synthetic.file, ['--generic']));
      records.push(await runScaleChild(ctx, synthetic.file, ['--records']));
    }
    const med = (rs: ChildResult[], f: (r: ChildResult) => number): Timing => summarize(rs.map(f));
    const cell = (rs: ChildResult[], f: (r: ChildResult) => number) => seconds(med(rs, f).median);
    const totalCold = med(cold, (r) => r.totalSeconds);
    const totalWarm = med(warm, (r) => r.totalSeconds);
    const rssCold = med(cold, (r) => r.maxRssMiB);
    const rssWarm = med(warm, (r) => r.maxRssMiB);
    const visible = cold[0]!.visiblePaths;
    const rows = [
      [
        'read the file',
        cell(cold, (r) => r.readSeconds),
        `${cell(warm, (r) => r.readSeconds)} (read + decode the cache file)`,
      ],
      [
        'parse the bytes straight into the graph (`parseClosureGraph`, the closure check included)',
        cell(cold, (r) => r.parseSeconds),
        '— (arrays come from the cache)',
      ],
      ['dominator tree + retained sizes', cell(cold, (r) => r.dominatorSeconds), cell(warm, (r) => r.dominatorSeconds)],
      [
        `closure sizes: the root and the ${visible} heaviest paths (exact, lazy)`,
        cell(cold, (r) => r.closureSizeSeconds),
        cell(warm, (r) => r.closureSizeSeconds),
      ],
      [
        '**total**',
        `**${seconds(totalCold.median)}** (${seconds(totalCold.min)}–${seconds(totalCold.max)})`,
        `**${seconds(totalWarm.median)}** (${seconds(totalWarm.min)}–${seconds(totalWarm.max)})`,
      ],
      [
        'peak memory (maxRSS of the process, node included), worst run',
        `**${rssCold.max.toFixed(0)} MiB**`,
        `**${rssWarm.max.toFixed(0)} MiB**`,
      ],
    ];
    const variants = [generic, records, cold];
    const compared = [
      ['read the file', ...variants.map((v) => cell(v, (r) => r.readSeconds))],
      ['parse (closure check included)', ...variants.map((v) => cell(v, (r) => r.parseSeconds))],
      [
        'build the graph (`ClosureGraph.build`)',
        ...variants.slice(0, 2).map((v) => cell(v, (r) => r.graphSeconds)),
        '— (in the parse)',
      ],
      ['read + parse + graph', ...variants.map((v) => cell(v, (r) => r.readSeconds + r.parseSeconds + r.graphSeconds))],
      ['total from JSON', ...variants.map((v) => seconds(med(v, (r) => r.totalSeconds).median))],
      ['peak memory, worst run', ...variants.map((v) => `${med(v, (r) => r.maxRssMiB).max.toFixed(0)} MiB`)],
    ];
    const mb = (mib: number) => (mib * 2 ** 20) / 1e6;
    return [
      `Input: \`${path.relative(ctx.repo, synthetic.file)}\` — ${synthetic.paths.toLocaleString('en')} paths, ` +
        `${synthetic.edges.toLocaleString('en')} references, ${(synthetic.bytes / 2 ** 20).toFixed(1)} MiB of ` +
        '`nix path-info -rs --json` (Nix 2.8 array form, every field Nix prints). Each run is a fresh `node` process ' +
        `(\`out/bench/scale-child.js\`); median of ${runs} runs. *From JSON*: what a first load does after nix answered; ` +
        "*from the cache*: what every later load of the same store path does (the engine's GraphCache file).",
      '',
      markdownTable(['phase', 'from JSON (cold)', 'from the cache (warm)'], rows),
      '',
      'The same cold load three ways (interleaved with the runs above, median of each): the generic parser ' +
        '(`JSON.parse`, then the readers of every format; `--generic`), which stays the oracle of the fast paths; the ' +
        'path-info fast path to PathRecords (`parseClosureJson`: `src/core/parse/compactPathInfo.ts`, `fastPathInfo.ts`; ' +
        "`--records`), then `ClosureGraph.build`; and what the engine's pipeline runs on nix's stdout: the bytes parsed " +
        'straight into the graph without PathRecords (`parseClosureGraph`, `src/core/parse/pathInfoGraph.ts`):',
      '',
      markdownTable(
        ['phase', 'generic parser', 'fast path to records', 'bytes straight into the graph (the engine)'],
        compared,
      ),
      '',
      `- load + closure sizes + dominators < 1 s, from JSON: ${verdict(totalCold.median < 1)} (${seconds(totalCold.median)}); from the cache: ${verdict(totalWarm.median < 1)} (${seconds(totalWarm.median)})`,
      `- peak memory < 300 MB, from JSON: ${verdict(mb(rssCold.max) < 300)} (${mb(rssCold.max).toFixed(0)} MB); from the cache: ${verdict(mb(rssWarm.max) < 300)} (${mb(rssWarm.max).toFixed(0)} MB)`,
    ].join('\n');
  },
};
