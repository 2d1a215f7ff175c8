/**
 * Removal costs by edge cut (src/core/attribution/collectors.ts): removing a definition removes the
 * references that its option's collector (system-path, a profile, the fonts directory) makes to the paths
 * only it carries, not the paths. Checked against a brute-force oracle that finds collectors by their
 * definition (the referrer referencing the most of the option's paths, at least two; then the largest share of its
 * references; nearest the root; first by path)
 * and walks the graph with those edges cut.
 */
import assert from 'node:assert/strict';
import { OptionAttribution } from '../../src/core/attribution';
import type { RawOption } from '../../src/core/attribution';
import { optionsJson } from '../../src/core/attribution';
import { ClosureAnalysis } from '../../src/core/analysis';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { evaluation, NIXPKGS, option, SOURCE, storePath } from '../support/attribution';
import { seededRandom as prng } from '../support/prng';

/** Oracle: the collector of each carried path, per option, found by the rule's words (no shared code). */
function bruteCollectors(
  records: PathRecord[],
  root: string,
  carried: Map<string, Set<string>>,
): Map<string, Map<string, string>> {
  const depth = new Map<string, number>([[root, 0]]);
  const by = new Map(records.map((r) => [r.path, r]));
  const queue = [root];
  for (let h = 0; h < queue.length; h++) {
    for (const x of by.get(queue[h]!)!.references) {
      if (x !== queue[h] && !depth.has(x)) {
        depth.set(x, depth.get(queue[h]!)! + 1);
        queue.push(x);
      }
    }
  }
  const out = new Map<string, Map<string, string>>();
  for (const [opt, paths] of carried) {
    const refsOf = (r: PathRecord) => r.references.filter((x) => x !== r.path && paths.has(x)).length;
    const m = new Map<string, string>();
    for (const p of paths) {
      const candidates = records.filter((r) => r.path !== p && r.references.includes(p) && refsOf(r) >= 2);
      const share = (r: PathRecord) => refsOf(r) / r.references.length;
      candidates.sort(
        (a, b) =>
          refsOf(b) - refsOf(a) ||
          share(b) - share(a) ||
          depth.get(a.path)! - depth.get(b.path)! ||
          (a.path < b.path ? -1 : 1),
      );
      if (candidates[0]) m.set(p, candidates[0].path);
    }
    out.set(opt, m);
  }
  return out;
}

/** Oracle: bytes and paths the root no longer reaches without the edges `cut` (from → to) and the nodes `blocked`. */
function bruteLost(
  records: PathRecord[],
  root: string,
  cut: Set<string>,
  blocked: Set<string>,
): { bytes: number; paths: Set<string> } {
  const by = new Map(records.map((r) => [r.path, r]));
  const seen = new Set<string>();
  const queue = blocked.has(root) ? [] : [root];
  for (const p of queue) seen.add(p);
  for (let h = 0; h < queue.length; h++) {
    const v = queue[h]!;
    for (const w of by.get(v)!.references) {
      if (seen.has(w) || blocked.has(w) || cut.has(`${v} ${w}`)) continue;
      seen.add(w);
      queue.push(w);
    }
  }
  const paths = new Set(records.map((r) => r.path).filter((p) => !seen.has(p)));
  return { paths, bytes: [...paths].reduce((s, p) => s + by.get(p)!.narSize!, 0) };
}

/** A random DAG rooted at 0 with a few "profiles" referencing many packages, like system-path. */
function randomSystem(rand: () => number, n: number): { records: PathRecord[]; paths: string[] } {
  const paths = Array.from({ length: n }, (_, i) => storePath(i + 1, `p${i}-1.0`));
  const refs: Set<string>[] = paths.map(() => new Set());
  for (let i = 1; i < n; i++) refs[Math.floor(rand() * i)]!.add(paths[i]!);
  for (let k = 0; k < n; k++) {
    const a = Math.floor(rand() * n);
    const b = Math.floor(rand() * n);
    if (a < b) refs[a]!.add(paths[b]!);
  }
  return {
    records: paths.map((p, i) => ({ path: p, narSize: 100 + Math.floor(rand() * 1000), references: [...refs[i]!] })),
    paths,
  };
}

