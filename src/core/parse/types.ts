import type { PathRecord } from '../../shared/graph';

/**
 * Which input a closure came from. Nix changed `path-info --json` three times, so the format names the shape,
 * and the comment says which Nix printed it.
 */
export type ClosureFormat =
  /** An array of objects with `path`: Nix 2.8–2.18 and Lix (`"valid": false` marks an invalid path). */
  | 'path-info-array'
  /** An object keyed by full store path, `null` for an invalid path: Nix 2.19–2.32, and 2.33+ `--json-format 1`. */
  | 'path-info-object'
  /** "Store Object Info v2/v3": `{version, storeDir, info: {<base name>: …}}`, Nix 2.33+ `--json-format 2|3`. */
  | 'path-info-v2'
  /** exportReferencesGraph / closureInfo JSON: an array of `{path, narHash, narSize, references}`. */
  | 'closure-info'
  /** A CycloneDX SBOM from sbomnix: derivation-level edges, no sizes. */
  | 'cyclonedx';

export interface ParsedClosure {
  readonly records: PathRecord[];
  /**
   * The paths nothing else in the input references (the top of the closure), or the root an SBOM names.
   * One element for the output of `nix path-info -r` on one path.
   */
  readonly roots: string[];
  readonly format: ClosureFormat;
  /** The store directory, e.g. `/nix/store`. */
  readonly storeDir: string;
  /** Paths the input lists as invalid (not in the store); they are not among `records`. */
  readonly invalidPaths: string[];
  /** Facts a view should mention, e.g. that an SBOM has no sizes. */
  readonly notes: string[];
}

export interface ParseOptions {
  /**
   * Skip the whole-closure check (no path twice, every reference described) and the search for roots; `roots` is
   * then empty. For `nix path-info --recursive` output, which is closed by construction, when the caller knows the
   * roots: it saves hashing every reference twice (ClosureGraph.build does it anyway and reports dangling ones).
   */
  readonly trustClosure?: boolean;
}

/**
 * Bump when a parser's output changes for the same input: cached graphs made by an older parser are
 * then ignored and rebuilt.
 */
export const PARSER_VERSION = 1;
