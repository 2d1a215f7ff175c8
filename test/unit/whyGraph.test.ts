// The why-graph against brute force on seeded random DAGs with hubs (and, for robustness, cyclic graphs), and
// its cost on a 3,000-path system whose hub has more than 2^53 chains.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { ClosureGraph, distancesFrom, whyGraph, TOO_MANY_TO_COUNT, type PathRecord } from '../../src/shared';
import { seededRandom } from '../support/prng';

const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** n paths; path k refers to later paths, preferring the hubs (preferential attachment, like glibc). */
function hubRecords(seed: number, n: number, cyclic = false): PathRecord[] {
  const rand = seededRandom(seed);
  const hash = () => Array.from({ length: 32 }, () => BASE32[Math.floor(rand() * 32)]).join('');
  const paths = Array.from({ length: n }, (_, k) => `/nix/store/${hash()}-p${k}`);
  const refs: Set<string>[] = paths.map(() => new Set());
  const popularity = Array.from({ length: n }, () => 1);
  for (let k = n - 2; k >= 0; k--) {
    // every path but the root gets a referrer before it, so the root reaches everything
    refs[Math.floor(rand() * (k + 1))]!.add(paths[k + 1]!);
    const out = Math.floor(rand() * 4);
    for (let t = 0; t < out; t++) {
      let total = 0;
      for (let j = k + 1; j < n; j++) total += popularity[j]!;
      let pick = rand() * total;
      let j = k + 1;
      for (; j < n - 1 && pick >= popularity[j]!; j++) pick -= popularity[j]!;
      refs[k]!.add(paths[j]!);
      popularity[j]!++;
    }
    if (cyclic && k > 2 && rand() < 0.1) refs[k]!.add(paths[Math.floor(rand() * k)]!);
    if (rand() < 0.2) refs[k]!.add(paths[k]!);
  }
  return paths.map((path, k) => ({ path, narSize: 100 + k, references: [...refs[k]!] }));
}

function reach(g: ClosureGraph, from: number, reverse: boolean): Set<number> {
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length) {
    const v = stack.pop()!;
    for (const w of reverse ? g.referrers(v) : g.references(v)) {
      if (!seen.has(w)) {
        seen.add(w);
        stack.push(w);
      }
    }
  }
  return seen;
}

/** Number of simple from → to paths by exhaustive search (small graphs only). */
function bruteCount(g: ClosureGraph, from: number, to: number): bigint {
  const onStack = new Set<number>();
  const walk = (v: number): bigint => {
    if (v === to) return 1n;
    onStack.add(v);
    let c = 0n;
    for (const w of g.references(v)) if (!onStack.has(w)) c += walk(w);
    onStack.delete(v);
    return c;
  };
  return walk(from);
}

