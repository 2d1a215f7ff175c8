/** Every diagnostic of one rules file for the editor: its own mistakes, and the rules the loaded closures break. */
import { parseStorePath } from '../../shared/storePath';
import type { OriginLookup } from '../diff/diff';
import { parseRulesConfig, type CompressionCodec, type RuleKind, type Severity, type SourceSpan } from './config';
import { evaluateRules, type RuleOutcome, type RuleSubject } from './evaluate';
import { ruleAppliesTo, type ClosureIdentity } from './targets';

/** A loaded closure as the editor knows it, for checking rules files against. */
export interface CheckedClosure {
  readonly id: ClosureIdentity;
  readonly subject: RuleSubject;
  readonly origin?: OriginLookup;
  readonly compressedSizes?: Partial<Record<CompressionCodec, number>>;
}

export interface RuleDiagnostic {
  readonly span: SourceSpan;
  readonly severity: Severity;
  /** The rule kind, or 'config' for a mistake in the file itself. */
  readonly code: RuleKind | 'config';
  readonly message: string;
  /** Where the options behind forbidden paths are defined, when attribution knows. */
  readonly related: readonly { readonly file: string; readonly line: number; readonly message: string }[];
}

/**
 * Every diagnostic for one rules file: its own mistakes, and each broken rule for each closure it applies to,
 * on the rule's key (or list entry), with the chains and options that break it.
 */
export function diagnoseRulesFile(
  text: string,
  configDir: string,
  closures: readonly CheckedClosure[],
  formatBytes?: (n: number) => string,
): RuleDiagnostic[] {
  const config = parseRulesConfig(text);
  const out: RuleDiagnostic[] = config.problems.map((p) => ({
    span: p.span,
    severity: 'error',
    code: 'config',
    message: p.message,
    related: [],
  }));
  for (const c of closures) {
    for (const rule of config.rules) {
      if (!ruleAppliesTo(rule, c.id, configDir)) continue;
      const report = evaluateRules(rule, c.id, c.subject, {
        ...(c.origin ? { origin: c.origin } : {}),
        ...(formatBytes ? { formatBytes } : {}),
        ...(c.compressedSizes ? { compressedSizes: c.compressedSizes } : {}),
        maxHitsPerEntry: 5,
      });
      for (const o of report.outcomes) if (o.broken) out.push(outcomeDiagnostic(o, c.id));
    }
  }
  return out;
}

function outcomeDiagnostic(o: RuleOutcome, id: ClosureIdentity): RuleDiagnostic {
  const label = id.installable ?? parseStorePath(id.rootPath).name;
  const lines = [`${label}: ${o.summary}`];
  const related: { file: string; line: number; message: string }[] = [];
  for (const h of o.hits ?? []) {
    const names = h.chain.map((p) => parseStorePath(p).name);
    lines.push(
      `  ${names.join(' → ')}${h.origin ? `  (option ${h.origin.option}${h.origin.file ? ` in ${h.origin.file}${h.origin.line ? `:${h.origin.line}` : ''}` : ''})` : ''}`,
    );
    if (h.origin?.file) {
      related.push({
        file: h.origin.file,
        line: h.origin.line ?? 1,
        message: `${h.origin.option} brings in ${parseStorePath(h.path).name}`,
      });
    }
  }
  if (o.hitCount !== undefined && o.hits && o.hitCount > o.hits.length)
    lines.push(`  …and ${o.hitCount - o.hits.length} more`);
  return { span: o.span, severity: o.severity, code: o.rule, message: lines.join('\n'), related };
}
