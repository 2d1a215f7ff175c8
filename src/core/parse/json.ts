/**
 * JSON.parse with errors that say where: a malformed or truncated file becomes a 'malformed-json'
 * ClosureLensError naming the line and column, plus typed field readers that reject wrong types.
 */
import { ClosureLensError } from '../errors';

export type JsonObject = { readonly [key: string]: unknown };

const FIX_REGENERATE =
  'regenerate the file (for example `nix path-info --recursive --size --json <path> > closure.json`) and check that it was written completely';

export function parseJsonText(text: string, source: string): unknown {
  if (text.trim() === '') {
    throw new ClosureLensError('malformed-json', `${source} is empty, expected JSON`, { fix: FIX_REGENERATE });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const offset = firstSyntaxErrorOffset(text);
    const where =
      offset >= text.length
        ? 'the text ends early (truncated?)'
        : `at line ${lineCol(text, offset)} (offset ${offset})`;
    throw new ClosureLensError('malformed-json', `${source} is not valid JSON: ${where}`, {
      fix: FIX_REGENERATE,
      cause: e,
    });
  }
}

export function malformed(source: string, what: string): ClosureLensError {
  return new ClosureLensError('malformed-json', `${source}: ${what}`, { fix: FIX_REGENERATE });
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A byte count: a non-negative integer that a double holds exactly (JSON.parse silently rounds past 2^53). */
export function readSize(v: unknown, source: string, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw malformed(source, `${where} should be a non-negative integer, found ${describe(v)}`);
  }
  if (!Number.isSafeInteger(v)) {
    throw malformed(source, `${where} is ${v}, past 2^53: too large to be a real size and not exactly representable`);
  }
  return v;
}

export function readString(v: unknown, source: string, where: string): string {
  if (typeof v !== 'string') throw malformed(source, `${where} should be a string, found ${describe(v)}`);
  return v;
}

export function readStringArray(v: unknown, source: string, where: string): string[] {
  if (!Array.isArray(v)) throw malformed(source, `${where} should be an array of store paths, found ${describe(v)}`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string') throw malformed(source, `${where}[${i}] should be a string, found ${describe(v[i])}`);
  }
  return v as string[];
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function lineCol(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}, column ${offset - lineStart + 1}`;
}

/**
 * Offset of the first character that makes `text` invalid JSON, or text.length when it ends too early.
 * Only runs after JSON.parse failed (V8's messages do not always carry a position).
 */
export function firstSyntaxErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  class Stop {
    constructor(readonly at: number) {}
  }
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const fail = (): never => {
    throw new Stop(Math.min(i, n));
  };
  const literal = (word: string): void => {
    for (const c of word) {
      if (text[i] !== c) fail();
      i++;
    }
  };
  const string = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) fail();
      if (c === 92) {
        i++;
        if (i >= n) fail();
        const e = text[i]!;
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) fail();
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) fail();
      }
      i++;
    }
    fail();
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  // Iterative, with the open containers on a stack of its own: 100,000 nested "[" must not overflow the call stack.
  // Each entry is the container's closing character.
  const open: string[] = [];
  const value = (): void => {
    for (;;) {
      ws();
      if (i >= n) fail();
      const c = text[i];
      if (c === '{' || c === '[') {
        i++;
        ws();
        if (text[i] === (c === '{' ? '}' : ']')) i++;
        else {
          open.push(c === '{' ? '}' : ']');
          if (c === '{') member();
          continue;
        }
      } else if (c === '"') string();
      else if (c === 't') literal('true');
      else if (c === 'f') literal('false');
      else if (c === 'n') literal('null');
      else number();
      // After a value: close containers, or move to the next element or member.
      for (;;) {
        const top = open[open.length - 1];
        if (top === undefined) return;
        ws();
        if (text[i] === ',') {
          i++;
          if (top === '}') member();
          break;
        }
        if (text[i] === top) {
          i++;
          open.pop();
          continue;
        }
        fail();
      }
    }
  };
  /** A member's key and colon; its value follows. */
  const member = (): void => {
    ws();
    if (text[i] !== '"') fail();
    string();
    ws();
    if (text[i] !== ':') fail();
    i++;
  };
  try {
    value();
    ws();
    return i < n ? i : n;
  } catch (e) {
    if (e instanceof Stop) return e.at;
    throw e;
  }
}
