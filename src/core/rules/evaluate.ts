/** Budgets and dependency rules evaluated against a loaded closure, each outcome at its place in the rules file. */
import type { ClosureGraph } from '../../shared/graph';
import { parseStorePath } from '../../shared/storePath';
import { shortestChain } from '../../shared/analysis/why';
import type { DuplicateGroup } from '../analysis/duplicates';
import type { OptionOrigin, OriginLookup } from '../diff/diff';
import type { ClosureIdentity } from './targets';
import {
  isRegexLiteral,
  ruleRegex,
  type CompressionCodec,
  type PatternEntry,
  type RuleKind,
  type Severity,
  type SourceSpan,
  type TargetRules,
} from './config';

/** What rule evaluation needs from a loaded closure; `ClosureAnalysis` provides it. */
export interface RuleSubject {
  readonly graph: ClosureGraph;
  duplicates(): DuplicateGroup[];
}

/** A store path that a list rule forbids, with why it is there. */
export interface ForbiddenHit {
  readonly path: string;
  readonly narSize: number;
  /** Shortest chain from the root to the path, both included. */
  readonly chain: readonly string[];
  readonly origin?: OptionOrigin;
}

export interface RuleOutcome {
  readonly rule: RuleKind;
  readonly broken: boolean;
  readonly severity: Severity;
  /** One line: `closure size 1.2 GiB exceeds 1 GiB`, `perl: 2 paths`. */
  readonly summary: string;
  /** Where the diagnostic goes: the rule key, or the list entry. */
  readonly span: SourceSpan;
  readonly actual?: number;
  readonly limit?: number;
  /** For list rules: the entry text. */
  readonly pattern?: string;
  readonly hits?: readonly ForbiddenHit[];
  /** Total hits when `hits` was capped. */
  readonly hitCount?: number;
  readonly duplicates?: readonly DuplicateGroup[];
}

export interface RulesReport {
  readonly rule: TargetRules;
  readonly closure: ClosureIdentity;
  readonly outcomes: readonly RuleOutcome[];
}

export interface EvaluateOptions {
  readonly origin?: OriginLookup;
  /** Chains computed per list entry; the rest are counted. */
  readonly maxHitsPerEntry?: number;
  /** Formats sizes in summaries (format.ts's formatBytes); plain bytes when absent. */
  readonly formatBytes?: (n: number) => string;
  /** Compressed closure size per codec, when estimated; `maxCompressedSize` budgets without one are not checked. */
  readonly compressedSizes?: Partial<Record<CompressionCodec, number>>;
}

