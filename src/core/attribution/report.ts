/**
 * `closure-lens options <flake>#nixosConfigurations.<name>`: which option definitions put what in the
 * closure, with file, line and cost. The command's logic and its renderers (JSON and text) live here;
 * src/cli.ts only lists the command.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ClosureAnalysis } from '../analysis/closure';
import { defaultCacheDir } from '../load/graphCache';
import type { LoadedClosure, Target } from '../load/engine';
import { ClosureLensError, isClosureLensError } from '../errors';
import { formatBytes, renderTable } from '../../shared/format';
import { NixRunner } from '../nix/runner';
import type { Definition, OptionAttribution } from './attribute';
import type { CounterfactualCost } from './counterfactual';
import { parseConfigurationInstallable } from './evaluate';
import { AttributionService } from './service';

export const OPTIONS_USAGE = `closure-lens options <flake>#nixosConfigurations.<name> [--json] [--top N] [--counterfactual] [--defaults]

Links the closure of a NixOS (or home-manager, nix-darwin) configuration to the option definitions that put
each path there: option, file and line (mapped from the flake's store copy back to your files), the store
paths each definition carries, and its removal cost (the bytes the closure loses without it). The system must
be built (nix build <flake>#nixosConfigurations.<name>.config.system.build.toplevel); nothing is built here.
  <flake>#nixosConfigurations.<name>
                      also homeConfigurations.<name> and darwinConfigurations.<name>
  --top N             text: show the N most costly definitions (default 25)
  --counterfactual    also evaluate the configuration once without each definition of your own files that
                      carries no store path (boot.initrd.supportedFilesystems = [ "zfs" ]), for its real cost
  --defaults          also read options that only their default defines (systemd.package, …): costs then
                      count paths that a default also carries; slow on a real NixOS (every package option's
                      default is evaluated)
  --json              print {"toplevel", "evalSeconds", "definitions": [{"option", "file", "line", "paths",
                      "removalCost", "costMethod", ...}],
                      "paths": {"/nix/store/…": [definition index, nearest first]}}
                      removalCost: the bytes the closure loses when the derivation built from the
                      option's value (system-path, a profile) no longer references the paths only this
                      definition carries ("edge-cut"), or, where no such derivation is found, when those
                      paths are removed outright ("node-removal", may be too high)
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
  if (values.counterfactual) {
    for (const d of attribution.definitions) {
      if (!d.inWorkspace || d.nodes.length > 0 || d.fromDefault) continue;
      try {
        counterfactuals.set(
          d.id,
          await service.counterfactual(attribution, d.id, { cwd: ctx.cwd, includeDefaults, ...signal }),
        );
      } catch (e) {
        // One definition that cannot be taken out (a submodule option of nixpkgs before 25.11) costs only its own row.
        if (!isClosureLensError(e) || e.code === 'cancelled' || e.code === 'timeout') throw e;
        counterfactuals.set(d.id, { error: e.message });
      }
    }
  }
  const report = {
    attribution,
    analysis: loaded.analysis,
    evalMs: ev.evalMs,
    fromCache: ev.fromCache,
    counterfactuals,
  };
  if (values.json) ctx.stdout(JSON.stringify(optionsJson(report)) + '\n');
  else ctx.stdout(renderOptionsText(report, { top, cwd: ctx.cwd }));
  return 0;
}

/** A counterfactual cost, or why it could not be computed. */
export type CounterfactualResult = CounterfactualCost | { readonly error: string };

export interface OptionsReport {
  readonly attribution: OptionAttribution;
  readonly analysis: ClosureAnalysis;
  readonly evalMs: number;
  readonly fromCache: boolean;
  readonly counterfactuals: ReadonlyMap<number, CounterfactualResult>;
}

export interface OptionsJson {
  toplevel: string;
  closureSize: number;
  evalSeconds: number;
  evalFromCache: boolean;
  definitions: {
    option: string;
    file: string;
    line: number | null;
    column: number | null;
    /** The definition is in the flake's own files. */
    inWorkspace: boolean;
    /** The option's default, matched to the closure by package name (see --defaults for exact paths). */
    fromDefault: boolean;
    /** Store paths of the closure that the definition's value carries. */
    paths: string[];
    removalCost: number;
    /**
     * How removalCost was estimated, for definitions that carry paths: 'edge-cut' (the references from the
     * derivation built from the option's value, such as system-path, are cut: exact for package lists) or
     * 'node-removal' (no such derivation found: the paths are taken out with every reference to them, so
     * the cost may be too high when something else still references one).
     */
    costMethod?: 'edge-cut' | 'node-removal';
    /** Paths only this definition carries. */
    exclusivePaths: number;
    /** For an option that enables a module: the combined cost of the definitions of the declaring file(s). */
    moduleCost?: { files: string[]; bytes: number };
    /** With --counterfactual: evaluated without the definition. */
    counterfactual?: { removedBytes: number; addedPaths: string[]; removedPaths: number } | { error: string };
  }[];
  paths: Record<string, number[]>;
}

