/* eslint-disable max-lines -- one byte-level scanner; see the header */
/**
 * A fast path for `nix path-info --json` in the shapes that reach 10^5 paths: the Nix 2.8–2.18 / Lix array,
 * the 2.19+ object keyed by store path, and the 2.33+ `{version, storeDir, info}`. One pass over the bytes keeps
 * only what a PathRecord holds (path, narSize, references, narHash, deriver), the invalid entries and the
 * fields that name the format; every other value is skipped (and checked to be valid JSON) without building it,
 * and what is kept becomes strings only at the end, as slices of the text.
 *
 * It is exact or it declines: whenever the text holds anything this scanner does not fully understand (an escape
 * in a kept string or in a key, a number that is not a plain integer, a key listed twice, a non-ASCII character,
 * an entry the generic parser would reject, a syntax error…) it returns undefined and the generic parser
 * (JSON.parse, then pathInfo.ts) runs instead. What it accepts it hands to the same closure check as the generic
 * parser, so results, errors and messages stay the generic parser's; the unit tests hold the two to the same results.
 *
 * One file past 500 lines because it is one thing: a single recursive-descent scanner whose key table, value
 * skippers and entry readers share the cursor and the decline rule; split, each part would only be called by the
 * others.
 */
import { isAscii } from 'node:buffer';
import type { PathRecord } from '../../shared/graph';
import { HASH_LENGTH, NIX_BASE32_ALPHABET } from '../../shared/storePath';
import { finishPathInfo } from './pathInfo';
import type { ClosureFormat, ParseOptions, ParsedClosure } from './types';

/** Thrown inside the scanner to give up; never leaves this module. */
const DECLINE = Symbol('decline');
function decline(): never {
  throw DECLINE;
}

const SHAPE_ARRAY = 0;
const SHAPE_OBJECT = 1;
const SHAPE_V2 = 2;

// Keys the scanner recognises (bit numbers for the "seen twice" check).
const K_OTHER = 0;
const K_PATH = 1;
const K_NAR_SIZE = 2;
const K_NAR_HASH = 3;
const K_REFERENCES = 4;
const K_DERIVER = 5;
const K_VALID = 6;
const K_REGISTRATION_TIME = 7;
const K_ULTIMATE = 8;
const K_SIGNATURES = 9;
const K_CA = 10;
const K_INFO = 11;
const K_STORE_DIR = 12;
const K_VERSION = 13;
/** `valid`, `deriver`, `registrationTime`, `ultimate`, `signatures`, `ca`: only `nix path-info` prints them. */
const PATH_INFO_ONLY =
  (1 << K_VALID) |
  (1 << K_DERIVER) |
  (1 << K_REGISTRATION_TIME) |
  (1 << K_ULTIMATE) |
  (1 << K_SIGNATURES) |
  (1 << K_CA);

/** Character classes of a store path base name (`<32 nix-base32 chars>-<name>`), as storePath.ts checks them. */
const BASE32 = new Uint8Array(128);
const NAME = new Uint8Array(128);
for (const c of NIX_BASE32_ALPHABET) BASE32[c.charCodeAt(0)] = 1;
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=') NAME[c.charCodeAt(0)] = 1;
const MAX_DEPTH = 512;

/** A growable Int32Array. */
class IntList {
  a = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
}

/** What the scan found, as text offsets: nothing is a string yet. */
export interface Scan {
  shape: number;
  /** Array shape: some entry carried a field only `nix path-info` prints. */
  sawPathInfoField: boolean;
  /** The store dir: the records' (array, object) or the document's `storeDir` (v2), as an offset range. */
  storeDirStart: number;
  storeDirEnd: number;
  /** Per entry, in text order: the path as the text spells it (a full path, or a v2 base name). */
  pathStart: IntList;
  pathEnd: IntList;
  invalid: IntList;
  narSize: number[];
  narHashStart: IntList;
  narHashEnd: IntList;
  deriverStart: IntList;
  deriverEnd: IntList;
  refFirst: IntList;
  /** Per reference, in text order: its offset range (the string without quotes). */
  refStart: IntList;
  refEnd: IntList;
}

