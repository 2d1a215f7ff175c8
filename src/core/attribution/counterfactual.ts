/**
 * The cost of a definition measured by evaluating the configuration without it, for definitions that
 * carry no store paths but switch modules on (`boot.initrd.supportedFilesystems = [ "zfs" ]`).
 *
 * The changed configuration is evaluated, not built. Its toplevel derivation is compared with the
 * original one: both derivation graphs are walked together from the toplevel, pairing inputs that
 * changed by name (initrd ↔ initrd), and stopping where they are equal. A rebuilt path keeps the
 * references that its new derivation still has among its inputs (a reference is always an input) and
 * loses the others; inputs that only the new derivation has are reported as added. The closure is then
 * walked with those references: what the root no longer reaches is the cost.
 */
import { storeName } from '../../shared/storePath';
import type { OptionAttribution } from './attribute';
import { DerivationReader, inputPaths, type StoreDerivation } from './derivation';
import type { RootPaths } from './evaluate';

export interface CounterfactualCost {
  /** The definition's id in the attribution. */
  readonly definition: number;
  /** Bytes of the closure that the changed configuration no longer has. */
  readonly bytes: number;
  /** Graph nodes that the changed configuration no longer has. */
  readonly lostNodes: readonly number[];
  /** Store paths that only the changed configuration has (e.g. systemd-minimal back in the initrd). */
  readonly addedPaths: readonly string[];
  /**
   * NAR size of each of `addedPaths` (same order), null when it is not in the store (the variant is not built);
   * absent until sized (CounterfactualService sizes them with one `nix path-info`).
   */
  readonly addedSizes?: readonly (number | null)[];
  /** The changed configuration's toplevel; equal drvPaths mean the definition changes nothing. */
  readonly root: RootPaths | null;
  readonly unchanged: boolean;
  readonly evalMs: number;
}

interface Pair {
  readonly old: StoreDerivation;
  readonly new: StoreDerivation;
  oldInputs: string[];
  newInputs: string[];
}

export async function counterfactualCost(
  attribution: OptionAttribution,
  id: number,
  alt: { root: RootPaths | null; evalMs: number },
  reader: DerivationReader = new DerivationReader(),
): Promise<CounterfactualCost> {
  const g = attribution.graph;
  const oldDrvPath = attribution.evaluation.root?.drvPath;
  const newDrvPath = alt.root?.drvPath;
  const base = { definition: id, root: alt.root, evalMs: alt.evalMs };
  if (!oldDrvPath || !newDrvPath) throw new Error('counterfactual cost needs both toplevel derivations');
  if (oldDrvPath === newDrvPath) return { ...base, bytes: 0, lostNodes: [], addedPaths: [], unchanged: true };

  // Phase 1: pair the changed derivations, from the toplevel down.
  const pairs: Pair[] = [];
  const seen = new Set<string>();
  const queue: [string, string][] = [[oldDrvPath, newDrvPath]];
  while (queue.length > 0) {
    const [o, n] = queue.shift()!;
    if (seen.has(o)) continue;
    seen.add(o);
    const pair: Pair = { old: await reader.get(o), new: await reader.get(n), oldInputs: [], newInputs: [] };
    pair.oldInputs = await inputPaths(reader, pair.old);
    pair.newInputs = await inputPaths(reader, pair.new);
    pairs.push(pair);
    const onlyOld = [...pair.old.inputDrvs.keys()].filter((d) => !pair.new.inputDrvs.has(d));
    const onlyNew = [...pair.new.inputDrvs.keys()].filter((d) => !pair.old.inputDrvs.has(d));
    for (const [name, olds] of groupByName(onlyOld)) {
      const news = groupByName(onlyNew).get(name);
      if (olds.length === 1 && news?.length === 1) queue.push([olds[0]!, news[0]!]);
    }
  }

  // Phase 2: rebuilt outputs and their counterparts.
  const counterpart = new Map<string, string>();
  for (const p of pairs) {
    for (const [k, oldOut] of p.old.outputs) {
      const newOut = p.new.outputs.get(k);
      if (newOut) counterpart.set(oldOut, newOut);
    }
  }
  const dropped = new Map<number, Set<number>>();
  const added = new Map<number, string[]>();
  const addedPaths = new Set<string>();
  for (const p of pairs) {
    const newInputs = new Set(p.newInputs);
    const oldInputs = new Set(p.oldInputs);
    const oldCounterparts = new Set(p.oldInputs.map((x) => counterpart.get(x) ?? x));
    const gone = new Set<number>();
    for (const x of oldInputs) {
      if (newInputs.has(x) || newInputs.has(counterpart.get(x) ?? '')) continue;
      const i = g.indexOf(x);
      if (i !== undefined) gone.add(i);
    }
    const fresh = p.newInputs.filter((y) => !oldInputs.has(y) && !oldCounterparts.has(y));
    for (const oldOut of p.old.outputs.values()) {
      const v = g.indexOf(oldOut);
      if (v === undefined) continue;
      dropped.set(v, gone);
      added.set(v, fresh);
    }
  }

  // Phase 3: the closure with the rebuilt paths' references.
  const reached = new Uint8Array(g.nodeCount);
  const bfs = new Int32Array(g.nodeCount);
  let tail = 0;
  reached[g.root] = 1;
  bfs[tail++] = g.root;
  for (let head = 0; head < tail; head++) {
    const v = bfs[head]!;
    const gone = dropped.get(v);
    for (const w of g.references(v)) {
      if (gone?.has(w) || reached[w]) continue;
      reached[w] = 1;
      bfs[tail++] = w;
    }
    for (const y of added.get(v) ?? []) {
      const w = g.indexOf(y);
      if (w === undefined) {
        // Only paths the new derivation references would really be in the closure; a new input that is
        // merely used to build it (a script, a tool) cannot be told apart without building.
        addedPaths.add(y);
      } else if (!reached[w]) {
        reached[w] = 1;
        bfs[tail++] = w;
      }
    }
  }
  const lostNodes: number[] = [];
  let bytes = 0;
  for (let i = 0; i < g.nodeCount; i++) {
    if (!reached[i]) {
      lostNodes.push(i);
      bytes += g.narSize[i]!;
    }
  }
  return { ...base, bytes, lostNodes, addedPaths: [...addedPaths].sort(), unchanged: false };
}

function groupByName(drvs: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const d of drvs) {
    const name = storeName(d);
    const list = m.get(name);
    if (list) list.push(d);
    else m.set(name, [d]);
  }
  return m;
}
