/**
 * `nix path-info --json` in each shape Nix has printed, and the closureInfo/exportReferencesGraph JSON
 * (the same objects, without the impure fields). Shapes and their sources: test/fixtures/recorded/README.md.
 */
import type { PathRecord } from '../../shared/graph';
import { describe, isObject, malformed, readSize, readString, readStringArray, type JsonObject } from './json';
import { checkClosure, emptyClosure, fullPath, splitStorePath } from './records';
import type { ClosureFormat, ParseOptions, ParsedClosure } from './types';

/** Fields that only `nix path-info` prints (never exportReferencesGraph), so their presence names the format. */
const PATH_INFO_ONLY_FIELDS = ['valid', 'deriver', 'registrationTime', 'ultimate', 'signatures', 'ca'];

/** `[{path, narSize, references, …}, …]`: Nix 2.8–2.18, Lix, and closureInfo. */
export function parsePathInfoArray(doc: readonly unknown[], source: string, options: ParseOptions = {}): ParsedClosure {
  const records: PathRecord[] = [];
  const invalidPaths: string[] = [];
  let storeDir: string | undefined;
  let sawPathInfoField = false;
  for (let i = 0; i < doc.length; i++) {
    const entry = doc[i];
    // Messages (and the strings naming the entry) are only built on failure: this loop runs 10^5 times.
    if (!isObject(entry)) throw malformed(source, `entry ${i} should be an object, found ${describe(entry)}`);
    const pathValue = entry['path'];
    const path = typeof pathValue === 'string' ? pathValue : readString(pathValue, source, `entry ${i}.path`);
    const split = splitStorePath(path, source, `entry ${i}.path`);
    storeDir ??= split.storeDir;
    if (split.storeDir !== storeDir)
      throw malformed(source, `${path} is not in the store ${storeDir} like the other paths`);
    if (!sawPathInfoField) sawPathInfoField = PATH_INFO_ONLY_FIELDS.some((f) => f in entry);
    if (entry['valid'] === false) {
      invalidPaths.push(path);
      continue;
    }
    records.push(readInfo(entry, path, storeDir, source, path));
  }
  const format: ClosureFormat = sawPathInfoField || doc.length === 0 ? 'path-info-array' : 'closure-info';
  return finishPathInfo(records, invalidPaths, storeDir, format, source, options);
}

/** `{"/nix/store/…": {…} | null}`: Nix 2.19–2.32, and 2.33+ with `--json-format 1` (entries then carry `storeDir`). */
export function parsePathInfoObject(doc: JsonObject, source: string, options: ParseOptions = {}): ParsedClosure {
  const records: PathRecord[] = [];
  const invalidPaths: string[] = [];
  let storeDir: string | undefined;
  for (const path of Object.keys(doc)) {
    const split = splitStorePath(path, source, 'a key');
    storeDir ??= split.storeDir;
    if (split.storeDir !== storeDir)
      throw malformed(source, `${path} is not in the store ${storeDir} like the other paths`);
    const entry = doc[path];
    if (entry === null) {
      invalidPaths.push(path);
      continue;
    }
    if (!isObject(entry))
      throw malformed(source, `the value of ${path} should be an object or null, found ${describe(entry)}`);
    records.push(readInfo(entry, path, storeDir, source, path));
  }
  return finishPathInfo(records, invalidPaths, storeDir, 'path-info-object', source, options);
}

/** `{version: 2|3, storeDir, info: {"<hash>-<name>": {…} | null}}`: Nix 2.33+ with `--json-format 2` (or 3). */
export function parsePathInfoV2(doc: JsonObject, source: string, options: ParseOptions = {}): ParsedClosure {
  const version = doc['version'];
  if (version !== 2 && version !== 3) {
    throw malformed(
      source,
      `store object info version ${describe(version)} is not one this version of closure-lens reads (2 or 3)`,
    );
  }
  const storeDir = readString(doc['storeDir'], source, 'storeDir');
  const info = doc['info'];
  if (!isObject(info)) throw malformed(source, `info should be an object keyed by store path, found ${describe(info)}`);
  const records: PathRecord[] = [];
  const invalidPaths: string[] = [];
  for (const key of Object.keys(info)) {
    const path = fullPath(storeDir, key, source, 'a key of info');
    splitStorePath(path, source, 'a key of info');
    const entry = info[key];
    if (entry === null) {
      invalidPaths.push(path);
      continue;
    }
    if (!isObject(entry))
      throw malformed(source, `info[${JSON.stringify(key)}] should be an object or null, found ${describe(entry)}`);
    records.push(readInfo(entry, path, storeDir, source, key));
  }
  return finishPathInfo(records, invalidPaths, storeDir, 'path-info-v2', source, options);
}

