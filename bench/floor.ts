/**
 * The least any node CLI built on execa can do for `closure-lens closure`: start node, load execa, run
 * `nix path-info -rs --json <root>` and copy its output to stdout, with no parsing and no analysis. The closure
 * section times it next to Nix alone, so the ratios show how much of closure-lens's time is this floor.
 * Usage: node out/bench/floor.js <store path>
 */
import { execa } from 'execa';

async function main(): Promise<void> {
  const root = process.argv[2];
  if (!root) throw new Error('usage: floor.js <store path>');
  const r = await execa('nix', ['path-info', '--recursive', '--size', '--json', root], { maxBuffer: 1 << 30 });
  process.stdout.write(r.stdout);
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exitCode = 1;
});
