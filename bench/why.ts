/**
 * Section `why`: `closure-lens why` (warm cache, node start-up included) against `nix why-depends` on the same real
 * closures and the same far-away target, and the in-process cost of one why query after the closure is loaded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { nixEnv } from '../test/support/fixtures';
import { realClosures } from './closure';
import {
  cliEnv,
  cliPath,
  compareCommands,
  markdownTable,
  nodeEnv,
  seconds,
  timingCell,
  verdict,
  type BenchSection,
} from './lib';
import { runScaleChild } from './scale';

export const whySection: BenchSection = {
  id: 'why',
  title: '`closure-lens why` vs `nix why-depends`',
  async run(ctx) {
    const closures = await realClosures(ctx);
    const cli = cliPath(ctx);
    const rows: string[][] = [];
    const checks: string[] = [];
    for (const c of closures) {
      const warmDir = path.join(ctx.workDir, `cache-why-${c.paths}`);
      fs.rmSync(warmDir, { recursive: true, force: true });
      // fills the cache, and checks the answer: a chain from the root to the target
      const first = await execa(process.execPath, [cli, 'why', '--json', c.root, c.target], { env: cliEnv(warmDir) });
      const chain = (JSON.parse(first.stdout) as { chains: string[][] }).chains[0]!;
      if (chain[0] !== c.root || chain[chain.length - 1] !== c.target || chain.length - 1 !== c.targetDistance) {
        throw new Error(
          `closure-lens why gave a wrong chain for ${c.target}: ${chain.length - 1} edges, expected ${c.targetDistance}`,
        );
      }
      const runs = ctx.quick ? 3 : 15;
      ctx.log(`why: ${c.paths} paths, ${runs} rounds`);
      const [nix, ours, bareNode] = await compareCommands(
        [
          { label: 'nix why-depends', file: 'nix', args: ['why-depends', c.root, c.target], env: nixEnv() },
          {
            label: 'closure-lens why (warm)',
            file: process.execPath,
            args: [cli, 'why', c.root, c.target],
            env: cliEnv(warmDir),
          },
          { label: 'node -e 0', file: process.execPath, args: ['-e', '0'], env: nodeEnv() },
        ],
        runs,
        1,
      );
      const ratio = ours!.median / nix!.median;
      const nodeRatio = bareNode!.median / nix!.median;
      rows.push([
        c.paths.toLocaleString('en'),
        String(c.targetDistance),
        timingCell(nix!),
        timingCell(ours!),
        ratio.toFixed(2),
        `${timingCell(bareNode!)}: ${nodeRatio.toFixed(2)}`,
      ]);
      checks.push(
        `- ${c.paths.toLocaleString('en')} paths: warm ÷ \`nix why-depends\` ≤ 0.5: ${verdict(ratio <= 0.5)} (${ratio.toFixed(2)}; ` +
          `an empty \`node -e 0\` alone is ${nodeRatio.toFixed(2)})`,
      );
    }

    // In process: load the 10k closure from `nix path-info -rs --json` output, then time why queries.
    const largest = closures[closures.length - 1]!;
    const jsonFile = path.join(ctx.workDir, `path-info-${largest.paths}.json`);
    const pi = await execa('nix', ['path-info', '-rs', '--json', largest.root], { env: nixEnv(), maxBuffer: 1 << 30 });
    fs.writeFileSync(jsonFile, pi.stdout);
    const inProcess = await runScaleChild(ctx, jsonFile, ['--why', largest.target]);
    const queryOk = inProcess['whyMedianSeconds']! < 1e-3;
    checks.push(
      `- in process, a why query after load at ${largest.paths.toLocaleString('en')} paths < 1 ms: ${verdict(queryOk)} ` +
        `(median ${seconds(inProcess['whyMedianSeconds']!)} over 201 targets; first query ${seconds(inProcess['whyFirstSeconds']!)}; slowest ${seconds(inProcess['whyMaxSeconds']!)})`,
    );
    return [
      `\`closure-lens why <root> <target>\` (human output, warm cache: the graph comes from the cache, no nix call) ` +
        'against `nix why-depends <root> <target>`; the target is a path at the largest distance from the root. ' +
        'Whole commands, node start-up included; median (min–max).',
      '',
      markdownTable(
        [
          'paths',
          'chain length (edges)',
          '`nix why-depends`',
          'closure-lens why (warm)',
          'ratio',
          'empty `node -e 0` (÷ `nix why-depends`)',
        ],
        rows,
      ),
      '',
      ...checks,
      '',
      `In-process why queries (fresh node process, after loading the ${largest.paths.toLocaleString('en')}-path closure ` +
        'from its `nix path-info -rs --json` output):',
      '',
      markdownTable(
        ['query', 'time'],
        [
          ['first shortest chain (nothing cached)', seconds(inProcess['whyFirstSeconds']!)],
          ['shortest chain, median of 201 targets', seconds(inProcess['whyMedianSeconds']!)],
          ['shortest chain, slowest of 201 targets', seconds(inProcess['whyMaxSeconds']!)],
          [
            `all chains (limit 100; ${inProcess['whyAllChains']} listed of ${inProcess['whyAllTotal']! >= Number.MAX_SAFE_INTEGER ? '≥ 2^53' : inProcess['whyAllTotal']})`,
            seconds(inProcess['whyAllSeconds']!),
          ],
        ],
      ),
    ].join('\n');
  },
};
