/** `why`'s outputs: the JSON of src/cli/outputs and the chains drawn as `nix why-depends` draws them. */
import type { ClosureAnalysis } from '../../core/analysis/closure';
import type { ChainSet } from '../../shared/analysis/why';
import { drawChains } from '../../shared/format';
import { OUTPUT_VERSION, type WhyJson } from '../outputs';
import { chainPaths } from './common';

export function whyJson(a: ClosureAnalysis, rootPath: string, dep: number, set: ChainSet): WhyJson {
  const g = a.graph;
  return {
    version: OUTPUT_VERSION,
    root: g.hasVirtualRoot ? null : rootPath,
    dependency: g.paths[dep]!,
    chains: chainPaths(a, set),
    truncated: set.truncated,
    totalChains: set.totalChains,
  };
}

/**
 * The chains drawn as `nix why-depends` draws them (one tree; shared prefixes merged). Like Nix, a path asked
 * why it depends on itself shows its self-reference as one step.
 */
export function renderWhyText(a: ClosureAnalysis, set: ChainSet): string {
  const g = a.graph;
  const chains = chainPaths(a, set).map((c, k) => {
    const only = set.chains[k]!;
    return only.length === 1 && g.selfReference[only[0]!] ? [c[0]!, c[0]!] : c;
  });
  // Several real roots behind a virtual one: draw one tree per root.
  const byRoot = new Map<string, string[][]>();
  for (const c of chains) {
    const list = byRoot.get(c[0]!);
    if (list) list.push(c);
    else byRoot.set(c[0]!, [c]);
  }
  return [...byRoot.values()].map((cs) => drawChains(cs).join('\n') + '\n').join('');
}

/** A hint on stderr when chains were left out; undefined when everything was shown. */
export function whyNote(set: ChainSet, all: boolean): string | undefined {
  if (!set.truncated) return undefined;
  if (set.incomplete) {
    return `note: the input has a cycle (a Nix closure has none), and listing its chains stopped early: the ${set.chains.length} shown are true, others may be missing\n`;
  }
  const total = set.totalChains >= Number.MAX_SAFE_INTEGER ? 'more than 2^53' : String(set.totalChains);
  return all
    ? `note: showing the ${set.chains.length} shortest of ${total} chains; --limit N shows more\n`
    : `note: this is a shortest chain; there are ${total} in all (--all lists them)\n`;
}
