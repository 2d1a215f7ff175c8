/**
 * One entry point for every closure input: recognises the format from the JSON's shape, not from a flag.
 */
import { isCycloneDx, parseCycloneDx } from './cyclonedx';
import { describe, isObject, malformed, parseJsonText } from './json';
import { parsePathInfoArray, parsePathInfoObject, parsePathInfoV2 } from './pathInfo';
import type { ParseOptions, ParsedClosure } from './types';

export type { ClosureFormat, ParseOptions, ParsedClosure } from './types';
export { PARSER_VERSION } from './types';

/**
 * Parses `text` (path-info JSON of any Nix version, closureInfo/exportReferencesGraph JSON, or a CycloneDX SBOM).
 * `source` names the input in error messages (a file name, or the nix command).
 * Throws ClosureLensError 'malformed-json' (with the position for a syntax error) or 'empty-closure'.
 */
export function parseClosureJson(text: string, source = 'the closure JSON', options: ParseOptions = {}): ParsedClosure {
  return parseClosureValue(parseJsonText(text, source), source, options);
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
  if (arrays.length === 1 && keys.length === 1) return parsePathInfoArray(doc[arrays[0]!] as unknown[], source, options);
  if (keys.length === 0) return parsePathInfoObject(doc, source, options);
  throw malformed(
    source,
    `not a format closure-lens knows (nix path-info --json, exportReferencesGraph, CycloneDX); top-level keys: ${keys.slice(0, 5).join(', ')}`,
  );
}