/** Key spellings with their closing quote, as bytes. */
const KEY_BYTES: Uint8Array[] = [];
/** The known keys by their first byte, so that a key is compared with at most the two that start like it. */
const KEYS_BY_FIRST_BYTE: number[][] = Array.from({ length: 256 }, () => []);
for (const [id, word] of [
  [K_PATH, 'path'],
  [K_NAR_SIZE, 'narSize'],
  [K_NAR_HASH, 'narHash'],
  [K_REFERENCES, 'references'],
  [K_DERIVER, 'deriver'],
  [K_VALID, 'valid'],
  [K_REGISTRATION_TIME, 'registrationTime'],
  [K_ULTIMATE, 'ultimate'],
  [K_SIGNATURES, 'signatures'],
  [K_CA, 'ca'],
  [K_INFO, 'info'],
  [K_STORE_DIR, 'storeDir'],
  [K_VERSION, 'version'],
] as const) {
  KEY_BYTES[id] = Buffer.from(`${word}"`, 'latin1');
  KEYS_BY_FIRST_BYTE[word.charCodeAt(0)]!.push(id);
}
const TRUE = Buffer.from('true', 'latin1');
const FALSE = Buffer.from('false', 'latin1');
const NULL = Buffer.from('null', 'latin1');

/** The scanner reads bytes: indexing a Uint8Array is cheaper than String.prototype.charCodeAt. */
class PathInfoScanner {
  private i = 0;
  private readonly scan: Scan;
  /** Array and object shapes: the records' store dir followed by `/` (from the first path), as offsets. */
  private storeDirSlashStart = -1;
  private storeDirSlashLength = 0;

  constructor(
    private readonly s: Uint8Array,
    /** The text's length (a Buffer's pool may hold more bytes after it). */
    private readonly n: number,
    /**
     * Every full-path reference will be compared whole with a path that was checked (pathInfoGraph.ts): then the
     * search for its closing quote starts past the shortest store path, and whatever that skips (an escape, a
     * control character, an earlier quote) makes the comparison fail instead.
     */
    private readonly referencesComparedLater = false,
  ) {
    this.scan = {
      shape: SHAPE_ARRAY,
      sawPathInfoField: false,
      storeDirStart: -1,
      storeDirEnd: -1,
      pathStart: new IntList(),
      pathEnd: new IntList(),
      invalid: new IntList(),
      narSize: [],
      narHashStart: new IntList(),
      narHashEnd: new IntList(),
      deriverStart: new IntList(),
      deriverEnd: new IntList(),
      refFirst: new IntList(),
      refStart: new IntList(),
      refEnd: new IntList(),
    };
  }

