/** `closure-lens dups <target>`: packages in the closure more than once, and what each duplicate costs. */
import { parseCommandArgs, usageError } from '../args';
import { loadOrBuild, printUsage, type CliContext, type Subcommand } from '../context';
import { dupsJson, renderDupsText } from '../render/dups';
import { BUILD_HELP, TARGET_HELP, targetFrom } from '../targets';

export const DUPS_USAGE = `closure-lens dups <target> [--json] [--build]

Finds packages that are in the closure more than once (two versions, or variants such as systemd and
systemd-minimal) and what each duplicate costs.
${TARGET_HELP}
  --json              print {"version", "groups": [{"pname", "paths", "extraBytes"}]}
${BUILD_HELP}
`;

export async function runDups(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, DUPS_USAGE, {
    json: { type: 'boolean' },
    build: { type: 'boolean' },
    'from-json': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return printUsage(ctx, DUPS_USAGE);
  const target = targetFrom(positionals, values['from-json'] as string | undefined, 0, ctx, DUPS_USAGE);
  if (positionals.length > (target.fromPositional ? 1 : 0)) throw usageError('dups takes one target', DUPS_USAGE);
  const loaded = await loadOrBuild(target.target, ctx, values['build'] === true);
  if (values['json']) ctx.stdout(JSON.stringify(dupsJson(loaded.analysis)) + '\n');
  else ctx.stdout(renderDupsText(loaded.analysis));
  return 0;
}

export const dupsCommand: Subcommand = {
  summary: 'packages in a closure more than once, and what they cost',
  usage: DUPS_USAGE,
  run: runDups,
};
