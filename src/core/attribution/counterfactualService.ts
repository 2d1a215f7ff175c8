/**
 * True costs of the user's definitions, by counterfactual: the configuration is evaluated without each
 * definition (variants.ts, all variants in one nix process) and each variant's toplevel derivation is
 * compared with the original closure (counterfactual.ts). Results are cached by the original toplevel's
 * drvPath and the variant, delivered one by one as they are known (for "measuring…" that turns into a
 * number), and a run can be cancelled (what finished stays cached).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClosureLensError } from '../errors';
import type { NixRunner } from '../nix/runner';
import type { Definition, OptionAttribution } from './attribute';
import { addedPathSizes } from './addedSizes';
import { counterfactualCost, type CounterfactualCost } from './counterfactual';
import { DerivationReader } from './derivation';
import type { RootPaths } from './evaluate';
import { evaluateVariants, variantKey, type VariantOutcome, type VariantSpec } from './variants';
import variantsNix from './variants.nix';

/** A variant's toplevel or why it has none, as kept on disk (the costs are computed again from the .drv files). */
type StoredOutcome =
  { readonly root: RootPaths; readonly error?: undefined } | { readonly root?: undefined; readonly error: string };

const CACHE_VERSION = 1;
/** Stored outcomes are only valid for the variants.nix that produced them. */
const SCRIPT_VERSION = createHash('sha256').update(variantsNix).digest('hex').slice(0, 16);

/** What is left out of the configuration: a definition, or one element of its list value. */
export interface CounterfactualTarget {
  /** The definition's id in the attribution. */
  readonly definition: number;
  /** The element's position in the definition's list value; absent for the whole definition. */
  readonly element?: number;
}

export type MeasuredCost =
  | { readonly target: CounterfactualTarget; readonly cost: CounterfactualCost; readonly error?: undefined }
  | { readonly target: CounterfactualTarget; readonly cost?: undefined; readonly error: string };

/**
 * A measured cost as the cache keeps it: by store paths, not graph nodes, so that a hit on another graph of the
 * same closure (loaded again, in another order) names the right paths; and without the definition's id, which
 * belongs to one attribution.
 */
type CachedCost =
  | { readonly cost: Omit<CounterfactualCost, 'definition' | 'lostNodes'>; readonly lostPaths: readonly string[] }
  | { readonly error: string };

export interface MeasureProgress {
  readonly done: number;
  readonly total: number;
  /** The definition (and element) just measured. */
  readonly last?: CounterfactualTarget;
}

export interface MeasureOptions {
  readonly signal?: AbortSignal;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** Called with each result as soon as it is known (cached ones first). */
  readonly onResult?: (result: MeasuredCost) => void;
  readonly onProgress?: (progress: MeasureProgress) => void;
  /** Variants per nix process (default DEFAULT_BATCH). */
  readonly batchSize?: number;
}

/** About 1 GiB of nix memory at NixOS scale (bench/RESULTS.md, options-scale). */
export const DEFAULT_BATCH = 40;

/** The definitions whose true cost the user wants by default: their own (workspace files), not defaults. */
export function userDefinitions(attribution: OptionAttribution): Definition[] {
  return attribution.definitions.filter((d) => d.inWorkspace && !d.fromDefault && d.option !== '');
}

/**
 * What is measured by default: every user definition, and each element of their list definitions (each part of a
 * list is a row of its own, with the cost of removing just that element).
 */
export function userTargets(attribution: OptionAttribution): CounterfactualTarget[] {
  return userDefinitions(attribution).flatMap((d) => [
    { definition: d.id },
    ...d.elements.map((e) => ({ definition: d.id, element: e.element })),
  ]);
}

export class CounterfactualService {
  /** By `<toplevel drvPath>\0<attribute path>\0<variant key>`. */
  private readonly results = new Map<string, CachedCost>();

  constructor(
    private readonly nix: NixRunner,
    private readonly derivations: DerivationReader = new DerivationReader(),
    private readonly options: { readonly cacheDir?: string } = {},
  ) {}

  /** A result already measured, or undefined (nothing is evaluated). */
  cached(attribution: OptionAttribution, target: CounterfactualTarget): MeasuredCost | undefined {
    const hit = this.results.get(this.key(attribution, target));
    if (!hit) return undefined;
    if ('error' in hit) return { target, error: hit.error };
    const g = attribution.graph;
    const lostNodes: number[] = [];
    for (const p of hit.lostPaths) {
      const i = g.indexOf(p);
      // Not this closure after all: measure again rather than name the wrong paths.
      if (i === undefined) return undefined;
      lostNodes.push(i);
    }
    return { target, cost: { ...hit.cost, definition: target.definition, lostNodes: lostNodes.sort((x, y) => x - y) } };
  }

  private remember(attribution: OptionAttribution, result: MeasuredCost): void {
    const key = this.key(attribution, result.target);
    if (result.error !== undefined) {
      this.results.set(key, { error: result.error });
      return;
    }
    const { definition: _definition, lostNodes, ...cost } = result.cost;
    this.results.set(key, { cost, lostPaths: lostNodes.map((i) => attribution.graph.paths[i]!) });
  }

