/**
 * Sizes of a flake output that is not built, from a binary cache instead of a build: evaluate the output's store
 * path, then ask each configured substituter for the whole closure (`nix path-info -r -s --json --store <url>`).
 * A substituter answers only when it has every path; otherwise the caller builds as usual.
 * No `vscode` import.
 */
import { isClosureLensError } from '../core/errors';
import { installableFor, type NixCommandRunner } from './flakeOutputs';

export interface QueryOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** The store path an output would have, by evaluation only (no build). */
export async function evalOutPath(
  nix: NixCommandRunner,
  flakeDir: string,
  attrPath: readonly string[],
  opts: QueryOptions = {},
): Promise<string> {
  const { stdout } = await nix.run(['eval', '--raw', installableFor([...attrPath, 'outPath'])], {
    cwd: flakeDir,
    ...opts,
  });
  const out = stdout.trim();
  if (!out.startsWith('/'))
    throw new Error(`nix eval printed no store path for ${attrPath.join('.')}: ${out.slice(0, 200)}`);
  return out;
}

/** The substituters Nix is configured with (`nix show-config --json`), in order. */
export async function configuredSubstituters(nix: NixCommandRunner, opts: QueryOptions = {}): Promise<string[]> {
  const { stdout } = await nix.run(['show-config', '--json'], opts);
  const config = JSON.parse(stdout) as Record<string, { value?: unknown } | undefined>;
  const value = config['substituters']?.value;
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/\s+/) : [];
  return list.filter((s): s is string => typeof s === 'string' && s !== '');
}

export interface SubstituterClosure {
  readonly substituter: string;
  /** `nix path-info -r -s --json` output, for the engine's parser. */
  readonly json: string;
}

/**
 * The closure of `outPath` from the first substituter that has all of it; undefined when none does.
 * Nix fails the query when a path is missing, which is what "has every path" means here.
 */
export async function closureFromSubstituters(
  nix: NixCommandRunner,
  outPath: string,
  substituters: readonly string[],
  opts: QueryOptions & { onMiss?: (substituter: string, why: string) => void } = {},
): Promise<SubstituterClosure | undefined> {
  for (const substituter of substituters) {
    try {
      const { stdout } = await nix.run(
        ['path-info', '--recursive', '--size', '--json', '--store', substituter, outPath],
        {
          signal: opts.signal,
          timeoutMs: opts.timeoutMs,
        },
      );
      return { substituter, json: stdout };
    } catch (err) {
      if (isClosureLensError(err, 'cancelled') || isClosureLensError(err, 'timeout')) throw err;
      opts.onMiss?.(substituter, err instanceof Error ? err.message : String(err));
    }
  }
  return undefined;
}
