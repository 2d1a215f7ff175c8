/**
 * The JSON that `closure-lens <command> --json` prints: a contract with scripts, so the shapes live here, apart
 * from the code that fills them. Every output carries `version`; a change that could break a reader (a field
 * removed, renamed or given another meaning) raises it, a new field does not. `diff --json` prints core's
 * ClosureDiff (src/core/diff), versioned the same way.
 */

/** The version every output below carries. */
export const OUTPUT_VERSION = 1;

/** `closure --json`. Sizes are null when the input carried none (a CycloneDX SBOM). */
export interface ClosureJson {
  version: typeof OUTPUT_VERSION;
  root: string | null;
  pathCount: number;
  closureSize: number | null;
  paths: {
    path: string;
    narSize: number | null;
    closureSize: number | null;
    retainedSize: number | null;
    references: string[];
  }[];
}

/** `why --json`. */
export interface WhyJson {
  version: typeof OUTPUT_VERSION;
  root: string | null;
  dependency: string;
  chains: string[][];
  truncated: boolean;
  /** How many chains exist in all (exact up to 2^53 - 1, then capped). */
  totalChains: number;
  /** With --precise: the files behind each edge of the chain. */
  precise?: PreciseEdgeJson[];
}

/**
 * `why --all --json`: the why-graph, every path on some chain from the root to the dependency (each once) and
 * every reference between them; nodes and edges are never cut, `--limit` bounds `chains` only.
 */
export interface WhyGraphJson {
  version: typeof OUTPUT_VERSION;
  root: string | null;
  dependency: string;
  nodes: string[];
  edges: [string, string][];
  /** Shortest first, at most --limit. */
  chains: string[][];
  /**
   * How many chains exist: printed as an exact JSON number of any size (a reader that parses numbers as
   * doubles sees it rounded past 2^53), or "too many to count" past 2^1024.
   */
  chainCount: bigint | 'too many to count';
  truncated: boolean;
  /** chainCount capped at 2^53 - 1 (what `why --json` has always printed). */
  totalChains: number;
  /** With --precise: the files behind every edge. */
  precise?: PreciseEdgeJson[];
}

/** `why --precise --json`: where inside `from` the reference to `to` is written. */
export interface PreciseEdgeJson {
  from: string;
  to: string;
  /**
   * One entry per file (every occurrence with --all-hits): `file` relative to the store path (`/` when the store
   * path is one file), `kind` file or symlink, the hash's byte `offset`, and the bytes around it as Nix shows
   * them (`before` + `hash` + `after`, non-printable bytes as `.`).
   */
  files: { file: string; kind: 'file' | 'symlink'; offset: number; before: string; hash: string; after: string }[];
}

/** `dups --json`. `extraBytes` is null when the input carried no sizes. */
export interface DupsJson {
  version: typeof OUTPUT_VERSION;
  groups: { pname: string; paths: string[]; extraBytes: number | null }[];
}

/** `check --json`: one report per rule and target. */
export interface CheckJson {
  version: typeof OUTPUT_VERSION;
  config: string;
  reports: CheckReportJson[];
}

export interface CheckReportJson {
  target: string;
  name: string | undefined;
  closure: unknown;
  outcomes: {
    rule: string;
    broken: boolean;
    severity: string;
    summary: string;
    line: number;
    column: number;
    actual: unknown;
    limit: unknown;
    pattern: unknown;
    hitCount: number | undefined;
    hits: unknown;
    duplicates: { pname: string; count: number; extraBytes: number }[] | undefined;
  }[];
}

/** `compressed --json`, estimated by running the codecs. */
export interface CompressedJson {
  version: typeof OUTPUT_VERSION;
  root: string;
  narSize: number;
  totals: Record<string, number | undefined>;
  levels: Record<string, number | undefined>;
  paths: ({ path: string; narSize: number } & Record<string, number | string>)[];
}

/** `compressed --binary-cache URL --json`, read from the cache's narinfo files. */
export interface CompressedFromCacheJson {
  version: typeof OUTPUT_VERSION;
  narSize: number;
  cache: string;
  fileSize: number;
  cachedNarSize: number;
  compressions: Record<string, number>;
  missing: string[];
}