/** The report as JSON: every definition, and for every closure path the definitions that reach it. */
export function optionsJson(r: OptionsReport): OptionsJson {
  const a = r.attribution;
  const g = a.graph;
  const paths: Record<string, number[]> = {};
  for (let i = 0; i < g.nodeCount; i++) {
    if (g.isVirtual(i)) continue;
    const reaching = a.reachingDefinitions(i);
    if (reaching.length > 0) paths[g.paths[i]!] = reaching.map((x) => x.id);
  }
  return {
    toplevel: g.paths[g.root]!,
    closureSize: r.analysis.totalSize,
    evalSeconds: Math.round(r.evalMs) / 1000,
    evalFromCache: r.fromCache,
    definitions: a.definitions.map((d) => {
      const mod = isModuleSwitch(d) ? a.moduleCost(d.option) : undefined;
      const cf = r.counterfactuals.get(d.id);
      return {
        option: d.option,
        file: d.file,
        line: d.line,
        column: d.column,
        inWorkspace: d.inWorkspace,
        fromDefault: d.fromDefault,
        paths: d.nodes.map((i) => g.paths[i]!),
        removalCost: a.removalCost(d.id),
        ...(d.nodes.length > 0 ? { costMethod: a.costMethod(d.id) } : {}),
        exclusivePaths: a.exclusiveNodes(d.id).length,
        ...(mod ? { moduleCost: { files: [...mod.files], bytes: mod.bytes } } : {}),
        ...(cf
          ? {
              counterfactual:
                'error' in cf
                  ? { error: cf.error }
                  : { removedBytes: cf.bytes, addedPaths: [...cf.addedPaths], removedPaths: cf.lostNodes.length },
            }
          : {}),
      };
    }),
    paths,
  };
}

/** `services.nginx.enable = true` and friends: a boolean that switches a module on. */
function isModuleSwitch(d: Definition): boolean {
  return d.type === 'bool' && d.loc[d.loc.length - 1] === 'enable' && d.nodes.length === 0;
}

export function renderOptionsText(r: OptionsReport, opts: { top: number; cwd: string }): string {
  const a = r.attribution;
  const g = a.graph;
  const where = (d: Definition): string => {
    const file = displayFile(opts.cwd, d.file);
    const at = d.line === null ? file : `${file}:${d.line}`;
    return d.fromDefault ? `${at} (default)` : at;
  };
  const names = (d: Definition): string => {
    const shown = d.nodes.slice(0, 3).map((i) => g.name(i).name);
    return d.nodes.length > 3 ? `${shown.join(', ')} +${d.nodes.length - 3}` : shown.join(', ');
  };
  const withPaths = a.definitions.filter((d) => d.nodes.length > 0 && d.option.length > 0);
  const byCost = [...withPaths].sort((x, y) => a.removalCost(y.id) - a.removalCost(x.id) || x.id - y.id);
  const shown = byCost.slice(0, opts.top);
  const lines = [
    `${g.paths[g.root]}`,
    `closure ${formatBytes(r.analysis.totalSize)} in ${g.pathCount} paths; ${a.definitions.length} option definitions read in ${(r.evalMs / 1000).toFixed(1)} s${r.fromCache ? ' (cached)' : ''}`,
    '',
    'COST = what the closure loses without the definition (paths that another definition also carries stay).',
    '',
    ...renderTable(
      [
        ['COST', 'OPTION', 'DEFINED AT', 'CARRIES'],
        ...shown.map((d) => [formatBytes(a.removalCost(d.id)), d.option, where(d), names(d)]),
      ],
      ['right', 'left', 'left', 'left'],
    ),
  ];
  if (byCost.length > shown.length)
    lines.push(`… ${byCost.length - shown.length} more definitions (--top N shows more)`);

  const switches = a.definitions.filter((d) => d.inWorkspace && d.nodes.length === 0 && !d.fromDefault);
  if (switches.length > 0) {
    lines.push('', 'Your definitions that carry no store path (they switch modules on or configure them):');
    const rows = [['OPTION', 'DEFINED AT', 'COST']];
    for (const d of switches) {
      const cf = r.counterfactuals.get(d.id);
      const mod = isModuleSwitch(d) ? a.moduleCost(d.option) : undefined;
      let cost = '-';
      if (cf && 'error' in cf) {
        cost = `not measured: ${cf.error.split('\n')[0]!.slice(0, 100)}`;
      } else if (cf) {
        cost = cf.unchanged ? 'changes nothing' : formatBytes(cf.bytes);
        if (cf.addedPaths.length > 0)
          cost += ` (brings back ${cf.addedPaths.map((p) => p.slice(p.lastIndexOf('/') + 34)).join(', ')})`;
      } else if (mod) {
        cost = `${formatBytes(mod.bytes)} (module ${mod.files.map((f) => displayFile(opts.cwd, f)).join(', ')})`;
      }
      rows.push([d.option, where(d), cost]);
    }
    lines.push(...renderTable(rows, ['left', 'left', 'left']));
    if (r.counterfactuals.size === 0)
      lines.push('(--counterfactual evaluates the configuration without each of them for its real cost)');
  }
  return lines.join('\n') + '\n';
}

/** A file below the working directory relative to it; a store file shortened; others as they are. */
function displayFile(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
  return shortStoreFile(file);
}

/** `/nix/store/<hash>-source/nixos/modules/x.nix` → `nixos/modules/x.nix`: the file within its source. */
function shortStoreFile(file: string): string {
  const m = /^\/nix\/store\/[0-9a-z]{32}-[^/]+\/(.*)$/.exec(file);
  return m ? m[1]! : file;
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
