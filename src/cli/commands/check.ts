/** `closure-lens check`: the budgets and dependency rules of .closure-lens.json, with exit codes for CI. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadedClosure } from '../../core/load/engine';
import { CompressionEstimator, type Codec } from '../../core/compression/compressedSize';
import { renderRulesMarkdown, renderRulesText } from '../../core/diff/report';
import { ClosureLensError } from '../../core/errors';
import {
  evaluateRules,
  isGlob,
  parseRulesConfig,
  ruleAppliesTo,
  RULES_FILE_NAME,
  type RulesReport,
  type TargetRules,
} from '../../core/rules';
import { formatBytes } from '../../shared/format';
import { parseStorePath } from '../../shared/storePath';
import { parseCommandArgs } from '../args';
import { errorLine, loadBuilt, type CliContext, type Subcommand } from '../context';
import { OUTPUT_VERSION, type CheckJson, type CheckReportJson } from '../outputs';
import { resolveCliOperand } from '../targets';
import { attributionOrigins } from './attributionOrigins';
import { sizeCacheOpt } from './compressed';

export const CHECK_USAGE = `closure-lens check [<target>...] [--config FILE] [--markdown FILE] [--json]

Checks the budgets and dependency rules of .closure-lens.json. Without targets, every rule whose
"target" is not a glob is built and checked; a broken rule shows the chain that breaks it. Exit codes
(for CI): 0 all rules hold; 1 a rule with severity "error" is broken; 3 it could not check (bad
arguments, a bad or missing rules file, a target that fails to build or evaluate: the message says
which); 2 an internal error.
  --config FILE       rules file (default: .closure-lens.json here or in a parent directory)
  --markdown FILE     also write a Markdown report (for a pull-request comment); - for stdout
  --options           name the NixOS option definition behind each forbidden path
  --json              print the results as JSON
In GitHub Actions (GITHUB_ACTIONS=true) each broken rule is also an annotation on its line.
`;

/** `.closure-lens.json` in `dir` or the nearest parent directory that has one. */
export function findRulesFile(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const f = path.join(d, RULES_FILE_NAME);
    if (fs.existsSync(f)) return f;
    if (path.dirname(d) === d) return undefined;
  }
}

export async function runCheckCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, CHECK_USAGE, {
    config: { type: 'string' },
    markdown: { type: 'string' },
    json: { type: 'boolean' },
    options: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
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
    const operand = resolveCliOperand(t, base);
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
  if (values.json) {
    const out: CheckJson = { version: OUTPUT_VERSION, config: configFile, reports: reports.map(jsonReport) };
    ctx.stdout(JSON.stringify(out, null, 2) + '\n');
  } else ctx.stdout(renderRulesText(reports, relConfig));
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
  ctx: CliContext,
): Promise<Partial<Record<Codec, number>> | undefined> {
  const codecs = [...new Set(rules.flatMap((r) => r.maxCompressedSize.map((b) => b.codec)))];
  if (codecs.length === 0) return undefined;
  const g = loaded.analysis.graph;
  const paths: { path: string; narSize: number }[] = [];
  for (let i = 0; i < g.nodeCount; i++) if (!g.isVirtual(i)) paths.push({ path: g.paths[i]!, narSize: g.narSize[i]! });
  const estimator = new CompressionEstimator({ codecs, ...sizeCacheOpt(ctx) });
  return (await estimator.estimate(paths, ctx.signal ? { signal: ctx.signal } : {})).totals;
}

function jsonReport(r: RulesReport): CheckReportJson {
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

/** Exit code of `check` when it could not check; 1 stays reserved for "a rule is broken". */
export const EXIT_COULD_NOT_CHECK = 3;

/** `check` with its exit codes: a problem that stopped the check (any ClosureLensError) is 3, not 1. */
async function runCheck(argv: string[], ctx: CliContext): Promise<number> {
  try {
    return await runCheckCommand(argv, ctx);
  } catch (e) {
    if (!(e instanceof ClosureLensError)) throw e; // an internal error stays 2
    ctx.stderr(errorLine(e, ctx.cacheDir));
    return EXIT_COULD_NOT_CHECK;
  }
}

export const checkCommand: Subcommand = {
  summary: 'check .closure-lens.json budgets and forbidden dependencies (exit 1 when broken, 3 when unable)',
  usage: CHECK_USAGE,
  run: runCheck,
};
