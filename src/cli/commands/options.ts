/**
 * `closure-lens options <configuration>`: the command lives in core (src/core/attribution/report.ts, with its
 * renderers); the CLI adds only `--build`, which builds the configuration's toplevel before the command runs.
 */
import type * as ReportModule from '../../core/attribution/report';
import { buildableInstallable } from '../../core/diff/targets';
import { parseConfigurationInstallable } from '../../core/attribution/evaluate';
import { printUsage, signalOpt, type CliContext, type Subcommand } from '../context';
import { BUILD_HELP, refuseBarePathFlakeRef } from '../targets';

// Evaluation code (and execa) loads when the command first runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const report = (): typeof ReportModule => require('../../core/attribution/report') as typeof ReportModule;

async function runOptions(argv: string[], ctx: CliContext): Promise<number> {
  const rest = argv.filter((a) => a !== '--build');
  if (rest.includes('--help') || rest.includes('-h')) return printUsage(ctx, optionsCommand.usage);
  if (rest.length < argv.length && ctx.realise) {
    // Only a configuration is built; anything else is left to the command's own message.
    const installable = rest.find((a, k) => !a.startsWith('-') && rest[k - 1] !== '--top');
    if (installable !== undefined) {
      parseConfigurationInstallable(installable);
      refuseBarePathFlakeRef(installable, ctx.cwd);
      await ctx.realise(buildableInstallable(installable), { cwd: ctx.cwd, ...signalOpt(ctx) });
    }
  }
  return report().runOptionsCommand(rest, ctx);
}

export const optionsCommand: Subcommand = {
  summary: 'which NixOS option definitions put what in a closure, with file, line and cost',
  get usage() {
    return report().OPTIONS_USAGE.replace(/\n$/, `\n${BUILD_HELP}\n`);
  },
  run: runOptions,
};
