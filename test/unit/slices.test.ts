/**
 * Sliced work (src/core/slices.ts) and the analyses the extension host runs that way: same results as at once, the
 * event loop gets turns in between, aborts and failures end only their own job.
 */
import assert from 'node:assert/strict';
import { findDuplicates } from '../../src/core/analysis';
import { ClosureAnalysis } from '../../src/core/analysis';
import { runInSlices, runToEnd, SLICE_MS, type Steps } from '../../src/shared';
import { nixosLikeFixture, realSbomClosure, realSbomWithoutSizes, syntheticClosure } from '../webview/closures';

/** `chunks` chunks, each busy for at least `ms` of wall time; records the order in which chunks of jobs ran. */
function* busy(label: string, chunks: number, ms: number, log: string[]): Steps<string> {
  for (let k = 0; k < chunks; k++) {
    const until = performance.now() + ms;
    while (performance.now() < until);
    log.push(label);
    yield;
  }
  return label;
}

describe('sliced work', () => {
  it('runToEnd and runInSlices give the generator’s result', async () => {
    assert.equal(runToEnd(busy('a', 3, 0, [])), 'a');
    assert.equal(await runInSlices(busy('b', 3, 0, [])), 'b');
  });

  it('lets the event loop run between slices: work longer than a slice does not finish before a queued callback', async () => {
    const log: string[] = [];
    // Ten slices' worth of work, in 2 ms chunks.
    const job = runInSlices(busy('work', Math.ceil((10 * SLICE_MS) / 2), 2, log));
    setImmediate(() => log.push('immediate'));
    setTimeout(() => log.push('timer'), 0);
    await job;
    const last = log.lastIndexOf('work');
    assert.ok(log.indexOf('immediate') >= 0 && log.indexOf('immediate') < last, 'an immediate ran in between');
    assert.ok(log.indexOf('timer') >= 0 && log.indexOf('timer') < last, 'a timer ran in between');
  });

  it('jobs take turns, and all of them finish', async () => {
    const log: string[] = [];
    const n = Math.ceil((4 * SLICE_MS) / 2);
    const [a, b] = await Promise.all([runInSlices(busy('a', n, 2, log)), runInSlices(busy('b', n, 2, log))]);
    assert.deepEqual([a, b], ['a', 'b']);
    // b ran before a had finished: round robin, not one job after the other.
    assert.ok(log.indexOf('b') < log.lastIndexOf('a'), log.join(''));
  });

  it('an abort or an error ends only its own job', async () => {
    const abort = new AbortController();
    const aborted = runInSlices(busy('x', 1000, 1, []), { signal: abort.signal });
    const failing = runInSlices(
      (function* (): Steps<never> {
        yield;
        throw new Error('broken step');
      })(),
    );
    const fine = runInSlices(busy('fine', 20, 1, []));
    setImmediate(() => abort.abort(new Error('superseded')));
    await assert.rejects(aborted, /superseded/);
    await assert.rejects(failing, /broken step/);
    assert.equal(await fine, 'fine');
    await assert.rejects(runInSlices(busy('y', 1, 0, []), { signal: abort.signal }), /superseded/);
  });
});

describe('analyses the extension host runs in slices', () => {
  const closures = [
    ['NixOS-like fixture', nixosLikeFixture],
    ['real SBOM', realSbomClosure],
    ['real SBOM without sizes', realSbomWithoutSizes],
    ['30,000-path synthetic', () => syntheticClosure(30_000)],
  ] as const;
  for (const [what, make] of closures) {
    it(`duplicatesInSlices equals findDuplicates and shares its result: ${what}`, async () => {
      const c = make();
      const a = new ClosureAnalysis(c.graph);
      assert.equal(a.knownDuplicates, undefined);
      const sliced = await a.duplicatesInSlices();
      assert.deepEqual(sliced, findDuplicates(c.graph, a.dominators));
      assert.equal(a.duplicates(), sliced, 'one memo');
      assert.equal(a.knownDuplicates, sliced);
    });

    it(`heaviest(n) is the first n of all nodes sorted by retained size (ties by index): ${what}`, () => {
      const c = make();
      const a = c.analysis;
      const { retained, idom } = a.dominators;
      const all = [...Array(c.graph.nodeCount).keys()].filter((i) => i !== c.graph.root && idom[i] !== -1);
      all.sort((x, y) => retained[y]! - retained[x]! || x - y);
      for (const n of [0, 1, 7, 25, 500, c.graph.nodeCount + 5])
        assert.deepEqual(a.heaviest(n), all.slice(0, n), `n = ${n}`);
    });
  }
});
