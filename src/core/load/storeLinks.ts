/**
 * Links into the Nix store inside a project (`result`, `result-man`, a GC root made by `nix build -o`): what the
 * editor's explorer offers "Show closure" on. A bounded walk: links are found where `nix build` leaves them, near
 * the top, and a big tree must not cost more than a moment.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { resolveStorePath } from './storePaths';

export interface StoreLinkScanOptions {
  /** How many directory levels below each root are read (0: the root's own entries only). */
  readonly maxDepth?: number;
  /** Stop after reading this many directory entries in all (a huge tree is cut off, not walked). */
  readonly maxEntries?: number;
}

/** Directories that never hold a user's result links and can be large. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.direnv', '.venv', 'target', 'dist-newstyle']);

/**
 * Every symbolic link under `roots` whose target resolves to a store path, mapped to that store path. Links to
 * directories are not followed (a result link into the store is a leaf). Unreadable directories are skipped.
 */
export async function findStoreLinks(
  roots: readonly string[],
  opts: StoreLinkScanOptions = {},
): Promise<Map<string, string>> {
  const maxDepth = opts.maxDepth ?? 3;
  let budget = opts.maxEntries ?? 5000;
  const links = new Map<string, string>();
  let level = roots.map((r) => path.resolve(r));
  for (let depth = 0; depth <= maxDepth && level.length > 0 && budget > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (budget <= 0) break;
      let entries;
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries.slice(0, budget)) {
        const full = path.join(dir, e.name);
        if (e.isSymbolicLink()) {
          const storePath = await storePathOfLink(full);
          if (storePath) links.set(full, storePath);
        } else if (e.isDirectory() && !e.name.startsWith('.') && !SKIPPED_DIRS.has(e.name)) {
          next.push(full);
        }
      }
      budget -= entries.length;
    }
    level = next;
  }
  return links;
}

/** The store path a link resolves to, or undefined for a link elsewhere (or a dangling one). */
export async function storePathOfLink(link: string): Promise<string | undefined> {
  try {
    return await resolveStorePath(link);
  } catch {
    return undefined;
  }
}
