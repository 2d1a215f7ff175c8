/**
 * The counterfactual cost cache against a graph of the same closure in another node order (the closure loaded
 * again): a hit names the same store paths as measuring afresh, never the paths that happen to have the cached
 * node numbers. Real nix on the example flake.
 */
import assert from 'node:assert/strict';
import { OptionAttribution } from '../../src/core/attribution/attribute';
import { CounterfactualService, userDefinitions } from '../../src/core/attribution/counterfactualService';
import { AttributionService } from '../../src/core/attribution/service';
import { NixRunner } from '../../src/core/nix/runner';
import { ClosureGraph } from '../../src/shared/graph';
import { exampleFlakeDir } from '../support/exampleFlake';
import { NIX_CONFIG, nixPathInfo, runNix } from '../support/fixtures';

describe('counterfactual cost cache (real nix, example flake)', function () {
  this.timeout(300_000);

  it('a hit on the same closure in another node order names the same store paths', async () => {
    const flake = `${exampleFlakeDir()}#nixosConfigurations.demo`;
    const built = JSON.parse(
      (await runNix(['build', '--no-link', '--json', `${flake}.config.system.build.toplevel`])).stdout,
    ) as { outputs: { out: string } }[];
    const root = built[0]!.outputs.out;
    const records = [...(await nixPathInfo([root])).values()].map((e) => ({
      path: e.path,
      narSize: e.narSize,
      references: [...e.references],
    }));
    const graph = ClosureGraph.build(records, [root]);
    // The same closure with every reference list reversed: breadth-first node numbers come out differently.
    const reordered = ClosureGraph.build(
      records.map((r) => ({ ...r, references: [...r.references].reverse() })).reverse(),
      [root],
    );
    assert.notDeepEqual(graph.paths, reordered.paths, 'the two graphs number the paths differently');

    const nix = new NixRunner({ env: { NIX_CONFIG } });
    const ev = await new AttributionService(nix).evaluate(flake);
    const first = new OptionAttribution({ graph, evaluation: ev });
    const second = new OptionAttribution({ graph: reordered, evaluation: ev });
    const service = new CounterfactualService(nix);
    const measured = await service.measure(first);
    const fresh = await new CounterfactualService(nix).measure(second);

    const lostPaths = (g: ClosureGraph, nodes: readonly number[]): string[] => nodes.map((i) => g.paths[i]!).sort();
    let compared = 0;
    let moved = 0;
    for (const d of userDefinitions(second)) {
      const target = { definition: d.id };
      const hit = service.cached(second, target);
      const want = [...fresh.values()].find((r) => r.target.definition === d.id)!;
      const had = [...measured.values()].find((r) => r.target.definition === d.id)!;
      assert.ok(hit && want.cost && hit.cost && had.cost, d.option);
      assert.deepEqual(lostPaths(reordered, hit.cost.lostNodes), lostPaths(reordered, want.cost.lostNodes), d.option);
      assert.deepEqual(lostPaths(reordered, hit.cost.lostNodes), lostPaths(graph, had.cost.lostNodes), d.option);
      assert.equal(hit.cost.bytes, want.cost.bytes, d.option);
      if (want.cost.lostNodes.length > 0) compared++;
      if (had.cost.lostNodes.some((i) => graph.paths[i] !== reordered.paths[i])) moved++;
    }
    assert.ok(compared >= 3, `${compared} definitions lose paths`);
    assert.ok(moved >= 1, 'some lost path has another node number in the second graph');
  });
});
