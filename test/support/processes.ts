/** Live processes found through /proc, for tests that check that nix and its builders really stopped. */
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of live (not zombie) processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // zombies are dead already; only their parent has not reaped them yet
      if (cmd.includes(marker) && !/\) Z /.test(stat)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Polls until no process matches `marker` or `ms` pass; returns the pids still alive. */
export async function waitUntilGone(marker: string, ms: number, pollMs = 100): Promise<number[]> {
  const end = Date.now() + ms;
  let left = processesWith(marker);
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, pollMs));
    left = processesWith(marker);
  }
  return left;
}
