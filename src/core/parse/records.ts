/**
 * Shared checks for every closure input: store paths well-formed and in one store directory, no record twice,
 * every reference described (a closure with a hole would give wrong sizes), and the roots.
 */
import { ClosureLensError } from '../errors';
import type { PathRecord } from '../graph';
import { isStoreBaseName } from '../storePath';
import { malformed } from './json';

/** Splits `/nix/store/<hash>-<name>` into store dir and base name; throws 'malformed-json' for anything else. */
export function splitStorePath(path: string, source: string, where: string): { storeDir: string; base: string } {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (slash <= 0 || !isStoreBaseName(base)) {
    throw malformed(source, `${where} is ${JSON.stringify(path)}, which is not a store path (/nix/store/<32-char hash>-<name>)`);
  }
  return { storeDir: path.slice(0, slash), base };
}

/** Turns a base name (`<hash>-<name>`, Nix 2.33+ JSON) into a full path; full paths pass through. */
export function fullPath(storeDir: string, pathOrBase: string, source: string, where: string): string {
  if (pathOrBase.startsWith('/')) return pathOrBase;
  if (!isStoreBaseName(pathOrBase)) {
    throw malformed(source, `${where} is ${JSON.stringify(pathOrBase)}, which is not a store path base name (<32-char hash>-<name>)`);
  }
  return `${storeDir}/${pathOrBase}`;
}

/**
 * Checks the records as a whole and finds the roots: the records that no other record references.
 * `storeDir` is the one every record path must share.
 */
export function checkClosure(records: readonly PathRecord[], source: string, storeDir: string): string[] {
  const known = new Set<string>();
  for (const r of records) {
    if (known.has(r.path)) throw malformed(source, `${r.path} appears twice`);
    known.add(r.path);
  }
  const referenced = new Set<string>();
  for (const r of records) {
    for (const ref of r.references) {
      if (!known.has(ref)) {
        throw new ClosureLensError(
          'malformed-json',
          `${source}: ${r.path} references ${ref}, which the file does not describe (the closure is incomplete)`,
          {
            fix: 'produce the file with --recursive (`nix path-info --recursive --size --json <path>`) so that it holds the whole closure',
          },
        );
      }
      if (ref !== r.path) referenced.add(ref);
    }
  }
  if (!storeDir.startsWith('/')) throw malformed(source, `the store directory ${JSON.stringify(storeDir)} is not absolute`);
  return records.filter((r) => !referenced.has(r.path)).map((r) => r.path);
}

export function emptyClosure(source: string): ClosureLensError {
  return new ClosureLensError('empty-closure', `${source} describes no store paths`, {
    fix: 'point closure-lens at a file made by `nix path-info --recursive --size --json <path>` for a path that exists',
  });
}
