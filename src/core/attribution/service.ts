/**
 * Option attribution with caching: one evaluation per configuration, keyed by the toplevel's drvPath
 * (and by installable while it runs, so concurrent callers share it), and counterfactual costs computed
 * on demand and kept.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClosureGraph } from '../graph';
import type { NixRunner } from '../nix/runner';
import { OptionAttribution } from './attribute';
import { counterfactualCost, type CounterfactualCost } from './counterfactual';
import { DerivationReader } from './derivation';
import {
  evaluateOptions,
  evaluateWithout,
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

export class AttributionService {
  private readonly byDrv = new Map<string, OptionEvaluation>();
  private readonly running = new Map<string, Promise<OptionEvaluation>>();
  private readonly attributions = new WeakMap<OptionEvaluation, WeakMap<ClosureGraph, OptionAttribution>>();
  private readonly counterfactuals = new Map<string, Promise<CounterfactualCost>>();
  private readonly derivations = new DerivationReader();

  constructor(
    private readonly nix: NixRunner,
    private readonly options: AttributionServiceOptions = {},
  ) {}

  /** The evaluation of a configuration installable, from the cache when its drvPath is known. */
  async evaluate(installable: string, req: EvaluateRequest = {}): Promise<OptionEvaluation & { fromCache: boolean }> {
    const target = parseConfigurationInstallable(installable);
    if (req.drvPath && !req.refresh) {
      const hit = this.byDrv.get(req.drvPath) ?? this.readDisk(req.drvPath);
      if (hit) return { ...hit, fromCache: true };
    }
    const key = `${req.cwd ?? ''}\u0000${installable}`;
    let p = req.refresh ? undefined : this.running.get(key);
    if (!p) {
      p = evaluateOptions(this.nix, target, req);
      this.running.set(key, p);
      p.finally(() => this.running.delete(key)).catch(() => undefined);
    }
    const ev = await p;
    const drv = ev.root?.drvPath;
    if (drv) {
      this.byDrv.set(drv, ev);
      this.writeDisk(drv, ev);
    }
    return { ...ev, fromCache: false };
  }

  /** Evaluation results already known for a drvPath (no evaluation is started). */
  cached(drvPath: string): OptionEvaluation | undefined {
    return this.byDrv.get(drvPath) ?? this.readDisk(drvPath);
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
   * What definition `id` really costs, by evaluating the configuration without it: for definitions that
   * carry no store paths but switch modules on (`boot.initrd.supportedFilesystems = [ "zfs" ]`).
   */
  counterfactual(attribution: OptionAttribution, id: number, opts: EvalOptions = {}): Promise<CounterfactualCost> {
    const def = attribution.definitions[id]!;
    const ev = attribution.evaluation;
    const key = JSON.stringify([ev.root?.drvPath ?? ev.flake.url, ev.attrPath, def.loc, def.index]);
    let p = this.counterfactuals.get(key);
    if (!p) {
      p = evaluateWithout(this.nix, ev.flake, ev.attrPath, def, opts).then((alt) =>
        counterfactualCost(attribution, id, alt, this.derivations),
      );
      this.counterfactuals.set(key, p);
      // A failed or cancelled evaluation is not remembered.
      p.catch(() => this.counterfactuals.delete(key));
    }
    return p;
  }

  private diskFile(drvPath: string): string | undefined {
    if (!this.options.cacheDir) return undefined;
    const base = drvPath.slice(drvPath.lastIndexOf('/') + 1, drvPath.lastIndexOf('/') + 33);
    return join(this.options.cacheDir, `options-${base}.json`);
  }

  private readDisk(drvPath: string): OptionEvaluation | undefined {
    const file = this.diskFile(drvPath);
    if (!file) return undefined;
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { version: number; evaluation: OptionEvaluation };
      if (doc.version !== CACHE_VERSION || doc.evaluation.root?.drvPath !== drvPath) return undefined;
      this.byDrv.set(drvPath, doc.evaluation);
      return doc.evaluation;
    } catch {
      return undefined;
    }
  }

  private writeDisk(drvPath: string, ev: OptionEvaluation): void {
    const file = this.diskFile(drvPath);
    if (!file) return;
    try {
      mkdirSync(this.options.cacheDir!, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: CACHE_VERSION, evaluation: ev }));
      renameSync(tmp, file);
    } catch {
      // A cache that cannot be written only costs a re-evaluation later.
    }
  }
}
