/**
 * Causes, not carriers: for a store path, every definition that caused it, and how.
 *
 * - `carries`: the definition's value carries the path, or a path that references it (attribution.nix);
 *   `distance` is the number of references from the nearest path it carries (0: the path itself).
 * - `enables`: a definition of the user's that carries nothing on the way to the path but without which
 *   the path goes (its counterfactual loses it): enable flags, `supportedFilesystems`-like lists, values
 *   that reach the system through another option.
 *
 * Order: the user's own definitions (files of the flake or workspace) first, nearest first (carries by
 * distance, then enables from the most specific, i.e. the one that removes least, to the broadest); then
 * module-internal definitions (system.build.*, environment.etc.*.source, system.path, …), marked
 * `mechanism`: they are how the path gets there, not what the user can change.
 */
import type { Definition, OptionAttribution } from './attribute';
import type { CounterfactualCost } from './counterfactual';

export type CauseKind = 'carries' | 'enables';

export interface PathCause {
  readonly definition: number;
  readonly kind: CauseKind;
  /** For `carries`: references from the nearest path it carries. For `enables`: -1. */
  readonly distance: number;
  /** A module-internal definition (not in the user's files): the mechanism, shown behind the user's own. */
  readonly mechanism: boolean;
}

export class CauseIndex {
  /** node → user definitions whose counterfactual loses it (ascending by what they remove). */
  private readonly enabling = new Map<number, number[]>();
  /** definition → for each of its list elements, the nodes its carried paths reach (1) or not (0). */
  private readonly elementReach = new Map<number, Uint8Array[]>();

  /** `measured`: counterfactual costs by definition id (only costs, not failures). */
  constructor(
    readonly attribution: OptionAttribution,
    measured: ReadonlyMap<number, CounterfactualCost>,
  ) {
    const bySize = [...measured.entries()].sort((x, y) => x[1].bytes - y[1].bytes || x[0] - y[0]);
    for (const [id, cost] of bySize) {
      for (const node of cost.lostNodes) {
        const list = this.enabling.get(node);
        if (list) list.push(id);
        else this.enabling.set(node, [id]);
      }
    }
  }

  /** Every cause of node i, the user's first, nearest first (see the module comment). */
  causesOf(i: number): PathCause[] {
    const a = this.attribution;
    const isMechanism = (d: Definition): boolean => !d.inWorkspace;
    const carriers = a.reachingDefinitions(i);
    const carrying = new Set(carriers.map((c) => c.id));
    const user: PathCause[] = [];
    const mechanism: PathCause[] = [];
    for (const c of carriers) {
      const d = a.definitions[c.id]!;
      const cause: PathCause = { definition: c.id, kind: 'carries', distance: c.distance, mechanism: isMechanism(d) };
      (cause.mechanism ? mechanism : user).push(cause);
    }
    for (const id of this.enabling.get(i) ?? []) {
      if (carrying.has(id)) continue;
      const d = a.definitions[id]!;
      const cause: PathCause = { definition: id, kind: 'enables', distance: -1, mechanism: isMechanism(d) };
      (cause.mechanism ? mechanism : user).push(cause);
    }
    return [...user, ...mechanism];
  }

  /**
   * The causes of a why-chain (root → … → dependency): the chain's own. Among the definitions carrying the
   * node nearest the dependency, those whose collector is that node's referrer on this chain (alice's
   * packages for the chain through alice's profile, not bob's); then the user's definitions without which
   * a node of the chain (below the root) goes.
   */
  chainCauses(chain: readonly number[]): PathCause[] {
    const a = this.attribution;
    const out: PathCause[] = [];
    const seen = new Set<number>();
    for (let k = chain.length - 1; k > 0 && out.length === 0; k--) {
      const node = chain[k]!;
      const intro = Array.from(a.introducers(node));
      if (intro.length === 0) continue;
      const referrer = chain[k - 1]!;
      const own = intro.filter((id) => a.collectorOf(a.definitions[id]!.option, node) === referrer);
      for (const id of own.length > 0 ? own : intro) {
        seen.add(id);
        out.push({
          definition: id,
          kind: 'carries',
          distance: chain.length - 1 - k,
          mechanism: !a.definitions[id]!.inWorkspace,
        });
      }
    }
    for (let k = chain.length - 1; k > 0; k--) {
      for (const id of this.enabling.get(chain[k]!) ?? []) {
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ definition: id, kind: 'enables', distance: -1, mechanism: !a.definitions[id]!.inWorkspace });
      }
    }
    return [...out.filter((c) => !c.mechanism), ...out.filter((c) => c.mechanism)];
  }

  /**
   * For a definition with list elements (`Definition.elements`): the elements whose carried paths reach node i
   * (the element itself or something it depends on), in list order; empty when none does or it has no elements.
   * What names `pkgs.git` in `users.users.alice.packages` as the cause of git, not the whole list.
   */
  elementsReaching(id: number, i: number): number[] {
    const d = this.attribution.definitions[id]!;
    if (d.elements.length === 0) return [];
    let reach = this.elementReach.get(id);
    if (!reach) {
      reach = d.elements.map((e) => reachableFrom(this.attribution, e.nodes));
      this.elementReach.set(id, reach);
    }
    return d.elements.filter((_, k) => reach![k]![i] === 1).map((e) => e.element);
  }

  /**
   * The module definitions a user definition brings in: those that carry a path its counterfactual loses
   * (boot.initrd.extraPackages of zfs.nix for `boot.initrd.supportedFilesystems = [ "zfs" ]`), what the
   * rankings fold under it.
   */
  mechanismOf(cost: CounterfactualCost): number[] {
    const a = this.attribution;
    const ids = new Set<number>();
    for (const node of cost.lostNodes) {
      for (const id of a.introducers(node)) if (!a.definitions[id]!.inWorkspace) ids.add(id);
    }
    return [...ids].sort((x, y) => x - y);
  }
}

/** The nodes reachable from `from` (themselves included), as a 0/1 array over the attribution's graph. */
function reachableFrom(a: OptionAttribution, from: readonly number[]): Uint8Array {
  const g = a.graph;
  const seen = new Uint8Array(g.nodeCount);
  const queue: number[] = [];
  for (const s of from) {
    if (!seen[s]) {
      seen[s] = 1;
      queue.push(s);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    for (const w of g.references(queue[head]!)) {
      if (!seen[w]) {
        seen[w] = 1;
        queue.push(w);
      }
    }
  }
  return seen;
}
