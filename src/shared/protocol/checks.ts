/**
 * Runtime checks of messages from the webview, which the host treats as untrusted input (parseWebviewMessage), and
 * the record checks both directions share. Host → webview payloads are checked in hostChecks.ts.
 */
import {
  DRAW_MARK_NAMES,
  type DrawMark,
  type WebviewMessageType,
  type WebviewToHost,
  type PanelTarget,
} from './messages';
import { baseName, isStoreBaseName } from '../storePath';

/** Longest path or file name accepted from the webview (Linux PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;
export const MAX_ERROR_LENGTH = 4000;
const MAX_LINE = 10_000_000;
/** Longest chain a `preciseRequest` may name (each edge reads a store path from disk). */
export const MAX_PRECISE_CHAIN = 64;
/** Hits per edge that the host sends and the webview accepts. */
export const MAX_PRECISE_HITS = 200;
/** Longest snippet side (Nix shows 32 bytes; a symlink's whole target is at most PATH_MAX). */
export const MAX_SNIPPET = MAX_PATH_LENGTH;

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export type Rec = Record<string, unknown>;

/** A plain object (not an array or a typed array): what every message and its records are. */
export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

export function onlyKeys(o: Rec, allowed: readonly string[]): string | undefined {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) return `unexpected field "${k.slice(0, 40)}"`;
  return undefined;
}

export function checkString(o: Rec, key: string, max: number): string | undefined {
  const v = o[key];
  if (typeof v !== 'string') return `"${key}" must be a string`;
  if (v.length === 0) return `"${key}" is empty`;
  if (v.length > max) return `"${key}" is longer than ${max} characters`;
  if (v.includes('\0')) return `"${key}" contains a NUL character`;
  return undefined;
}

const FIELDS: { readonly [K in WebviewMessageType]: readonly string[] } = {
  ready: ['type', 'documentAt', 'sentAt'],
  selected: ['type', 'path'],
  copyPath: ['type', 'path'],
  revealInTree: ['type', 'path'],
  copyWhyCommand: ['type', 'path'],
  openDefinition: ['type', 'file', 'line'],
  reportError: ['type', 'message'],
  preciseRequest: ['type', 'chain'],
  openReference: ['type', 'referrer', 'file', 'offset'],
  drawn: ['type', 'marks', 'arcs', 'arrivedAt'],
};

/** An absolute store path (`/…/<hash>-<name>`), without `..` or empty components. */
export function isStorePathString(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > MAX_PATH_LENGTH || !v.startsWith('/') || v.includes('\0')) return false;
  const parts = v.split('/').slice(1);
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return false;
  return isStoreBaseName(baseName(v));
}

/** A file inside a store path as `--precise` names it: `/` or a relative path without `..`. */
export function isRelativeFile(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_PATH_LENGTH || v.includes('\0')) return false;
  if (v === '/') return true;
  return !v.startsWith('/') && v.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

export function isOffset(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isMessageType(t: unknown): t is WebviewMessageType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(FIELDS, t);
}

/**
 * Validates a message from the webview: a known type, exactly the expected fields, the right types and
 * bounded lengths. Whether a path belongs to the shown closure is the host's check (it has the graph).
 */
