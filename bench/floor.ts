/**
 * The least a node CLI can do for `closure-lens closure`: start node, start `nix path-info -rs --json <root>` as
 * closure-lens's launcher does (node's spawn, first thing, before any bundle loads: src/cli/prestart.ts), copy
 * its output to stdout as it arrives and exit, with no parsing and no analysis. The closure section times it next
 * to Nix alone, so the ratios show how much of closure-lens's time is this floor.
 * Usage: node out/bench/floor.js <store path>
 */
import { spawn } from 'node:child_process';

const root = process.argv[2];
if (!root) throw new Error('usage: floor.js <store path>');
const nix = spawn('nix', ['path-info', '--recursive', '--size', '--json', '--', root], {
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: true,
});
nix.stdout.pipe(process.stdout);
nix.on('error', (e) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
nix.on('close', (code) => process.exit(code ?? 1));
