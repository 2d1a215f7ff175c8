/**
 * `closure-lens options <configuration>`: which option definitions put what in a closure, with file, line and cost.
 * The report comes from core (src/core/attribution/report.ts); this command parses its arguments, builds the
 * configuration first with `--build`, and prints the report as text or JSON.
 */
import type * as ReportModule from '../../core/attribution/report';
import { buildableInstallable } from '../../core/diff/targets';
import { parseConfigurationInstallable } from '../../core/attribution/evaluate';
import { ClosureLensError, isClosureLensError } from '../../core/errors';
import { parseCommandArgs, positiveInt, usageError } from '../args';
import { printUsage, signalOpt, type CliContext, type Subcommand } from '../context';
import { BUILD_HELP, refuseBarePathFlakeRef } from '../targets';

// Evaluation code (and execa) loads when the command first runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const report = (): typeof ReportModule => require('../../core/attribution/report') as typeof ReportModule;

const OPTIONS_USAGE = `closure-lens options <flake>#nixosConfigurations.<name> [--json] [--top N] [--fast] [--defaults]

Links the closure of a NixOS (or home-manager, nix-darwin) configuration to the option definitions that put
each path there: option, file and line (mapped from the flake's store copy back to your files), the store
paths each definition carries, and its removal cost (the bytes the closure loses without it). The system must
be built (nix build <flake>#nixosConfigurations.<name>.config.system.build.toplevel); --build builds it first.
  <flake>#nixosConfigurations.<name>
                      also homeConfigurations.<name> and darwinConfigurations.<name>
  --top N             text: show the N most costly definitions (default 25)
  --fast              do not measure the true cost of your definitions: by default the configuration is
                      evaluated without each definition of your own files, and without each element of
                      their lists (each its own row, with its line; all in one nix evaluation, not
                      built), which costs switches (boot.initrd.supportedFilesystems = [ "zfs" ],
                      services.x.enable) and values that flow through other options; --fast keeps the graph
                      estimates (edge-cut), which are 0 for a definition that carries no store path itself
  --counterfactual    accepted for compatibility: measuring is the default
  --defaults          also read options that only their default defines (systemd.package, …): costs then
                      count paths that a default also carries; slow on a real NixOS (every package option's
                      default is evaluated)
  --json              print {"toplevel", "evalSeconds", "definitions": [{"option", "file", "line", "paths",
                      "removalCost", "costMethod", "mechanism", "elements": [{"text", "line", "column",
                      "paths", "removalCost", ...}], ...}], "ranking": [definition index, ...],
                      "rows": [{"definition", "element"?, "removalCost", "costMethod"}, ...] (the table),
                      "paths": {"/nix/store/…": [definition index, yours first, nearest first]},
                      "causes": {"/nix/store/…": [{"definition", "kind": "carries"|"enables", "distance",
                      "mechanism"}]}}
                      removalCost: the best known cost: "counterfactual" (measured without the
                      definition), else "edge-cut" (the derivation built from the option's value, such as
                      system-path, no longer references the paths only this definition carries) or
                      "node-removal" (those paths removed outright, may be too high)
${BUILD_HELP}
`;

async function runOptions(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS_USAGE, {
    json: { type: 'boolean' },
    top: { type: 'string' },
    counterfactual: { type: 'boolean' },
    fast: { type: 'boolean' },
    defaults: { type: 'boolean' },
    build: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return printUsage(ctx, OPTIONS_USAGE);
  if (positionals.length !== 1) {
    throw usageError('options takes one configuration, e.g. .#nixosConfigurations.host', OPTIONS_USAGE);
  }
  const installable = positionals[0]!;
  const top = values.top === undefined ? 25 : positiveInt(values.top, '--top');
  refuseBarePathFlakeRef(installable, ctx.cwd);
  parseConfigurationInstallable(installable); // a usage error before any nix call
  if (values.build && ctx.realise) {
    await ctx.realise(buildableInstallable(installable), { cwd: ctx.cwd, ...signalOpt(ctx) });
  }
  let made: ReportModule.OptionsReport;
  try {
    made = await report().optionsReport(installable, {
      cwd: ctx.cwd,
      load: ctx.load,
      ...signalOpt(ctx),
      ...(ctx.nix !== undefined && { nix: ctx.nix }),
      ...(ctx.cacheDir !== undefined && { cacheDir: ctx.cacheDir }),
      includeDefaults: values.defaults === true,
      fast: values.fast === true,
      onNote: ctx.stderr,
    });
  } catch (e) {
    if (!isClosureLensError(e, 'not-built')) throw e;
    throw new ClosureLensError(e.code, e.message, { fix: `run the command again with --build, or ${e.fix}`, cause: e });
  }
  if (values.json) ctx.stdout(JSON.stringify(report().optionsJson(made)) + '\n');
  else ctx.stdout(report().renderOptionsText(made, { top, cwd: ctx.cwd }));
  return 0;
}

export const optionsCommand: Subcommand = {
  summary: 'which NixOS option definitions put what in a closure, with file, line and cost',
  usage: OPTIONS_USAGE,
  run: runOptions,
};
