/** Store paths as users give them: a path in the store, or a link into it (`./result`, `/run/current-system`). */
import { promises as fsp } from 'node:fs';
import { ClosureLensError } from '../errors';
import { isStoreBaseName } from '../../shared/storePath';

/**
 * A store path as the user gave it: `/nix/store/<hash>-<name>` (anything below it is cut off), or a link into
 * the store such as `./result` or `/run/current-system`, which is followed.
 */
export async function resolveStorePath(given: string): Promise<string> {
  const direct = storePathPrefix(given);
  if (direct) return direct;
  let real: string;
  try {
    real = await fsp.realpath(given);
  } catch {
    throw invalidStorePath(given);
  }
  const viaLink = storePathPrefix(real);
  if (!viaLink) throw invalidStorePath(given);
  return viaLink;
}

function storePathPrefix(p: string): string | undefined {
  if (!p.startsWith('/')) return undefined;
  const parts = p.split('/');
  for (let i = 2; i < parts.length; i++) {
    if (isStoreBaseName(parts[i]!) && parts.slice(1, i).every((s) => s !== '' && s !== '.' && s !== '..')) {
      const candidate = parts.slice(0, i + 1).join('/');
      // Only the default layout `<dir>/store/<base>` or a path whose parent is a store dir counts.
      if (parts[i - 1] === 'store') return candidate;
    }
  }
  return undefined;
}

function invalidStorePath(given: string): ClosureLensError {
  return new ClosureLensError(
    'invalid-path',
    `${given} is not a store path (/nix/store/<hash>-<name>) or a link to one`,
    {
      fix: 'give a path in the Nix store, a `result` link, /run/current-system, or a flake installable such as `.#hello`',
    },
  );
}
