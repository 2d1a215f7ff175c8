/**
 * `closure-lens diff` and `closure-lens check`: argument handling and output for the CLI. The CLI's command
 * table calls these; everything they compute comes from diff.ts, rules.ts and the engine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { AttributionService } from '../core/attribution/service';
import { parseConfigurationInstallable } from '../core/attribution/evaluate';
import { diffClosures, originsFromAttribution, type OriginLookup } from '../core/diff/diff';
import { NixRunner } from '../core/nix/runner';
import {
  renderDiffJson,
  renderDiffMarkdown,
  renderDiffText,
  renderRulesMarkdown,
  renderRulesText,
} from '../core/diff/report';
import { operandAtRevision, resolveOperand, type DiffOperand } from '../core/diff/targets';
import type { LoadedClosure, Target } from '../core/load/engine';
import { CODECS, CompressionEstimator, narinfoSizes, type Codec } from '../core/compression/compressedSize';
import { ClosureLensError } from '../core/errors';
import { formatBytes, renderTable } from '../shared/format';
import { parseStorePath } from '../shared/storePath';
import {
  evaluateRules,
  isGlob,
  parseRulesConfig,
  ruleAppliesTo,
  RULES_FILE_NAME,
  type RulesReport,
  type TargetRules,
} from '../core/rules/rules';

/** What the commands need from the CLI around them. */
export interface CommandContext {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly signal?: AbortSignal;
  /** Loads a closure through the engine (cache, progress and nix errors handled there). */
  readonly load: (target: Target, opts: { signal?: AbortSignal }) => Promise<LoadedClosure>;
  /** Option attribution for added and forbidden paths, once it is available for a target. */
  readonly origin?: (target: Target) => Promise<OriginLookup | undefined>;
  /** Colour for terminals. */
  readonly color?: boolean;
  /** The runner for option attribution (`--options`); a default `nix` runner when absent. */
  readonly nix?: NixRunner;
  /**
   * Builds an installable (ClosureEngine.realise). Without it an installable that is not built yet fails with
   * a 'not-built' error; a git revision's outputs usually are not built.
   */
  readonly realise?: (installable: string, opts: { cwd?: string; signal?: AbortSignal }) => Promise<string[]>;
}

/** Builds an installable first when the CLI can, then loads its closure. */
async function loadBuilt(target: Target, ctx: CommandContext): Promise<LoadedClosure> {
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  if (target.kind === 'installable' && ctx.realise) {
    await ctx.realise(target.installable, { ...(target.cwd ? { cwd: target.cwd } : {}), ...signal });
  }
  return ctx.load(target, signal);
}

/**
 * Option attribution for a loaded closure of a NixOS/home-manager/darwin configuration (one extra evaluation);
 * undefined with a warning for other targets.
 */
