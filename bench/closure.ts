/**
 * Section `closure`: `closure-lens closure --json` against `nix path-info -rs --json` (the bare data source, cold
 * and with a warm cache) and against `nix path-info -rsS --json` (what other tools call), on real generated
 * closures of 1,000, 5,000 and 10,000 store paths.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { nixEnv } from '../test/support/fixtures';
import { realClosure, type RealClosure } from './generate';
import {
  cliEnv,
  cliPath,
  compareCommands,
  emptyGraphCache,
  nodeEnv,
  stableCopy,
  markdownTable,
  seconds,
  timingCell,
  verdict,
  type BenchContext,
  type BenchSection,
} from './lib';

export const CLOSURE_SIZES = [1000, 5000, 10000];

/** Real closures for every size, generated once (minutes for 10k) and cached in bench/work. */
export async function realClosures(ctx: BenchContext): Promise<RealClosure[]> {
  const out: RealClosure[] = [];
  for (const n of CLOSURE_SIZES) out.push(await realClosure(ctx, n));
  return out;
}

export function generationTable(closures: readonly RealClosure[]): string {
  return markdownTable(
    ['paths', 'references', 'why target distance', '`nix-store --import` (0 when already valid)'],
    closures.map((c) => [
      c.paths.toLocaleString('en'),
      c.edges.toLocaleString('en'),
      String(c.targetDistance),
      c.fromCache ? 'valid already' : seconds(c.importSeconds),
    ]),
  );
}

/** Checks that the CLI's answer is right before timing it: path count and total size equal Nix's. */
async function checkCliAgainstNix(ctx: BenchContext, c: RealClosure, env: NodeJS.ProcessEnv): Promise<void> {
  const [cli, nix] = await Promise.all([
    execa(process.execPath, [cliPath(ctx), 'closure', '--json', c.root], { env, maxBuffer: 1 << 30 }),
    execa('nix', ['path-info', '-rs', '--json', c.root], { env: nixEnv(), maxBuffer: 1 << 30 }),
  ]);
  const ours = JSON.parse(cli.stdout) as { pathCount: number; closureSize: number };
  const theirs = JSON.parse(nix.stdout) as { narSize: number }[];
  const total = theirs.reduce((s, e) => s + e.narSize, 0);
  if (ours.pathCount !== theirs.length || ours.closureSize !== total) {
    throw new Error(
      `closure-lens disagrees with nix on ${c.root}: ${ours.pathCount} paths / ${ours.closureSize} B vs ${theirs.length} / ${total}`,
    );
  }
}

