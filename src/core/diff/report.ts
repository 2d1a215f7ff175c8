/**
 * Closure diffs and rule reports as text (terminal), Markdown (pull-request comments, the editor's preview)
 * and JSON (scripts). Rendering only: every number comes from diff.ts and rules.ts.
 */
import type { AddedPath, ChangeKind, ClosureDiff, OptionOrigin, PackageDiff, PackageSide } from './diff';
import { formatBytes, formatSignedBytes, renderTable } from '../../shared/format';
import type { RuleOutcome, RulesReport } from '../rules';
import { parseStorePath } from '../../shared/storePath';

/** Bumped when a field of the JSON output changes meaning or goes away. */
export const DIFF_JSON_VERSION = 1;

const KIND_TAG: Record<ChangeKind, string> = {
  upgraded: 'U',
  downgraded: 'D',
  'version-changed': 'C',
  'count-changed': 'N',
  added: 'A',
  removed: 'R',
  rebuilt: 'B',
};

const SECTIONS: { title: string; kinds: ChangeKind[] }[] = [
  { title: 'Version changes', kinds: ['upgraded', 'downgraded', 'version-changed'] },
  { title: 'Count changes (same versions, more or fewer store paths)', kinds: ['count-changed'] },
  { title: 'Added packages', kinds: ['added'] },
  { title: 'Removed packages', kinds: ['removed'] },
  { title: 'Rebuilt (same versions, new store paths)', kinds: ['rebuilt'] },
];

/** `+1.5 MiB`, `-1.0 KiB`, `±0.0 KiB`: the units every other size is printed in (was `-1008 B` below a KiB). */
export function signedBytes(n: number): string {
  return formatSignedBytes(n);
}

function signedCount(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `${n}` : '±0';
}

