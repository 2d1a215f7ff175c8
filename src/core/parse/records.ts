/**
 * Shared checks for every closure input: store paths well-formed and in one store directory, no record twice,
 * every reference described (a closure with a hole would give wrong sizes), and the roots.
 */
import { ClosureLensError } from '../errors';
import { resolveRecords, type PathRecord } from '../../shared/graph';
import { isStoreBaseName } from '../../shared/storePath';
import { malformed } from './json';

/** Splits `/nix/store/<hash>-<name>` into store dir and base name; throws 'malformed-json' for anything else. */
export function splitStorePath(path: string, source: string, where: string): { storeDir: string; base: string } {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (slash <= 0 || !isStoreBaseName(base)) {
    throw malformed(
      source,
      `${where} is ${JSON.stringify(path)}, which is not a store path (/nix/store/<32-char hash>-<name>)`,
    );
  }
  return { storeDir: path.slice(0, slash), base };
}

/** Turns a base name (`<hash>-<name>`, Nix 2.33+ JSON) into a full path; full paths pass through. */
export function fullPath(storeDir: string, pathOrBase: string, source: string, where: string): string {
  if (pathOrBase.startsWith('/')) return pathOrBase;
  if (!isStoreBaseName(pathOrBase)) {
    throw malformed(
      source,
      `${where} is ${JSON.stringify(pathOrBase)}, which is not a store path base name (<32-char hash>-<name>)`,
    );
  }
  return `${storeDir}/${pathOrBase}`;
}

/**
 * Checks the records as a whole and finds the roots: the records that no other record references.
 * `storeDir` is the one every record path must share.
 */
export function checkClosure(records: readonly PathRecord[], source: string, storeDir: string): string[] {
  if (!storeDir.startsWith('/'))
    throw malformed(source, `the store directory ${JSON.stringify(storeDir)} is not absolute`);
  // One resolution of every reference, which ClosureGraph.build reuses: this runs on every load, for up to
  // 10^5 paths and 10^6 references.
  const { index, refStart, refRecord, duplicates } = resolveRecords(records);
  if (duplicates > 0) throw malformed(source, `${records[index.duplicates[0]!]!.path} appears twice`);
  const referenced = new Uint8Array(records.length);
  for (let i = 0; i < records.length; i++) {
    for (let k = refStart[i]!, end = refStart[i + 1]!; k < end; k++) {
      const j = refRecord[k]!;
      if (j < 0) {
        const ref = records[i]!.references[k - refStart[i]!];
        throw new ClosureLensError(
          'malformed-json',
          `${source}: ${records[i]!.path} references ${ref}, which the file does not describe (the closure is incomplete)`,
          {
            fix: 'produce the file with --recursive (`nix path-info --recursive --size --json <path>`) so that it holds the whole closure',
          },
        );
      }
      if (j !== i) referenced[j] = 1;
    }
  }
  const roots: string[] = [];
  for (let i = 0; i < records.length; i++) if (!referenced[i]) roots.push(records[i]!.path);
  return roots;
}

export function emptyClosure(source: string): ClosureLensError {
  return new ClosureLensError('empty-closure', `${source} describes no store paths`, {
    fix: 'point closure-lens at a file made by `nix path-info --recursive --size --json <path>` for a path that exists',
  });
}