describe('analysis: why-graph', () => {
  for (const [seed, n, cyclic] of [
    [1, 12, false],
    [2, 25, false],
    [3, 40, false],
    [4, 18, true],
    [5, 30, true],
  ] as const) {
    it(`nodes, edges, layers and chain count agree with brute force (seed ${seed}, ${n} paths${cyclic ? ', cyclic' : ''})`, () => {
      const records = hubRecords(seed, n, cyclic);
      const g = ClosureGraph.build(records, [records[0]!.path]);
      const rand = seededRandom(seed * 31);
      for (let q = 0; q < 25; q++) {
        const from = q < 10 ? g.root : Math.floor(rand() * g.nodeCount);
        const to = Math.floor(rand() * g.nodeCount);
        const limit = 1 + Math.floor(rand() * 5);
        const wg = whyGraph(g, from, to, limit);
        const forward = reach(g, from, false);
        const backward = reach(g, to, true);
        const expected = [...forward].filter((v) => backward.has(v)).sort((a, b) => a - b);
        if (!forward.has(to)) {
          assert.equal(wg.nodes.length, 0);
          assert.equal(wg.edges.length, 0);
          assert.equal(wg.chainCount, 0n);
          assert.deepEqual(wg.chains, []);
          continue;
        }
        assert.deepEqual(
          [...wg.nodes].sort((a, b) => a - b),
          expected,
          `nodes ${from} → ${to}`,
        );
        const inside = new Set(expected);
        const expectedEdges = expected.flatMap((v) =>
          [...g.references(v)].filter((w) => inside.has(w)).map((w) => `${v}>${w}`),
        );
        const edges: string[] = [];
        for (let k = 0; k < wg.edges.length; k += 2) edges.push(`${wg.edges[k]}>${wg.edges[k + 1]}`);
        assert.deepEqual(edges.sort(), expectedEdges.sort(), `edges ${from} → ${to}`);
        const dist = distancesFrom(g, from);
        wg.nodes.forEach((v, k) => assert.equal(wg.layer[k], dist[v], `layer of ${v}`));
        for (let k = 1; k < wg.layer.length; k++) assert.ok(wg.layer[k]! >= wg.layer[k - 1]!, 'layer order');
        const count = bruteCount(g, from, to);
        if (cyclic) {
          // simple paths in a cyclic graph cannot be counted in polynomial time: the count is given up on
          if (wg.chainCount !== TOO_MANY_TO_COUNT) assert.equal(wg.chainCount, from === to ? 1n : count);
        } else {
          assert.equal(wg.chainCount, from === to ? 1n : count, `count ${from} → ${to}`);
          assert.equal(wg.truncated, BigInt(wg.chains.length) < (from === to ? 1n : count));
          // chains through v: the brute count of from → v times v → to
          wg.nodes.forEach((v, k) => {
            const through = Number(bruteCount(g, from, v) * bruteCount(g, v, to));
            assert.ok(
              Math.abs(wg.chainsThroughLog2[k]! - Math.log2(through)) < 1e-9,
              `chains through ${v}: ${wg.chainsThroughLog2[k]} vs log2 ${through}`,
            );
          });
        }
        assert.equal(wg.chains.length, Math.min(limit, cyclic ? wg.chains.length : Number(count) || 1));
        for (const c of wg.chains) for (const v of c) assert.ok(inside.has(v), 'chains run inside the graph');
      }
    });
  }

  it('a 3,000-path system whose hub has ≥ 2^53 chains answers in milliseconds, exactly counted', () => {
    // 100 layers of 30 paths; each refers to 3 paths of the next layer (its twin and 2 at random); the last layer refers to glibc.
    const width = 30;
    const depth = 100;
    const rand = seededRandom(99);
    const name = (l: number, k: number) => `/nix/store/${String(l * width + k).padStart(32, '0')}-n${l}-${k}`;
    const glibc = `/nix/store/${'g'.repeat(32)}-glibc-2.39`;
    const root = `/nix/store/${'r'.repeat(32)}-nixos-system`;
    const records: PathRecord[] = [{ path: glibc, narSize: 1, references: [glibc] }];
    records.push({ path: root, narSize: 1, references: Array.from({ length: width }, (_, k) => name(0, k)) });
    for (let l = 0; l < depth; l++) {
      for (let k = 0; k < width; k++) {
        const refs = new Set<string>();
        if (l === depth - 1) refs.add(glibc);
        else {
          refs.add(name(l + 1, k)); // every path keeps a referrer
          while (refs.size < 3) refs.add(name(l + 1, Math.floor(rand() * width)));
        }
        records.push({ path: name(l, k), narSize: 1, references: [...refs] });
      }
    }
    const g = ClosureGraph.build(records, [root]);
    assert.equal(g.nodeCount, width * depth + 2);
    const to = g.indexOf(glibc)!;
    // the best of 7 runs (the first ones include JIT compilation; the machine is shared)
    let ms = Infinity;
    let wg = whyGraph(g, g.root, to, 100);
    for (let run = 0; run < 7; run++) {
      const t0 = performance.now();
      wg = whyGraph(g, g.root, to, 100);
      ms = Math.min(ms, performance.now() - t0);
    }
    console.log(`      (why-graph of ${g.nodeCount} paths, ${wg.edges.length / 2} edges: ${ms.toFixed(1)} ms)`);
    assert.equal(wg.nodes.length, g.nodeCount);
    assert.equal(wg.edges.length / 2, width + (depth - 1) * width * 3 + width);
    assert.notEqual(wg.chainCount, TOO_MANY_TO_COUNT);
    // independent count: the number of chains to each path of a layer, layer by layer
    let perNode = new Map<string, bigint>(Array.from({ length: width }, (_, k) => [name(0, k), 1n]));
    for (let l = 0; l + 1 < depth; l++) {
      const next = new Map<string, bigint>();
      for (const r of records) {
        const c = perNode.get(r.path);
        if (c !== undefined) for (const t of r.references) next.set(t, (next.get(t) ?? 0n) + c);
      }
      perNode = next;
    }
    const expected = [...perNode.values()].reduce((s, c) => s + c, 0n);
    assert.ok(expected >= 2n ** 53n);
    assert.equal(wg.chainCount, expected);
    assert.equal(wg.chains.length, 100);
    assert.equal(wg.truncated, true);
    assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
  });

  it('more than 2^1024 chains are "too many to count"; nodes and edges stay whole', () => {
    // 1,100 diamonds in a row: 2^1100 chains
    const layers = 1100;
    const name = (k: number) => `/nix/store/${String(k).padStart(32, '0')}-n${k}`;
    const records: PathRecord[] = [];
    for (let l = 0; l <= layers; l++) {
      records.push({ path: name(3 * l), narSize: 1, references: l < layers ? [name(3 * l + 1), name(3 * l + 2)] : [] });
      if (l < layers) {
        records.push({ path: name(3 * l + 1), narSize: 1, references: [name(3 * l + 3)] });
        records.push({ path: name(3 * l + 2), narSize: 1, references: [name(3 * l + 3)] });
      }
    }
    const g = ClosureGraph.build(records, [name(0)]);
    const wg = whyGraph(g, g.root, g.indexOf(name(3 * layers))!, 3);
    assert.equal(wg.chainCount, TOO_MANY_TO_COUNT);
    assert.equal(wg.truncated, true);
    assert.equal(wg.nodes.length, g.nodeCount);
    assert.equal(wg.edges.length / 2, layers * 4);
    assert.equal(wg.chains.length, 3);
    const middle = wg.nodes.indexOf(g.indexOf(name(3 * 550))!);
    assert.equal(wg.chainsThroughLog2[middle], 1100);
    const shorter = whyGraph(g, g.root, g.indexOf(name(3 * 1000))!, 3);
    assert.equal(shorter.chainCount, 2n ** 1000n);
  });
});
