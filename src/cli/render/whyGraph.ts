/**
 * `why --all` (the why-graph) and `why --precise` (the files behind each edge): JSON, and text drawn as
 * `nix why-depends --all [--precise]` draws it — each node once, later appearances greyed (or marked `[...]`
 * without colour), and with --precise each edge's files right above the `→ dependency` line.
 */
import type { ClosureAnalysis } from '../../core/analysis/closure';
import type { ReferenceHit } from '../../core/precise';
import { snippetText } from '../../core/precise';
import { whyTreeSteps, TOO_MANY_TO_COUNT, type ChainCount, type WhyGraph } from '../../shared/analysis/whyGraph';
import { TREE } from '../../shared/format';
import { OUTPUT_VERSION, type PreciseEdgeJson, type WhyGraphJson } from '../outputs';

/** The files behind each edge, keyed `referrer dependency` (two node numbers). */
export type EdgeHits = ReadonlyMap<string, readonly ReferenceHit[]>;

export function edgeKey(from: number, to: number): string {
  return `${from} ${to}`;
}

/** The edges of the why-graph between real store paths (a virtual root's edges to the roots are not edges). */
export function realEdges(a: ClosureAnalysis, wg: WhyGraph): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < wg.edges.length; k += 2) {
    if (!a.graph.isVirtual(wg.edges[k]!)) out.push([wg.edges[k]!, wg.edges[k + 1]!]);
  }
  return out;
}

export function whyGraphJson(a: ClosureAnalysis, rootPath: string, wg: WhyGraph, hits?: EdgeHits): WhyGraphJson {
  const g = a.graph;
  const p = (i: number) => g.paths[i]!;
  const chains = wg.chains.map((c) => (g.isVirtual(c[0]!) && c.length > 1 ? c.slice(1) : c).map(p));
  const edges = realEdges(a, wg);
  return {
    version: OUTPUT_VERSION,
    root: g.hasVirtualRoot ? null : rootPath,
    dependency: p(wg.to),
    nodes: [...wg.nodes].filter((i) => !g.isVirtual(i)).map(p),
    edges: edges.map(([u, v]) => [p(u), p(v)]),
    chains,
    chainCount: wg.chainCount,
    truncated: wg.truncated,
    totalChains: cappedCount(wg.chainCount),
    ...(hits ? { precise: preciseJson(a, edges, hits) } : {}),
  };
}

export function preciseJson(a: ClosureAnalysis, edges: readonly [number, number][], hits: EdgeHits): PreciseEdgeJson[] {
  return edges.map(([u, v]) => ({
    from: a.graph.paths[u]!,
    to: a.graph.paths[v]!,
    files: (hits.get(edgeKey(u, v)) ?? []).map((h) => ({ ...h })),
  }));
}

/** JSON with BigInts written as exact numbers (JSON allows any size; JSON.stringify refuses BigInt). */
export function stringifyWithBigInts(value: unknown): string {
  const marker = '\u0000bigint:';
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v)).replace(
    /"\\u0000bigint:(\d+)"/g,
    '$1',
  );
}

function cappedCount(c: ChainCount): number {
  return c === TOO_MANY_TO_COUNT || c > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(c);
}

export interface DrawOptions {
  /** Grey repeated nodes and colour hashes as Nix does. */
  readonly color?: boolean;
  /** With --precise: the files behind each edge, drawn above the dependency's `→` line. */
  readonly hits?: EdgeHits;
}

const GREY = '\u001b[38;5;244m';
const GREEN = '\u001b[32;1m';
const BLUE = '\u001b[34;1m';
const NORMAL = '\u001b[0m';

/** The why-graph as Nix's `--all` tree; several roots behind a virtual one give one tree each. */
export function renderWhyGraphText(a: ClosureAnalysis, wg: WhyGraph, opts: DrawOptions = {}): string {
  const g = a.graph;
  const lines: string[] = [];
  const virtual = g.isVirtual(wg.from);
  if (!virtual) lines.push(g.paths[wg.from]!);
  // last[d]: the step at depth d was its parent's last child (decides the pad of everything under it)
  const last: boolean[] = [];
  const hasChildren = new Set<number>();
  for (let k = 0; k < wg.edges.length; k += 2) hasChildren.add(wg.edges[k]!);
  for (const s of whyTreeSteps(g, wg)) {
    const depth = virtual ? s.depth - 1 : s.depth;
    const path = g.paths[s.node]!;
    if (depth === 0) {
      lines.push(path); // a root of a multi-root closure
      continue;
    }
    last[depth] = s.last;
    let pad = '';
    for (let d = 1; d < depth; d++) pad += last[d] ? TREE.none : TREE.line;
    const grey = s.repeated && hasChildren.has(s.node);
    const shown = grey ? (opts.color ? `${GREY}${path}${NORMAL}` : `${path} [...]`) : path;
    if (!opts.hits) {
      lines.push(pad + (s.last ? TREE.last : TREE.conn) + shown);
      continue;
    }
    const hits = opts.hits.get(edgeKey(s.parent, s.node)) ?? [];
    const texts = hits.length > 0 ? hits.map((h) => hitText(h, s.node === wg.to, opts.color)) : [NO_HIT];
    texts.forEach((t, k) =>
      lines.push(pad + (k === 0 ? (s.last ? TREE.last : TREE.conn) : s.last ? TREE.none : TREE.line) + t),
    );
    lines.push(pad + (s.last ? TREE.none : TREE.line) + '→ ' + shown);
  }
  return lines.join('\n') + '\n';
}

/** Said when no file holds the hash as plain text (Nix then prints no hit line at all). */
const NO_HIT = '(no file holds this hash as plain text: it may be compressed or encoded)';

function hitText(h: ReferenceHit, isDependency: boolean, color: boolean | undefined): string {
  if (!color) return snippetText(h);
  const hash = `${isDependency ? GREEN : BLUE}${h.hash}${NORMAL}`;
  return h.kind === 'symlink'
    ? `${h.file} -> ${h.before}${hash}${h.after}`
    : `${h.file}: …${h.before}${hash}${h.after}…`;
}

/** One chain with the files behind each of its edges, as `nix why-depends --precise` draws it. */
export function renderPreciseChainText(a: ClosureAnalysis, chain: readonly number[], opts: DrawOptions): string {
  const g = a.graph;
  const real = g.isVirtual(chain[0]!) && chain.length > 1 ? chain.slice(1) : chain;
  const lines = [g.paths[real[0]!]!];
  let pad = '';
  for (let k = 1; k < real.length; k++) {
    const hits = opts.hits?.get(edgeKey(real[k - 1]!, real[k]!)) ?? [];
    const texts = hits.length > 0 ? hits.map((h) => hitText(h, k === real.length - 1, opts.color)) : [NO_HIT];
    texts.forEach((t, i) => lines.push(pad + (i === 0 ? TREE.last : TREE.none) + t));
    lines.push(pad + TREE.none + '→ ' + g.paths[real[k]!]!);
    pad += TREE.none;
  }
  return lines.join('\n') + '\n';
}
