/**
 * `--precise`: which files inside a store path hold the references to other store paths, with the bytes
 * around each hit, found the way `nix why-depends --precise` finds them (a search for the 32-character hash
 * in every regular file and symlink target, directories walked in name order) but streamed: files are read
 * in chunks and a file is closed as soon as every hash was found in it.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { baseName, isStoreBaseName, HASH_LENGTH } from '../../shared/storePath';
import type { PreciseHit } from '../../shared/protocol/messages';
import { ClosureLensError } from '../errors';
import { scanFile, SNIPPET_MARGIN, type ScanOptions } from './scanFile';

/**
 * One hit: where inside the store path the dependency's hash is, and the bytes around it as Nix shows them (up to
 * 32 bytes on each side in a file, the whole target of a symlink). The webview shows the same record, so its type
 * is the protocol's.
 */
export type ReferenceHit = PreciseHit;

export interface PreciseOptions {
  /** Every occurrence in every file; by default the first one in each file, as Nix shows. */
  readonly allHits?: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Bytes read at a time (default 1 MiB); tests make it small to put hits across chunk boundaries. */
  readonly chunkSize?: number;
}

/**
 * The files of `referrer` (a store path on this machine) that contain each of `dependencies`' hashes, in the
 * order Nix visits them. The result has an entry, possibly empty, for every dependency.
 */
export async function findReferences(
  referrer: string,
  dependencies: readonly string[],
  options: PreciseOptions = {},
): Promise<Map<string, ReferenceHit[]>> {
  const hashes = dependencies.map(hashOf);
  const needles = hashes.map((h) => Buffer.from(h, 'latin1'));
  const result = new Map<string, ReferenceHit[]>(dependencies.map((d) => [d, []]));
  const listOf = dependencies.map((d) => result.get(d)!);
  const scan: ScanOptions = { allHits: options.allHits, chunkSize: options.chunkSize, signal: options.signal };

  const visit = async (abs: string, rel: string): Promise<void> => {
    options.signal?.throwIfAborted();
    const st = await fs.lstat(abs);
    const shown = rel === '' ? '/' : rel;
    if (st.isDirectory()) {
      for (const name of sortedByBytes(await fs.readdir(abs))) await visit(path.join(abs, name), relJoin(rel, name));
    } else if (st.isSymbolicLink()) {
      const target = await fs.readlink(abs, { encoding: 'buffer' });
      for (let h = 0; h < needles.length; h++) {
        for (let p = target.indexOf(needles[h]!); p >= 0; p = target.indexOf(needles[h]!, p + 1)) {
          listOf[h]!.push({
            file: shown,
            kind: 'symlink',
            offset: p,
            before: printable(target.subarray(0, p)),
            hash: hashes[h]!,
            after: printable(target.subarray(p + HASH_LENGTH)),
          });
          if (!options.allHits) break;
        }
      }
    } else if (st.isFile()) {
      const file = await fs.open(abs, 'r');
      try {
        for (const hit of await scanFile(file, st.size, needles, scan)) {
          listOf[hit.hashIndex]!.push({
            file: shown,
            kind: 'file',
            offset: hit.offset,
            before: printable(hit.before),
            hash: hashes[hit.hashIndex]!,
            after: printable(hit.after),
          });
        }
      } finally {
        await file.close();
      }
    }
  };

  try {
    await visit(referrer, '');
  } catch (e) {
    throw readError(e, referrer, options.signal);
  }
  return result;
}

/** Nix's `filterPrintable`: bytes outside printable ASCII become `.`, so no snippet can move a cursor. */
export function printable(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.';
  return s;
}

/** A snippet as one line, the way Nix prints a hit (without colours): `…before HASH after…`. */
export function snippetText(hit: ReferenceHit): string {
  const body = `${hit.before}${hit.hash}${hit.after}`;
  return hit.kind === 'symlink' ? `${hit.file} -> ${body}` : `${hit.file}: …${body}…`;
}

export { SNIPPET_MARGIN };

function hashOf(storePath: string): string {
  const base = baseName(storePath);
  if (!isStoreBaseName(base)) {
    throw new ClosureLensError('invalid-path', `${storePath} is not a store path`, {
      fix: 'give a path of the form /nix/store/<hash>-<name>',
    });
  }
  return base.slice(0, HASH_LENGTH);
}

/** Nix prints the store path's own root as `/` and everything below it relative. */
function relJoin(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

/** Directory entries in byte order, the order Nix lists a directory in. */
function sortedByBytes(names: string[]): string[] {
  return names
    .map((n) => ({ n, b: Buffer.from(n) }))
    .sort((x, y) => Buffer.compare(x.b, y.b))
    .map((x) => x.n);
}

function readError(e: unknown, referrer: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) {
    return new ClosureLensError('cancelled', 'the search for references was cancelled', {
      cause: e,
      fix: 'run it again when you need it',
    });
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' && (e as NodeJS.ErrnoException).path === referrer) {
    return new ClosureLensError('file-not-found', `${referrer} is not on this machine`, {
      cause: e,
      fix: `--precise reads the store path's files: realise it first (nix-store --realise ${referrer}), or ask on the machine that has it`,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new ClosureLensError(
      'store-unavailable',
      `cannot read ${(e as NodeJS.ErrnoException).path}: permission denied`,
      {
        cause: e,
        fix: 'run as a user who can read the Nix store',
      },
    );
  }
  return e;
}
