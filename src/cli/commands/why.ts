/** `closure-lens why <target> <dependency>`: chains of references, drawn like nix why-depends. */
import * as path from 'node:path';
import type { ClosureAnalysis } from '../../core/analysis/closure';
import { ClosureLensError } from '../../core/errors';
import { baseName, isStoreBaseName } from '../../shared/storePath';
import { parseCommandArgs, positiveInt, usageError } from '../args';
import { loadOrBuild, printUsage, type CliContext, type Subcommand } from '../context';
import { describeRoot } from '../render/common';
import { renderWhyText, whyJson, whyNote } from '../render/why';
import { BUILD_HELP, TARGET_HELP, targetFrom } from '../targets';

export const WHY_USAGE = `closure-lens why <target> <dependency> [--all] [--limit N] [--json] [--build]

Shows why <target> depends on <dependency>, as chains of references (drawn like nix why-depends).
${TARGET_HELP}
  <dependency>        a store path, or a name in the closure (perl, perl-5.38.2, /regex/)
  --all               list every chain, shortest first (up to --limit)
  --limit N           most chains to list with --all (default 100)
  --json              print {"version", "root", "dependency", "chains": [[root, ..., dependency], ...], "truncated"}
${BUILD_HELP}
`;

export async function runWhy(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, WHY_USAGE, {
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    limit: { type: 'string' },
    build: { type: 'boolean' },
    'from-json': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return printUsage(ctx, WHY_USAGE);
  const target = targetFrom(positionals, values['from-json'] as string | undefined, 1, ctx, WHY_USAGE);
  const rest = positionals.slice(target.fromPositional ? 1 : 0);
  if (rest.length !== 1) {
    throw usageError(
      rest.length === 0
        ? 'why needs a dependency (a store path or a name such as perl)'
        : 'why takes one target and one dependency',
      WHY_USAGE,
    );
  }
  const limit = values['limit'] === undefined ? 100 : positiveInt(values['limit'] as string, '--limit');
  const loaded = await loadOrBuild(target.target, ctx, values['build'] === true);
  const a = loaded.analysis;
  const dep = resolveDependency(a, rest[0]!, loaded.rootPath);
  const set = a.why(dep, { all: values['all'] === true, limit });
  if (set.chains.length === 0) {
    // Cannot happen for a closure loaded from its root, but a multi-root JSON file could be inconsistent.
    throw new ClosureLensError(
      'invalid-path',
      `${describeRoot(loaded.rootPath)} does not depend on ${a.graph.paths[dep]}`,
      {
        fix: 'pick a dependency from `closure-lens closure` of this target',
      },
    );
  }
  if (values['json']) ctx.stdout(JSON.stringify(whyJson(a, loaded.rootPath, dep, set)) + '\n');
  else {
    ctx.stdout(renderWhyText(a, set));
    const note = whyNote(set, values['all'] === true);
    if (note) ctx.stderr(note);
  }
  return 0;
}

/** A store path or a name (perl, perl-5.38.2, /re/) → one node of the closure, or a user error. */
export function resolveDependency(a: ClosureAnalysis, spec: string, rootPath: string): number {
  const g = a.graph;
  const where = `the closure of ${describeRoot(rootPath)}`;
  // `/re/` is a name pattern unless it is a path into the store.
  const storeDir = path.dirname(g.paths[g.hasVirtualRoot ? 1 : 0] ?? '/nix/store/x');
  const isPattern = /^\/.+\/i?$/.test(spec) && !spec.startsWith(`${storeDir}/`);
  if (spec.startsWith('/') && !isPattern) {
    const storePath = spec.replace(/\/+$/, '');
    const base = baseName(storePath);
    const direct = g.indexOf(storePath);
    if (direct !== undefined && !g.isVirtual(direct)) return direct;
    if (!isStoreBaseName(base) || path.dirname(storePath) === '/') {
      throw new ClosureLensError(
        'invalid-path',
        `${spec} is not a store path (expected /nix/store/<32-character hash>-<name>)`,
        {
          fix: 'give a full store path from `closure-lens closure`, or a package name such as perl',
        },
      );
    }
    throw new ClosureLensError('invalid-path', `${spec} is not in ${where}`, {
      fix: `check the path; \`closure-lens closure <target> --top 100\` lists what is in it, or give a name such as ${nameHint(base)}`,
    });
  }
  const r = a.resolve(spec);
  if (r.kind === 'unique') return r.node;
  if (r.kind === 'none') {
    throw new ClosureLensError('invalid-path', `nothing named '${spec}' is in ${where}`, {
      fix: 'check the name (`closure-lens closure <target> --json` lists every path), or use /regex/',
    });
  }
  const listed = r.nodes.slice(0, 8).map((i) => g.paths[i]!);
  const more = r.nodes.length > listed.length ? `, and ${r.nodes.length - listed.length} more` : '';
  throw new ClosureLensError('invalid-path', `'${spec}' matches ${r.nodes.length} paths: ${listed.join(', ')}${more}`, {
    fix: `give one of them as a full store path, or a full name such as '${g.name(r.nodes[0]!).name}'`,
  });
}

function nameHint(base: string): string {
  const name = base.slice(33);
  return name ? `'${name}'` : 'perl';
}

export const whyCommand: Subcommand = {
  summary: 'why a closure contains a path (chains like nix why-depends)',
  usage: WHY_USAGE,
  run: runWhy,
};
