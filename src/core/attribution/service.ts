/**
 * Option attribution with caching: one evaluation per configuration, keyed by the toplevel's drvPath
 * (and by installable while it runs, so concurrent callers share it), and counterfactual costs computed
 * on demand and kept.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClosureGraph } from '../../shared/graph';
import type { NixRunner } from '../nix/runner';
import { OptionAttribution } from './attribute';
import { ClosureLensError } from '../errors';
import type { CounterfactualCost } from './counterfactual';
import {
  CounterfactualService,
  targetKey,
  type CounterfactualTarget,
  type MeasuredCost,
  type MeasureOptions,
} from './counterfactualService';
import attributionNix from './attribution.nix';
import { DerivationReader } from './derivation';
import {
  evaluateLocked,
  lockFlake,
  parseConfigurationInstallable,
  type EvalOptions,
  type OptionEvaluation,
} from './evaluate';

export interface AttributionServiceOptions {
  /** Directory for evaluation results that outlive the process; none when omitted. */
  readonly cacheDir?: string;
}

export interface EvaluateRequest extends EvalOptions {
  /** The toplevel's .drv when the caller already knows it (from the build): a cached result is reused. */
  readonly drvPath?: string;
  /** Evaluate again even when a result is cached. */
  readonly refresh?: boolean;
}

const CACHE_VERSION = 1;
/** Cached results are only valid for the attribution.nix that produced them. */
const SCRIPT_VERSION = createHash('sha256').update(attributionNix).digest('hex').slice(0, 16);

export class AttributionService {
  /** Evaluations by toplevel drvPath and by pinned flake URL + attribute path. */
  private readonly byKey = new Map<string, OptionEvaluation>();
  private readonly running = new Map<string, Promise<OptionEvaluation>>();
  private readonly attributions = new WeakMap<OptionEvaluation, WeakMap<ClosureGraph, OptionAttribution>>();
  private readonly counterfactuals: CounterfactualService;

  constructor(
    private readonly nix: NixRunner,
    private readonly options: AttributionServiceOptions = {},
  ) {
    this.counterfactuals = new CounterfactualService(
      nix,
      new DerivationReader(),
      options.cacheDir ? { cacheDir: options.cacheDir } : {},
    );
  }

  /**
   * The evaluation of a configuration installable. It is reused, without evaluating, when the caller
   * knows the toplevel's drvPath and it was evaluated before, or when the flake locks to the same
   * content (`nix flake metadata`, which evaluates nothing) as an earlier evaluation.
   */
  async evaluate(installable: string, req: EvaluateRequest = {}): Promise<OptionEvaluation & { fromCache: boolean }> {
    const target = parseConfigurationInstallable(installable);
    const drvKey = req.drvPath && `${req.drvPath}${req.includeDefaults ? '+defaults' : ''}`;
    if (drvKey && !req.refresh) {
      const hit = this.byKey.get(drvKey) ?? this.readDisk(drvKey);
      if (hit) return { ...hit, fromCache: true };
    }
    const flake = await lockFlake(this.nix, target.flakeRef, req);
    const lockKey = flake.pinned
      ? `${flake.url}#${JSON.stringify(target.attrPath)}${req.includeDefaults ? '+defaults' : ''}`
      : undefined;
    if (lockKey && !req.refresh) {
      const hit = this.byKey.get(lockKey) ?? this.readDisk(lockKey);
      if (hit) return { ...hit, fromCache: true };
    }
    const key = lockKey ?? `${req.cwd ?? ''}\u0000${installable}`;
    let p = req.refresh ? undefined : this.running.get(key);
    if (!p) {
      p = evaluateLocked(this.nix, flake, target, req);
      this.running.set(key, p);
      p.finally(() => this.running.delete(key)).catch(() => undefined);
    }
    const ev = await p;
    const evDrvKey = ev.root?.drvPath && `${ev.root.drvPath}${req.includeDefaults ? '+defaults' : ''}`;
    for (const k of [evDrvKey, lockKey]) {
      if (!k) continue;
      this.byKey.set(k, ev);
      this.writeDisk(k, ev);
    }
    return { ...ev, fromCache: false };
  }

  /** Evaluation results already known for a drvPath (no evaluation is started). */
  cached(drvPath: string): OptionEvaluation | undefined {
    return this.byKey.get(drvPath) ?? this.readDisk(drvPath);
  }

  /** The attribution of an evaluation on a closure graph (built once per pair). */
  attribute(evaluation: OptionEvaluation, graph: ClosureGraph): OptionAttribution {
    let perGraph = this.attributions.get(evaluation);
    if (!perGraph) {
      perGraph = new WeakMap();
      this.attributions.set(evaluation, perGraph);
    }
    let a = perGraph.get(graph);
    if (!a) {
      a = new OptionAttribution({ graph, evaluation });
      perGraph.set(graph, a);
    }
    return a;
  }

  /**
   * What definition `id` really costs, by evaluating the configuration without it (one variant; see
   * `measure` for many at once, which shares the cache). Throws a ClosureLensError when the configuration
   * cannot be evaluated without it.
   */
  async counterfactual(
    attribution: OptionAttribution,
    id: number,
    opts: EvalOptions = {},
  ): Promise<CounterfactualCost> {
    const target = { definition: id };
    const d = attribution.definitions[id]!;
    opts.onProgress?.(`evaluating ${attribution.evaluation.attrPath.join('.')} without ${d.option}`);
    const results = await this.measure(attribution, [target], {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
    const r = results.get(targetKey(target))!;
    if (r.error === undefined) return r.cost;
    throw new ClosureLensError('eval-error', `cannot measure ${d.option} by evaluating without it: ${r.error}`, {
      fix: 'take the definition out by hand and rebuild to see what it costs; the static removal cost still applies',
    });
  }

  /**
   * True costs of many definitions (default: every definition in the user's files), all variants in one nix
   * evaluation, each result delivered as it is known; cached by toplevel drvPath and definition.
   */
  measure(
    attribution: OptionAttribution,
    targets?: readonly CounterfactualTarget[],
    opts: MeasureOptions = {},
  ): Promise<Map<string, MeasuredCost>> {
    return this.counterfactuals.measure(attribution, targets, opts);
  }

  /** A counterfactual result already known (nothing is evaluated). */
  measured(attribution: OptionAttribution, target: CounterfactualTarget): MeasuredCost | undefined {
    return this.counterfactuals.cached(attribution, target);
  }

  private diskFile(key: string): string | undefined {
    if (!this.options.cacheDir) return undefined;
    const name = createHash('sha256').update(`${SCRIPT_VERSION}\u0000${key}`).digest('hex').slice(0, 32);
    return join(this.options.cacheDir, `options-${name}.json`);
  }

  private readDisk(key: string): OptionEvaluation | undefined {
    const file = this.diskFile(key);
    if (!file) return undefined;
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as {
        version: number;
        key: string;
        evaluation: OptionEvaluation;
      };
      if (doc.version !== CACHE_VERSION || doc.key !== key) return undefined;
      this.byKey.set(key, doc.evaluation);
      return doc.evaluation;
    } catch {
      return undefined;
    }
  }

  private writeDisk(key: string, ev: OptionEvaluation): void {
    const file = this.diskFile(key);
    if (!file) return;
    try {
      mkdirSync(this.options.cacheDir!, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: CACHE_VERSION, key, evaluation: ev }));
      renameSync(tmp, file);
    } catch {
      // A cache that cannot be written only costs a re-evaluation later.
    }
  }
}