export const closureSection: BenchSection = {
  id: 'closure',
  title: '`closure-lens closure --json` vs `nix path-info`',
  async run(ctx) {
    const closures = await realClosures(ctx);
    const cli = cliPath(ctx);
    const floor = stableCopy(ctx, path.join('out', 'bench', 'floor.js'));
    const rows: string[][] = [];
    const checks: string[] = [];
    for (const c of closures) {
      const coldDir = path.join(ctx.workDir, 'cache-cold');
      const warmDir = path.join(ctx.workDir, `cache-warm-${c.paths}`);
      fs.rmSync(warmDir, { recursive: true, force: true });
      const emptyCold = () => emptyGraphCache(coldDir);
      emptyCold();
      await checkCliAgainstNix(ctx, c, cliEnv(coldDir));
      const withClosureSize = c.paths <= 5000;
      const runs = ctx.quick ? 3 : c.paths <= 1000 ? 15 : c.paths <= 5000 ? 9 : 7;
      ctx.log(`closure: ${c.paths} paths, ${runs} rounds${withClosureSize ? ' (with -rsS)' : ''}`);
      const commands = [
        { label: 'nix path-info -rs --json', file: 'nix', args: ['path-info', '-rs', '--json', c.root] },
        { label: 'floor', file: process.execPath, args: [floor, c.root], env: nodeEnv() },
        {
          label: 'closure-lens cold',
          file: process.execPath,
          args: [cli, 'closure', '--json', c.root],
          env: cliEnv(coldDir),
          before: emptyCold,
        },
        {
          label: 'closure-lens warm',
          file: process.execPath,
          args: [cli, 'closure', '--json', c.root],
          env: cliEnv(warmDir),
        },
      ];
      const [rs, floorTime, cold, warm] = await compareCommands(commands, runs, 1);
      // -rsS is quadratic: fewer rounds, timed on its own after the others
      // (at 5k this takes minutes on this graph: Nix walks every path's closure, ~10^7 path lookups, so once)
      const rsS = withClosureSize
        ? (
            await compareCommands(
              [{ label: 'nix path-info -rsS --json', file: 'nix', args: ['path-info', '-rsS', '--json', c.root] }],
              ctx.quick || c.paths > 1000 ? 1 : 5,
              0,
            )
          )[0]
        : undefined;
      const coldRatio = cold!.median / rs!.median;
      const floorRatio = floorTime!.median / rs!.median;
      const warmRatio = warm!.median / rs!.median;
      rows.push([
        c.paths.toLocaleString('en'),
        timingCell(rs!),
        rsS ? timingCell(rsS) : 'not run (quadratic)',
        `${timingCell(floorTime!)}: ${floorRatio.toFixed(2)}`,
        timingCell(cold!),
        timingCell(warm!),
        coldRatio.toFixed(2),
        warmRatio.toFixed(2),
        rsS ? `${(rsS.median / cold!.median).toFixed(1)}×` : '—',
      ]);
      checks.push(
        `- ${c.paths.toLocaleString('en')} paths: cold ÷ \`-rs\` ≤ 2: ${verdict(coldRatio <= 2)} (${coldRatio.toFixed(2)}; ` +
          `the floor alone, node + nix with no parsing, is ${floorRatio.toFixed(2)})`,
      );
      if (c.paths >= 5000)
        checks.push(
          `- ${c.paths.toLocaleString('en')} paths: warm ÷ \`-rs\` ≤ 0.5: ${verdict(warmRatio <= 0.5)} (${warmRatio.toFixed(2)})`,
        );
      if (rsS)
        checks.push(
          `- ${c.paths.toLocaleString('en')} paths: ≥ 10× faster than \`-rsS\` (cold): ${verdict(rsS.median / cold!.median >= 10)} (${(rsS.median / cold!.median).toFixed(1)}×)`,
        );
    }
    return [
      'Wall time of whole commands (process start to exit, stdout to /dev/null), median (min–max); rounds interleave ' +
        'the commands. *cold*: an empty cache directory before every run, so closure-lens runs `nix path-info -rs --json` ' +
        'itself and computes every closure size, retained size and the dominator tree; *warm*: the cache from the ' +
        'previous run (no nix call). `-rsS` makes Nix compute closure sizes itself. *floor*: bench/floor.ts, the least ' +
        'a node CLI can do (start node, start the same `nix path-info` first thing, as the launcher does, copy its ' +
        'output), the part of the cold time that no parsing or analysis work can remove. closure-lens runs as users run it: the `closure-lens` ' +
        'executable as it ships (minified, as `npm pack` and the .vsix build it; out/bench/shipped-cli) with its V8 code ' +
        'cache from earlier runs, which *cold* keeps (it empties only the graph cache and the remembered Nix version).',
      '',
      markdownTable(
        [
          'paths',
          '`nix path-info -rs --json`',
          '`nix path-info -rsS --json`',
          'floor: node + `nix path-info -rs --json`, no parsing (÷ `-rs`)',
          'closure-lens cold',
          'closure-lens warm',
          'cold ÷ `-rs`',
          'warm ÷ `-rs`',
          '`-rsS` ÷ cold',
        ],
        rows,
      ),
      '',
      ...checks,
      '',
      'The closures are real store paths made for the bench (bench/generate.ts; names and NAR sizes drawn from real ' +
        'narinfos, sizes scaled down 256× to keep the store small, out-degrees from a real NixOS closure), put into the ' +
        'store with `nix-store --import` (test/support/storeImport.ts: directories with a binary, a symlink and a text ' +
        "file holding their references' paths) and reused while valid:",
      '',
      generationTable(closures),
    ].join('\n');
  },
};
