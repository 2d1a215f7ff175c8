/**
 * Evaluates counterfactual variants of a configuration (variants.nix): the toplevel of the configuration
 * without one definition, or without one element of a list definition, for many definitions in ONE nix
 * process, so that parsing, the package set and every unchanged derivation are shared. Each variant's
 * result is reported as soon as Nix has it (a trace line on stderr), so callers show costs one by one and
 * keep what finished when the run is cancelled.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNixJson } from '../nix/parseNixJson';
import type { NixRunner } from '../nix/runner';
import type { LockedFlake, RootPaths } from './evaluate';
import variantsNix from './variants.nix';

/** What a variant leaves out: definition `index` of the option at `loc`, or only its list element `element`. */
export interface VariantSpec {
  readonly loc: readonly string[];
  readonly index: number;
  readonly element?: number;
}

export type VariantOutcome =
  | { readonly spec: VariantSpec; readonly root: RootPaths; readonly error?: undefined }
  | { readonly spec: VariantSpec; readonly root?: undefined; readonly error: string };

export interface VariantRunOptions {
  readonly signal?: AbortSignal;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Each variant as soon as it is evaluated, with how many are done. */
  readonly onVariant?: (outcome: VariantOutcome, done: number, total: number) => void;
}

export interface VariantRun {
  /** The configuration's own toplevel, evaluated in the same process. */
  readonly original: RootPaths | null;
  readonly outcomes: readonly VariantOutcome[];
  readonly evalMs: number;
}

/** The key of a variant in caches: its spec as canonical JSON. */
export function variantKey(spec: VariantSpec): string {
  return JSON.stringify([spec.loc, spec.index, spec.element ?? null]);
}

let scriptFile: string | undefined;
function variantsScript(): string {
  if (!scriptFile) {
    const dir = mkdtempSync(join(tmpdir(), 'closure-lens-'));
    scriptFile = join(dir, 'variants.nix');
    writeFileSync(scriptFile, variantsNix, { mode: 0o600 });
  }
  return scriptFile;
}

const TRACE_PREFIX = 'trace: closure-lens-variant ';

/** Evaluates every variant in one `nix eval`. Throws a ClosureLensError when nix itself fails. */
export async function evaluateVariants(
  nix: NixRunner,
  flake: LockedFlake,
  attrPath: readonly string[],
  specs: readonly VariantSpec[],
  opts: VariantRunOptions = {},
): Promise<VariantRun> {
  const started = performance.now();
  const outcomes: (VariantOutcome | undefined)[] = new Array(specs.length);
  let done = 0;
  const accept = (i: number, doc: unknown): VariantOutcome | undefined => {
    const spec = specs[i];
    if (!spec || outcomes[i]) return outcomes[i];
    const outcome = readOutcome(spec, doc);
    outcomes[i] = outcome;
    done++;
    opts.onVariant?.(outcome, done, specs.length);
    return outcome;
  };
  const args = ['eval', '--json', '-f', variantsScript(), 'result'];
  const values: Record<string, string> = {
    flake: flake.url,
    attrPath: JSON.stringify(attrPath),
    variants: JSON.stringify(specs.map((s) => ({ loc: s.loc, index: s.index, element: s.element ?? null }))),
  };
  for (const [name, value] of Object.entries(values)) args.push('--argstr', name, value);
  const r = await nix.run(args, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    onStderrLine: (line) => {
      if (!line.startsWith(TRACE_PREFIX)) return;
      try {
        const doc = JSON.parse(line.slice(TRACE_PREFIX.length)) as { i?: unknown };
        if (typeof doc.i === 'number') accept(doc.i, doc);
      } catch {
        // Not ours after all; the final JSON has every result anyway.
      }
    },
  });
  const parsed = parseNixJson(r.stdout, { what: 'the counterfactual evaluation' });
  const doc = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    original?: unknown;
    variants?: unknown;
  };
  const list = Array.isArray(doc.variants) ? (doc.variants as unknown[]) : [];
  for (let i = 0; i < specs.length; i++) accept(i, list[i]);
  return {
    original: readRoot(doc.original),
    outcomes: outcomes as VariantOutcome[],
    evalMs: performance.now() - started,
  };
}

function readRoot(v: unknown): RootPaths | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o['drv'] !== 'string') return null;
  return { drvPath: o['drv'], outPath: typeof o['out'] === 'string' ? o['out'] : null };
}

function readOutcome(spec: VariantSpec, doc: unknown): VariantOutcome {
  const root = readRoot(doc);
  if (root) return { spec, root };
  const error =
    typeof doc === 'object' && doc !== null && typeof (doc as { error?: unknown }).error === 'string'
      ? (doc as { error: string }).error
      : 'no result';
  return { spec, error };
}