async function attributionOrigins(
  target: Target,
  loaded: LoadedClosure,
  ctx: CommandContext,
): Promise<OriginLookup | undefined> {
  if (target.kind !== 'installable') {
    ctx.stderr(
      `warning: --options needs a flake configuration (.#nixosConfigurations.<host>), not a store path; showing chains only\n`,
    );
    return undefined;
  }
  try {
    parseConfigurationInstallable(target.installable);
  } catch (e) {
    ctx.stderr(`warning: ${(e as Error).message}; showing chains only\n`);
    return undefined;
  }
  const service = new AttributionService(ctx.nix ?? new NixRunner());
  const evaluation = await service.evaluate(target.installable, {
    ...(target.cwd ? { cwd: target.cwd } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const lookup = originsFromAttribution(service.attribute(evaluation, loaded.analysis.graph));
  // Files under the working directory read better relative, as compilers print them.
  return (g, node, chain) => {
    const o = lookup(g, node, chain);
    if (!o?.file || !path.isAbsolute(o.file)) return o;
    const rel = path.relative(ctx.cwd, o.file);
    return rel.startsWith('..') || path.isAbsolute(rel) ? o : { ...o, file: rel };
  };
}

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

export const CHECK_USAGE = `closure-lens check [<target>...] [--config FILE] [--markdown FILE] [--json]

Checks the budgets and dependency rules of .closure-lens.json. Without targets, every rule whose
"target" is not a glob is built and checked; a broken rule shows the chain that breaks it. Exit code
0: all rules hold; 1: a rule with severity "error" is broken, or the configuration or a build is
wrong (the message says which); 2: an internal error.
  --config FILE       rules file (default: .closure-lens.json here or in a parent directory)
  --markdown FILE     also write a Markdown report (for a pull-request comment); - for stdout
  --options           name the NixOS option definition behind each forbidden path
  --json              print the results as JSON
In GitHub Actions (GITHUB_ACTIONS=true) each broken rule is also an annotation on its line.
`;

function usageError(message: string, usage: string): ClosureLensError {
  return new ClosureLensError('bad-installable', message, { fix: `usage:\n${usage}` });
}

export async function runDiffCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      markdown: { type: 'boolean' },
      git: { type: 'string' },
      options: { type: 'boolean' },
      'all-rebuilt': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
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
        const work = resolveOperand(installable, ctx.cwd);
        operands.push({ ...work, label: `${installable} (working tree)` });
      }
    } else {
      if (positionals.length !== 2) throw usageError(`diff takes two closures, got ${positionals.length}`, DIFF_USAGE);
      for (const p of positionals) operands.push(resolveOperand(p, ctx.cwd));
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

/** `.closure-lens.json` in `dir` or the nearest parent directory that has one. */
export function findRulesFile(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const f = path.join(d, RULES_FILE_NAME);
    if (fs.existsSync(f)) return f;
    if (path.dirname(d) === d) return undefined;
  }
}

export async function runCheckCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      markdown: { type: 'string' },
      json: { type: 'boolean' },
      options: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    ctx.stdout(CHECK_USAGE);
    return 0;
  }
  const configFile = values.config ? path.resolve(ctx.cwd, values.config) : findRulesFile(ctx.cwd);
  if (!configFile || !fs.existsSync(configFile)) {
    throw new ClosureLensError(
      'file-not-found',
      values.config
        ? `the rules file ${values.config} does not exist`
        : `no ${RULES_FILE_NAME} here or in a parent directory`,
      {
        fix: `create ${RULES_FILE_NAME} with {"rules": [{"target": ".#name", "maxClosureSize": "1 GiB"}]}, or pass --config FILE`,
      },
    );
  }
  const relConfig = path.relative(ctx.cwd, configFile) || configFile;
  const config = parseRulesConfig(fs.readFileSync(configFile, 'utf8'));
  if (config.problems.length > 0) {
    for (const p of config.problems) ctx.stderr(`${relConfig}:${p.span.line}:${p.span.column}: ${p.message}\n`);
    throw new ClosureLensError('invalid-config', `${relConfig} has ${config.problems.length} problem(s)`, {
      fix: `fix the lines listed above (the JSON schema gives completion in the editor)`,
    });
  }
  // Targets in the file are relative to the file, as a flake reference in it would be read.
  const configDir = path.dirname(configFile);
  const targets =
    positionals.length > 0
      ? positionals
      : [...new Set(config.rules.filter((r) => !isGlob(r.target)).map((r) => r.target))];
  if (targets.length === 0) {
    throw new ClosureLensError('invalid-config', `${relConfig} names no concrete target and none was given`, {
      fix: 'pass the targets to check (`closure-lens check .#web`), or give a rule a "target" without * or ?',
    });
  }
  const reports: RulesReport[] = [];
  for (const t of targets) {
    const base = positionals.length > 0 ? ctx.cwd : configDir;
    const operand = resolveOperand(t, base);
    const loaded = await loadBuilt(operand.target, ctx);
    const id = {
      ...(operand.installable ? { installable: operand.installable, cwd: base } : {}),
      rootPath: loaded.rootPath,
    };
    const rules = config.rules.filter((r) => ruleAppliesTo(r, id, configDir));
    if (rules.length === 0) ctx.stderr(`warning: no rule in ${relConfig} applies to ${t}\n`);
    const wantsOrigins = rules.some(
      (r) => r.forbiddenDependencies.length + r.forbiddenDependenciesRegexes.length + r.mustBeAbsent.length > 0,
    );
    const origin = !wantsOrigins
      ? undefined
      : values.options
        ? await attributionOrigins(operand.target, loaded, ctx)
        : await ctx.origin?.(operand.target);
    const compressedSizes = await compressedSizesFor(rules, loaded, ctx);
    for (const r of rules) {
      reports.push(
        evaluateRules(r, id, loaded.analysis, {
          formatBytes: (n) => formatBytes(n),
          ...(origin ? { origin } : {}),
          ...(compressedSizes ? { compressedSizes } : {}),
        }),
      );
    }
  }
  if (values.json)
    ctx.stdout(JSON.stringify({ version: 1, config: configFile, reports: reports.map(jsonReport) }, null, 2) + '\n');
  else ctx.stdout(renderRulesText(reports, relConfig));
  // In GitHub Actions, each broken rule also becomes an annotation on its line of the rules file.
  if (process.env['GITHUB_ACTIONS'] === 'true' && !values.json) {
    for (const r of reports) {
      for (const o of r.outcomes.filter((x) => x.broken)) {
        const text = `${r.rule.name ?? r.rule.target}: ${o.summary}${o.hits?.[0] ? ` — ${o.hits[0].chain.map((p) => parseStorePath(p).name).join(' → ')}` : ''}`;
        ctx.stdout(
          `::${o.severity === 'error' ? 'error' : 'warning'} file=${relConfig},line=${o.span.line},col=${o.span.column},title=closure-lens ${o.rule}::${text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n`,
        );
      }
    }
  }
  if (values.markdown !== undefined) {
    const md = renderRulesMarkdown(reports, relConfig);
    if (values.markdown === '-') ctx.stdout(md);
    else fs.writeFileSync(path.resolve(ctx.cwd, values.markdown), md);
  }
  return reports.some((r) => r.outcomes.some((o) => o.broken && o.severity === 'error')) ? 1 : 0;
}