export function evaluateRules(
  rule: TargetRules,
  closure: ClosureIdentity,
  subject: RuleSubject,
  opts: EvaluateOptions = {},
): RulesReport {
  const g = subject.graph;
  const fmt = opts.formatBytes ?? ((n: number) => `${n} B`);
  const outcomes: RuleOutcome[] = [];
  const severity = rule.severity;
  if (rule.maxClosureSize) {
    const actual = g.totalNarSize();
    const limit = rule.maxClosureSize.bytes;
    const broken = actual > limit;
    outcomes.push({
      rule: 'maxClosureSize',
      broken,
      severity,
      span: rule.maxClosureSize.span,
      actual,
      limit,
      summary: `closure size ${fmt(actual)} ${broken ? 'exceeds' : 'is within'} the budget of ${fmt(limit)} (${rule.maxClosureSize.text})`,
    });
  }
  for (const budget of rule.maxCompressedSize) {
    const actual = opts.compressedSizes?.[budget.codec];
    const limit = budget.bytes;
    if (actual === undefined) {
      outcomes.push({
        rule: 'maxCompressedSize',
        broken: false,
        severity,
        span: budget.span,
        limit,
        pattern: budget.codec,
        summary: `${budget.codec} size not estimated yet (closure-lens check does it; in the editor: Estimate compressed size)`,
      });
      continue;
    }
    const broken = actual > limit;
    outcomes.push({
      rule: 'maxCompressedSize',
      broken,
      severity,
      span: budget.span,
      actual,
      limit,
      pattern: budget.codec,
      summary: `${budget.codec} size ≈ ${fmt(actual)} ${broken ? 'exceeds' : 'is within'} the budget of ${fmt(limit)} (${budget.text})`,
    });
  }
  if (rule.maxPaths) {
    const actual = g.pathCount;
    const limit = rule.maxPaths.value;
    const broken = actual > limit;
    outcomes.push({
      rule: 'maxPaths',
      broken,
      severity,
      span: rule.maxPaths.span,
      actual,
      limit,
      summary: `${actual} store paths ${broken ? 'exceed' : 'are within'} the limit of ${limit}`,
    });
  }
  if (rule.maxDuplicates) {
    const ignored = new Set(rule.ignoreDuplicates);
    const groups = subject.duplicates().filter((d) => !ignored.has(d.pname));
    const limit = rule.maxDuplicates.value;
    const broken = groups.length > limit;
    const names = groups
      .slice(0, 8)
      .map((d) => `${d.pname} ×${d.paths.length}`)
      .join(', ');
    outcomes.push({
      rule: 'maxDuplicates',
      broken,
      severity,
      span: rule.maxDuplicates.span,
      actual: groups.length,
      limit,
      duplicates: groups,
      summary: `${groups.length} duplicated package${groups.length === 1 ? '' : 's'} (limit ${limit})${names ? `: ${names}${groups.length > 8 ? ', …' : ''}` : ''}`,
    });
  }
  const lists: [RuleKind, readonly PatternEntry[], (entry: string) => (path: string, pname: string) => boolean][] = [
    ['forbiddenDependencies', rule.forbiddenDependencies, nameMatcher],
    // As NixOS's system.forbiddenDependenciesRegexes: `grep -E` over the full store paths, so a match anywhere counts.
    [
      'forbiddenDependenciesRegexes',
      rule.forbiddenDependenciesRegexes,
      (re) => {
        const r = ruleRegex(re);
        return (path) => r.test(path);
      },
    ],
    ['mustBeAbsent', rule.mustBeAbsent, (s) => (path, pname) => path === s || pname === s],
  ];
  for (const [kind, entries, makeMatcher] of lists) {
    for (const entry of entries) {
      const match = makeMatcher(entry.text);
      const nodes: number[] = [];
      for (let i = 0; i < g.nodeCount; i++) {
        if (!g.isVirtual(i) && match(g.paths[i]!, g.name(i).pname)) nodes.push(i);
      }
      nodes.sort((x, y) => g.narSize[y]! - g.narSize[x]! || x - y);
      const cap = opts.maxHitsPerEntry ?? 20;
      const hits = nodes.slice(0, cap).map((i) => forbiddenHit(g, i, opts.origin));
      const broken = nodes.length > 0;
      outcomes.push({
        rule: kind,
        broken,
        severity,
        span: entry.span,
        pattern: entry.text,
        hits,
        hitCount: nodes.length,
        summary: broken
          ? `${entry.text}: ${nodes.length} forbidden path${nodes.length === 1 ? '' : 's'} in the closure (${hits
              .map((h) => parseStorePath(h.path).name)
              .slice(0, 3)
              .join(', ')}${nodes.length > 3 ? ', …' : ''})`
          : `${entry.text}: absent`,
      });
    }
  }
  // Reports list the rules in the order of the file.
  outcomes.sort((a, b) => a.span.offset - b.span.offset);
  return { rule, closure, outcomes };
}

/** `perl` matches the package name exactly; `/re/` searches the name (`<pname>-<version>-<output>`). */
function nameMatcher(entry: string): (path: string, pname: string) => boolean {
  if (isRegexLiteral(entry)) {
    const r = ruleRegex(entry.slice(1, -1));
    return (path) => r.test(parseStorePath(path).name);
  }
  return (_path, pname) => pname === entry;
}

function forbiddenHit(g: ClosureGraph, i: number, origin: OriginLookup | undefined): ForbiddenHit {
  const chainIdx = shortestChain(g, g.root, i) ?? [i];
  const o = origin?.(g, i, chainIdx);
  const hit: ForbiddenHit = {
    path: g.paths[i]!,
    narSize: g.narSize[i]!,
    chain: chainIdx.filter((j) => !g.isVirtual(j)).map((j) => g.paths[j]!),
  };
  return o ? { ...hit, origin: o } : hit;
}

export function brokenOutcomes(reports: readonly RulesReport[], severity?: Severity): RuleOutcome[] {
  return reports.flatMap((r) => r.outcomes.filter((o) => o.broken && (!severity || o.severity === severity)));
}
