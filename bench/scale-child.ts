/**
 * Child process of the `scale` section: loads one path-info JSON and runs what the first view needs, then prints
 * its phase timings and peak memory (maxRSS of this process alone) as one JSON line. A separate process so that
 * the memory figure is the engine's and nothing else's.
 */
import * as fs from 'node:fs';
import { ClosureGraph } from '../src/shared';
import { ClosureAnalysis } from '../src/core/analysis';
import { GraphCache } from '../src/core/load';
import { parseClosureGraph, parseClosureJson, parseClosureValue } from '../src/core/parse';
import { parseJsonText } from '../src/core/parse';

/**
 * Paths whose closure size a first view shows: the heaviest-paths list (`closure-lens closure` and the sidebar show 20
 * by default). Beyond ~20k paths closure sizes are computed lazily, one walk per path shown.
 */
const VISIBLE = 20;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

/**
 * `scale-child.js FILE [--why TARGET] [--records | --generic]`: load from path-info JSON (the cold path) as the engine's
 * pipeline does: the bytes (as nix's stdout arrives) parsed straight into the graph (`parseClosureGraph`; its time is
 * all in the parse phase). For comparison, `--records` takes the path-info fast path to PathRecords, then
 * `ClosureGraph.build`; `--generic` parses the way every input went before the fast paths (JSON.parse, then the
 * generic readers, which stay the oracle).
 * `scale-child.js FILE --prime-cache DIR`: parse FILE and store its graph in a GraphCache in DIR (untimed setup).
 * `scale-child.js FILE --cache DIR`: load the same graph from that cache (the warm path), then the same analyses.
 */
async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: scale-child.js <path-info.json> [--why TARGET] [--prime-cache DIR | --cache DIR]');
  const whyTarget = option('--why');
  const t = (): number => Number(process.hrtime.bigint()) / 1e9;
  const primeDir = option('--prime-cache');
  if (primeDir !== undefined) {
    const parsed = parseClosureJson(fs.readFileSync(file, 'utf8'), file);
    const graph = ClosureGraph.build(parsed.records, parsed.roots);
    await new GraphCache(primeDir).put(graph.paths[graph.root]!, graph, { source: file, format: parsed.format });
    process.stdout.write(JSON.stringify({ root: graph.paths[graph.root] }) + '\n');
    return;
  }
  const cacheDir = option('--cache');
  const t0 = t();
  let graph: ClosureGraph;
  let t1: number;
  let t2: number;
  if (cacheDir !== undefined) {
    const root = option('--root');
    if (root === undefined) throw new Error('--cache needs --root');
    const cached = await new GraphCache(cacheDir).get(root);
    if (cached === undefined) throw new Error(`no cached graph for ${root} in ${cacheDir}`);
    graph = cached.graph;
    t1 = t2 = t();
  } else if (!process.argv.includes('--records') && !process.argv.includes('--generic')) {
    const bytes = fs.readFileSync(file);
    t1 = t();
    graph = parseClosureGraph(bytes, file).graph;
    t2 = t();
  } else {
    const text = fs.readFileSync(file, 'utf8');
    t1 = t();
    const parsed = process.argv.includes('--generic')
      ? parseClosureValue(parseJsonText(text, file), file)
      : parseClosureJson(text, file);
    t2 = t();
    graph = ClosureGraph.build(parsed.records, parsed.roots);
  }
  const t3 = t();
  const analysis = new ClosureAnalysis(graph);
  const dom = analysis.dominators;
  const t4 = t();
  // closure sizes: the root's, and those of the paths a first view shows (the heaviest by retained size)
  let checksum = analysis.closureSize(graph.root);
  const visible = analysis.heaviest(VISIBLE);
  for (const i of visible) checksum += analysis.closureSize(i);
  const t5 = t();
  const result: Record<string, number | string> = {
    paths: graph.pathCount,
    edges: graph.refTargets.length,
    readSeconds: t1 - t0,
    parseSeconds: t2 - t1,
    graphSeconds: t3 - t2,
    dominatorSeconds: t4 - t3,
    closureSizeSeconds: t5 - t4,
    totalSeconds: t5 - t0,
    visiblePaths: visible.length,
    checksum: checksum + dom.retained[graph.root]!,
  };
  if (whyTarget !== undefined) {
    const target = graph.indexOf(whyTarget);
    if (target === undefined) throw new Error(`${whyTarget} is not in the closure`);
    // the first query pays for nothing cached; later ones are what a user clicking around sees
    const q0 = t();
    const first = analysis.why(target);
    const q1 = t();
    const samples: number[] = [];
    const targets: number[] = [];
    for (let k = 0; k < 200; k++) targets.push((k * 7919) % graph.nodeCount);
    targets.push(target);
    for (const i of targets) {
      const s = t();
      analysis.why(i);
      samples.push(t() - s);
    }
    samples.sort((a, b) => a - b);
    const all0 = t();
    const all = analysis.why(target, { all: true, limit: 100 });
    const all1 = t();
    result['whyFirstSeconds'] = q1 - q0;
    result['whyMedianSeconds'] = samples[samples.length >> 1]!;
    result['whyMaxSeconds'] = samples[samples.length - 1]!;
    result['whyChainEdges'] = first.chains[0]!.length - 1;
    result['whyAllSeconds'] = all1 - all0;
    result['whyAllChains'] = all.chains.length;
    result['whyAllTotal'] = all.totalChains;
  }
  result['maxRssMiB'] = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