/** `1.0`, `1.0 ×2`, `1.2, 1.3`, `ε` for an empty version (as `nix store diff-closures` writes it), `∅` for none. */
export function versionList(side: PackageSide): string {
  if (side.entries.length === 0) return '∅';
  const counts = new Map<string, number>();
  for (const e of side.entries) counts.set(e.version, (counts.get(e.version) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${v || 'ε'}${n > 1 ? ` ×${n}` : ''}`).join(', ');
}

function packageChange(p: PackageDiff): string {
  if (p.kind === 'added') return versionList(p.after);
  if (p.kind === 'removed') return versionList(p.before);
  if (p.kind === 'rebuilt') return versionList(p.after);
  return `${versionList(p.before)} → ${versionList(p.after)}`;
}

/** Store-path names from the root to the path; the middle is elided past `max` links. */
export function chainLabel(chain: readonly string[], max = 8): string {
  const names = chain.map((p) => parseStorePath(p).name);
  if (names.length > max) names.splice(max - 3, names.length - max + 1, '…');
  return names.join(' → ');
}

export function originLabel(o: OptionOrigin): string {
  const where = o.file ? ` (${o.file}${o.line ? `:${o.line}` : ''})` : '';
  return `${o.option}${where}`;
}

/** The heaviest added path of a package, whose chain stands for the package. */
function representativeAdded(p: PackageDiff, byPath: Map<string, AddedPath>): AddedPath | undefined {
  let best: AddedPath | undefined;
  for (const e of p.after.entries) {
    const a = byPath.get(e.path);
    if (a && (!best || a.narSize > best.narSize)) best = a;
  }
  return best;
}

// -------------------------------------------------------------------------------------------------
// Text

/**
 * Rebuilds smaller than this are summed up in one line: a nixpkgs bump rebuilds hundreds of packages by a few
 * bytes each (the threshold of `nix store diff-closures`).
 */
export const REBUILT_LISTED_FROM = 8 * 1024;

export function renderDiffText(d: ClosureDiff, opts: { color?: boolean; allRebuilt?: boolean } = {}): string {
  const red = (s: string) => (opts.color ? `\x1b[31m${s}\x1b[0m` : s);
  const green = (s: string) => (opts.color ? `\x1b[32m${s}\x1b[0m` : s);
  const delta = (n: number) => (n > 0 ? red(signedBytes(n)) : n < 0 ? green(signedBytes(n)) : signedBytes(n));
  const byPath = new Map(d.addedPaths.map((a) => [a.path, a]));
  const out: string[] = [];
  out.push(`<<< ${d.before.label}`);
  out.push(`>>> ${d.after.label}`);
  // One table for all sections, so that columns line up down the whole report.
  const rows = d.packages.map((p) => [
    `[${KIND_TAG[p.kind]}${p.selected ? '*' : '.'}]`,
    p.pname,
    packageChange(p),
    signedBytes(p.sizeDelta),
  ]);
  const lines = renderTable(rows, ['left', 'left', 'left', 'right']);
  const lineOf = new Map(d.packages.map((p, i) => [p, i]));
  for (const s of SECTIONS) {
    const all = d.packages.filter((p) => s.kinds.includes(p.kind));
    const ps =
      s.kinds.includes('rebuilt') && !opts.allRebuilt
        ? all.filter((p) => Math.abs(p.sizeDelta) >= REBUILT_LISTED_FROM)
        : all;
    if (all.length === 0) continue;
    out.push('', `${s.title}:`);
    for (const p of ps) {
      const i = lineOf.get(p)!;
      // Colour after alignment so escape codes do not skew the columns.
      const line = lines[i]!;
      out.push(p.sizeDelta === 0 ? line : line.slice(0, line.length - rows[i]![3]!.length) + delta(p.sizeDelta));
      if (p.kind === 'added') {
        const a = representativeAdded(p, byPath);
        if (a && a.chain.length > 1) out.push(`       why: ${chainLabel(a.chain)}`);
        if (a?.origin) out.push(`       option: ${originLabel(a.origin)}`);
      }
    }
    if (ps.length < all.length) {
      const rest = all.filter((p) => !ps.includes(p));
      const restDelta = rest.reduce((sum, p) => sum + p.sizeDelta, 0);
      out.push(
        `${ps.length > 0 ? '…and ' : ''}${rest.length} ${ps.length > 0 ? 'more ' : ''}with less than ${formatBytes(REBUILT_LISTED_FROM)} of change each (${signedBytes(restDelta)} in all; --all-rebuilt lists them)`,
      );
    }
  }
  if (d.packages.length === 0) out.push('', 'No package changes.');
  out.push('');
  out.push(
    `Closure size: ${formatBytes(d.before.closureSize)} → ${formatBytes(d.after.closureSize)} (${delta(d.sizeDelta)}); ` +
      `store paths: ${d.before.pathCount} → ${d.after.pathCount} (${signedCount(d.pathCountDelta)})`,
  );
  out.push(`Added store paths: ${d.addedPaths.length}, removed: ${d.removedPaths.length}.`);
  return out.join('\n') + '\n';
}

// -------------------------------------------------------------------------------------------------
// Markdown

function mdEscape(s: string): string {
  return s.replace(/[|\\`*_<>[\]]/g, (c) => (c === '|' ? '\\|' : `\\${c}`));
}

function code(s: string): string {
  return '`' + s.replace(/`/g, "'") + '`';
}

export function renderDiffMarkdown(d: ClosureDiff, opts: { title?: string; maxRows?: number } = {}): string {
  const maxRows = opts.maxRows ?? 50;
  const byPath = new Map(d.addedPaths.map((a) => [a.path, a]));
  const out: string[] = [];
  out.push(`### ${opts.title ?? 'Closure diff'}: ${code(d.before.label)} → ${code(d.after.label)}`, '');
  out.push('| | before | after | change |', '|---|---:|---:|---:|');
  out.push(
    `| closure size (NAR) | ${formatBytes(d.before.closureSize)} | ${formatBytes(d.after.closureSize)} | **${signedBytes(d.sizeDelta)}** |`,
  );
  out.push(`| store paths | ${d.before.pathCount} | ${d.after.pathCount} | ${signedCount(d.pathCountDelta)} |`);
  for (const s of SECTIONS) {
    const ps = d.packages.filter((p) => s.kinds.includes(p.kind));
    if (ps.length === 0) continue;
    out.push('', `#### ${s.title} (${ps.length})`, '');
    const withWhy = s.kinds.includes('added');
    out.push(withWhy ? '| | package | version | size | why | option |' : '| | package | change | size change |');
    out.push(withWhy ? '|---|---|---|---:|---|---|' : '|---|---|---|---:|');
    for (const p of ps.slice(0, maxRows)) {
      const tag = `${KIND_TAG[p.kind]}${p.selected ? '★' : ''}`;
      if (withWhy) {
        const a = representativeAdded(p, byPath);
        const why = a && a.chain.length > 1 ? mdEscape(chainLabel(a.chain)) : '';
        const origin = a?.origin
          ? `${code(a.origin.option)}${a.origin.file ? ` ${mdEscape(a.origin.file)}${a.origin.line ? `:${a.origin.line}` : ''}` : ''}`
          : '';
        out.push(
          `| ${tag} | ${mdEscape(p.pname)} | ${mdEscape(versionList(p.after))} | ${signedBytes(p.sizeDelta)} | ${why} | ${origin} |`,
        );
      } else {
        out.push(`| ${tag} | ${mdEscape(p.pname)} | ${mdEscape(packageChange(p))} | ${signedBytes(p.sizeDelta)} |`);
      }
    }
    if (ps.length > maxRows) out.push('', `…and ${ps.length - maxRows} more (see \`closure-lens diff --json\`).`);
  }
  if (d.packages.length === 0) out.push('', 'No package changes.');
  if (d.addedPaths.length > 0) {
    out.push(
      '',
      `<details><summary>${d.addedPaths.length} added store path${d.addedPaths.length === 1 ? '' : 's'}, heaviest first</summary>`,
      '',
    );
    out.push('| store path | NAR size | why |', '|---|---:|---|');
    for (const a of d.addedPaths.slice(0, maxRows * 2)) {
      out.push(
        `| ${mdEscape(parseStorePath(a.path).name)} | ${formatBytes(a.narSize)} | ${mdEscape(chainLabel(a.chain))} |`,
      );
    }
    out.push('', '</details>');
  }
  out.push('', '★ = selected: a direct dependency of the root (or of a NixOS system-path).');
  return out.join('\n') + '\n';
}

// -------------------------------------------------------------------------------------------------
// JSON

export function renderDiffJson(d: ClosureDiff): string {
  return JSON.stringify({ version: DIFF_JSON_VERSION, ...d }, null, 2) + '\n';
}

// -------------------------------------------------------------------------------------------------
// Rule reports

function outcomeLines(o: RuleOutcome, indent: string): string[] {
  const lines = [`${indent}${o.broken ? (o.severity === 'error' ? '✗' : '!') : '✓'} ${o.rule}: ${o.summary}`];
  if (!o.broken) return lines;
  for (const h of o.hits ?? []) {
    lines.push(`${indent}    ${chainLabel(h.chain, 12)}`);
    if (h.origin) lines.push(`${indent}      option: ${originLabel(h.origin)}`);
  }
  if (o.hitCount !== undefined && o.hits && o.hitCount > o.hits.length) {
    lines.push(`${indent}    …and ${o.hitCount - o.hits.length} more path(s)`);
  }
  return lines;
}

export function renderRulesText(reports: readonly RulesReport[], configFile: string): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(`${r.rule.name ?? r.rule.target} (${r.closure.installable ?? r.closure.rootPath})`);
    for (const o of r.outcomes) {
      const where = `${configFile}:${o.span.line}:${o.span.column}`;
      const lines = outcomeLines(o, '  ');
      if (o.broken) lines[0] += `  [${where}]`;
      out.push(...lines);
    }
  }
  const broken = reports.flatMap((r) => r.outcomes.filter((o) => o.broken));
  const errors = broken.filter((o) => o.severity === 'error').length;
  out.push(
    '',
    broken.length === 0 ? 'All rules hold.' : `${errors} rule(s) broken, ${broken.length - errors} warning(s).`,
  );
  return out.join('\n') + '\n';
}

export function renderRulesMarkdown(reports: readonly RulesReport[], configFile: string): string {
  const broken = reports.flatMap((r) => r.outcomes.filter((o) => o.broken));
  const errors = broken.filter((o) => o.severity === 'error').length;
  const out: string[] = [];
  out.push(
    `### Closure rules: ${errors > 0 ? `❌ ${errors} broken` : '✅ all hold'}${broken.length > errors ? `, ⚠️ ${broken.length - errors} warning(s)` : ''}`,
    '',
    `Rules from ${code(configFile)}.`,
  );
  for (const r of reports) {
    out.push('', `#### ${mdEscape(r.rule.name ?? r.rule.target)}`, '');
    out.push(`${code(r.closure.installable ?? r.closure.rootPath)} → ${code(r.closure.rootPath)}`, '');
    out.push('| | rule | result | line |', '|---|---|---|---:|');
    for (const o of r.outcomes) {
      const icon = o.broken ? (o.severity === 'error' ? '❌' : '⚠️') : '✅';
      out.push(`| ${icon} | ${code(o.rule)} | ${mdEscape(o.summary)} | ${o.span.line} |`);
    }
    const withChains = r.outcomes.filter((o) => o.broken && (o.hits?.length ?? 0) > 0);
    for (const o of withChains) {
      out.push('', `<details><summary>Why ${code(o.pattern ?? o.rule)} is in the closure</summary>`, '');
      for (const h of o.hits!) {
        out.push(
          `- ${mdEscape(chainLabel(h.chain, 12))} (${formatBytes(h.narSize)})${h.origin ? ` — option ${code(h.origin.option)}${h.origin.file ? ` in ${mdEscape(h.origin.file)}${h.origin.line ? `:${h.origin.line}` : ''}` : ''}` : ''}`,
        );
      }
      if (o.hitCount !== undefined && o.hitCount > o.hits!.length)
        out.push(`- …and ${o.hitCount - o.hits!.length} more`);
      out.push('', '</details>');
    }
  }
  return out.join('\n') + '\n';
}
