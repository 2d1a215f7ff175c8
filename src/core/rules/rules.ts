/**
 * Budgets and dependency rules from `.closure-lens.json`, evaluated against a loaded closure.
 * Every rule and every list entry keeps its place in the file, so the editor can put a diagnostic on it
 * and the CI report can name it.
 */
// The ESM build: the UMD one loads its parts with a dynamic require that a bundle cannot follow.
import { parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import type { ClosureGraph } from '../../shared/graph';
import { parseStorePath } from '../../shared/storePath';
import * as path from 'node:path';
import type { DuplicateGroup } from '../analysis/duplicates';
import { shortestChain } from '../../shared/analysis/why';
import { compileUserRegex, type UserRegex } from '../../shared/userRegex';
import type { OptionOrigin, OriginLookup } from '../diff/diff';

export const RULES_FILE_NAME = '.closure-lens.json';

/** The codecs of compression.ts, at its default levels (zstd -19, xz -6, gzip -9). */
export const COMPRESSION_CODECS = ['zstd', 'xz', 'gzip'] as const;
export type CompressionCodec = (typeof COMPRESSION_CODECS)[number];

/** A place in the rules file: 0-based offsets, 1-based line and column as editors and CI logs show them. */
export interface SourceSpan {
  readonly offset: number;
  readonly length: number;
  readonly line: number;
  readonly column: number;
}

export type RuleKind =
  | 'maxClosureSize'
  | 'maxCompressedSize'
  | 'maxPaths'
  | 'maxDuplicates'
  | 'forbiddenDependencies'
  | 'forbiddenDependenciesRegexes'
  | 'mustBeAbsent';

export type Severity = 'error' | 'warning';

/** One entry of a list rule (`"perl"`, `"/^python3/"`), with its own place in the file. */
export interface PatternEntry {
  readonly text: string;
  readonly span: SourceSpan;
}

export interface TargetRules {
  /** Installable, store path or glob (`*`, `?`) over installables; matched as described in `ruleAppliesTo`. */
  readonly target: string;
  /** Label for reports; the target when absent. */
  readonly name?: string;
  readonly severity: Severity;
  readonly maxClosureSize?: { readonly bytes: number; readonly text: string; readonly span: SourceSpan };
  /** Budgets for the closure compressed with zstd -19, xz -6 or gzip -9 (compression.ts estimates them). */
  readonly maxCompressedSize: readonly {
    readonly codec: CompressionCodec;
    readonly bytes: number;
    readonly text: string;
    readonly span: SourceSpan;
  }[];
  readonly maxPaths?: { readonly value: number; readonly span: SourceSpan };
  readonly maxDuplicates?: { readonly value: number; readonly span: SourceSpan };
  /** Package names whose duplicates are not counted by `maxDuplicates`. */
  readonly ignoreDuplicates: readonly string[];
  readonly forbiddenDependencies: readonly PatternEntry[];
  readonly forbiddenDependenciesRegexes: readonly PatternEntry[];
  readonly mustBeAbsent: readonly PatternEntry[];
  /** The whole rule block, and its `target` value. */
  readonly span: SourceSpan;
  readonly targetSpan: SourceSpan;
}

export interface ConfigProblem {
  readonly message: string;
  readonly span: SourceSpan;
}

export interface RulesConfig {
  readonly rules: readonly TargetRules[];
  /** Syntax errors, wrong types, unknown keys, bad sizes or regexes. A non-empty list fails `closure-lens check`. */
  readonly problems: readonly ConfigProblem[];
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/**
 * Bytes from `500 MiB`, `1.5G`, `80MB` or a plain number. `K`, `M`, `G` alone are binary as in
 * `nix path-info -h`; `KB`, `MB`, `GB` are decimal. Undefined when the text is not a size.
 */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? Math.floor(text) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** Keys of a rule block; media/closure-lens.schema.json lists the same (a unit test holds them together). */
export const RULE_KEYS: ReadonlySet<string> = new Set([
  'target',
  'name',
  'severity',
  'maxClosureSize',
  'maxCompressedSize',
  'maxPaths',
  'maxDuplicates',
  'ignoreDuplicates',
  'forbiddenDependencies',
  'forbiddenDependenciesRegexes',
  'mustBeAbsent',
]);

/** Parses the rules file (JSON with comments). Never throws: everything wrong becomes a problem with a place. */
export function parseRulesConfig(text: string): RulesConfig {
  const lines = lineStarts(text);
  const span = (offset: number, length: number): SourceSpan => spanAt(lines, offset, length);
  const nodeSpan = (n: JsonNode): SourceSpan => span(n.offset, n.length);
  const problems: ConfigProblem[] = [];
  const tooDeep = offsetTooDeep(text, MAX_NESTING);
  if (tooDeep !== undefined) {
    // jsonc-parser recurses once per level: 100,000 levels overflow the stack. No rules file needs more than a few.
    problems.push({
      message: `The rules file is nested more than ${MAX_NESTING} levels deep here; a rules file needs about 4.`,
      span: span(tooDeep, 1),
    });
    return { rules: [], problems };
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  for (const e of errors) {
    problems.push({ message: `JSON syntax error: ${printParseErrorCode(e.error)}`, span: span(e.offset, e.length) });
  }
  if (!root) return { rules: [], problems };
  if (root.type !== 'object') {
    problems.push({ message: 'The rules file must be a JSON object with a "rules" array.', span: nodeSpan(root) });
    return { rules: [], problems };
  }
  const rules: TargetRules[] = [];
  let rulesNode: JsonNode | undefined;
  for (const prop of root.children ?? []) {
    const [key, value] = prop.children ?? [];
    if (!key || !value) continue;
    if (key.value === 'rules') rulesNode = value;
    else if (key.value !== '$schema')
      problems.push({ message: `Unknown key "${key.value}"; expected "rules".`, span: nodeSpan(key) });
  }
  if (!rulesNode) {
    problems.push({ message: 'Missing "rules": add a list of { "target": ..., rules } blocks.', span: nodeSpan(root) });
    return { rules, problems };
  }
  if (rulesNode.type !== 'array') {
    problems.push({ message: '"rules" must be an array.', span: nodeSpan(rulesNode) });
    return { rules, problems };
  }
  for (const block of rulesNode.children ?? []) {
    const r = parseBlock(block, nodeSpan, problems);
    if (r) rules.push(r);
  }
  return { rules, problems };
}

function parseBlock(
  block: JsonNode,
  nodeSpan: (n: JsonNode) => SourceSpan,
  problems: ConfigProblem[],
): TargetRules | undefined {
  if (block.type !== 'object') {
    problems.push({ message: 'Each rule block must be an object with a "target".', span: nodeSpan(block) });
    return undefined;
  }
  const props = new Map<string, { key: JsonNode; value: JsonNode }>();
  for (const prop of block.children ?? []) {
    const [key, value] = prop.children ?? [];
    if (!key || !value) continue;
    const k = String(key.value);
    if (!RULE_KEYS.has(k)) {
      problems.push({ message: `Unknown rule "${k}". Known: ${[...RULE_KEYS].join(', ')}.`, span: nodeSpan(key) });
      continue;
    }
    props.set(k, { key, value });
  }
  const problem = (n: JsonNode, message: string) => problems.push({ message, span: nodeSpan(n) });
  const target = props.get('target');
  if (!target || target.value.type !== 'string' || target.value.value === '') {
    problem(
      target?.value ?? block,
      '"target" must name an installable (.#name), a store path, or a glob over installables.',
    );
    return undefined;
  }
  const targetText = target.value.value as string;
  if (targetText.startsWith('-')) {
    // A repository's rules file names what to check, never how nix runs: `-L`, `--impure` and the like are refused.
    problem(
      target.value,
      `"target" ${JSON.stringify(targetText)} starts with "-", so nix would read it as an option: a target must be an installable (.#name), a store path, or a glob over installables.`,
    );
    return undefined;
  }
  const str = (k: string): string | undefined => {
    const p = props.get(k);
    if (!p) return undefined;
    if (p.value.type !== 'string') return void problem(p.value, `"${k}" must be a string.`);
    return p.value.value as string;
  };
  const count = (k: string): { value: number; span: SourceSpan } | undefined => {
    const p = props.get(k);
    if (!p) return undefined;
    if (p.value.type !== 'number' || !Number.isInteger(p.value.value) || p.value.value < 0) {
      return void problem(p.value, `"${k}" must be a whole number, 0 or more.`);
    }
    return { value: p.value.value as number, span: nodeSpan(p.key) };
  };
  const list = (k: string, check?: (s: string) => string | undefined): PatternEntry[] => {
    const p = props.get(k);
    if (!p) return [];
    if (p.value.type !== 'array') return (void problem(p.value, `"${k}" must be a list of strings.`), []);
    const out: PatternEntry[] = [];
    for (const item of p.value.children ?? []) {
      if (item.type !== 'string' || item.value === '') {
        problem(item, `Entries of "${k}" must be non-empty strings.`);
        continue;
      }
      const err = check?.(item.value as string);
      if (err) problem(item, err);
      else out.push({ text: item.value as string, span: nodeSpan(item) });
    }
    return out;
  };

  let maxClosureSize: TargetRules['maxClosureSize'];
  const size = props.get('maxClosureSize');
  if (size) {
    const raw = size.value.value as unknown;
    const bytes = typeof raw === 'string' || typeof raw === 'number' ? parseSize(raw) : undefined;
    if (bytes === undefined)
      problem(size.value, '"maxClosureSize" must be bytes or a size such as "500 MiB", "1.5 GiB", "800M".');
    else maxClosureSize = { bytes, text: String(raw), span: nodeSpan(size.key) };
  }
  const maxCompressedSize: TargetRules['maxCompressedSize'][number][] = [];
  const compressed = props.get('maxCompressedSize');
  if (compressed) {
    if (compressed.value.type !== 'object')
      problem(compressed.value, '"maxCompressedSize" must be an object such as { "zstd": "80 MiB" }.');
    for (const prop of compressed.value.type === 'object' ? (compressed.value.children ?? []) : []) {
      const [key, value] = prop.children ?? [];
      if (!key || !value) continue;
      const codec = String(key.value);
      if (!(COMPRESSION_CODECS as readonly string[]).includes(codec)) {
        problem(key, `Unknown codec "${codec}"; use ${COMPRESSION_CODECS.join(', ')}.`);
        continue;
      }
      const raw = value.value as unknown;
      const bytes = typeof raw === 'string' || typeof raw === 'number' ? parseSize(raw) : undefined;
      if (bytes === undefined) problem(value, `"${codec}" must be bytes or a size such as "80 MiB".`);
      else maxCompressedSize.push({ codec: codec as CompressionCodec, bytes, text: String(raw), span: nodeSpan(key) });
    }
  }
  const severityText = str('severity');
  if (severityText !== undefined && severityText !== 'error' && severityText !== 'warning') {
    problem(props.get('severity')!.value, '"severity" must be "error" or "warning".');
  }
  const name = str('name');
  const maxPaths = count('maxPaths');
  const maxDuplicates = count('maxDuplicates');
  return {
    target: target.value.value as string,
    ...(name !== undefined ? { name } : {}),
    severity: severityText === 'warning' ? 'warning' : 'error',
    ...(maxClosureSize ? { maxClosureSize } : {}),
    maxCompressedSize,
    ...(maxPaths ? { maxPaths } : {}),
    ...(maxDuplicates ? { maxDuplicates } : {}),
    ignoreDuplicates: list('ignoreDuplicates').map((e) => e.text),
    forbiddenDependencies: list('forbiddenDependencies', (s) => checkNamePattern(s)),
    forbiddenDependenciesRegexes: list('forbiddenDependenciesRegexes', (s) => checkRegex(s)),
    mustBeAbsent: list('mustBeAbsent'),
    span: nodeSpan(block),
    targetSpan: nodeSpan(target.value),
  };
}

/** Deeper than this, a rules file is refused before it is parsed (its schema needs 4 levels). */
const MAX_NESTING = 64;

/** Offset of the `[` or `{` that opens level `max + 1` (strings and comments skipped), or undefined. */
function offsetTooDeep(text: string, max: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      while (i < text.length && text.charCodeAt(i) !== 10) i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return i;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return undefined;
}

function checkNamePattern(s: string): string | undefined {
  return isRegexLiteral(s) ? checkRegex(s.slice(1, -1)) : undefined;
}

function checkRegex(s: string): string | undefined {
  const compiled = compileUserRegex(s);
  return compiled.ok ? undefined : `Invalid regular expression: ${compiled.message}`;
}

/** A pattern `parseRulesConfig` accepted (so it compiles); RE2, so a repository's pattern cannot hang a match. */
function ruleRegex(s: string): UserRegex {
  const compiled = compileUserRegex(s);
  if (!compiled.ok) throw new Error(`unchecked regular expression ${s}: ${compiled.message}`);
  return compiled.regex;
}

function isRegexLiteral(s: string): boolean {
  return s.length >= 2 && s.startsWith('/') && s.endsWith('/');
}

/** Offsets where each line starts, for offset → line/column. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function spanAt(starts: number[], offset: number, length: number): SourceSpan {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { offset, length, line: lo + 1, column: offset - starts[lo]! + 1 };
}

// ---------------------------------------------------------------------------------------------
// Which rules apply to a closure

/** How a loaded closure is known: what the user asked for, and the store path it became. */
export interface ClosureIdentity {
  /** The installable as given (`.#web`, `path:/x#packages.x86_64-linux.default`); absent for a plain store path. */
  readonly installable?: string;
  /** The directory the installable is relative to; local flake references are compared as directories. */
  readonly cwd?: string;
  readonly rootPath: string;
}

/**
 * A rule block applies when its target (a glob: `*` any run of characters, `?` one character) matches:
 * - the root store path;
 * - for a target with `#`: the same local flake directory (the target's relative to `configDir`, the
 *   closure's relative to its `cwd`) and the attribute after `#` — or the installable as written;
 * - for a target without `#`: the attribute after `#` of the installable.
 * An attribute also matches the attributes below it, so `nixosConfigurations.web` covers
 * `nixosConfigurations.web.config.system.build.toplevel`.
 */
export function ruleAppliesTo(rule: TargetRules, id: ClosureIdentity, configDir?: string): boolean {
  if (globToRegExp(rule.target).test(id.rootPath)) return true;
  if (!id.installable) return false;
  const have = splitInstallable(id.installable, id.cwd);
  const hash = rule.target.indexOf('#');
  if (hash < 0) return have.attr !== undefined && attrMatches(rule.target, have.attr);
  const want = splitInstallable(rule.target, configDir);
  if (have.attr === undefined || want.attr === undefined || !attrMatches(want.attr, have.attr)) return false;
  if (globToRegExp(want.flake).test(have.flake)) return true;
  // Relative references without a known base directory: compare them as written.
  return (
    normalizeInstallable(rule.target.slice(0, hash)) ===
    normalizeInstallable(id.installable.slice(0, id.installable.indexOf('#')))
  );
}

function attrMatches(pattern: string, attr: string): boolean {
  const attrs = expandAttr(attr);
  for (const p of expandAttr(pattern)) {
    const re = globToRegExp(p);
    for (const a of attrs) {
      if (re.test(a)) return true;
      const parts = a.split('.');
      for (let i = parts.length - 1; i > 0; i--) if (re.test(parts.slice(0, i).join('.'))) return true;
    }
  }
  return false;
}

/** Top-level flake outputs; an attribute that starts with none of them is looked up as Nix does. */
const FLAKE_OUTPUTS = new Set([
  'packages',
  'legacyPackages',
  'nixosConfigurations',
  'homeConfigurations',
  'darwinConfigurations',
  'devShells',
  'checks',
  'apps',
  'formatter',
  'hydraJobs',
  'nixosModules',
  'overlays',
  'lib',
  'defaultPackage',
  'devShell',
]);

/** `hello` means what `nix build .#hello` builds: `packages.<system>.hello` or `legacyPackages.<system>.hello`. */
function expandAttr(attr: string): string[] {
  if (FLAKE_OUTPUTS.has(attr.split('.', 1)[0]!)) return [attr];
  const system = currentSystem();
  return [attr, `packages.${system}.${attr}`, `legacyPackages.${system}.${attr}`];
}

function currentSystem(): string {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  return `${arch}-${process.platform}`;
}

/** The flake part (a resolved directory when it is local and a base is known) and the attribute after `#`. */
function splitInstallable(s: string, baseDir: string | undefined): { flake: string; attr: string | undefined } {
  const hash = s.indexOf('#');
  const ref = hash < 0 ? s : s.slice(0, hash);
  const attr = hash < 0 ? undefined : s.slice(hash + 1);
  let local: string | undefined;
  if (ref === '' || ref === '.') local = '.';
  else if (ref.startsWith('path:')) local = ref.slice(5).split('?', 1)[0]!;
  else if (ref.startsWith('git+file://')) local = ref.slice(11).split('?', 1)[0]!;
  else if (ref.startsWith('/') || ref.startsWith('./') || ref.startsWith('../')) local = ref;
  if (local === undefined) return { flake: ref, attr };
  if (local.startsWith('/')) return { flake: path.posix.normalize(local).replace(/\/+$/, '') || '/', attr };
  return { flake: baseDir ? path.resolve(baseDir, local) : normalizeInstallable(ref), attr };
}

/** `.#x` and `#x` and `path:.#x` name the same thing; compare them in one spelling. */
function normalizeInstallable(s: string): string {
  return s
    .replace(/^path:/, '')
    .replace(/^(\.\/)?$/, '.')
    .replace(/^#/, '.#')
    .replace(/^\.\/#/, '.#');
}

export function isGlob(target: string): boolean {
  return /[*?]/.test(target);
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// ---------------------------------------------------------------------------------------------
// Evaluation

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

// ---------------------------------------------------------------------------------------------
// Editor diagnostics

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
