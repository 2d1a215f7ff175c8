/**
 * What an operand under /nix/store names, decided without nix: the CLI's targets (targets.ts) and the launcher's
 * prestart (prestart.ts) must agree on it, since the prestart guesses the command the engine will run. A small
 * module of its own: the launcher loads it before the CLI bundle.
 */
import * as fs from 'node:fs';
import { baseName, isStoreBaseName } from '../shared/storePath';

export type StoreOperand =
  /** The store path itself, or a path inside it that is no link out of it (as resolveOperand answers). */
  | { readonly kind: 'store-path'; readonly path: string }
  /** Under /nix/store, but its first component is no store name. */
  | { readonly kind: 'not-a-store-path' }
  /** Anything else (not under /nix/store, a link out of its store path, a .json file): another kind of operand. */
  | undefined;

export function storeOperand(spec: string): StoreOperand {
  if (!spec.startsWith('/nix/store/')) return undefined;
  const storePath = /^\/nix\/store\/[^/]+/.exec(spec)?.[0];
  if (storePath === undefined || !isStoreBaseName(baseName(storePath))) return { kind: 'not-a-store-path' };
  if (!fs.existsSync(spec)) return { kind: 'store-path', path: storePath };
  if (spec.endsWith('.json')) return undefined;
  const real = fs.realpathSync(spec);
  return real === storePath || real.startsWith(`${storePath}/`) ? { kind: 'store-path', path: storePath } : undefined;
}
