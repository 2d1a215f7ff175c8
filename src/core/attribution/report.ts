/**
 * The options report of a configuration: which option definitions put what in its closure, with file, line and
 * cost (measured without each of the user's definitions unless `fast`). The `closure-lens options` command
 * (src/cli/commands/options.ts) parses its arguments and prints the report with the renderers of optionsRender.ts.
 */
import { defaultCacheDir } from '../load/graphCache';
import type { LoadedClosure, Target } from '../load/engine';
import { ClosureLensError, isClosureLensError } from '../errors';
import { NixRunner } from '../nix/runner';
import { targetKey, userDefinitions, userTargets } from './counterfactualService';
import { parseConfigurationInstallable } from './evaluate';
import type { CounterfactualResult, OptionsReport } from './optionsRender';
import { AttributionService } from './service';

export * from './optionsRender';

/** What the report needs: where to evaluate, how to load the closure, nix, the cache, and where notes go. */
export interface OptionsReportOptions {
  readonly cwd: string;
  readonly signal?: AbortSignal;
  readonly load: (target: Target, opts: { signal?: AbortSignal }) => Promise<LoadedClosure>;
  /** Default: a NixRunner of its own. */
  readonly nix?: NixRunner;
  /** A directory, or null for no cache; default defaultCacheDir(). */
  readonly cacheDir?: string | null;
  /** Also read options that only their default defines. */
  readonly includeDefaults?: boolean;
  /** Keep the graph estimates: no counterfactual evaluation. */
  readonly fast?: boolean;
  /** A line for the user while the report is made (e.g. that measuring runs). */
  readonly onNote?: (text: string) => void;
}

export async function optionsReport(installable: string, ctx: OptionsReportOptions): Promise<OptionsReport> {
  parseConfigurationInstallable(installable); // a usage error before any nix call
  const nix = ctx.nix ?? new NixRunner();
  const cacheDir = ctx.cacheDir !== undefined ? ctx.cacheDir : defaultCacheDir();
  const service = new AttributionService(nix, cacheDir ? { cacheDir } : {});
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  const includeDefaults = ctx.includeDefaults === true;
  const ev = await service.evaluate(installable, { cwd: ctx.cwd, includeDefaults, ...signal });
  const root = ev.root?.outPath;
  if (!root) {
    throw new ClosureLensError(
      'bad-installable',
      `${installable} has no toplevel to measure (no config.system.build.toplevel, activationPackage or system)`,
      {
        fix: 'name a NixOS, home-manager or nix-darwin configuration',
      },
    );
  }
  let loaded: LoadedClosure;
  try {
    loaded = await ctx.load({ kind: 'store-path', path: root }, signal);
  } catch (e) {
    if (isClosureLensError(e, 'invalid-path') || isClosureLensError(e, 'file-not-found')) {
      throw new ClosureLensError(
        'not-built',
        `the configuration ${installable} is not built (${root} is not in the store)`,
        {
          fix: `build it first: nix build --no-link '${toplevelInstallable(installable)}'`,
          cause: e,
        },
      );
    }
    throw e;
  }
  const attribution = service.attribute(ev, loaded.analysis.graph);
  const counterfactuals = new Map<number, CounterfactualResult>();
  const elementCounterfactuals = new Map<string, CounterfactualResult>();
  let counterfactualMs: number | undefined;
  if (!ctx.fast) {
    const mine = userDefinitions(attribution);
    const targets = userTargets(attribution);
    if (mine.length > 0) {
      const parts = targets.length - mine.length;
      ctx.onNote?.(
        `measuring what each of your ${mine.length} definitions${parts > 0 ? ` and ${parts} list elements` : ''} costs (one nix evaluation; --fast skips this)\n`,
      );
      const started = performance.now();
      const results = await service.measure(attribution, targets, { cwd: ctx.cwd, ...signal });
      for (const r of results.values()) {
        const result = r.cost ?? { error: r.error! };
        if (r.target.element === undefined) counterfactuals.set(r.target.definition, result);
        else elementCounterfactuals.set(targetKey(r.target), result);
      }
      counterfactualMs = performance.now() - started;
    }
  }
  return {
    attribution,
    analysis: loaded.analysis,
    evalMs: ev.evalMs,
    fromCache: ev.fromCache,
    counterfactuals,
    elementCounterfactuals,
    ...(counterfactualMs !== undefined ? { counterfactualMs } : {}),
  };
}

function toplevelInstallable(installable: string): string {
  const t = parseConfigurationInstallable(installable);
  const attr = t.attrPath.join('.');
  if (t.attrPath[0] === 'nixosConfigurations') return `${t.flakeRef}#${attr}.config.system.build.toplevel`;
  if (t.attrPath[0] === 'homeConfigurations') return `${t.flakeRef}#${attr}.activationPackage`;
  return `${t.flakeRef}#${attr}.system`;
}