export function parseWebviewMessage(raw: unknown): Checked<WebviewToHost> {
  if (!isRecord(raw)) return { ok: false, reason: 'not an object' };
  const type = raw['type'];
  if (!isMessageType(type)) {
    // Not String(type): an object without a prototype has no string form and would throw.
    const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : `of type ${typeof type}`;
    return { ok: false, reason: `unknown message type ${shown}` };
  }
  const extra = onlyKeys(raw, FIELDS[type]);
  if (extra) return { ok: false, reason: `${type}: ${extra}` };
  const fail = (reason: string): Checked<WebviewToHost> => ({ ok: false, reason: `${type}: ${reason}` });
  switch (type) {
    case 'ready': {
      const [documentAt, sentAt] = [raw['documentAt'], raw['sentAt']];
      for (const [key, at] of [
        ['documentAt', documentAt],
        ['sentAt', sentAt],
      ] as const)
        if (typeof at !== 'number' || !Number.isFinite(at) || at <= 0)
          return fail(`"${key}" must be a time in ms since the epoch`);
      return { ok: true, value: { type, documentAt: documentAt as number, sentAt: sentAt as number } };
    }
    case 'selected':
    case 'copyPath':
    case 'revealInTree':
    case 'copyWhyCommand': {
      const bad = checkString(raw, 'path', MAX_PATH_LENGTH);
      if (bad) return fail(bad);
      return { ok: true, value: { type, path: raw['path'] as string } };
    }
    case 'openDefinition': {
      const bad = checkString(raw, 'file', MAX_PATH_LENGTH);
      if (bad) return fail(bad);
      const line = raw['line'];
      if (line !== null && !(Number.isInteger(line) && (line as number) >= 1 && (line as number) <= MAX_LINE)) {
        return fail('"line" must be a positive integer or null');
      }
      return { ok: true, value: { type, file: raw['file'] as string, line: line as number | null } };
    }
    case 'preciseRequest': {
      const chain = raw['chain'];
      if (!Array.isArray(chain) || chain.length < 2 || chain.length > MAX_PRECISE_CHAIN)
        return fail(`"chain" must be an array of 2 to ${MAX_PRECISE_CHAIN} store paths`);
      if (!chain.every(isStorePathString)) return fail('"chain" holds something that is not a store path');
      // A chain of references never repeats a path; one edge of the why-graph is a chain of two distinct paths.
      if (new Set(chain).size !== chain.length) return fail('"chain" names a store path twice');
      return { ok: true, value: { type, chain: [...chain] as string[] } };
    }
    case 'openReference': {
      if (!isStorePathString(raw['referrer'])) return fail('"referrer" must be a store path');
      if (!isRelativeFile(raw['file'])) return fail('"file" must be "/" or a relative path inside the referrer');
      if (!isOffset(raw['offset'])) return fail('"offset" must be a byte offset');
      return {
        ok: true,
        value: { type, referrer: raw['referrer'], file: raw['file'], offset: raw['offset'] },
      };
    }
    case 'drawn': {
      const marks = raw['marks'];
      if (!Array.isArray(marks) || marks.length > DRAW_MARK_NAMES.length || !marks.every(isDrawMark))
        return fail(`"marks" must be up to ${DRAW_MARK_NAMES.length} marks { name, ms }`);
      const arcs = raw['arcs'];
      if (!Number.isSafeInteger(arcs) || (arcs as number) < 0) return fail('"arcs" must be a count');
      const arrivedAt = raw['arrivedAt'];
      if (typeof arrivedAt !== 'number' || !Number.isFinite(arrivedAt) || arrivedAt < 0)
        return fail('"arrivedAt" must be a time (ms since the epoch)');
      return {
        ok: true,
        value: { type, marks: marks.map((m) => ({ name: m.name, ms: m.ms })), arcs: arcs as number, arrivedAt },
      };
    }
    case 'reportError': {
      const m = raw['message'];
      if (typeof m !== 'string') return fail('"message" must be a string');
      return { ok: true, value: { type, message: m.slice(0, MAX_ERROR_LENGTH) } };
    }
  }
}

function isDrawMark(v: unknown): v is DrawMark {
  if (!isRecord(v) || onlyKeys(v, ['name', 'ms']) !== undefined) return false;
  const ms = v['ms'];
  return (
    DRAW_MARK_NAMES.includes(v['name'] as DrawMark['name']) &&
    typeof ms === 'number' &&
    Number.isFinite(ms) &&
    // Only the preview's marks come before the closure arrived.
    ms > (String(v['name']).startsWith('preview') ? -3_600_000 : -0.001) &&
    ms < 3_600_000
  );
}

function optionalString(o: Rec, key: string, max: number): boolean {
  return o[key] === undefined || (typeof o[key] === 'string' && (o[key] as string).length <= max);
}

/** Validates a panel target that came from webview state (after a reload it is untrusted input). */
export function parsePanelTarget(raw: unknown): PanelTarget | undefined {
  if (!isRecord(raw)) return undefined;
  const ok = (keys: string[], strings: string[]) =>
    onlyKeys(raw, ['kind', ...keys]) === undefined &&
    strings.every((k) => checkString(raw, k, MAX_PATH_LENGTH) === undefined);
  switch (raw['kind']) {
    case 'installable':
      if (!ok(['installable', 'cwd'], ['installable']) || !optionalString(raw, 'cwd', MAX_PATH_LENGTH))
        return undefined;
      return raw['cwd'] === undefined
        ? { kind: 'installable', installable: raw['installable'] as string }
        : { kind: 'installable', installable: raw['installable'] as string, cwd: raw['cwd'] as string };
    case 'store-path':
      return ok(['path'], ['path']) ? { kind: 'store-path', path: raw['path'] as string } : undefined;
    case 'json-file':
      return ok(['file'], ['file']) ? { kind: 'json-file', file: raw['file'] as string } : undefined;
    default:
      return undefined;
  }
}
