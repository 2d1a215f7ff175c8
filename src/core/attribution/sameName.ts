/**
 * Labels for store paths that share a name (alice's and bob's `user-environment`, two `python3`), by what
 * tells them apart, so that chains and lists never show two identical names for two different paths:
 * 1. the option that carries each (`environment.etc."profiles/per-user/alice".source` → `alice`): the part
 *    of the option path where they differ;
 * 2. else a referrer only one of them has (`in system-path`);
 * 3. else a reference only one of them has (`with numpy`);
 * 4. else the start of the hash.
 */
import type { ClosureGraph } from '../../shared/graph';
import type { OptionAttribution } from './attribute';

/** Node → `name (what distinguishes it)`, for every node whose store name another node shares. */
export function sameNameLabels(g: ClosureGraph, attribution?: OptionAttribution): Map<number, string> {
  const byName = new Map<string, number[]>();
  for (let i = 0; i < g.nodeCount; i++) {
    if (g.isVirtual(i)) continue;
    const name = g.name(i).name;
    const list = byName.get(name);
    if (list) list.push(i);
    else byName.set(name, [i]);
  }
  const labels = new Map<number, string>();
  for (const [name, members] of byName) {
    if (members.length < 2) continue;
    const parts =
      byOption(members, attribution) ??
      byNeighbour(members, (i) => g.referrers(i), g, 'in') ??
      byNeighbour(members, (i) => g.references(i), g, 'with') ??
      members.map((i) => g.name(i).hash.slice(0, 7));
    members.forEach((i, k) => labels.set(i, `${name} (${parts[k]})`));
  }
  return labels;
}

/** The differing part of the options that carry each member; undefined unless every member gets a distinct one. */
function byOption(members: readonly number[], a: OptionAttribution | undefined): string[] | undefined {
  if (!a) return undefined;
  const locs = members.map((i) => {
    const ids = Array.from(a.introducers(i));
    return ids.length > 0 ? a.definitions[ids[0]!]!.loc : undefined;
  });
  if (locs.some((l) => l === undefined)) return undefined;
  const all = locs as (readonly string[])[];
  const at = firstDifference(all);
  if (at < 0) return undefined;
  const parts = all.map((l) => l[at] ?? '');
  // `profiles/per-user/alice` vs `profiles/per-user/bob`: the differing segment.
  const segments = parts.map((p) => p.split('/'));
  const seg = firstDifference(segments);
  const shown = seg >= 0 ? segments.map((s) => s[seg] ?? '') : parts;
  return new Set(shown).size === shown.length ? shown : undefined;
}

function byNeighbour(
  members: readonly number[],
  neighbours: (i: number) => Iterable<number>,
  g: ClosureGraph,
  word: string,
): string[] | undefined {
  const names = members.map(
    (i) => new Set([...neighbours(i)].filter((j) => !g.isVirtual(j)).map((j) => g.name(j).name)),
  );
  const out: string[] = [];
  for (let k = 0; k < members.length; k++) {
    const own = [...names[k]!].filter((n) => names.every((other, m) => m === k || !other.has(n))).sort();
    if (own.length === 0) return undefined;
    out.push(`${word} ${own[0]}`);
  }
  return out;
}

/** The first index where the lists differ; -1 when they are all equal. */
function firstDifference(lists: readonly (readonly string[])[]): number {
  const longest = Math.max(...lists.map((l) => l.length));
  for (let k = 0; k < longest; k++) {
    const first = lists[0]![k];
    if (lists.some((l) => l[k] !== first)) return k;
  }
  return -1;
}
