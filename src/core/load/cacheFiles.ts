/**
 * The names of the graph cache's files, and the remembered Nix versions: what GraphCache reads and writes, and what
 * the CLI launcher asks before the CLI bundle loads (whether a closure is cached, which flags `nix path-info` gets;
 * src/cli/prestart.ts). Kept apart from graphCache.ts so that asking loads none of the graph code.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { baseName } from '../../shared/storePath';
import { readRegularFileSync } from './regularFile';

/** The file, in the cache folder, that maps nix binaries to their `nix --version` line. */
export const NIX_VERSIONS_FILE = 'nix-versions.json';
/** Far above any nix-versions.json we write: a larger file is not ours. */
export const MAX_VERSIONS_FILE_BYTES = 1024 * 1024;

/** The file in `dir` that holds the graph of `rootPath`. */
export function graphCacheFile(dir: string, rootPath: string): string {
  const digest = createHash('sha256').update(rootPath).digest('hex').slice(0, 32);
  const name = baseName(rootPath)
    .slice(33, 33 + 80)
    .replace(/[^A-Za-z0-9._+-]/g, '_');
  return path.join(dir, `${digest}-${name}.graph`);
}

/**
 * `<real path>:<inode>:<size>:<mtime>` of the executable `nixPath` names (looked up on PATH when it has no '/').
 * Synchronous stats that do not throw for a missing file: this runs before every cold nix call, and a PATH of ten
 * directories asked one by one through the thread pool (each miss an exception) took 3–8 ms.
 */
export function binaryIdentity(nixPath: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = nixPath.includes('/')
    ? [path.resolve(nixPath)]
    : (env['PATH'] ?? '')
        .split(path.delimiter)
        .filter((d) => d !== '')
        .map((d) => path.join(d, nixPath));
  for (const candidate of candidates) {
    try {
      const st = fs.statSync(candidate, { throwIfNoEntry: false });
      if (!st || !st.isFile() || (st.mode & 0o111) === 0) continue;
      return `${fs.realpathSync(candidate)}:${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      // not a directory, not readable, or gone meanwhile
    }
  }
  return undefined;
}

/** The version line nix-versions.json's bytes record for the binary identity `id`. Never throws. */
export function versionLineIn(bytes: Buffer | undefined, id: string): string | undefined {
  if (!bytes) return undefined;
  try {
    const line = (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>)[id];
    return typeof line === 'string' ? line : undefined;
  } catch {
    return undefined;
  }
}

/** GraphCache.nixVersionLine, synchronously (for the launcher, before anything else runs). Never throws. */
export function rememberedNixVersionLineSync(dir: string, nixPath: string): string | undefined {
  try {
    const id = binaryIdentity(nixPath);
    if (id === undefined) return undefined;
    return versionLineIn(readRegularFileSync(path.join(dir, NIX_VERSIONS_FILE), MAX_VERSIONS_FILE_BYTES), id);
  } catch {
    return undefined;
  }
}
