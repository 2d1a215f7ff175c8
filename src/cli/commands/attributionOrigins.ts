/** `--options` for diff and check: the NixOS option definition behind each added or forbidden path. */
import * as path from 'node:path';
import { AttributionService } from '../../core/attribution/service';
import { parseConfigurationInstallable } from '../../core/attribution/evaluate';
import { originsFromAttribution, type OriginLookup } from '../../core/diff/diff';
import type { LoadedClosure, Target } from '../../core/load/engine';
import { NixRunner } from '../../core/nix/runner';
import type { CliContext } from '../context';

export /**
 * Option attribution for a loaded closure of a NixOS/home-manager/darwin configuration (one extra evaluation);
 * undefined with a warning for other targets.
 */
async function attributionOrigins(
  target: Target,
  loaded: LoadedClosure,
  ctx: CliContext,
): Promise<OriginLookup | undefined> {
  if (target.kind !== 'installable') {
    ctx.stderr(
      `warning: --options needs a flake configuration (.#nixosConfigurations.<host>), not a store path; showing chains only\n`,
    );
    return undefined;
  }
  try {
    parseConfigurationInstallable(target.installable);
  } catch (e) {
    ctx.stderr(`warning: ${(e as Error).message}; showing chains only\n`);
    return undefined;
  }
  const service = new AttributionService(ctx.nix ?? new NixRunner());
  const evaluation = await service.evaluate(target.installable, {
    ...(target.cwd ? { cwd: target.cwd } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const lookup = originsFromAttribution(service.attribute(evaluation, loaded.analysis.graph));
  // Files under the working directory read better relative, as compilers print them.
  return (g, node, chain) => {
    const o = lookup(g, node, chain);
    if (!o?.file || !path.isAbsolute(o.file)) return o;
    const rel = path.relative(ctx.cwd, o.file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? o : { ...o, file: rel };
  };
}
