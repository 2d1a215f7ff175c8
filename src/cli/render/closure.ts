/** `closure`'s outputs: the JSON of src/cli/outputs and the text table. Pure (unit-tested). */
import type { ClosureAnalysis } from '../../core/analysis/closure';
import { formatBytes, renderTable, type SizeStyle } from '../../shared/format';
import { nodesByPath, type ClosureGraph } from '../../shared/graph';
import { OUTPUT_VERSION, type ClosureJson } from '../outputs';
import { describeRoot, plural, realNodesByRetained } from './common';

/**
 * The closure as JSON: every path (or the `top` heaviest), heaviest retained size first, so the root comes
 * first. `references` are as Nix lists them: full paths, sorted, a self-reference included.
 */
export function closureJson(a: ClosureAnalysis, rootPath: string, top?: number): ClosureJson {
  const rows = closureRows(a, rootPath, top);
  return { ...rows.head, paths: Array.from({ length: rows.count }, (_, k) => rows.row(k)) };
}

/** Rows of `closure --json` in one call to JSON.stringify: about 64 KiB of text at 10,000 paths. */
const ROWS_PER_PIECE = 128;

/**
 * `JSON.stringify(closureJson(a, rootPath, top))` and a line break, in pieces of about 64 KiB (joined, the same
 * text; a unit test holds them equal). At 10,000 paths the whole text is 4 MB, and making it in one piece (then
 * joining the line break and cutting it for the write) took ~30 ms, most of it page faults of fresh memory for two
 * 4 MB strings; a piece at a time, the rows' objects and strings die young in memory that is reused.
 */
export function* closureJsonPieces(a: ClosureAnalysis, rootPath: string, top?: number): Generator<string> {
  const rows = closureRows(a, rootPath, top);
  // `{…,"paths":[]}`: the rows go between the brackets.
  yield JSON.stringify(rows.head).slice(0, -2);
  for (let from = 0; from < rows.count; from += ROWS_PER_PIECE) {
    const piece: ClosureJson['paths'] = [];
    for (let k = from; k < Math.min(from + ROWS_PER_PIECE, rows.count); k++) piece.push(rows.row(k));
    const text = JSON.stringify(piece);
    if (from > 0) yield ',';
    yield text.slice(1, -1);
  }
  yield ']}\n';
}

/** What `closure --json` prints: the fields before `paths` (with `paths` empty, in its place) and each row. */
function closureRows(
  a: ClosureAnalysis,
  rootPath: string,
  top: number | undefined,
): { head: ClosureJson; count: number; row: (k: number) => ClosureJson['paths'][number] } {
  const g = a.graph;
  const byPath = nodesByPath(g);
  const nodes = realNodesByRetained(a, byPath);
  const shown = top === undefined ? nodes : nodes.slice(0, top);
  if (top === undefined && g.sizesKnown) a.allClosureSizes(); // one pass, not a walk per path
  const known = g.sizesKnown;
  const refs = referencesInNixOrder(g, byPath);
  const retained = a.dominators.retained;
  return {
    head: {
      version: OUTPUT_VERSION,
      root: g.hasVirtualRoot ? null : rootPath,
      pathCount: g.pathCount,
      closureSize: known ? a.totalSize : null,
      paths: [],
    },
    count: shown.length,
    row: (k) => {
      const i = shown[k]!;
      const references: string[] = [];
      for (let e = refs.offsets[i]!, end = refs.offsets[i + 1]!; e < end; e++)
        references.push(g.paths[refs.targets[e]!]!);
      return {
        path: g.paths[i]!,
        narSize: known ? g.narSize[i]! : null,
        closureSize: known ? a.closureSize(i) : null,
        retainedSize: known ? retained[i]! : null,
        references,
      };
    },
  };
}

export function renderClosureText(a: ClosureAnalysis, rootPath: string, top: number, style: SizeStyle = 'iec'): string {
  const g = a.graph;
  const size = (n: number) => (g.sizesKnown ? formatBytes(n, style) : '-');
  const nodes = realNodesByRetained(a).filter((i) => i !== g.root);
  const shown = nodes.slice(0, top);
  const head = [
    `${describeRoot(rootPath)}`,
    g.sizesKnown
      ? `${plural(g.pathCount, 'path')}, closure size ${formatBytes(a.totalSize, style)}`
      : `${plural(g.pathCount, 'path')}; sizes unknown (the input has none, e.g. an SBOM)`,
    '',
  ];
  const rows = [['PATH', 'NAR', 'CLOSURE', 'RETAINED']];
  for (const i of shown) {
    rows.push([g.paths[i]!, size(g.narSize[i]!), size(a.closureSize(i)), size(a.retainedSize(i))]);
  }
  const lines = [...head, ...renderTable(rows, ['left', 'right', 'right', 'right'])];
  if (nodes.length > shown.length) lines.push(`… ${nodes.length - shown.length} more paths (--top N shows more)`);
  return lines.join('\n') + '\n';
}

/**
 * Every node's references as Nix lists them (sorted by path, a self-reference included), as CSR: the nodes are
 * visited once in path order and each is appended to its referrers' lists, so no list needs a sort of its own.
 */
function referencesInNixOrder(g: ClosureGraph, byPath: Int32Array): { offsets: Int32Array; targets: Int32Array } {
  const n = g.nodeCount;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    offsets[i + 1] = offsets[i]! + (g.refOffsets[i + 1]! - g.refOffsets[i]!) + (g.selfReference[i] ? 1 : 0);
  const targets = new Int32Array(offsets[n]!);
  const fill = offsets.slice(0, n);
  for (const j of byPath) {
    if (g.selfReference[j]) targets[fill[j]!++] = j;
    for (let e = g.revOffsets[j]!, end = g.revOffsets[j + 1]!; e < end; e++) targets[fill[g.revTargets[e]!]!++] = j;
  }
  return { offsets, targets };
}
