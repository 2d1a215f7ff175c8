/**
 * The quickest of the fast paths: `nix path-info --json` exactly as Nix prints it (compact, fields in Nix's
 * order), matched entry by entry with one regular expression. The regular expression engine runs as native code,
 * so the text is checked at native speed without a JSON.parse tree; only the kept fields become strings.
 *
 * Two shapes: the Nix 2.8–2.18 array (`path, narHash, narSize, references`, then the other fields with `deriver`
 * among them) and the Nix 2.19+ object keyed by store path (fields sorted by name, `null` for an invalid path).
 * The expression admits only what the generic parser reads the same way: strings without escapes or control
 * characters, store paths in one store dir, plain integers that a double holds, and no kept field twice. Anything
 * else (whitespace, escapes, `"valid": false`, nested values, other orders, Lix, Nix 2.33's v2) makes it return
 * undefined, and the next parser tries.
 */
import type { PathRecord } from '../../shared/graph';
import { HASH_LENGTH, NIX_BASE32_ALPHABET } from '../../shared/storePath';
import { finishPathInfo } from './pathInfo';
import type { ParseOptions, ParsedClosure } from './types';

/** String content without escapes or control characters: a JSON string that is exactly its text. */
const STR = '[^"\\\\\\x00-\\x1f]*';
/** A JSON value that is not an object and holds no nested array (what Nix prints for the fields not kept). */
const SCALAR = `(?:"${STR}"|true|false|null|-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\\[(?:"${STR}"(?:,"${STR}")*)?\\])`;
/** A field the generic parser ignores here: any key but the kept ones (so that none of those is listed twice). */
const OTHER = `"(?!(?:path|narHash|narSize|references|deriver|valid)")${STR}":${SCALAR}`;
/** Store path base name: the hash in nix-base32, a dash, a name in Nix's alphabet (storePath.ts). */
const BASE = `[${NIX_BASE32_ALPHABET}]{${HASH_LENGTH}}-[A-Za-z0-9+\\-._?=]+`;
/** A non-negative integer of at most 16 digits (those past 2^53 are checked after). */
const SIZE = '(0|[1-9][0-9]{0,15})';
/** References: full paths (base names are for v2), as one string `"…","…"`. */
const REFS = `((?:"/${STR}"(?:,"/${STR}")*)?)`;
/** A deriver: none (''), or a full path. */
const DERIVER = `"deriver":"((?:/${STR})?)"`;
/** `registrationTime`, `ultimate`, `signatures`, `ca`: only `nix path-info` prints them (with `valid` and `deriver`). */
const PATH_INFO_KEY = /"(?:registrationTime|ultimate|signatures|ca)":/;
const FIRST_PATH = new RegExp(`^\\[\\{"path":"(${STR})"`);

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** The store dir of the first path (`/nix/store`), or undefined when it is not absolute. */
function storeDirOf(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  return slash > 0 && path.charCodeAt(0) === 47 ? path.slice(0, slash) : undefined;
}

/** Splits `"a","b"` (already checked to be quoted strings without quotes inside) into its strings. */
function splitReferences(list: string): string[] {
  return list === '' ? [] : list.slice(1, -1).split('","');
}

function sizeOf(digits: string): number | undefined {
  const v = Number(digits);
  return v <= Number.MAX_SAFE_INTEGER ? v : undefined;
}

/**
 * Records of compact path-info JSON in Nix's own field order, or undefined when the text is anything else.
 * Errors from the whole-closure check are thrown as the generic parser would throw them.
 */
export function parseCompactPathInfo(
  text: string,
  source: string,
  options: ParseOptions = {},
): ParsedClosure | undefined {
  const c = text.charCodeAt(0);
  try {
    if (c === 91 /* [ */) return compactArray(text, source, options);
    if (c === 123 /* { */) return compactObject(text, source, options);
  } catch (e) {
    // The regular expression engine out of stack on some giant value: the generic parser decides.
    if (e instanceof RangeError) return undefined;
    throw e;
  }
  return undefined;
}

function compactArray(text: string, source: string, options: ParseOptions): ParsedClosure | undefined {
  const reader = CompactArrayReader.at(text);
  if (reader === undefined) return undefined;
  const stop = reader.read(text, 1);
  if (stop < 0 || !reader.ended || !atEnd(text, stop)) return undefined;
  return reader.finish(source, options);
}

/**
 * The entries of Nix's compact path-info array, read in pieces: the whole text at once (compactArray), or nix's
 * output as it arrives (pathInfoStream.ts). A piece is cut just after the `,` of `},{"path":"`, which in JSON text
 * can only be the boundary between two entries (a string holds no unescaped quote) and which no entry's match
 * can reach across, so the pieces' matches are exactly the whole text's.
 */
export class CompactArrayReader {
  private readonly entry: RegExp;
  private readonly records: PathRecord[] = [];
  private readonly paths: string[] = [];
  private sawPathInfoField = false;
  /** The closing `]` was read. */
  ended = false;

  get entries(): number {
    return this.records.length;
  }

