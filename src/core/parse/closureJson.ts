/**
 * One entry point for every closure input: recognises the format from the JSON's shape, not from a flag.
 */
import { isCycloneDx, parseCycloneDx } from './cyclonedx';
import { parseCompactPathInfo } from './compactPathInfo';
import { ClosureGraph } from '../../shared/graph';
import { ClosureLensError, derivationGiven } from '../errors';
import { parsePathInfoFast } from './fastPathInfo';
import { pathInfoGraphFast, type GraphFromJson } from './pathInfoGraph';
import { describe, isObject, malformed, parseJsonText } from './json';
import { parsePathInfoArray, parsePathInfoObject, parsePathInfoV2 } from './pathInfo';
import type { ParseOptions, ParsedClosure } from './types';

export type { ClosureFormat, ParseOptions, ParsedClosure } from './types';
export { PARSER_VERSION } from './types';

/**
 * The byte scanner (fastPathInfo.ts, pathInfoGraph.ts) is JavaScript that V8 first runs unoptimised: in a fresh
 * process it catches up with JSON.parse (native from the start) only on large inputs. Measured on Nix 2.8 output
 * (CPU time, fresh process): a real 5,000-path closure (2.7 MB) parsed straight into the graph took 135 ms against
 * 80 ms the generic way, 10,000 paths (5.5 MB) about even, 100,000 paths (52 MiB) 40% less; to PathRecords the
 * scanner only draws even at 100,000 paths (the regular expression of compactPathInfo.ts is quicker at every size).
 * Below these lengths, text goes the regular-expression and generic ways.
 */
export const GRAPH_SCANNER_MIN_LENGTH = 8 * 2 ** 20;
const RECORDS_SCANNER_MIN_LENGTH = 32 * 2 ** 20;

/**
 * Parses `input` (path-info JSON of any Nix version, closureInfo/exportReferencesGraph JSON, or a CycloneDX SBOM),
 * as text or as the UTF-8 bytes a process wrote. `source` names the input in error messages (a file name, or the
 * nix command). Throws ClosureLensError 'malformed-json' (with the position for a syntax error) or 'empty-closure'.
 *
 * Path-info JSON takes a fast path that reads only what the records need: Nix's own compact output matched by a
 * regular expression (compactPathInfo.ts), else (from RECORDS_SCANNER_MIN_LENGTH on) any other layout by a byte
 * scanner (fastPathInfo.ts). Anything they do not fully understand goes to JSON.parse and the generic readers,
 * which decide every result and every error.
 */
export function parseClosureJson(
  input: string | Uint8Array,
  source = 'the closure JSON',
  options: ParseOptions = {},
): ParsedClosure {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  const bytes = typeof input === 'string' ? undefined : input;
  return (
    parseCompactPathInfo(text, source, options) ??
    (text.length >= RECORDS_SCANNER_MIN_LENGTH ? parsePathInfoFast(text, source, options, bytes) : undefined) ??
    parseClosureValue(parseJsonText(text, source), source, options)
  );
}

/**
 * `input` parsed straight into the graph of `rootPaths` (or of the paths nothing references, checked as a whole
 * closure as parseClosureJson checks it): the same graph as `ClosureGraph.build(parseClosureJson(…).records, roots)`,
 * with the same errors, but path-info JSON (from GRAPH_SCANNER_MIN_LENGTH on) goes from its bytes to the graph's
 * arrays without PathRecords and without a string per reference. Give bytes when there are any: nothing then
 * decodes the whole text.
 */
export function parseClosureGraph(
  input: string | Uint8Array,
  source = 'the closure JSON',
  rootPaths?: readonly string[],
): GraphFromJson & { readonly notes: string[] } {
  const fast =
    input.length >= GRAPH_SCANNER_MIN_LENGTH
      ? pathInfoGraphFast(typeof input === 'string' ? { text: input } : { bytes: input }, rootPaths)
      : undefined;
  if (fast) return { ...fast, notes: [] };
  return graphOfParsed(parseClosureJson(input, source, { trustClosure: rootPaths !== undefined }), rootPaths);
}

/**
 * The graph of parsed records from `rootPaths` (the records' own roots when undefined; then they were parsed with
 * the closure check, else with `trustClosure`).
 */
export function graphOfParsed(
  parsed: ParsedClosure,
  rootPaths: readonly string[] | undefined,
): GraphFromJson & { readonly notes: string[] } {
  if (rootPaths !== undefined) {
    // Roots come from the query: one that nix reports invalid (or does not list) is not in the store. (One pass over
    // the records against the few roots, not a set of every path.)
    const missingRoots = new Set(rootPaths);
    for (const r of parsed.records) if (missingRoots.delete(r.path) && missingRoots.size === 0) break;
    const missing = [...missingRoots];
    if (missing.length > 0) {
      if (missing.every((p) => p.endsWith('.drv'))) throw derivationGiven(missing.join(', '));
      throw new ClosureLensError('invalid-path', `${missing.join(', ')} is not a valid path in the Nix store`, {
        fix: 'build it (or copy it) into the store first; it may have been garbage-collected',
      });
    }
  }
  const roots = rootPaths === undefined ? parsed.roots : [...new Set(rootPaths)];
  const graph = ClosureGraph.build(parsed.records, roots);
  return {
    graph,
    roots,
    format: parsed.format,
    storeDir: parsed.storeDir,
    invalidPaths: parsed.invalidPaths,
    notes: parsed.notes,
  };
}

/** As `fs.readFileSync(file, 'utf8')` decodes: invalid sequences become U+FFFD, a byte order mark stays. */
export function decodeUtf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

export function parseClosureValue(doc: unknown, source: string, options: ParseOptions = {}): ParsedClosure {
  if (Array.isArray(doc)) return parsePathInfoArray(doc, source, options);
  if (!isObject(doc)) throw malformed(source, `expected a JSON array or object of store paths, found ${describe(doc)}`);
  if (isCycloneDx(doc)) return parseCycloneDx(doc, source);
  if ('info' in doc && 'version' in doc) return parsePathInfoV2(doc, source, options);
  const keys = Object.keys(doc);
  if (keys.length > 0 && keys.every((k) => k.startsWith('/'))) return parsePathInfoObject(doc, source, options);
  // exportReferencesGraph with __structuredAttrs: {"<attribute name>": [ {path, …}, … ]}
  const arrays = keys.filter((k) => Array.isArray(doc[k]));
  if (arrays.length === 1 && keys.length === 1)
    return parsePathInfoArray(doc[arrays[0]!] as unknown[], source, options);
  if (keys.length === 0) return parsePathInfoObject(doc, source, options);
  throw malformed(
    source,
    `not a format closure-lens knows (nix path-info --json, exportReferencesGraph, CycloneDX); top-level keys: ${keys.slice(0, 5).join(', ')}`,
  );
}