function readInfo(entry: JsonObject, path: string, storeDir: string, source: string, label: string): PathRecord {
  const sizeValue = entry['narSize'];
  const narSize =
    typeof sizeValue === 'number' && Number.isSafeInteger(sizeValue) && sizeValue >= 0
      ? sizeValue
      : readSize(sizeValue, source, `narSize of ${label}`);
  const refs = entry['references'];
  if (!Array.isArray(refs)) readStringArray(refs, source, `references of ${label}`);
  // Full paths (every format up to 2.32, and v1) are used as they are; base names (v2) get the store dir.
  let references: readonly string[] = refs as string[];
  for (let k = 0; k < (refs as unknown[]).length; k++) {
    const r: unknown = (refs as unknown[])[k];
    if (typeof r !== 'string')
      throw malformed(source, `references of ${label}[${k}] should be a string, found ${describe(r)}`);
    if (r.charCodeAt(0) !== 47 /* '/' */) {
      references = (refs as string[]).map((x) => fullPath(storeDir, x, source, `a reference of ${label}`));
      break;
    }
  }
  const hashValue = entry['narHash'];
  const narHash = typeof hashValue === 'string' ? hashValue : readHash(hashValue, source, label);
  const deriverRaw = entry['deriver'];
  const deriver =
    typeof deriverRaw !== 'string' || deriverRaw === ''
      ? undefined
      : deriverRaw.charCodeAt(0) === 47
        ? deriverRaw
        : fullPath(storeDir, deriverRaw, source, `deriver of ${label}`);
  return { path, narSize, references, narHash, deriver };
}

/** narHash is an SRI string (`sha256-…`), a `sha256:<nix32>` string, or (some 2.33-era builds) `{algorithm, format, hash}`. */
function readHash(v: unknown, source: string, label: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v['algorithm'] === 'string' && typeof v['hash'] === 'string') {
    return v['format'] === 'base64' ? `${v['algorithm']}-${v['hash']}` : `${v['algorithm']}:${v['hash']}`;
  }
  throw malformed(source, `narHash of ${label} should be a hash string or {algorithm, hash}, found ${describe(v)}`);
}

/** The checks and roots every path-info shape ends with (shared with the fast path, fastPathInfo.ts). */
export function finishPathInfo(
  records: PathRecord[],
  invalidPaths: string[],
  storeDir: string | undefined,
  format: ClosureFormat,
  source: string,
  options: ParseOptions,
): ParsedClosure {
  if (records.length === 0 && invalidPaths.length === 0) throw emptyClosure(source);
  const dir = storeDir ?? '/nix/store';
  const roots = options.trustClosure ? [] : checkClosure(records, source, dir);
  return { records, roots, format, storeDir: dir, invalidPaths, notes: [] };
}

/**
 * The store paths that `nix path-info --json <installable>` (without --recursive) names, valid or not, in any
 * shape. Used to resolve an installable to its output paths; references are not followed.
 */
export function listPathInfoPaths(doc: unknown, source: string): { valid: string[]; invalid: string[] } {
  const valid: string[] = [];
  const invalid: string[] = [];
  const add = (path: string, entry: unknown, where: string): void => {
    splitStorePath(path, source, where);
    if (entry === null || (isObject(entry) && entry['valid'] === false)) invalid.push(path);
    else if (isObject(entry)) valid.push(path);
    else throw malformed(source, `${where} should be an object or null, found ${describe(entry)}`);
  };
  if (Array.isArray(doc)) {
    doc.forEach((e: unknown, i) => {
      if (!isObject(e)) throw malformed(source, `entry ${i} should be an object, found ${describe(e)}`);
      add(readString(e['path'], source, `entry ${i}.path`), e, `entry ${i}`);
    });
  } else if (isObject(doc) && isObject(doc['info']) && typeof doc['storeDir'] === 'string') {
    const storeDir = doc['storeDir'];
    for (const [k, v] of Object.entries(doc['info'])) add(fullPath(storeDir, k, source, 'a key of info'), v, k);
  } else if (isObject(doc)) {
    for (const [k, v] of Object.entries(doc)) add(k, v, k);
  } else {
    throw malformed(source, `expected path-info JSON, found ${describe(doc)}`);
  }
  return { valid, invalid };
}
