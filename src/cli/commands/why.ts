/** `closure-lens why <target> <dependency>`: a chain, or the why-graph (--all), of references; --precise files. */
import * as path from 'node:path';
import type { ClosureAnalysis } from '../../core/analysis/closure';
import { ClosureLensError } from '../../core/errors';
import { baseName, isStoreBaseName } from '../../shared/storePath';
import { parseCommandArgs, positiveInt, usageError } from '../args';
import { loadOrBuild, printUsage, signalOpt, type CliContext, type Subcommand } from '../context';
import { findReferences, type ReferenceHit } from '../../core/precise';
import {
  edgeKey,
  preciseJson,
  realEdges,
  renderPreciseChainText,
  renderWhyGraphText,
  stringifyWithBigInts,
  whyGraphJson,
} from '../render/whyGraph';
import { describeRoot } from '../render/common';
import { renderWhyText, whyJson, whyNote } from '../render/why';
import { BUILD_HELP, TARGET_HELP, targetFrom } from '../targets';

export const WHY_USAGE = `closure-lens why <target> <dependency> [--all] [--precise] [--limit N] [--json] [--build]

Shows why <target> depends on <dependency>: a shortest chain of references, or with --all every path on
any chain (the why-graph, drawn like nix why-depends --all: each path once, repeats marked [...]).
${TARGET_HELP}
  <dependency>        a store path, or a name in the closure (perl, perl-5.38.2, /regex/)
  --all               the why-graph: every path on some chain and every reference between them
  --precise           for each reference, the files inside the referrer that hold it and the bytes around
                      it (reads the store paths' files, so they must be on this machine)
  --all-hits          with --precise, every occurrence in each file, not just the first
  --limit N           most chains to list in --all --json (default 100; never cuts paths or references)
  --json              print {"version", "root", "dependency", "chains": [[root, ..., dependency], ...], "truncated"};
                      with --all also "nodes", "edges": [[from, to], ...] and "chainCount" (exact, or
                      "too many to count"); with --precise "precise": [{"from", "to", "files": [...]}]
${BUILD_HELP}
`;

export async function runWhy(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, WHY_USAGE, {
    all: { type: 'boolean' },
    precise: { type: 'boolean' },
    'all-hits': { type: 'boolean' },
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
  if (values['all-hits'] && !values['precise']) throw usageError('--all-hits goes with --precise', WHY_USAGE);
  const loaded = await loadOrBuild(target.target, ctx, values['build'] === true);
  const a = loaded.analysis;
  const dep = resolveDependency(a, rest[0]!, loaded.rootPath);
  const precise = values['precise'] === true ? { allHits: values['all-hits'] === true } : undefined;
  if (values['all']) return runWhyGraph(a, loaded.rootPath, dep, limit, precise, values['json'] === true, ctx);
  const set = a.why(dep, { limit });
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
  const chain = set.chains[0]!;
  const edges: [number, number][] = [];
  for (let k = 1; k < chain.length; k++) if (!a.graph.isVirtual(chain[k - 1]!)) edges.push([chain[k - 1]!, chain[k]!]);
  const hits = precise ? await findEdgeHits(a, edges, precise.allHits, ctx) : undefined;
  if (values['json']) {
    const json = whyJson(a, loaded.rootPath, dep, set);
    ctx.stdout(JSON.stringify(hits ? { ...json, precise: preciseJson(a, edges, hits) } : json) + '\n');
  } else {
    ctx.stdout(hits ? renderPreciseChainText(a, chain, { hits, color: ctx.color }) : renderWhyText(a, set));
    const note = whyNote(set, false);
    if (note) ctx.stderr(note);
  }
  return 0;
}

/** `why --all`: the why-graph, never cut; --limit bounds the listed chains only. */
async function runWhyGraph(
  a: ClosureAnalysis,
  rootPath: string,
  dep: number,
  limit: number,
  precise: { allHits: boolean } | undefined,
  json: boolean,
  ctx: CliContext,
): Promise<number> {
  const wg = a.whyGraph(dep, { limit });
  if (wg.nodes.length === 0) {
    throw new ClosureLensError('invalid-path', `${describeRoot(rootPath)} does not depend on ${a.graph.paths[dep]}`, {
      fix: 'pick a dependency from `closure-lens closure` of this target',
    });
  }
  const hits = precise ? await findEdgeHits(a, realEdges(a, wg), precise.allHits, ctx) : undefined;
  if (json) ctx.stdout(stringifyWithBigInts(whyGraphJson(a, rootPath, wg, hits)) + '\n');
  // nothing is left out of the drawing, so there is nothing to note on stderr
  else ctx.stdout(renderWhyGraphText(a, wg, { color: ctx.color, ...(hits ? { hits } : {}) }));
  return 0;
}

/** Reads each referrer once for all of its edges' hashes, as Nix does. */
async function findEdgeHits(
  a: ClosureAnalysis,
  edges: readonly [number, number][],
  allHits: boolean,
  ctx: CliContext,
): Promise<Map<string, ReferenceHit[]>> {
  const byReferrer = new Map<number, number[]>();
  for (const [u, v] of edges) {
    const list = byReferrer.get(u);
    if (list) list.push(v);
    else byReferrer.set(u, [v]);
  }
  const hits = new Map<string, ReferenceHit[]>();
  const g = a.graph;
  for (const [u, deps] of byReferrer) {
    const found = await findReferences(
      g.paths[u]!,
      deps.map((v) => g.paths[v]!),
      { allHits, ...signalOpt(ctx) },
    );
    for (const v of deps) hits.set(edgeKey(u, v), found.get(g.paths[v]!)!);
  }
  return hits;
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
  if (r.kind === 'invalid-regex') {
    throw new ClosureLensError('invalid-path', r.message, {
      fix: 'fix the pattern (RE2 syntax: no backreferences or lookaround), or give a name such as perl',
    });
  }
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
