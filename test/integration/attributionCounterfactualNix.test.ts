/**
 * Counterfactual costs of the user's definitions against real rebuilds, on a generated NixOS-shaped system
 * on the real nixpkgs lib (test/support/nixosScale.ts, small: 16 services, 6 enabled).
 *
 * All variants are evaluated in one nix process (CounterfactualService). For every user definition:
 * - the variant is the configuration without it: removing the binding from a copy of the user's file and
 *   evaluating gives the same toplevel drvPath (checked where the binding can be cut out alone);
 * - the variant is built for real, and what the closure really loses (`nix path-info -S` before − after)
 *   is within 5% or 4 KiB of the predicted cost (lost bytes − the known size of what comes back).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OptionAttribution, type Definition } from '../../src/core/attribution/attribute';
import {
  CounterfactualService,
  targetKey,
  userDefinitions,
  type MeasuredCost,
} from '../../src/core/attribution/counterfactualService';
import { definitionsOf, scanNixFile } from '../../src/core/nixSyntax/scanner';
import { AttributionService } from '../../src/core/attribution/service';
import { ClosureGraph } from '../../src/shared/graph';
import { NixRunner } from '../../src/core/nix/runner';
import { NIX_CONFIG, nixPathInfo, runNix } from '../support/fixtures';
import { generateNixosScale } from '../support/nixosScale';

const ATTR = 'nixosConfigurations.scale';
const temporaryDirs: string[] = [];
process.on('exit', () => {
  for (const d of temporaryDirs) fs.rmSync(d, { recursive: true, force: true });
});

async function closureSize(root: string): Promise<number> {
  return (await nixPathInfo([root], { recursive: false, closureSize: true })).get(root)!.closureSize!;
}

async function buildDrv(drv: string): Promise<string> {
  const out = JSON.parse((await runNix(['build', '--no-link', '--json', drv])).stdout) as {
    outputs: { out: string };
  }[];
  return out[0]!.outputs.out;
}

/** The toplevel drvPath of a copy of the system with one binding cut out of a user file; undefined when it cannot be cut alone. */
async function drvWithout(dir: string, d: Definition): Promise<string | undefined> {
  const src = fs.readFileSync(d.file, 'utf8');
  const found = definitionsOf(scanNixFile(src), d.loc);
  // The binding at the definition's line, or the mkMerge part there (each part is a definition).
  const bindings = found.filter((x) => x.line === d.line);
  const parts = found.flatMap((x) => x.parts).filter((x) => x.line === d.line);
  const b = bindings.length === 1 ? bindings[0]! : parts.length === 1 ? parts[0]! : undefined;
  if (!b) return undefined;
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cf-edit-'));
  temporaryDirs.push(copy);
  fs.cpSync(dir, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'flake.lock'), { force: true });
  const file = path.join(copy, path.relative(dir, d.file));
  fs.writeFileSync(file, src.slice(0, b.start) + src.slice(b.end));
  return (await runNix(['eval', '--raw', `path:${copy}#${ATTR}.config.system.build.toplevel.drvPath`])).stdout.trim();
}