  /**
   * Measures every target (default: every user definition) not measured yet, in one nix evaluation, and
   * returns all their results (cached ones included), keyed like `targetKey`.
   */
  async measure(
    attribution: OptionAttribution,
    targets: readonly CounterfactualTarget[] = userDefinitions(attribution).map((d) => ({ definition: d.id })),
    opts: MeasureOptions = {},
  ): Promise<Map<string, MeasuredCost>> {
    const out = new Map<string, MeasuredCost>();
    const todo: CounterfactualTarget[] = [];
    let done = 0;
    for (const t of targets) {
      const hit = this.cached(attribution, t);
      if (hit) {
        out.set(targetKey(t), hit);
        done++;
        opts.onResult?.(hit);
      } else todo.push(t);
    }
    opts.onProgress?.({ done, total: targets.length });
    if (todo.length === 0) return out;
    const ev = attribution.evaluation;
    const specs: VariantSpec[] = todo.map((t) => {
      const d = attribution.definitions[t.definition]!;
      return { loc: d.loc, index: d.index, ...(t.element !== undefined ? { element: t.element } : {}) };
    });
    // Costs are computed as variants arrive, in order; the run waits for the last one.
    let chain: Promise<void> = Promise.resolve();
    const settle = (t: CounterfactualTarget, outcome: VariantOutcome, evalMs: number): void => {
      chain = chain.then(async () => {
        let result: MeasuredCost;
        if (outcome.error !== undefined) result = { target: t, error: outcome.error };
        else {
          try {
            const cost = await counterfactualCost(
              attribution,
              t.definition,
              { root: outcome.root, evalMs },
              this.derivations,
            );
            const addedSizes = await addedPathSizes(this.nix, cost.addedPaths, {
              ...(opts.signal ? { signal: opts.signal } : {}),
              ...(opts.cwd ? { cwd: opts.cwd } : {}),
            });
            result = { target: t, cost: cost.addedPaths.length > 0 ? { ...cost, addedSizes } : cost };
          } catch (e) {
            result = { target: t, error: e instanceof Error ? e.message : String(e) };
          }
        }
        this.remember(attribution, result);
        out.set(targetKey(t), result);
        done++;
        opts.onResult?.(result);
        opts.onProgress?.({ done, total: targets.length, last: t });
      });
    };
    // Variants evaluated by an earlier run (the disk cache) need no nix: only their costs are computed.
    const stored = this.readOutcomes(attribution);
    const fresh: VariantSpec[] = [];
    specs.forEach((spec, i) => {
      const known = stored[variantKey(spec)];
      if (known) settle(todo[i]!, { spec, ...known } as VariantOutcome, 0);
      else fresh.push(spec);
    });
    await chain;
    const byKey = new Map(specs.map((s, i) => [variantKey(s), todo[i]!]));
    let last = performance.now();
    // Batches bound nix's memory (each variant keeps some of the evaluator's caches alive: about 20 MB a
    // variant at 20,000 options); each batch costs one more flake load and base evaluation.
    const batch = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
    for (let from = 0; from < fresh.length; from += batch) {
      const run = await evaluateVariants(this.nix, ev.flake, ev.attrPath, fresh.slice(from, from + batch), {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        onVariant: (outcome) => {
          stored[variantKey(outcome.spec)] =
            outcome.error !== undefined ? { error: outcome.error } : { root: outcome.root };
          const now = performance.now();
          settle(byKey.get(variantKey(outcome.spec))!, outcome, now - last);
          last = now;
        },
      }).catch(async (e: unknown) => {
        await chain; // what finished before the cancel or failure is kept
        throw e;
      });
      await chain;
      this.writeOutcomes(attribution, stored);
      if (run.original?.drvPath && ev.root?.drvPath && run.original.drvPath !== ev.root.drvPath) {
        // The flake changed since the attribution: these costs compare two different systems.
        for (const t of todo) this.results.delete(this.key(attribution, t));
        throw new ClosureLensError('eval-error', 'the configuration changed since its options were evaluated', {
          fix: 'show the closure again (build and evaluate the changed configuration), then measure',
        });
      }
    }
    return out;
  }

  /** The disk cache of variant outcomes for one toplevel: only with a cache directory and a known drvPath. */
  private outcomesFile(attribution: OptionAttribution): string | undefined {
    const drv = attribution.evaluation.root?.drvPath;
    if (!this.options.cacheDir || !drv) return undefined;
    const key = `${SCRIPT_VERSION}\u0000${drv}\u0000${JSON.stringify(attribution.evaluation.attrPath)}`;
    return join(this.options.cacheDir, `variants-${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  private readOutcomes(attribution: OptionAttribution): Record<string, StoredOutcome> {
    const file = this.outcomesFile(attribution);
    if (!file) return {};
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as {
        version?: unknown;
        outcomes?: Record<string, StoredOutcome>;
      };
      return doc.version === CACHE_VERSION && doc.outcomes ? doc.outcomes : {};
    } catch {
      return {};
    }
  }

  private writeOutcomes(attribution: OptionAttribution, outcomes: Record<string, StoredOutcome>): void {
    const file = this.outcomesFile(attribution);
    if (!file) return;
    try {
      mkdirSync(this.options.cacheDir!, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: CACHE_VERSION, outcomes }));
      renameSync(tmp, file);
    } catch {
      // A cache that cannot be written only costs an evaluation later.
    }
  }

  private key(attribution: OptionAttribution, t: CounterfactualTarget): string {
    const ev = attribution.evaluation;
    const d = attribution.definitions[t.definition]!;
    return `${ev.root?.drvPath ?? ev.flake.url}\u0000${JSON.stringify(ev.attrPath)}\u0000${variantKey({ loc: d.loc, index: d.index, ...(t.element !== undefined ? { element: t.element } : {}) })}`;
  }
}

/** Key of a target in `measure`'s result. */
export function targetKey(t: CounterfactualTarget): string {
  return t.element === undefined ? `${t.definition}` : `${t.definition}:${t.element}`;
}
