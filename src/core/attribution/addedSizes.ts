/**
 * The sizes of the paths that come back when a definition goes ("removing it brings back systemd-minimal:
 * +2.0 MiB"). A counterfactual is evaluated, not built, so a path that comes back is sized only when it is in
 * the store already (built before, or substituted): one `nix path-info --json` for all of them; the others are
 * null (unknown until built).
 */
import { parseClosureValue } from '../parse/closureJson';
import { parseNixJson } from '../nix/parseNixJson';
import type { NixRunner } from '../nix/runner';

/** The NAR size of each path, in order; null for a path that is not in the store (or when nix cannot say). */
export async function addedPathSizes(
  nix: NixRunner,
  paths: readonly string[],
  opts: { signal?: AbortSignal; cwd?: string } = {},
): Promise<(number | null)[]> {
  if (paths.length === 0) return [];
  try {
    const r = await nix.run(['path-info', '--json', '--', ...paths], opts);
    // Not a closure (their references are not listed): only the sizes are read.
    const parsed = parseClosureValue(
      parseNixJson(r.stdout, { what: '`nix path-info --json`' }),
      'nix path-info --json',
      {
        trustClosure: true,
      },
    );
    const sizes = new Map(parsed.records.map((rec) => [rec.path, rec.narSize]));
    return paths.map((p) => sizes.get(p) ?? null);
  } catch (e) {
    // Cancelled: the caller stops. Anything else (a newer nix that exits non-zero for a path not in the store):
    // the sizes are unknown, the cost itself stands.
    if (opts.signal?.aborted) throw e;
    return paths.map(() => null);
  }
}