describe('counterfactual costs against real rebuilds (generated NixOS-shaped system, real nixpkgs lib)', function () {
  this.timeout(900_000);

  let dir: string;
  let attribution: OptionAttribution;
  let oldSize: number;
  let results: Map<string, MeasuredCost>;
  let progress: number[];
  let streamed: number;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cf-'));
    temporaryDirs.push(dir);
    generateNixosScale(dir, { services: 16, enabled: 6 });
    const root = await buildDrv(`path:${dir}#${ATTR}.config.system.build.toplevel`);
    const info = await nixPathInfo([root]);
    const graph = ClosureGraph.build(
      [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
      [root],
    );
    oldSize = await closureSize(root);
    const nix = new NixRunner({ env: { NIX_CONFIG } });
    const ev = await new AttributionService(nix).evaluate(`path:${dir}#${ATTR}`);
    assert.equal(ev.root?.outPath, root);
    attribution = new OptionAttribution({ graph, evaluation: ev });
    progress = [];
    streamed = 0;
    results = await new CounterfactualService(nix).measure(attribution, undefined, {
      onProgress: (p) => progress.push(p.done),
      onResult: () => streamed++,
    });
  });

  it('measures every user definition in one run, reporting each as it arrives', () => {
    const mine = userDefinitions(attribution);
    assert.ok(mine.length >= 15, `${mine.length} user definitions`);
    assert.equal(results.size, mine.length);
    assert.equal(streamed, mine.length);
    assert.deepEqual(progress, [...Array(mine.length + 1).keys()], 'progress counts up one by one');
    for (const d of mine) assert.ok(results.get(targetKey({ definition: d.id })), d.option);
  });

  it('each variant is the configuration without that definition (same drvPath as the edited file)', async () => {
    let compared = 0;
    const mine = userDefinitions(attribution);
    for (const d of mine) {
      // Definitions that share a line cannot be cut out of the text one by one.
      if (mine.some((x) => x !== d && x.file === d.file && x.line === d.line)) continue;
      const r = results.get(targetKey({ definition: d.id }))!;
      const edited = await drvWithout(dir, d).catch((e: unknown) => ({ failed: String(e) }));
      if (edited === undefined) continue;
      const where = `${d.option} at ${path.basename(d.file)}:${d.line}`;
      if (r.error !== undefined) {
        // A variant that cannot be evaluated (an assertion) cannot be evaluated from the edited file either.
        assert.ok(
          typeof edited === 'object',
          `${where}: the variant failed (${r.error}) but the edited file evaluates`,
        );
        assert.match(
          edited.failed,
          r.error.includes('assertion') ? /Failed assertions/ : /publicUrl\.domain must be set/,
          where,
        );
      } else {
        assert.equal(r.cost.root?.drvPath, edited, where);
      }
      compared++;
    }
    assert.ok(compared >= 10, `only ${compared} definitions could be cut out alone`);
  });

  it('predicts what a real rebuild without each definition saves, within 5% or 4 KiB', async () => {
    const rows: string[] = [];
    const failures: string[] = [];
    let nonZero = 0;
    for (const d of userDefinitions(attribution)) {
      const r = results.get(targetKey({ definition: d.id }))!;
      if (r.error !== undefined) {
        // Only these stop a variant here: publicUrl needs openFirewall (an assertion) and its domain (a default that throws).
        const expected = d.option.endsWith('.openFirewall')
          ? /assertion fails: services\.svc\d+\.publicUrl needs openFirewall/
          : /a value it needs is missing/;
        assert.match(r.error, expected, d.option);
        assert.ok(/\.(openFirewall|publicUrl\.domain)$/.test(d.option), `${d.option}: ${r.error}`);
        continue;
      }
      const cost = r.cost;
      const newRoot = await buildDrv(cost.root!.drvPath!);
      const realSaved = oldSize - (await closureSize(newRoot));
      // What comes back is sized after the rebuild when it was not in the store before.
      const addedBytes =
        cost.addedPaths.length === 0
          ? 0
          : [...(await nixPathInfo([...cost.addedPaths], { recursive: false })).values()].reduce(
              (a, e) => a + e.narSize,
              0,
            );
      const predicted = cost.bytes - addedBytes;
      const tolerance = Math.max(4096, Math.abs(realSaved) * 0.05);
      rows.push(`${d.option}: predicted ${predicted}, real ${realSaved}`);
      if (Math.abs(predicted - realSaved) > tolerance)
        failures.push(`${d.option} (${path.basename(d.file)}:${d.line}): predicted ${predicted}, real ${realSaved}`);
      if (realSaved > 64 * 1024) nonZero++;
    }
    assert.deepEqual(failures, [], rows.join('\n'));
    assert.ok(nonZero >= 6, `only ${nonZero} definitions save more than 64 KiB:\n${rows.join('\n')}`);
  });

  it('costs the switches that carry no store path: supportedFilesystems, enable flags, fonts', () => {
    const cost = (option: string): number => {
      const d = userDefinitions(attribution).find((x) => x.option === option);
      assert.ok(d, option);
      const r = results.get(targetKey({ definition: d.id }))!;
      return r.cost!.bytes;
    };
    assert.ok(cost('boot.initrd.supportedFilesystems') > 2 * 1024 * 1024, 'zfs-user and systemd leave the initrd');
    assert.ok(cost('boot.supportedFilesystems') >= 576 * 1024, 'nfs-utils goes');
    assert.ok(cost('fonts.enableDefaultPackages') >= (896 + 1664) * 1024, 'dejavu and freefont go');
  });
});
