/**
 * Temporaries named after the process that made them (`<name>.<pid>-<random>.tmp`, `closure-lens-attr-<pid>-…`):
 * a process killed with SIGKILL cannot remove its own, so the next one removes those whose process is gone, or
 * that are older than any write could take (a pid can be reused).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Older than this, a temporary is stale even if a process with its pid runs (pids are reused). */
export const STALE_AFTER_MS = 60 * 60 * 1000;

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the entries of `dir` whose name `pattern` matches (its first group is the pid) and whose process is not
 * alive or that are older than STALE_AFTER_MS; never this process's own. Best effort: returns what it removed.
 */
export function removeStaleTemporaries(dir: string, pattern: RegExp, now = Date.now()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    const full = path.join(dir, name);
    try {
      const st = fs.lstatSync(full);
      if (processIsAlive(pid) && now - st.mtimeMs < STALE_AFTER_MS) continue;
      fs.rmSync(full, { recursive: true, force: true });
      removed.push(full);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}