describe('removal cost by edge cut', () => {
  it('equals brute force with collectors found by the rule, on random graphs (removal, lost paths, combined, package)', () => {
    let edgeCuts = 0;
    let fallbacks = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const rand = prng(seed);
      const n = 12 + Math.floor(rand() * 60);
      const { records, paths } = randomSystem(rand, n);
      const root = paths[0]!;
      const optionNames = ['environment.systemPackages', 'fonts.packages', 'users.users.alice.packages'];
      const raw = optionNames.map((name) =>
        option(
          name,
          Array.from({ length: 1 + Math.floor(rand() * 4) }, () => ({
            file: `${SOURCE}/configuration.nix`,
            paths: paths.slice(1).filter(() => rand() < 0.12),
          })),
        ),
      );
      // Most options get a profile (a collector) referencing most of their paths; the rest find one by chance or none.
      raw.forEach((o, k) => {
        if (rand() < 0.25) return;
        const profile = storePath(n + 1 + k, `profile${k}`);
        const carriedPaths = [...new Set(o.definitions.flatMap((d) => d.paths))];
        records.push({ path: profile, narSize: 4, references: carriedPaths.filter(() => rand() < 0.85) });
        records[0] = { ...records[0]!, references: [...records[0]!.references, profile] };
      });
      const graph = ClosureGraph.build(records, [root]);
      const a = new OptionAttribution({ graph, evaluation: evaluation(raw), readFile: () => undefined });
      const carried = new Map(
        optionNames.map((o) => [
          o,
          new Set(a.definitions.filter((d) => d.option === o).flatMap((d) => d.nodes.map((i) => graph.paths[i]!))),
        ]),
      );
      const collectors = bruteCollectors(records, root, carried);
      for (const o of optionNames) {
        for (const p of carried.get(o)!) {
          const c = a.collectorOf(o, graph.indexOf(p)!);
          assert.equal(
            c === undefined ? undefined : graph.paths[c],
            collectors.get(o)!.get(p),
            `seed ${seed}: collector of ${p} for ${o}`,
          );
        }
      }
      /** Carried paths taken out of all the definitions carrying them, as the oracle sees it. */
      const takeOut = (nodes: Iterable<number>) => {
        const cut = new Set<string>();
        const blocked = new Set<string>();
        for (const i of nodes) {
          const p = graph.paths[i]!;
          const froms = Array.from(a.introducers(i)).map((id) => collectors.get(a.definitions[id]!.option)!.get(p));
          if (froms.length === 0 || froms.some((f) => f === undefined)) blocked.add(p);
          else for (const f of froms) cut.add(`${f} ${p}`);
        }
        return bruteLost(records, root, cut, blocked);
      };
      for (const d of a.definitions) {
        const exclusive = d.nodes.filter((i) => a.introducers(i).length === 1);
        const want = takeOut(exclusive);
        assert.equal(a.removalCost(d.id), want.bytes, `seed ${seed}, definition ${d.id}`);
        assert.deepEqual(
          new Set(a.lostNodes(a.exclusiveNodes(d.id)).map((i) => graph.paths[i]!)),
          want.paths,
          `seed ${seed}, lost of ${d.id}`,
        );
        const method = a.costMethod(d.id);
        if (exclusive.length > 0) {
          const all = exclusive.every((i) => collectors.get(d.option)!.has(graph.paths[i]!));
          assert.equal(method, all ? 'edge-cut' : 'node-removal');
          if (all) edgeCuts++;
          else fallbacks++;
          // Cutting edges never loses more than removing the paths did.
          assert.ok(
            want.bytes <= bruteLost(records, root, new Set(), new Set(exclusive.map((i) => graph.paths[i]!))).bytes,
          );
        }
        const first = d.nodes[0];
        if (first !== undefined) {
          const text = graph.name(first).pname;
          const matching = d.nodes.filter((i) => graph.name(i).pname === text);
          const pc = a.packageCost(d.id, text)!;
          assert.equal(
            pc.bytes,
            takeOut(matching.filter((i) => a.introducers(i).length === 1)).bytes,
            `seed ${seed}, package ${text}`,
          );
        }
      }
      const ids = a.definitions.filter(() => rand() < 0.5).map((d) => d.id);
      const inSet = new Set(ids);
      const together = new Set<number>();
      for (const id of ids)
        for (const i of a.definitions[id]!.nodes)
          if (Array.from(a.introducers(i)).every((x) => inSet.has(x))) together.add(i);
      assert.equal(a.combinedCost(ids).bytes, takeOut(together).bytes, `seed ${seed}, combined`);
    }
    assert.ok(edgeCuts > 50 && fallbacks > 5, `both methods exercised (${edgeCuts} edge cuts, ${fallbacks} fallbacks)`);
  });

  // toplevel → system-path → {w3m, htop, nixos-help}; nixos-help → w3m → perl; alice's profile → htop.
  function w3mSystem() {
    const p = (name: string, narSize: number, refs: string[] = []): PathRecord => ({
      path: storePath(name.length * 31 + name.charCodeAt(1), name),
      narSize,
      references: refs,
    });
    const glibc = p('glibc-2.40', 500);
    const perl = p('perl-5.40.0', 4000, [glibc.path]);
    const w3m = p('w3m-0.5.3', 640, [perl.path, glibc.path]);
    const htop = p('htop-3.4', 300, [glibc.path]);
    const nano = p('nano-8.4', 384, [glibc.path]);
    const help = p('nixos-help-25.11', 256, [w3m.path]);
    const sysPath = p('system-path', 4, [w3m.path, htop.path, help.path]);
    const profile = p('user-environment', 4, [htop.path, nano.path]);
    const top = p('nixos-system-demo', 1, [sysPath.path, profile.path]);
    const records = [glibc, perl, w3m, htop, nano, help, sysPath, profile, top];
    const graph = ClosureGraph.build(records, [top.path]);
    const a = new OptionAttribution({
      graph,
      evaluation: evaluation([
        option('environment.systemPackages', [
          { file: `${SOURCE}/configuration.nix`, paths: [w3m.path, htop.path] },
          { file: `${NIXPKGS}/nixos/modules/misc/documentation.nix`, paths: [help.path] },
        ]),
        option('users.users.alice.packages', [{ file: `${SOURCE}/users.nix`, paths: [htop.path, nano.path] }]),
        option('services.nginx.package', [{ file: `${SOURCE}/configuration.nix`, paths: [perl.path] }]),
      ]),
      readFile: () => undefined,
    });
    return { graph, a, glibc, perl, w3m, htop, nano, help, sysPath, profile, records, top };
  }

  it('a path that something else still references stays: w3m under nixos-help costs nothing', () => {
    const { graph, a, w3m, sysPath } = w3mSystem();
    const conf = a.definitions.find(
      (d) => d.file === '/ws/configuration.nix' && d.option === 'environment.systemPackages',
    )!;
    assert.deepEqual(a.exclusiveNodes(conf.id), [graph.indexOf(w3m.path)]);
    assert.equal(a.collectorOf('environment.systemPackages', graph.indexOf(w3m.path)!), graph.indexOf(sysPath.path));
    assert.equal(a.removalCost(conf.id), 0);
    assert.deepEqual(a.lostNodes(a.exclusiveNodes(conf.id)), []);
    assert.equal(a.costMethod(conf.id), 'edge-cut');
    assert.deepEqual(a.packageCost(conf.id, 'pkgs.w3m'), { nodes: [graph.indexOf(w3m.path)], bytes: 0 });
  });

  it('nixos-help alone leaves w3m to system-path; both systemPackages definitions together take w3m and perl', () => {
    const { graph, a, help, w3m, perl } = w3mSystem();
    const docs = a.definitions.find((d) => d.file.endsWith('documentation.nix'))!;
    assert.deepEqual(a.lostNodes(a.exclusiveNodes(docs.id)), [graph.indexOf(help.path)]);
    assert.equal(a.removalCost(docs.id), 256);
    // Together: nothing references w3m any more, nor perl (which the collector-less nginx package option
    // also carries: a path of the value of another option, not a reference to it); htop stays alice's.
    const both = a.definitions.filter((d) => d.option === 'environment.systemPackages').map((d) => d.id);
    const together = a.combinedCost(both);
    assert.equal(together.bytes, 256 + 640 + 4000);
    assert.deepEqual(
      a
        .lostNodes(together.exclusiveNodes)
        .map((i) => graph.paths[i])
        .sort(),
      [help.path, perl.path, w3m.path].sort(),
    );
  });

  it('finds the collector of each option (the profile for alice), and falls back to node removal without one', () => {
    const { graph, a, nano, profile, perl } = w3mSystem();
    assert.deepEqual(a.collectorsOf('users.users.alice.packages'), [graph.indexOf(profile.path)]);
    const alice = a.definitions.find((d) => d.option === 'users.users.alice.packages')!;
    assert.equal(a.removalCost(alice.id), 384);
    assert.deepEqual(a.lostNodes(a.exclusiveNodes(alice.id)), [graph.indexOf(nano.path)]);
    // One path, no referrer sharing the option's paths: no collector; perl is removed with all its
    // references (w3m's included), an upper bound, and said so.
    const nginx = a.definitions.find((d) => d.option === 'services.nginx.package')!;
    assert.deepEqual(a.collectorsOf('services.nginx.package'), []);
    assert.equal(a.costMethod(nginx.id), 'node-removal');
    assert.equal(a.removalCost(nginx.id), 4000);
    assert.deepEqual(a.lostNodes([graph.indexOf(perl.path)!]), [graph.indexOf(perl.path)]);
  });

  it("prefers the collector nearest the root when two referrers share as many of the option's paths", () => {
    const p = (i: number, name: string, refs: string[] = []): PathRecord => ({
      path: storePath(i, name),
      narSize: 10,
      references: refs,
    });
    const x = p(1, 'x-1');
    const y = p(2, 'y-1');
    const bundle = p(3, 'bundle', [x.path, y.path]); // a package that happens to depend on both
    const env = p(4, 'env', [x.path, y.path]);
    const top = p(5, 'top', [env.path, p(6, 'wrapper', [bundle.path]).path]);
    const records = [x, y, bundle, env, p(6, 'wrapper', [bundle.path]), top];
    const graph = ClosureGraph.build(records, [top.path]);
    const a = new OptionAttribution({
      graph,
      evaluation: evaluation([
        option('environment.systemPackages', [{ file: `${SOURCE}/c.nix`, paths: [x.path, y.path] }]),
      ]),
      readFile: () => undefined,
    });
    assert.deepEqual(a.collectorsOf('environment.systemPackages'), [graph.indexOf(env.path)]);
    // env's references go; bundle still references both: nothing is lost.
    assert.equal(a.removalCost(0), 0);
  });

  it("prefers the referrer most specific to the option: alice's profile, not system-path, which also has her packages", () => {
    const p = (i: number, name: string, refs: string[] = []): PathRecord => ({
      path: storePath(i, name),
      narSize: 10,
      references: refs,
    });
    const htop = p(1, 'htop-3.4');
    const nano = p(2, 'nano-8.4');
    const w3m = p(3, 'w3m-0.5');
    const sysPath = p(4, 'system-path', [htop.path, nano.path, w3m.path]);
    const profile = p(5, 'user-environment', [htop.path, nano.path]);
    const etc = p(6, 'etc', [profile.path]);
    const top = p(7, 'nixos-system', [sysPath.path, etc.path]);
    const graph = ClosureGraph.build([htop, nano, w3m, sysPath, profile, etc, top], [top.path]);
    const a = new OptionAttribution({
      graph,
      evaluation: evaluation([
        option('environment.systemPackages', [{ file: `${SOURCE}/c.nix`, paths: [htop.path, nano.path, w3m.path] }]),
        option('users.users.alice.packages', [{ file: `${SOURCE}/users.nix`, paths: [htop.path, nano.path] }]),
      ]),
      readFile: () => undefined,
    });
    assert.deepEqual(a.collectorsOf('users.users.alice.packages'), [graph.indexOf(profile.path)]);
    assert.deepEqual(a.collectorsOf('environment.systemPackages'), [graph.indexOf(sysPath.path)]);
  });

  it('reports the method next to the cost in the options JSON', () => {
    const { graph, a } = w3mSystem();
    const json = optionsJson({
      attribution: a,
      analysis: new ClosureAnalysis(graph),
      evalMs: 1,
      fromCache: false,
      counterfactuals: new Map(),
    });
    const byOption = Object.fromEntries(json.definitions.map((d) => [`${d.option}@${d.file}`, d]));
    assert.equal(byOption['environment.systemPackages@/ws/configuration.nix']!.removalCost, 0);
    assert.equal(byOption['environment.systemPackages@/ws/configuration.nix']!.costMethod, 'edge-cut');
    assert.equal(byOption['services.nginx.package@/ws/configuration.nix']!.costMethod, 'node-removal');
  });

  it('costs 800 definitions on a 12,000-path closure like brute force (spot checks)', () => {
    const rand = prng(99);
    const n = 12_000;
    const { records, paths } = randomSystem(rand, n);
    // 40 options, 20 definitions each, packages drawn from the closure; one profile per option references them.
    const options: RawOption[] = [];
    const extra: PathRecord[] = [];
    for (let o = 0; o < 40; o++) {
      const defs = Array.from({ length: 20 }, () => ({
        file: `${SOURCE}/m${o}.nix`,
        paths: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => paths[1 + Math.floor(rand() * (n - 1))]!),
      }));
      options.push(option(`opt${o}.packages`, defs));
      const profile = storePath(n + 10 + o, `profile-${o}`);
      extra.push({ path: profile, narSize: 4, references: [...new Set(defs.flatMap((d) => d.paths))] });
    }
    records[0] = { ...records[0]!, references: [...records[0]!.references, ...extra.map((e) => e.path)] };
    const all = [...records, ...extra];
    const graph = ClosureGraph.build(all, [paths[0]!]);
    const a = new OptionAttribution({ graph, evaluation: evaluation(options), readFile: () => undefined });
    assert.equal(a.definitions.length, 800);
    const costs = a.definitions.map((d) => a.removalCost(d.id));
    for (const d of a.definitions.filter((_, k) => k % 97 === 0)) {
      const cut = new Set<string>();
      for (const i of a.exclusiveNodes(d.id)) cut.add(`${graph.paths[a.collectorOf(d.option, i)!]} ${graph.paths[i]}`);
      assert.equal(costs[d.id], bruteLost(all, paths[0]!, cut, new Set()).bytes, `definition ${d.id}`);
      assert.equal(a.costMethod(d.id), 'edge-cut');
    }
  });
});