/** The compressed sizes that `maxCompressedSize` budgets ask for (cached per store path), or undefined. */
async function compressedSizesFor(
  rules: readonly TargetRules[],
  loaded: LoadedClosure,
  ctx: CommandContext,
): Promise<Partial<Record<Codec, number>> | undefined> {
  const codecs = [...new Set(rules.flatMap((r) => r.maxCompressedSize.map((b) => b.codec)))];
  if (codecs.length === 0) return undefined;
  const g = loaded.analysis.graph;
  const paths: { path: string; narSize: number }[] = [];
  for (let i = 0; i < g.nodeCount; i++) if (!g.isVirtual(i)) paths.push({ path: g.paths[i]!, narSize: g.narSize[i]! });
  const estimator = new CompressionEstimator({ codecs, cacheFile: sizeCacheFile() });
  return (await estimator.estimate(paths, ctx.signal ? { signal: ctx.signal } : {})).totals;
}

function jsonReport(r: RulesReport): unknown {
  return {
    target: r.rule.target,
    name: r.rule.name,
    closure: r.closure,
    outcomes: r.outcomes.map((o) => ({
      rule: o.rule,
      broken: o.broken,
      severity: o.severity,
      summary: o.summary,
      line: o.span.line,
      column: o.span.column,
      actual: o.actual,
      limit: o.limit,
      pattern: o.pattern,
      hitCount: o.hitCount,
      hits: o.hits,
      duplicates: o.duplicates?.map((d) => ({ pname: d.pname, count: d.paths.length, extraBytes: d.extraBytes })),
    })),
  };
}

export const COMPRESSED_USAGE = `closure-lens compressed <target> [--codec zstd,xz,gzip] [--zstd-level N] [--xz-level N]
                        [--binary-cache URL] [--top N] [--json]

Estimates the compressed size of a closure, as images are sized (a zstd initrd or UKI, an xz ISO):
each store path's NAR (nix-store --dump) goes through the system zstd and xz (gzip: node's zlib).
Results are cached per store path in $XDG_CACHE_HOME/closure-lens/compressed-sizes.json.
  <target>              an installable (.#name), a store path, or a link into the store (./result)
  --codec LIST          codecs to run (default zstd,xz)
  --zstd-level N        default 19; --xz-level N default 6; --gzip-level N default 9
  --binary-cache URL    read narinfo FileSize from a binary cache (https://… or file:///…) instead
  --concurrency N       paths compressed at once (default: half the CPUs)
  --top N               list the N paths that weigh most compressed (default 10)
  --json                print {"narSize", "totals", "levels", "paths": [...]}
`;

function sizeCacheFile(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  return path.join(
    xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'),
    'closure-lens',
    'compressed-sizes.json',
  );
}

function wholeNumber(v: string | undefined, flag: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) {
    throw new ClosureLensError(
      'bad-installable',
      `${flag} needs a whole number${min > 0 ? ` of at least ${min}` : ''}, got '${v}'`,
      { fix: `write it as, e.g., ${flag} ${Math.max(min, 3)}` },
    );
  }
  return Number(v);
}

