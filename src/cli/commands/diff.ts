/** `closure-lens diff <before> <after>` (or `--git REV`): what changed between two closures, and why. */
import { diffClosures } from '../../core/diff/diff';
import { renderDiffJson, renderDiffMarkdown, renderDiffText } from '../../core/diff/report';
import { operandAtRevision, type DiffOperand } from '../../core/diff/targets';
import { parseCommandArgs, usageError } from '../args';
import { loadBuilt, type CliContext, type Subcommand } from '../context';
import { resolveCliOperand } from '../targets';
import { attributionOrigins } from './attributionOrigins';

export const DIFF_USAGE = `closure-lens diff <before> <after> [--json | --markdown]
closure-lens diff --git <rev>[..<rev2>] <installable> [--json | --markdown]

Compares two closures: package version changes, count changes, additions and removals grouped by
package name, size deltas, and why each added path is there.
  <before>, <after>   an installable (.#name), a store path, a profile generation
                      (/nix/var/nix/profiles/system-41-link), ./result, or a closure .json file
  --git REV           the installable at git revision REV against the working tree
  --git REV1..REV2    the installable at two git revisions (e.g. HEAD~1..HEAD)
  --options           name the NixOS option definition behind each added path (evaluates the
                      configuration once more; for .#nixosConfigurations.<host> targets)
  --all-rebuilt       list every rebuilt package, also those that changed by less than 8 KiB
  --json              machine-readable output
  --markdown          Markdown (for a pull-request comment)
`;

export async function runDiffCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, DIFF_USAGE, {
    json: { type: 'boolean' },
    markdown: { type: 'boolean' },
    git: { type: 'string' },
    options: { type: 'boolean' },
    'all-rebuilt': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    ctx.stdout(DIFF_USAGE);
    return 0;
  }
  if (values.json && values.markdown) throw usageError('choose one of --json and --markdown', DIFF_USAGE);
  const operands: DiffOperand[] = [];
  try {
    if (values.git !== undefined) {
      if (positionals.length !== 1) throw usageError('--git takes exactly one installable', DIFF_USAGE);
      const installable = positionals[0]!;
      const [from, to] = values.git.split('..', 2) as [string, string | undefined];
      if (!from) throw usageError(`--git '${values.git}' names no revision`, DIFF_USAGE);
      operands.push(
        await operandAtRevision(installable, from, { cwd: ctx.cwd, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
      );
      if (to)
        operands.push(
          await operandAtRevision(installable, to, { cwd: ctx.cwd, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
        );
      else {
        const work = resolveCliOperand(installable, ctx.cwd);
        operands.push({ ...work, label: `${installable} (working tree)` });
      }
    } else {
      if (positionals.length !== 2) throw usageError(`diff takes two closures, got ${positionals.length}`, DIFF_USAGE);
      for (const p of positionals) operands.push(resolveCliOperand(p, ctx.cwd));
    }
    const [before, after] = operands as [DiffOperand, DiffOperand];
    const a = await loadBuilt(before.target, ctx);
    const b = await loadBuilt(after.target, ctx);
    const origin = values.options ? await attributionOrigins(after.target, b, ctx) : await ctx.origin?.(after.target);
    const diff = diffClosures(
      { graph: a.analysis.graph, label: before.label },
      { graph: b.analysis.graph, label: after.label },
      origin ? { origin } : {},
    );
    if (values.json) ctx.stdout(renderDiffJson(diff));
    else if (values.markdown) ctx.stdout(renderDiffMarkdown(diff));
    else ctx.stdout(renderDiffText(diff, { color: ctx.color ?? false, allRebuilt: values['all-rebuilt'] ?? false }));
    return 0;
  } finally {
    await Promise.all(operands.map((o) => o.dispose()));
  }
}

export const diffCommand: Subcommand = {
  summary: 'what changed between two closures, and why each added path is there',
  usage: DIFF_USAGE,
  run: runDiffCommand,
};
