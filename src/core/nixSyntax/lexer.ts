/**
 * A tolerant tokenizer for the Nix language: enough to find attribute paths and their lines.
 * Strings (including `''…''` and `${…}` interpolation, nested to any depth) become single tokens,
 * comments are dropped, and nothing throws: unknown characters become 'op' tokens.
 */

export type TokenKind = 'id' | 'string' | 'path' | 'number' | 'op' | 'interp-open' | 'uri';

export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token (for strings: including the quotes). */
  readonly text: string;
  /** For strings without interpolation: the decoded value; null when interpolated. */
  readonly value: string | null;
  readonly start: number;
  readonly end: number;
  /** 1-based line and column of the first character. */
  readonly line: number;
  readonly column: number;
}

const ID_START = /[A-Za-z_]/;
const ID_CHAR = /[A-Za-z0-9_'-]/;
const PATH_CHAR = /[A-Za-z0-9._+\-~]/;
const OPERATORS = ['...', '//', '==', '!=', '<=', '>=', '&&', '||', '->', '++'];

export function tokenize(src: string): Token[] {
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const position = (offset: number): { line: number; column: number } => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };

  const tokens: Token[] = [];
  const push = (kind: TokenKind, start: number, end: number, value: string | null = null): void => {
    tokens.push({ kind, text: src.slice(start, end), value, start, end, ...position(start) });
  };

  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === '"') {
      const r = scanDoubleQuoted(src, i);
      push('string', i, r.end, r.value);
      i = r.end;
    } else if (c === "'" && src[i + 1] === "'") {
      const r = scanIndented(src, i);
      push('string', i, r.end, r.value);
      i = r.end;
    } else if (c === '$' && src[i + 1] === '{') {
      push('interp-open', i, i + 2);
      i += 2;
    } else if (c === '<' && /^<[A-Za-z0-9._\-+/]+>/.test(src.slice(i, i + 200))) {
      const end = src.indexOf('>', i) + 1;
      push('path', i, end);
      i = end;
    } else if (isPathStart(src, i)) {
      let j = i;
      while (j < n && (PATH_CHAR.test(src[j]!) || (src[j] === '/' && PATH_CHAR.test(src[j + 1] ?? '')))) j++;
      push('path', i, j);
      i = j;
    } else if (ID_START.test(c)) {
      let j = i + 1;
      while (j < n && ID_CHAR.test(src[j]!)) j++;
      // A URI such as https://example.org is one token in Nix.
      if (src[j] === ':' && /[A-Za-z0-9%/?:@&=+$,\-_.!~*']/.test(src[j + 1] ?? '') && src[j + 1] !== ' ') {
        const m = /^[A-Za-z][A-Za-z0-9+\-.]*:[A-Za-z0-9%/?:@&=+$,\-_.!~*']+/.exec(src.slice(i));
        if (m && m[0].includes('/')) {
          push('uri', i, i + m[0].length);
          i += m[0].length;
          continue;
        }
      }
      push('id', i, j);
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9.eE]/.test(src[j]!)) j++;
      push('number', i, j);
      i = j;
    } else {
      const op = OPERATORS.find((o) => src.startsWith(o, i)) ?? c;
      push('op', i, i + op.length);
      i += op.length;
    }
  }
  return tokens;
}

function isPathStart(src: string, i: number): boolean {
  // ./x ../x /x ~/x and a/b (no spaces): Nix paths always contain a slash followed by a path character.
  let j = i;
  if (src[j] === '~' && src[j + 1] === '/') return PATH_CHAR.test(src[j + 2] ?? '');
  while (j < src.length && PATH_CHAR.test(src[j]!)) j++;
  if (src[j] !== '/' || src[j + 1] === '/' || src[j + 1] === '*') return false;
  if (j === i && !(src[i] === '/')) return false;
  return PATH_CHAR.test(src[j + 1] ?? '');
}

/** Skips a `${ … }` interpolation body starting right after `${`; returns the offset after its `}`. */
function skipInterpolation(src: string, i: number): number {
  let depth = 1;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') i = scanDoubleQuoted(src, i).end;
    else if (c === "'" && src[i + 1] === "'") i = scanIndented(src, i).end;
    else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      i = close < 0 ? src.length : close + 2;
    } else if (c === '{') {
      depth++;
      i++;
    } else if (c === '}') {
      depth--;
      i++;
      if (depth === 0) return i;
    } else i++;
  }
  return i;
}

function scanDoubleQuoted(src: string, start: number): { end: number; value: string | null } {
  let i = start + 1;
  let value: string | null = '';
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      const e = src[i + 1] ?? '';
      if (value !== null) value += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
      i += 2;
    } else if (c === '$' && src[i + 1] === '{') {
      value = null;
      i = skipInterpolation(src, i + 2);
    } else if (c === '"') {
      return { end: i + 1, value };
    } else {
      if (value !== null) value += c;
      i++;
    }
  }
  return { end: src.length, value: null };
}

function scanIndented(src: string, start: number): { end: number; value: string | null } {
  let i = start + 2;
  let interpolated = false;
  while (i < src.length) {
    if (src.startsWith("'''", i))
      i += 3; // escaped ''
    else if (src.startsWith("''$", i))
      i += 3; // escaped $
    else if (src.startsWith("''\\", i))
      i += 4; // escaped character
    else if (src.startsWith("''", i)) return { end: i + 2, value: interpolated ? null : src.slice(start + 2, i) };
    else if (src[i] === '$' && src[i + 1] === '{') {
      interpolated = true;
      i = skipInterpolation(src, i + 2);
    } else i++;
  }
  return { end: src.length, value: null };
}
