/**
 * Section `webview`: time to first draw of the sunburst for 1k, 10k and 100k paths. The host side (snapshot
 * of an analysed closure) runs here in node; the webview side is the real bundle in headless Chromium, timed
 * from the post of the `closure` message (structured clone included) to the painted frame.
 * Not included: VS Code's own hop from the extension host process to the webview (an IPC copy of the buffers).
 */
import { buildSnapshot } from '../src/shared';
import { SLICE_MS } from '../src/shared';
import { closureMessage, syntheticClosure } from '../test/webview/closures';
import { openHarness } from '../test/webview/harness';
import { markdownTable, now, seconds, summarize, verdict, type BenchSection } from './lib';

const SIZES = [1_000, 10_000, 100_000];
const BUDGET_S = 1;

/** Bytes of the payload's buffers (the string table is one of them): what crosses to the webview besides a little JSON. */
function payloadBytes(s: ReturnType<typeof buildSnapshot>): number {
  let bytes = 0;
  for (const v of Object.values(s)) if (ArrayBuffer.isView(v)) bytes += v.byteLength;
  return bytes;
}

export const webviewSection: BenchSection = {
  id: 'webview',
  title: 'Sunburst webview: time to first draw',
  async run(ctx) {
    const runs = ctx.quick ? 2 : 7;
    const rows: string[][] = [];
    let allMet = true;
    for (const n of SIZES) {
      ctx.log(`webview: generating ${n} paths`);
      const c = syntheticClosure(n);
      const ta = now();
      void c.analysis.dominators;
      void c.analysis.distances;
      const analysisS = now() - ta;
      // The first snapshot also computes the closure sizes (up to 20k paths); later ones reuse them.
      const tf = now();
      buildSnapshot(c.analysis);
      const firstSnapS = now() - tf;
      const snapS: number[] = [];
      for (let k = 0; k < runs; k++) {
        const t0 = now();
        buildSnapshot(c.analysis);
        snapS.push(now() - t0);
      }
      const msg = closureMessage(c);
      const bytes = payloadBytes(msg.snapshot);
      const h = await openHarness();
      const draw: number[] = [];
      const painted: number[] = [];
      const longest: number[] = [];
      let arcs = 0;
      try {
        // Long tasks (over 50 ms, Chromium's definition): while one runs the page does not react to input.
        await h.page.evaluate(() => {
          const w = window as unknown as { __longTasks: { start: number; ms: number }[] };
          w.__longTasks = [];
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, ms: e.duration });
          }).observe({ type: 'longtask' });
        });
        for (let k = 0; k < runs + 1; k++) {
          const r = await h.sendClosure(msg);
          // What follows the first paint (legend, graph for why-chains and search) runs when the page is idle.
          await h.page.waitForTimeout(1500);
          if (k === 0) continue; // the first load also compiles the bundle's code paths
          draw.push(r.sinceDelivery / 1000);
          painted.push(r.painted / 1000);
          longest.push(
            await h.page.evaluate(() => {
              const w = window as unknown as { __longTasks: { start: number; ms: number }[]; __t0: number };
              return Math.max(0, ...w.__longTasks.filter((t) => t.start >= w.__t0).map((t) => t.ms)) / 1000;
            }),
          );
        }
        arcs = await h.page.$$eval('path.arc', (els) => els.length);
      } finally {
        await h.close();
      }
      const snap = summarize(snapS);
      const d = summarize(draw);
      const p = summarize(painted);
      const busy = summarize(longest);
      const total = firstSnapS + p.median;
      const met = total < BUDGET_S;
      allMet &&= met;
      rows.push([
        n.toLocaleString('en-US'),
        (bytes / 1024 / 1024).toFixed(1) + ' MiB',
        seconds(analysisS),
        `${seconds(firstSnapS)} / ${seconds(snap.median)}`,
        `${seconds(d.median)} (${seconds(d.min)}–${seconds(d.max)})`,
        `${seconds(p.median)} (${seconds(p.min)}–${seconds(p.max)})`,
        String(arcs),
        busy.max > 0 ? `${seconds(busy.median)} (max ${seconds(busy.max)})` : 'none over 50 ms',
        `${seconds(total)}: ${verdict(met)}`,
      ]);
    }
    return [
      `Synthetic closures (test/webview/closures.ts \`syntheticClosure\`: a random DAG, ~2 extra referrers per path, ` +
        `log-uniform sizes). Median of ${runs} loads into one page after a warm-up load. The budget: a closure ` +
        `must arrive and be drawn in under ${BUDGET_S} s (snapshot on the host + message to painted frame).`,
      '',
      markdownTable(
        [
          'paths',
          'payload',
          'dominators + distances (host, once)',
          'snapshot (host): first / again',
          'message → SVG built',
          'message → painted',
          'arcs drawn',
          'longest task in the page, message to idle',
          'first snapshot + painted',
        ],
        rows,
      ),
      '',
      `The analysis column is computed once per closure when it is loaded (and cached), not per panel. Budget ${allMet ? 'met for every size' : '**not met for every size**'}.`,
      '',
      'The longest task is the longest time the page could not react to input, from the message until 1.5 s later ' +
        "(PerformanceObserver `longtask`; the first draw is one task, the legend's categories and the graph for why-chains and " +
        `search follow in slices of at most ${SLICE_MS} ms, src/core/slices.ts).`,
    ].join('\n');
  },
};

// `node out/bench/webview-first-draw.js [--quick]` runs this section alone. The file name is checked too, because
// bench.ts bundles this module and is then `require.main` itself.
if (require.main === module && /webview-first-draw\.js$/.test(process.argv[1] ?? '')) {
  const quick = process.argv.includes('--quick');
  void (async () => {
    const { benchContext } = await import('./lib');
    process.stdout.write((await webviewSection.run(benchContext(quick))) + '\n');
  })().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
