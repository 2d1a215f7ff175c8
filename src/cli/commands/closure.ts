/** `closure-lens closure <target>`: the closure's size and its heaviest paths. */
import { parseCommandArgs, positiveInt, usageError } from '../args';
import { loadOrBuild, printUsage, type CliContext, type Subcommand } from '../context';
import { closureJsonPieces, renderClosureText } from '../render/closure';
import { BUILD_HELP, TARGET_HELP, targetFrom } from '../targets';

export const CLOSURE_USAGE = `closure-lens closure <target> [--json] [--top N] [--build]

Lists a closure: its total size and the paths that weigh most, by retained size (the bytes that would
leave the closure if nothing referenced the path any more).
${TARGET_HELP}
  --top N             show the N heaviest paths (default 20; with --json, all paths unless given)
  --json              print {"version", "root", "pathCount", "closureSize", "paths": [...]}
${BUILD_HELP}
`;

export async function runClosure(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, CLOSURE_USAGE, {
    json: { type: 'boolean' },
    top: { type: 'string' },
    build: { type: 'boolean' },
    'from-json': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return printUsage(ctx, CLOSURE_USAGE);
  const target = targetFrom(positionals, values['from-json'] as string | undefined, 0, ctx, CLOSURE_USAGE);
  if (positionals.length > (target.fromPositional ? 1 : 0)) throw usageError('closure takes one target', CLOSURE_USAGE);
  const top = values['top'] === undefined ? undefined : positiveInt(values['top'] as string, '--top');
  const loaded = await loadOrBuild(target.target, ctx, values['build'] === true);
  if (values['json']) for (const piece of closureJsonPieces(loaded.analysis, loaded.rootPath, top)) ctx.stdout(piece);
  else ctx.stdout(renderClosureText(loaded.analysis, loaded.rootPath, top ?? 20));
  return 0;
}

export const closureCommand: Subcommand = {
  summary: 'sizes of a closure and its heaviest paths',
  usage: CLOSURE_USAGE,
  run: runClosure,
};
