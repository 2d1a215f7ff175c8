/**
 * `closure-lens options <configuration>`: the command lives in core (src/core/attribution/report.ts, with its
 * renderers); the CLI adds only `--build`, which builds the configuration's toplevel before the command runs.
 */
import type * as ReportModule from '../../core/attribution/report';
import { buildableInstallable } from '../../core/diff/targets';
import { parseConfigurationInstallable } from '../../core/attribution/evaluate';
import { ClosureLensError, isClosureLensError } from '../../core/errors';
import { printUsage, signalOpt, type CliContext, type Subcommand } from '../context';
import { BUILD_HELP, refuseBarePathFlakeRef } from '../targets';

// Evaluation code (and execa) loads when the command first runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const report = (): typeof ReportModule => require('../../core/attribution/report') as typeof ReportModule;

async function runOptions(argv: string[], ctx: CliContext): Promise<number> {
  const rest = argv.filter((a) => a !== '--build');
  if (rest.includes('--help') || rest.includes('-h')) return printUsage(ctx, optionsCommand.usage);
  const installable = rest.find((a, k) => !a.startsWith('-') && rest[k - 1] !== '--top');
  if (installable !== undefined) refuseBarePathFlakeRef(installable, ctx.cwd);
  if (rest.length < argv.length && ctx.realise && installable !== undefined) {
    // Only a configuration is built; anything else is left to the command's own message.
    parseConfigurationInstallable(installable);
    await ctx.realise(buildableInstallable(installable), { cwd: ctx.cwd, ...signalOpt(ctx) });
  }
  try {
    return await report().runOptionsCommand(rest, ctx);
  } catch (e) {
    if (!isClosureLensError(e, 'not-built')) throw e;
    throw new ClosureLensError(e.code, e.message, { fix: `run the command again with --build, or ${e.fix}`, cause: e });
  }
}

export const optionsCommand: Subcommand = {
  summary: 'which NixOS option definitions put what in a closure, with file, line and cost',
  get usage() {
    // The core's text says the system must be built already; the CLI can build it.
    return report()
      .OPTIONS_USAGE.replace('; nothing is built here.', '; --build builds it first.')
      .replace(/\n$/, `\n${BUILD_HELP}\n`);
  },
  run: runOptions,
};