  private constructor(private readonly storeDir: string) {
    this.entry = new RegExp(
      `\\{"path":"(${escapeRegExp(storeDir)}/${BASE})","narHash":"(${STR})","narSize":${SIZE},"references":\\[${REFS}\\]` +
        `((?:,${OTHER})*)(?:,${DERIVER})?((?:,${OTHER})*)\\}(,|\\])`,
      'y',
    );
  }

  /** A reader for the array that `text` starts (its first path complete), or undefined when it is not one. */
  static at(text: string): CompactArrayReader | undefined {
    const first = FIRST_PATH.exec(text);
    const storeDir = first ? storeDirOf(first[1]!) : undefined;
    return storeDir === undefined ? undefined : new CompactArrayReader(storeDir);
  }

  /**
   * Reads consecutive entries of `text` from `from` until the closing `]` or the end of `text`; returns where it
   * stopped, or -1 when something there is not an entry as Nix prints it.
   */
  read(text: string, from: number): number {
    if (this.ended) return from === text.length ? from : -1;
    const entry = this.entry;
    entry.lastIndex = from;
    try {
      while (entry.lastIndex < text.length) {
        const m = entry.exec(text);
        if (m === null) return -1;
        const narSize = sizeOf(m[3]!);
        if (narSize === undefined) return -1;
        const deriver = m[6];
        if (!this.sawPathInfoField)
          this.sawPathInfoField = deriver !== undefined || PATH_INFO_KEY.test(m[5]!) || PATH_INFO_KEY.test(m[7]!);
        this.records.push({
          path: '',
          narSize,
          references: splitReferences(m[4]!),
          narHash: m[2]!,
          deriver: deriver || undefined,
        });
        this.paths.push(m[1]!);
        if (m[8] === ']') {
          this.ended = true;
          break;
        }
      }
    } catch (e) {
      // The regular expression engine out of stack on some giant value: the generic parser decides.
      if (e instanceof RangeError) return -1;
      throw e;
    }
    return entry.lastIndex;
  }

  /** The records read, checked as parseClosureJson checks them. */
  finish(source: string, options: ParseOptions): ParsedClosure {
    return finish(
      this.records,
      this.paths,
      [],
      this.storeDir,
      this.sawPathInfoField ? 'path-info-array' : 'closure-info',
      source,
      options,
    );
  }
}

function compactObject(text: string, source: string, options: ParseOptions): ParsedClosure | undefined {
  const first = new RegExp(`^\\{"(${STR})":`).exec(text);
  const storeDir = first ? storeDirOf(first[1]!) : undefined;
  if (storeDir === undefined) return undefined;
  // Fields sorted by name: ca, closureSize, deriver, narHash, narSize, references, registrationTime, signatures, …
  const entry = new RegExp(
    `"(${escapeRegExp(storeDir)}/${BASE})":(?:null|\\{(?:${OTHER},)*(?:${DERIVER},)?(?:${OTHER},)*` +
      `"narHash":"(${STR})","narSize":${SIZE},"references":\\[${REFS}\\](?:,${OTHER})*\\})(,|\\})`,
    'y',
  );
  entry.lastIndex = 1;
  const records: PathRecord[] = [];
  const paths: string[] = [];
  const invalidPaths: string[] = [];
  let previous = '';
  for (;;) {
    const m = entry.exec(text);
    if (m === null) return undefined;
    const path = m[1]!;
    // Nix prints the keys sorted; in any other order a key could be there twice, which JSON.parse resolves its own way.
    if (!(path > previous)) return undefined;
    previous = path;
    if (m[3] === undefined) invalidPaths.push(path);
    else {
      const narSize = sizeOf(m[4]!);
      if (narSize === undefined) return undefined;
      records.push({
        path: '',
        narSize,
        references: splitReferences(m[5]!),
        narHash: m[3],
        deriver: m[2] || undefined,
      });
      paths.push(path);
    }
    if (m[6] === '}') break;
  }
  if (!atEnd(text, entry.lastIndex)) return undefined;
  return finish(records, paths, invalidPaths, storeDir, 'path-info-object', source, options);
}

/** Only JSON whitespace after `at`. */
export function atEnd(text: string, at: number): boolean {
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return false;
  }
  return true;
}

/** `records` get their `paths`. */
function finish(
  records: PathRecord[],
  paths: string[],
  invalidPaths: string[],
  storeDir: string,
  format: 'path-info-array' | 'closure-info' | 'path-info-object',
  source: string,
  options: ParseOptions,
): ParsedClosure {
  // Joined and split again, the paths become slices of one string of paths alone: a slice of the text would keep
  // all of the text alive for as long as the graph lives. (The other strings only live as long as the records.)
  if (records.length > 0) {
    const flat = paths.join('\n').split('\n');
    for (let i = 0; i < records.length; i++) (records[i] as { path: string }).path = flat[i]!;
  }
  const invalidFlat = invalidPaths.length > 0 ? invalidPaths.join('\n').split('\n') : [];
  return finishPathInfo(records, invalidFlat, storeDir, format, source, options);
}