  run(): Scan {
    const s = this.s;
    this.ws();
    const c = s[this.i];
    if (c === 91 /* [ */) this.topArray();
    else if (c === 123 /* { */) this.topObject();
    else decline();
    this.ws();
    if (this.i !== this.n) decline();
    if (this.scan.pathStart.length === 0) decline();
    return this.scan;
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s[i];
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  /** Past `expected` (after whitespace), else declines. */
  private expect(expected: number): void {
    this.ws();
    if (this.s[this.i] !== expected) decline();
    this.i++;
  }

  private topArray(): void {
    this.scan.shape = SHAPE_ARRAY;
    this.i++;
    this.ws();
    if (this.s[this.i] === 93 /* ] */) decline(); // empty: the generic parser says so
    for (;;) {
      this.ws();
      if (this.s[this.i] !== 123) decline();
      this.entry(SHAPE_ARRAY, -1, -1);
      this.ws();
      const c = this.s[this.i++];
      if (c === 44 /* , */) continue;
      if (c === 93) return;
      decline();
    }
  }

  private topObject(): void {
    const s = this.s;
    this.i++;
    this.ws();
    if (s[this.i] !== 34 /* " */) decline();
    if (s[this.i + 1] === 47 /* / */) {
      this.scan.shape = SHAPE_OBJECT;
      this.pathKeyedEntries(SHAPE_OBJECT);
      return;
    }
    this.scan.shape = SHAPE_V2;
    let seen = 0;
    for (;;) {
      this.ws();
      if (s[this.i] !== 34) decline();
      const key = this.key();
      if (seen & (1 << key)) decline();
      seen |= 1 << key;
      this.expect(58 /* : */);
      this.ws();
      if (key === K_INFO) {
        if (s[this.i] !== 123) decline();
        this.i++;
        this.ws();
        if (s[this.i] === 125 /* } */) this.i++;
        else this.pathKeyedEntries(SHAPE_V2);
      } else if (key === K_STORE_DIR) {
        if (s[this.i] !== 34) decline();
        this.scan.storeDirStart = this.i + 1;
        this.scan.storeDirEnd = this.keptString();
      } else if (key === K_VERSION) {
        const c = s[this.i];
        if (c !== 50 && c !== 51) decline(); // 2 or 3, as plain digits (2.0 and 2e0 go the generic way)
        this.i++;
        this.endOfNumber();
      } else decline();
      this.ws();
      const c = s[this.i++];
      if (c === 44) continue;
      if (c === 125) break;
      decline();
    }
    if (seen !== ((1 << K_INFO) | (1 << K_STORE_DIR) | (1 << K_VERSION))) decline();
    const dirStart = this.scan.storeDirStart;
    // An empty or relative store dir makes the generic parser complain, and a trailing `/` is too odd to bother.
    if (s[dirStart] !== 47 || s[this.scan.storeDirEnd - 1] === 47) decline();
  }

  /** The members of an object keyed by store path (object shape) or base name (v2), from its first key. */
  private pathKeyedEntries(shape: number): void {
    const s = this.s;
    for (;;) {
      this.ws();
      if (s[this.i] !== 34) decline();
      const start = this.i + 1;
      const end = shape === SHAPE_V2 ? this.baseName(start) : this.storePath(start);
      this.i = end + 1;
      this.expect(58);
      this.ws();
      const c = s[this.i];
      if (c === 110 /* n */ && matches(s, this.i, NULL)) {
        this.i += 4;
        this.addInvalid(start, end);
      } else if (c === 123) this.entry(shape, start, end);
      else decline();
      this.ws();
      const d = s[this.i++];
      if (d === 44) continue;
      if (d === 125) return;
      decline();
    }
  }

  private addInvalid(start: number, end: number): void {
    const sc = this.scan;
    sc.pathStart.push(start);
    sc.pathEnd.push(end);
    sc.invalid.push(1);
    sc.narSize.push(0);
    sc.narHashStart.push(-1);
    sc.narHashEnd.push(-1);
    sc.deriverStart.push(-1);
    sc.deriverEnd.push(-1);
    sc.refFirst.push(sc.refStart.length);
  }

  /** One store object's fields, at `{`. `pathStart`/`pathEnd`: its key (object and v2 shapes). */
  private entry(shape: number, pathStart: number, pathEnd: number): void {
    const s = this.s;
    const sc = this.scan;
    this.i++;
    let seen = 0;
    let narSize = -1;
    let narHashStart = -1;
    let narHashEnd = -1;
    let deriverStart = -1;
    let deriverEnd = -1;
    let valid = true;
    /** A field the generic parser would reject, unless the entry turns out to be `"valid": false`. */
    let bad = false;
    const refFirst = sc.refStart.length;
    this.ws();
    if (s[this.i] === 125) this.i++;
    else {
      for (;;) {
        this.ws();
        if (s[this.i] !== 34) decline();
        const key = this.key();
        if (key !== K_OTHER) {
          if (seen & (1 << key)) decline();
          seen |= 1 << key;
        }
        this.expect(58);
        this.ws();
        const c = s[this.i];
        switch (key) {
          case K_PATH:
            if (shape !== SHAPE_ARRAY) this.skipValue(0);
            else {
              if (c !== 34) decline();
              pathStart = this.i + 1;
              pathEnd = this.storePath(pathStart);
              this.i = pathEnd + 1;
            }
            break;
          case K_NAR_SIZE:
            if (c >= 48 && c <= 57) narSize = this.size();
            else {
              bad = true;
              this.skipValue(0);
            }
            break;
          case K_REFERENCES:
            if (c === 91) this.references();
            else {
              bad = true;
              this.skipValue(0);
            }
            break;
          case K_NAR_HASH:
            if (c === 34) {
              narHashStart = this.i + 1;
              narHashEnd = this.keptString();
            } else if (c === 110 && matches(s, this.i, NULL)) this.i += 4;
            else {
              bad = true; // a structured hash ({algorithm, hash}) or a wrong type: the generic parser knows
              this.skipValue(0);
            }
            break;
          case K_DERIVER:
            if (c === 34) {
              deriverStart = this.i + 1;
              deriverEnd = this.keptString();
              if (deriverEnd === deriverStart)
                deriverStart = deriverEnd = -1; // '' means none
              else if (s[deriverStart] !== 47 && this.baseName(deriverStart) !== deriverEnd) bad = true;
            } else this.skipValue(0); // not a string: no deriver
            break;
          case K_VALID:
            if (shape === SHAPE_ARRAY && c === 102 /* f */ && matches(s, this.i, FALSE)) {
              this.i += 5;
              valid = false;
            } else this.skipValue(0);
            break;
          default:
            this.skipValue(0);
        }
        this.ws();
        const d = s[this.i++];
        if (d === 44) continue;
        if (d === 125) break;
        decline();
      }
    }
    if (shape === SHAPE_ARRAY) {
      if (pathStart < 0) decline();
      if (seen & PATH_INFO_ONLY) sc.sawPathInfoField = true;
      if (!valid) {
        // The generic parser ignores them too; but references that will not be compared were not checked either.
        if (this.referencesComparedLater && sc.refStart.length !== refFirst) decline();
        sc.refStart.length = sc.refEnd.length = refFirst;
        this.addInvalid(pathStart, pathEnd);
        return;
      }
    }
    if (bad || narSize < 0 || !(seen & (1 << K_REFERENCES))) decline();
    sc.pathStart.push(pathStart);
    sc.pathEnd.push(pathEnd);
    sc.invalid.push(0);
    sc.narSize.push(narSize);
    sc.narHashStart.push(narHashStart);
    sc.narHashEnd.push(narHashEnd);
    sc.deriverStart.push(deriverStart);
    sc.deriverEnd.push(deriverEnd);
    sc.refFirst.push(refFirst);
  }

  /**
   * At `"` of a key: which one it is, and moves past the closing quote. Known keys are matched whole (closing quote
   * included); any other key is skipped as a string, and a key with an escape declines (it could spell a known one).
   */
  private key(): number {
    const s = this.s;
    const k = this.i + 1;
    for (const id of KEYS_BY_FIRST_BYTE[s[k]!] ?? []) {
      const word = KEY_BYTES[id]!;
      if (matches(s, k, word)) {
        // past the closing quote, which the spelling includes
        this.i = k + word.length;
        return id;
      }
    }
    this.i = this.keptString() + 1;
    return K_OTHER;
  }

  /** At `"` of a string that may not hold escapes: returns the offset of its closing quote, and moves past it. */
  private keptString(): number {
    const s = this.s;
    let i = this.i + 1;
    for (;;) {
      const c = s[i];
      if (c === 34) break;
      if (!(c! >= 32) || c === 92) decline(); // a control character, an escape, or the end of the text
      i++;
    }
    this.i = i + 1;
    return i;
  }

  /**
   * A full store path starting at `start` (inside its string): the records' store dir, `/`, a base name, and the
   * closing quote; returns the quote's offset. The first path names the store dir.
   */
  private storePath(start: number): number {
    const s = this.s;
    if (this.storeDirSlashStart < 0) {
      this.i = start - 1;
      const end = this.keptString();
      let slash = end - 1;
      while (slash > start && s[slash] !== 47) slash--;
      // The generic parser needs a slash after the first character; a relative store dir fails its closure check.
      if (slash === start || s[start] !== 47) decline();
      this.scan.storeDirStart = start;
      this.scan.storeDirEnd = slash;
      this.storeDirSlashStart = start;
      this.storeDirSlashLength = slash + 1 - start;
    }
    const length = this.storeDirSlashLength;
    if (!sameBytes(s, this.storeDirSlashStart, start, length)) decline();
    return this.baseName(start + length);
  }

  /** A store path base name at `start` (`<hash>-<name>`) followed by `"`: returns the quote's offset, else declines. */
  private baseName(start: number): number {
    const s = this.s;
    for (let k = 0; k < HASH_LENGTH; k++) if (BASE32[s[start + k] & 127] !== 1 || s[start + k] > 127) decline();
    if (s[start + HASH_LENGTH] !== 45 /* - */) decline();
    let i = start + HASH_LENGTH + 1;
    for (;;) {
      const c = s[i];
      if (c < 128 && NAME[c] === 1) i++;
      else break;
    }
    if (i === start + HASH_LENGTH + 1 || s[i] !== 34) decline();
    return i;
  }

  /** A NAR size: a plain integer (no sign, fraction or exponent) that a double holds exactly. */
  private size(): number {
    const s = this.s;
    let i = this.i;
    let v = s[i] - 48;
    i++;
    if (v !== 0) {
      const limit = i + 15;
      for (;;) {
        const c = s[i];
        if (!(c! >= 48 && c! <= 57)) break;
        if (i === limit) decline(); // 17 digits or more
        v = v * 10 + (c - 48);
        i++;
      }
    }
    this.i = i;
    this.endOfNumber();
    if (v > Number.MAX_SAFE_INTEGER) decline();
    return v;
  }

  /** After an integer's digits: a fraction, an exponent or another digit (a leading zero) go the generic way. */
  private endOfNumber(): void {
    const c = this.s[this.i];
    if ((c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69) decline();
  }

  /**
   * `[` of a references array: each element's offset range goes to the reference list. A full path is kept as
   * written (as the generic parser does); a base name (v2) must be one, and gets the store dir later.
   */
  private references(): void {
    const s = this.s;
    const sc = this.scan;
    this.elements(93, () => {
      const at = this.i;
      if (s[at] !== 34) decline();
      let end: number;
      if (s[at + 1] !== 47) end = this.baseName(at + 1);
      else if (this.referencesComparedLater && this.storeDirSlashLength > 0) {
        end = at + 1 + this.storeDirSlashLength + HASH_LENGTH + 1;
        while (end < this.n && s[end] !== 34) end++;
        if (end >= this.n) decline();
      } else end = this.keptString();
      sc.refStart.push(at + 1);
      sc.refEnd.push(end);
      this.i = end + 1;
    });
  }

  /**
   * At the `[` or `{` that `close` (`]` or `}`) ends: calls `element` at each element (whitespace skipped), which
   * must move past it, and checks the commas between them as JSON.parse would.
   */
  private elements(close: number, element: () => void): void {
    const s = this.s;
    this.i++;
    this.ws();
    if (s[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      element();
      this.ws();
      const d = s[this.i++];
      if (d === 44) continue;
      if (d === close) return;
      decline();
    }
  }

  /** Skips any JSON value, checking it as JSON.parse would. */
  private skipValue(depth: number): void {
    if (depth > MAX_DEPTH) decline();
    const s = this.s;
    this.ws();
    const c = s[this.i];
    if (c === 34) this.skipString();
    else if (c === 123) {
      this.elements(125, () => {
        if (s[this.i] !== 34) decline();
        this.skipString();
        this.expect(58);
        this.skipValue(depth + 1);
      });
    } else if (c === 91) {
      this.elements(93, () => this.skipValue(depth + 1));
    } else if (c === 116 /* t */) this.literal(TRUE);
    else if (c === 102) this.literal(FALSE);
    else if (c === 110) this.literal(NULL);
    else this.skipNumber();
  }

  private literal(word: Uint8Array): void {
    if (!matches(this.s, this.i, word)) decline();
    this.i += word.length;
  }

  /** At `"`: any JSON string, escapes included. */
  private skipString(): void {
    const s = this.s;
    let i = this.i + 1;
    for (;;) {
      const c = s[i];
      if (c === 34) break;
      if (!(c! >= 32)) decline(); // a control character, or the end of the text
      if (c === 92) {
        const e = s[i + 1];
        if (e === 117 /* u */) {
          for (let k = 2; k < 6; k++) {
            const h = s[i + k];
            if (!((h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102))) decline();
          }
          i += 6;
          continue;
        }
        // " \ / b f n r t
        if (e !== 34 && e !== 92 && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) decline();
        i += 2;
        continue;
      }
      i++;
    }
    this.i = i + 1;
  }

  /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private skipNumber(): void {
    const s = this.s;
    let i = this.i;
    const digit = (k: number): boolean => {
      const c = s[k];
      return c >= 48 && c <= 57;
    };
    if (s[i] === 45) i++;
    if (s[i] === 48) i++;
    else if (digit(i)) while (digit(i)) i++;
    else decline();
    if (s[i] === 46) {
      i++;
      if (!digit(i)) decline();
      while (digit(i)) i++;
    }
    const e = s[i];
    if (e === 101 || e === 69) {
      i++;
      const sign = s[i];
      if (sign === 43 || sign === 45) i++;
      if (!digit(i)) decline();
      while (digit(i)) i++;
    }
    this.i = i;
  }
}

/** Whether `word` is at `at`. */
function matches(b: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

function sameBytes(b: Uint8Array, x: number, y: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (b[x + k] !== b[y + k]) return false;
  return true;
}

/**
 * The records of path-info JSON that this fast path fully understands, else undefined (then the generic parser
 * must run on the same text). `bytes`, when given, are `text` as UTF-8. Errors from the whole-closure check
 * are thrown as the generic parser would throw them.
 */
export function parsePathInfoFast(
  text: string,
  source: string,
  options: ParseOptions = {},
  bytes?: Uint8Array,
): ParsedClosure | undefined {
  // Offsets in the bytes are offsets in the text only when every character is ASCII; anything else is rare in
  // path-info JSON (store paths are ASCII) and goes the generic way.
  const scanned = scanPathInfo(text, bytes);
  if (scanned === undefined) return undefined;
  const built = attempt(() => materialize(text, scanned.bytes, scanned.scan));
  if (built === undefined) return undefined;
  return finishPathInfo(built.records, built.invalidPaths, built.storeDir, built.format, source, options);
}

/** `f()`, or undefined when it declines. */
export function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e === DECLINE || e instanceof RangeError) return undefined;
    throw e;
  }
}

/** Gives up inside attempt(). */
export { decline };

/** The scan of `text` (`bytes`: the same as UTF-8, when the caller has them), or undefined when it declines. */
export function scanPathInfo(
  text: string,
  bytes?: Uint8Array,
  referencesComparedLater = false,
): { scan: Scan; bytes: Uint8Array } | undefined {
  // Offsets in the bytes are offsets in the text only when every character is ASCII; anything else is rare in
  // path-info JSON (store paths are ASCII) and goes the generic way.
  if (bytes ? !isAscii(bytes) : Buffer.byteLength(text, 'utf8') !== text.length) return undefined;
  const b = bytes ?? Buffer.from(text, 'latin1');
  const scan = attempt(() => new PathInfoScanner(b, text.length, referencesComparedLater).run());
  return scan && { scan, bytes: b };
}

/**
 * The scan of UTF-8 `bytes`, or undefined when it declines (non-ASCII bytes included). `referencesComparedLater`:
 * see PathInfoScanner.
 */
export function scanPathInfoBytes(
  bytes: Uint8Array,
  referencesComparedLater = false,
): { scan: Scan; bytes: Uint8Array } | undefined {
  if (!isAscii(bytes)) return undefined;
  const scan = attempt(() => new PathInfoScanner(bytes, bytes.length, referencesComparedLater).run());
  return scan && { scan, bytes };
}

export const SHAPES = { array: SHAPE_ARRAY, object: SHAPE_OBJECT, v2: SHAPE_V2 } as const;

function materialize(
  s: string,
  b: Uint8Array,
  scan: Scan,
): { records: PathRecord[]; invalidPaths: string[]; storeDir: string; format: ClosureFormat } {
  const count = scan.pathStart.length;
  const starts = scan.pathStart.a;
  const ends = scan.pathEnd.a;
  const storeDir = s.slice(scan.storeDirStart, scan.storeDirEnd);
  const v2 = scan.shape === SHAPE_V2;
  // Joined and split again, the paths become slices of one string of paths alone: a slice of the text would keep
  // all of the text alive for as long as the graph lives. (References and hashes are slices of the text: records
  // only live until the graph is built.)
  const spelled: string[] = new Array(count);
  for (let r = 0; r < count; r++) spelled[r] = s.slice(starts[r]!, ends[r]!);
  const paths = v2 ? `${storeDir}/${spelled.join(`\n${storeDir}/`)}`.split('\n') : spelled.join('\n').split('\n');
  if (paths.length !== count) decline();

  const invalid = scan.invalid.a;
  const refFirst = scan.refFirst.a;
  const refStart = scan.refStart.a;
  const refEnd = scan.refEnd.a;
  const refTotal = scan.refStart.length;
  const narHashStart = scan.narHashStart.a;
  const narHashEnd = scan.narHashEnd.a;
  const deriverStart = scan.deriverStart.a;
  const deriverEnd = scan.deriverEnd.a;
  const records: PathRecord[] = [];
  const invalidPaths: string[] = [];
  for (let r = 0; r < count; r++) {
    if (invalid[r]) {
      invalidPaths.push(paths[r]!);
      continue;
    }
    const first = refFirst[r]!;
    const last = r + 1 < count ? refFirst[r + 1]! : refTotal;
    const references: string[] = [];
    for (let k = first; k < last; k++) {
      const ref = s.slice(refStart[k]!, refEnd[k]!);
      references.push(b[refStart[k]!] === 47 ? ref : `${storeDir}/${ref}`);
    }
    const hs = narHashStart[r]!;
    const ds = deriverStart[r]!;
    let deriver: string | undefined;
    if (ds >= 0) {
      deriver = s.slice(ds, deriverEnd[r]!);
      if (b[ds] !== 47) deriver = `${storeDir}/${deriver}`;
    }
    records.push({
      path: paths[r]!,
      narSize: scan.narSize[r]!,
      references,
      narHash: hs >= 0 ? s.slice(hs, narHashEnd[r]!) : undefined,
      deriver,
    });
  }
  const format: ClosureFormat =
    scan.shape === SHAPE_ARRAY
      ? scan.sawPathInfoField
        ? 'path-info-array'
        : 'closure-info'
      : v2
        ? 'path-info-v2'
        : 'path-info-object';
  return { records, invalidPaths, storeDir, format };
}
