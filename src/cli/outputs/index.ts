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
