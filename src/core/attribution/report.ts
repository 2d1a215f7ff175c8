/**
 * `closure-lens options <flake>#nixosConfigurations.<name>`: which option definitions put what in the
 * closure, with file, line and cost. The command's logic and its renderers (JSON and text) live here;
 * src/cli.ts only lists the command.
 */
import { parseArgs } from 'node:util';
import { defaultCacheDir } from '../load/graphCache';
import type { LoadedClosure, Target } from '../load/engine';
import { ClosureLensError, isClosureLensError } from '../errors';
import { NixRunner } from '../nix/runner';
import { userDefinitions } from './counterfactualService';
import { parseConfigurationInstallable } from './evaluate';
import { optionsJson, renderOptionsText, type CounterfactualResult, type OptionsReport } from './optionsRender';
import { AttributionService } from './service';

export * from './optionsRender';

export const OPTIONS_USAGE = `closure-lens options <flake>#nixosConfigurations.<name> [--json] [--top N] [--fast] [--defaults]

Links the closure of a NixOS (or home-manager, nix-darwin) configuration to the option definitions that put
each path there: option, file and line (mapped from the flake's store copy back to your files), the store
paths each definition carries, and its removal cost (the bytes the closure loses without it). The system must
be built (nix build <flake>#nixosConfigurations.<name>.config.system.build.toplevel); nothing is built here.
  <flake>#nixosConfigurations.<name>
                      also homeConfigurations.<name> and darwinConfigurations.<name>
  --top N             text: show the N most costly definitions (default 25)
  --fast              do not measure the true cost of your definitions: by default the configuration is
                      evaluated without each definition of your own files (all in one nix evaluation, not
                      built), which costs switches (boot.initrd.supportedFilesystems = [ "zfs" ],
                      services.x.enable) and values that flow through other options; --fast keeps the graph
                      estimates (edge-cut), which are 0 for a definition that carries no store path itself
  --counterfactual    accepted for compatibility: measuring is the default
  --defaults          also read options that only their default defines (systemd.package, …): costs then
                      count paths that a default also carries; slow on a real NixOS (every package option's
                      default is evaluated)
  --json              print {"toplevel", "evalSeconds", "definitions": [{"option", "file", "line", "paths",
                      "removalCost", "costMethod", "mechanism", ...}], "ranking": [definition index, ...],
                      "paths": {"/nix/store/…": [definition index, yours first, nearest first]},
                      "causes": {"/nix/store/…": [{"definition", "kind": "carries"|"enables", "distance",
                      "mechanism"}]}}
                      removalCost: the best known cost: "counterfactual" (measured without the
                      definition), else "edge-cut" (the derivation built from the option's value, such as
                      system-path, no longer references the paths only this definition carries) or
                      "node-removal" (those paths removed outright, may be too high)
`;

/** What the command needs beyond the CLI context: the nix runner and the cache (injected by tests). */
export interface OptionsCommandDeps {
  readonly nix?: NixRunner;
  readonly cacheDir?: string | null;
}

interface OptionsContext {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly signal?: AbortSignal;
  readonly load: (target: Target, opts: { signal?: AbortSignal }) => Promise<LoadedClosure>;
  /** Set by the CLI when it offers its runner (honours --nix and --timeout). */
  readonly nix?: NixRunner;
  /** Set by the CLI from --cache-dir (a directory) and --no-cache (null). */
  readonly cacheDir?: string | null;
}

export async function runOptionsCommand(
  argv: string[],
  ctx: OptionsContext,
  deps: OptionsCommandDeps = {},
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean' },
        top: { type: 'string' },
        counterfactual: { type: 'boolean' },
        fast: { type: 'boolean' },
        defaults: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw usageError((e instanceof Error ? e.message : String(e)).split(/\. (?=To specify)/)[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    ctx.stdout(OPTIONS_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw usageError('options takes one configuration, e.g. .#nixosConfigurations.host');
  const installable = positionals[0]!;
  const top = values.top === undefined ? 25 : Number(values.top);
  if (!Number.isInteger(top) || top <= 0) throw usageError(`--top needs a positive whole number, got '${values.top}'`);
  parseConfigurationInstallable(installable); // a usage error before any nix call

  const nix = deps.nix ?? ctx.nix ?? new NixRunner();
  const cacheDir =
    deps.cacheDir !== undefined ? deps.cacheDir : ctx.cacheDir !== undefined ? ctx.cacheDir : defaultCacheDir();
  const service = new AttributionService(nix, cacheDir ? { cacheDir } : {});
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  const includeDefaults = values.defaults === true;
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
  let counterfactualMs: number | undefined;
  if (!values.fast) {
    const mine = userDefinitions(attribution);
    if (mine.length > 0) {
      ctx.stderr(
        `measuring what each of your ${mine.length} definitions costs (one nix evaluation; --fast skips this)\n`,
      );
      const started = performance.now();
      const results = await service.measure(
        attribution,
        mine.map((d) => ({ definition: d.id })),
        { cwd: ctx.cwd, ...signal },
      );
      for (const r of results.values()) counterfactuals.set(r.target.definition, r.cost ?? { error: r.error! });
      counterfactualMs = performance.now() - started;
    }
  }
  const report: OptionsReport = {
    attribution,
    analysis: loaded.analysis,
    evalMs: ev.evalMs,
    fromCache: ev.fromCache,
    counterfactuals,
    ...(counterfactualMs !== undefined ? { counterfactualMs } : {}),
  };
  if (values.json) ctx.stdout(JSON.stringify(optionsJson(report)) + '\n');
  else ctx.stdout(renderOptionsText(report, { top, cwd: ctx.cwd }));
  return 0;
}

function toplevelInstallable(installable: string): string {
  const t = parseConfigurationInstallable(installable);
  const attr = t.attrPath.join('.');
  if (t.attrPath[0] === 'nixosConfigurations') return `${t.flakeRef}#${attr}.config.system.build.toplevel`;
  if (t.attrPath[0] === 'homeConfigurations') return `${t.flakeRef}#${attr}.activationPackage`;
  return `${t.flakeRef}#${attr}.system`;
}

function usageError(message: string): ClosureLensError {
  return new ClosureLensError('bad-installable', message, { fix: 'see `closure-lens options --help`' });
}
