/**
 * Removal costs by edge cut against real rebuilds, on the example flake (test/fixtures/example-flake, the
 * system the README's hover screenshots use) and on the demo system (test/fixtures/modules/demo-system).
 *
 * Every definition of a package-list option is removed in turn from a copy, the system is rebuilt with
 * nix, and the paths whose names leave the closure must be exactly the predicted lost paths, their bytes
 * the removal cost. The rest of the size change is the rebuilt collectors (system-path without the
 * references, the toplevel): same names, new hashes, so the new `nix path-info -S` must equal
 * old size − removal cost − what those rebuilt paths shrank by. The former node-removal estimate is
 * computed alongside: the edge cut is never further from the real loss.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type OptionAttribution, type Definition } from '../../src/core/attribution';
import { definitionsOf, scanNixFile } from '../../src/core/nixSyntax';
import { AttributionService } from '../../src/core/attribution';
import { ClosureGraph } from '../../src/shared';
import { NixRunner } from '../../src/core/nix';
import { NIX_CONFIG, nixPathInfo, repoRoot, runNix } from '../support/fixtures';
import { copyFixtureNixpkgs } from '../support/moduleFixture';

const temporaryDirs: string[] = [];
process.on('exit', () => {
  for (const d of temporaryDirs) fs.rmSync(d, { recursive: true, force: true });
});

const PACKAGE_LISTS =
  /^(environment\.systemPackages|environment\.defaultPackages|fonts\.packages|boot\.initrd\.packages|users\.users\.[^.]+\.packages)$/;

const nameOf = (p: string): string => p.slice(p.lastIndexOf('/') + 34);

function tempCopy(from: string, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temporaryDirs.push(dir);
  // The example flake's ./nixpkgs links to test/fixtures/modules: copy what the links point at.
  fs.cpSync(from, dir, { recursive: true, dereference: true });
  fs.rmSync(path.join(dir, 'flake.lock'), { force: true });
  return dir;
}

interface Closure {
  root: string;
  size: number;
  /** store path → NAR size */
  nar: Map<string, number>;
}

async function buildAndMeasure(dir: string, attr: string): Promise<Closure> {
  const out = JSON.parse(
    (await runNix(['build', '--no-link', '--json', `path:${dir}#${attr}.config.system.build.toplevel`])).stdout,
  ) as { outputs: { out: string } }[];
  const root = out[0]!.outputs.out;
  const info = await nixPathInfo([root]);
  const sized = await nixPathInfo([root], { recursive: false, closureSize: true });
  return {
    root,
    size: sized.get(root)!.closureSize!,
    nar: new Map([...info.values()].map((e) => [e.path, e.narSize])),
  };
}

/** Bytes the root no longer reaches when `removed` go with every reference to them: the former estimate. */
function nodeRemovalCost(g: ClosureGraph, removed: readonly number[]): number {
  const blocked = new Set(removed);
  const seen = new Uint8Array(g.nodeCount);
  const queue = blocked.has(g.root) ? [] : [g.root];
  for (const v of queue) seen[v] = 1;
  for (let h = 0; h < queue.length; h++) {
    for (const w of g.references(queue[h]!)) {
      if (!seen[w] && !blocked.has(w)) {
        seen[w] = 1;
        queue.push(w);
      }
    }
  }
  let lost = 0;
  for (let i = 0; i < g.nodeCount; i++) if (!seen[i]) lost += g.narSize[i]!;
  return lost;
}

interface Row {
  option: string;
  at: string;
  edgeCut: number;
  nodeRemoval: number;
  realLost: number;
  method: string;
}

