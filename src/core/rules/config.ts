/**
 * The rules file `.closure-lens.json`: its types and its parser. Every rule and every list entry keeps its place
 * in the file, so the editor can put a diagnostic on it and the CI report can name it.
 */
// The ESM build: the UMD one loads its parts with a dynamic require that a bundle cannot follow.
import {
  createScanner,
  parseTree,
  printParseErrorCode,
  type Node as JsonNode,
  type ParseError,
} from 'jsonc-parser/lib/esm/main.js';
import { compileUserRegex, type UserRegex } from '../../shared/userRegex';

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
export function parseRulesConfig(fileText: string): RulesConfig {
  // A UTF-8 byte order mark (some Windows editors write one) becomes a space, so every offset stays the same.
  const text = fileText.charCodeAt(0) === 0xfeff ? ` ${fileText.slice(1)}` : fileText;
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
  for (const key of duplicateKeys(root)) {
    problems.push({
      message: `Duplicate key ${JSON.stringify(key.value)}: only one value can count; remove one of them.`,
      span: nodeSpan(key),
    });
  }
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

/** The second and later occurrences of a key in any object of the tree (JSON.parse would keep the last silently). */
function duplicateKeys(root: JsonNode): JsonNode[] {
  const found: JsonNode[] = [];
  // A stack, not recursion: the depth is bounded by MAX_NESTING already, but a walk needs no call stack at all.
  const pending: JsonNode[] = [root];
  for (let n = pending.pop(); n; n = pending.pop()) {
    if (n.type === 'object') {
      const seen = new Set<unknown>();
      for (const prop of n.children ?? []) {
        const [key, value] = prop.children ?? [];
        if (key && seen.has(key.value)) found.push(key);
        if (key) seen.add(key.value);
        if (value) pending.push(value);
      }
    } else if (n.type === 'array') pending.push(...(n.children ?? []));
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** Deeper than this, a rules file is refused before it is parsed (its schema needs 4 levels). */
const MAX_NESTING = 64;

/**
 * Offset of the `[` or `{` that opens level `max + 1`, or undefined. Tokens come from jsonc-parser's own scanner,
 * so strings and comments (even unterminated ones) are read exactly as parseTree will read them.
 */
function offsetTooDeep(text: string, max: number): number | undefined {
  // jsonc-parser's SyntaxKind is a const enum (not importable here): OpenBrace 1, CloseBrace 2, OpenBracket 3,
  // CloseBracket 4, EOF 17.
  const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, EOF] = [1, 2, 3, 4, 17] as number[];
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let t = scanner.scan(); t !== EOF; t = scanner.scan()) {
    if (t === OPEN_BRACE || t === OPEN_BRACKET) {
      if (++depth > max) return scanner.getTokenOffset();
    } else if (t === CLOSE_BRACE || t === CLOSE_BRACKET) depth--;
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
export function ruleRegex(s: string): UserRegex {
  const compiled = compileUserRegex(s);
  if (!compiled.ok) throw new Error(`unchecked regular expression ${s}: ${compiled.message}`);
  return compiled.regex;
}

export function isRegexLiteral(s: string): boolean {
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