export async function runCompressedCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      codec: { type: 'string' },
      'zstd-level': { type: 'string' },
      'xz-level': { type: 'string' },
      'gzip-level': { type: 'string' },
      'binary-cache': { type: 'string' },
      concurrency: { type: 'string' },
      top: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    ctx.stdout(COMPRESSED_USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw usageError(`compressed takes one target, got ${positionals.length}`, COMPRESSED_USAGE);
  const codecs = (values.codec ?? 'zstd,xz').split(',').map((c) => c.trim()) as Codec[];
  for (const c of codecs) {
    if (!CODECS.includes(c))
      throw usageError(`unknown codec '${c}'; the codecs are ${CODECS.join(', ')}`, COMPRESSED_USAGE);
  }
  const top = wholeNumber(values.top, '--top') ?? 10;
  const operand = resolveOperand(positionals[0]!, ctx.cwd);
  const loaded = await loadBuilt(operand.target, ctx);
  const g = loaded.analysis.graph;
  const paths: { path: string; narSize: number }[] = [];
  for (let i = 0; i < g.nodeCount; i++) if (!g.isVirtual(i)) paths.push({ path: g.paths[i]!, narSize: g.narSize[i]! });
  const narSize = paths.reduce((s, p) => s + p.narSize, 0);

  if (values['binary-cache'] !== undefined) {
    const sizes = await narinfoSizes(
      values['binary-cache'],
      paths.map((p) => p.path),
      ctx.signal ? { signal: ctx.signal } : {},
    );
    if (values.json) {
      ctx.stdout(
        JSON.stringify(
          {
            narSize,
            cache: values['binary-cache'],
            fileSize: sizes.fileSize,
            cachedNarSize: sizes.narSize,
            compressions: Object.fromEntries(sizes.compressions),
            missing: sizes.missing,
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      const methods = [...sizes.compressions].map(([c, n]) => `${c} ×${n}`).join(', ') || 'none';
      ctx.stdout(`${operand.label}: ${paths.length} paths, NAR size ${formatBytes(narSize)}\n`);
      ctx.stdout(
        `In ${values['binary-cache']}: ${sizes.perPath.size} paths, ${formatBytes(sizes.fileSize)} compressed (${methods}) for ${formatBytes(sizes.narSize)} of NAR\n`,
      );
      if (sizes.missing.length > 0)
        ctx.stdout(
          `Not in the cache: ${sizes.missing.length} paths (${sizes.missing
            .slice(0, 3)
            .map((p) => parseStorePath(p).name)
            .join(', ')}${sizes.missing.length > 3 ? ', …' : ''})\n`,
        );
    }
    return 0;
  }

  const levels: Partial<Record<Codec, number>> = {};
  const zl = wholeNumber(values['zstd-level'], '--zstd-level', 1);
  const xl = wholeNumber(values['xz-level'], '--xz-level');
  const gl = wholeNumber(values['gzip-level'], '--gzip-level', 1);
  if (zl !== undefined) levels.zstd = zl;
  if (xl !== undefined) levels.xz = xl;
  if (gl !== undefined) levels.gzip = gl;
  const concurrency = wholeNumber(values.concurrency, '--concurrency', 1);
  const estimator = new CompressionEstimator({
    codecs,
    levels,
    cacheFile: sizeCacheFile(),
    ...(concurrency ? { concurrency } : {}),
  });
  const result = await estimator.estimate(paths, ctx.signal ? { signal: ctx.signal } : {});
  const ranked = [...paths].sort(
    (a, b) => result.perPath.get(b.path)![codecs[0]!]! - result.perPath.get(a.path)![codecs[0]!]!,
  );
  if (values.json) {
    ctx.stdout(
      JSON.stringify(
        {
          root: loaded.rootPath,
          narSize,
          totals: result.totals,
          levels: Object.fromEntries(codecs.map((c) => [c, result.levels[c]])),
          paths: ranked.map((p) => ({ path: p.path, narSize: p.narSize, ...result.perPath.get(p.path) })),
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const pct = (n: number) => (narSize > 0 ? `${((100 * n) / narSize).toFixed(1)}%` : '');
  const rows = [
    ['NAR size', formatBytes(narSize), ''],
    ...codecs.map((c) => [`${c} -${result.levels[c]}`, `≈ ${formatBytes(result.totals[c]!)}`, pct(result.totals[c]!)]),
  ];
  ctx.stdout(
    `${operand.label}: ${paths.length} paths (compressed per store path; ${result.cachedPaths} from the cache)\n`,
  );
  ctx.stdout(renderTable(rows, ['left', 'right', 'right']).join('\n') + '\n');
  if (top > 0) {
    ctx.stdout(`\nHeaviest after ${codecs[0]} compression:\n`);
    const tableRows = ranked
      .slice(0, top)
      .map((p) => [
        parseStorePath(p.path).name,
        formatBytes(p.narSize),
        ...codecs.map((c) => formatBytes(result.perPath.get(p.path)![c]!)),
      ]);
    ctx.stdout(
      renderTable([['path', 'NAR', ...codecs], ...tableRows], ['left', 'right', ...codecs.map(() => 'right' as const)])
        .map((l) => `  ${l}`)
        .join('\n') + '\n',
    );
  }
  return 0;
}

/** The entries of the CLI's command table. */
export const DIFF_SUBCOMMANDS = {
  diff: {
    summary: 'what changed between two closures, and why each added path is there',
    usage: DIFF_USAGE,
    run: runDiffCommand,
  },
  check: {
    summary: 'check .closure-lens.json budgets and forbidden dependencies (exit 1 when broken)',
    usage: CHECK_USAGE,
    run: runCheckCommand,
  },
  compressed: {
    summary: 'estimated zstd/xz size of a closure (per-path NARs, or a binary cache)',
    usage: COMPRESSED_USAGE,
    run: runCompressedCommand,
  },
} as const;