function suite(
  title: string,
  source: () => string,
  attr: string,
  minDefinitions: number,
  wanted: { option: string; fileEnd: string; lost: string[] }[],
) {
  describe(`removal cost by edge cut against real rebuilds: ${title}`, function () {
    this.timeout(900_000);
    let dir: string;
    let original: Closure;
    let graph: ClosureGraph;
    let attribution: OptionAttribution;
    const rows: Row[] = [];

    async function rebuildWithout(
      def: Definition,
    ): Promise<{ after: Closure; goneNames: Set<string>; realLost: number; shrink: number }> {
      const copy = tempCopy(dir, 'closure-lens-edgecut-edit-');
      const file = path.join(copy, path.relative(dir, def.file));
      const src = fs.readFileSync(file, 'utf8');
      const binding = definitionsOf(scanNixFile(src), def.loc).find((b) => b.line === def.line);
      assert.ok(binding, `no binding of ${def.option} at line ${def.line} in ${file}`);
      fs.writeFileSync(file, src.slice(0, binding.start) + src.slice(binding.end));
      const after = await buildAndMeasure(copy, attr);
      const afterNames = new Map([...after.nar].map(([p, n]) => [nameOf(p), n]));
      let realLost = 0;
      let shrink = 0;
      const goneNames = new Set<string>();
      for (const [p, n] of original.nar) {
        if (after.nar.has(p)) continue;
        const same = afterNames.get(nameOf(p));
        if (same === undefined) {
          goneNames.add(nameOf(p));
          realLost += n;
        } else shrink += n - same; // rebuilt under the same name (system-path, the toplevel)
      }
      // Nothing new comes in (a package-list definition switches no module).
      const oldNames = new Set([...original.nar.keys()].map(nameOf));
      for (const p of after.nar.keys()) assert.ok(oldNames.has(nameOf(p)), `${nameOf(p)} is new`);
      return { after, goneNames, realLost, shrink };
    }

    before(async () => {
      dir = tempCopy(source(), 'closure-lens-edgecut-');
      original = await buildAndMeasure(dir, attr);
      const info = await nixPathInfo([original.root]);
      graph = ClosureGraph.build(
        [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
        [original.root],
      );
      const service = new AttributionService(new NixRunner({ env: { NIX_CONFIG } }));
      const ev = await service.evaluate(`path:${dir}#${attr}`);
      assert.equal(ev.root?.outPath, original.root);
      attribution = service.attribute(ev, graph);
    });

    after(() => {
      if (rows.length > 0) {
        console.log(`      ${title}: option@file:line  edge-cut / node-removal / real (bytes)`);
        for (const r of rows)
          console.log(`        ${r.option}@${r.at}  ${r.edgeCut} (${r.method}) / ${r.nodeRemoval} / ${r.realLost}`);
      }
    });

    for (const w of wanted) {
      it(`${w.option} in ${w.fileEnd}: loses exactly ${w.lost.length === 0 ? 'nothing' : w.lost.join(', ')}`, async () => {
        const d = attribution.definitions.find(
          (x) => x.option === w.option && x.file.endsWith(w.fileEnd) && x.nodes.length > 0,
        );
        assert.ok(d, `a definition of ${w.option} in ${w.fileEnd}`);
        const lost = attribution.lostNodes(attribution.exclusiveNodes(d.id)).map((i) => nameOf(graph.paths[i]!));
        assert.deepEqual(lost.sort(), [...w.lost].sort());
        const r = await rebuildWithout(d);
        assert.deepEqual([...r.goneNames].sort(), lost.sort(), 'the paths that leave are the predicted ones');
        assert.equal(attribution.removalCost(d.id), r.realLost);
        assert.equal(r.after.size, original.size - attribution.removalCost(d.id) - r.shrink);
      });
    }

    it('every package-list definition: the edge cut equals the real loss where it found a collector, and is never further from it than node removal', async () => {
      const defs = attribution.definitions.filter(
        (d) =>
          PACKAGE_LISTS.test(d.option) &&
          d.nodes.length > 0 &&
          d.line !== null &&
          d.file.startsWith(dir + path.sep) &&
          !d.fromDefault,
      );
      assert.ok(defs.length >= minDefinitions, `${defs.length} definitions`);
      for (const d of defs) {
        const r = await rebuildWithout(d);
        const edgeCut = attribution.removalCost(d.id);
        const nodeRemoval = nodeRemovalCost(graph, attribution.exclusiveNodes(d.id));
        const method = attribution.costMethod(d.id);
        rows.push({
          option: d.option,
          at: `${path.relative(dir, d.file)}:${d.line}`,
          edgeCut,
          nodeRemoval,
          realLost: r.realLost,
          method,
        });
        assert.ok(
          Math.abs(edgeCut - r.realLost) <= Math.abs(nodeRemoval - r.realLost),
          `${d.option}@${d.file}:${d.line}: ${edgeCut} vs ${nodeRemoval}, real ${r.realLost}`,
        );
        if (method !== 'edge-cut') continue;
        const collectorsGone = attribution.collectorsOf(d.option).some((c) => r.goneNames.has(nameOf(graph.paths[c]!)));
        if (collectorsGone) {
          // The module drops the collector itself without the definition (no packages: no user profile):
          // more than the references goes, which only the counterfactual evaluation sees.
          assert.ok(edgeCut <= r.realLost, `${d.option}@${d.file}:${d.line}: a lower bound`);
        } else {
          assert.equal(edgeCut, r.realLost, `${d.option}@${d.file}:${d.line}`);
          assert.equal(r.after.size, original.size - edgeCut - r.shrink);
        }
      }
    });
  });
}

suite(
  'example flake',
  () => path.join(repoRoot(), 'test', 'fixtures', 'example-flake'),
  'nixosConfigurations.demo',
  6,
  [
    // w3m stays: documentation's nixos-help references it; htop stays: alice's profile has it.
    { option: 'environment.systemPackages', fileEnd: `${path.sep}configuration.nix`, lost: [] },
    {
      option: 'environment.systemPackages',
      fileEnd: 'misc/documentation.nix',
      lost: ['nixos-help', 'nixos-manual-html'],
    },
  ],
);

suite(
  'demo system',
  () => {
    // demo-system with the fixture's nixpkgs stand-in as ./nixpkgs, as attribution.test.ts lays it out.
    const modules = path.join(repoRoot(), 'test', 'fixtures', 'modules');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-edgecut-demo-'));
    temporaryDirs.push(dir);
    fs.cpSync(path.join(modules, 'demo-system'), dir, { recursive: true });
    copyFixtureNixpkgs(path.join(dir, 'nixpkgs'));
    return dir;
  },
  'nixosConfigurations.demo',
  3,
  [],
);
