/**
 * Section `precise`: finding the file that holds one reference, in a 100 MiB store path whose only hit is at its
 * last bytes (every byte is read), in process, against `nix why-depends --precise` on the same edge.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { findReferences } from '../src/core/precise';
import { nixEnv } from '../test/support/fixtures';
import { compareCommands, markdownTable, now, seconds, summarize, timingCell, verdict, type BenchSection } from './lib';

export const preciseSection: BenchSection = {
  id: 'precise',
  title: '`why --precise`: one edge of a 100 MiB store path',
  async run(ctx) {
    const evaluated = await execa(
      'nix',
      ['eval', '--json', '--file', path.join(ctx.repo, 'bench', 'precise.nix'), 'result'],
      { env: nixEnv() },
    );
    const { big, dep, drv } = JSON.parse(evaluated.stdout) as { big: string; dep: string; drv: string };
    ctx.log(`precise: realising ${big}`);
    await execa('nix-store', ['--realise', '--add-root', path.join(ctx.workDir, 'gcroot-precise'), '--indirect', drv], {
      env: nixEnv(),
      stdout: 'ignore',
    });
    const size = fs.statSync(big).size;
    const runs = ctx.quick ? 3 : 11;
    const check = async () => {
      const hits = (await findReferences(big, [dep])).get(dep)!;
      if (
        hits.length !== 1 ||
        hits[0]!.file !== '/' ||
        hits[0]!.offset !== size - '/bin/perl\n'.length - dep.length + '/nix/store/'.length
      )
        throw new Error(`wrong hit in ${big}: ${JSON.stringify(hits)}`);
    };
    await check(); // warm-up, and the answer is checked before it is timed
    const rssBefore = process.resourceUsage().maxRSS;
    const samples: number[] = [];
    for (let k = 0; k < runs; k++) {
      const t0 = now();
      await findReferences(big, [dep]);
      samples.push(now() - t0);
    }
    const ours = summarize(samples);
    const rssGrowthMiB = (process.resourceUsage().maxRSS - rssBefore) / 1024;
    const [nix] = await compareCommands(
      [
        {
          label: 'nix why-depends --precise',
          file: 'nix',
          args: ['why-depends', '--precise', big, dep],
          env: nixEnv(),
        },
      ],
      ctx.quick ? 2 : 5,
    );
    return [
      `One edge: the file of a ${(size / 2 ** 20).toFixed(0)} MiB store path (one file) that refers to \`perl\`, ` +
        `whose hash is in its last bytes only, among ${(size / 128 / 1e6).toFixed(1)} million 128-byte lines naming another store path. In process ` +
        '(`findReferences`, 1 MiB chunks, page cache warm), median (min–max); `nix why-depends --precise` is the ' +
        'whole command (it also queries the closure).',
      '',
      markdownTable(
        ['path size', '`findReferences` (in process)', 'throughput', '`nix why-depends --precise`', 'max RSS growth'],
        [
          [
            `${(size / 2 ** 20).toFixed(0)} MiB`,
            timingCell(ours),
            `${(size / 2 ** 30 / ours.median).toFixed(2)} GiB/s`,
            timingCell(nix!),
            `${rssGrowthMiB.toFixed(1)} MiB`,
          ],
        ],
      ),
      '',
      `- one edge of a 100 MiB path < 0.5 s: ${verdict(ours.median < 0.5)} (median ${seconds(ours.median)})`,
      `- never the whole path in memory: max RSS grew by ${rssGrowthMiB.toFixed(1)} MiB while reading ${(size / 2 ** 20).toFixed(0)} MiB ${runs} times`,
    ].join('\n');
  },
};
