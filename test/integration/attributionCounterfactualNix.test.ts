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
  userTargets,
  type MeasuredCost,
} from '../../src/core/attribution/counterfactualService';
import { definitionsOf, scanNixFile } from '../../src/core/nixSyntax/scanner';
import { AttributionService } from '../../src/core/attribution/service';
import { ClosureGraph } from '../../src/shared/graph';
import { NixRunner } from '../../src/core/nix/runner';
import { NIX_CONFIG, nixPathInfo, runNix } from '../support/fixtures';
import { generateNixosScale } from '../support/nixosScale';
import { CauseIndex } from '../../src/core/attribution/causes';
import { diffClosures, originsFromAttribution, type OriginLookup } from '../../src/core/diff/diff';
import { sameNameLabels } from '../../src/core/attribution/sameName';
import { bringsBack } from '../../src/core/attribution/optionsRender';
import { addedPathSizes } from '../../src/core/attribution/addedSizes';
import { findDuplicates } from '../../src/core/analysis/duplicates';
import { dominatorTree } from '../../src/shared';

const ATTR = 'nixosConfigurations.scale';
const temporaryDirs: string[] = [];
process.on('exit', () => {
  for (const d of temporaryDirs) fs.rmSync(d, { recursive: true, force: true });
});

const analysis = (g: ClosureGraph) => findDuplicates(g, dominatorTree(g));

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
  return drvOfEdited(dir, d.file, b.start, b.end);
}

/** The toplevel drvPath of a copy of the system with src[start, end) cut out of `original` (a file of `dir`). */
async function drvOfEdited(dir: string, original: string, start: number, end: number): Promise<string> {
  const src = fs.readFileSync(original, 'utf8');
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cf-edit-'));
  temporaryDirs.push(copy);
  fs.cpSync(dir, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'flake.lock'), { force: true });
  const file = path.join(copy, path.relative(dir, original));
  fs.writeFileSync(file, src.slice(0, start) + src.slice(end));
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
    // `environment.systemPackages = lib.mkMerge [ [ vim curl ] [ git ] ]`: each part is a definition, on its own line.
    const parts = mine.filter((d) => d.option === 'environment.systemPackages');
    const text = fs.readFileSync(parts[0]!.file, 'utf8').split('\n');
    assert.deepEqual(
      parts.map((d) => text[d.line! - 1]!.trim()),
      ['[', '[ pkgs.git ]'],
    );
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

  it('sizes what removing a definition brings back (systemd-minimal without zfs in the initrd)', async () => {
    const d = userDefinitions(attribution).find((x) => x.option === 'boot.initrd.supportedFilesystems')!;
    const first = results.get(targetKey({ definition: d.id }))!.cost!;
    assert.ok(
      first.addedPaths.some((p) => p.endsWith('-systemd-minimal-257.5')),
      first.addedPaths.join(' '),
    );
    // Until the variant is built what comes back may not be in the store (size null); once built it is sized.
    await buildDrv(first.root!.drvPath!);
    const target = { definition: d.id };
    const again = (
      await new CounterfactualService(new NixRunner({ env: { NIX_CONFIG } })).measure(attribution, [target])
    ).get(targetKey(target))!.cost!;
    const info = await nixPathInfo([...again.addedPaths], { recursive: false });
    assert.deepEqual(
      again.addedSizes,
      again.addedPaths.map((p) => info.get(p)!.narSize),
    );
    assert.match(bringsBack(again), /systemd-minimal-257\.5 \(\+[0-9.]+ (KiB|MiB)\)/);
    // A path that is not in the store is unknown, not 0, and does not hide the others' sizes.
    const missing = '/nix/store/00000000000000000000000000000000-not-built-1.0';
    assert.deepEqual(await addedPathSizes(new NixRunner({ env: { NIX_CONFIG } }), [missing, again.addedPaths[0]!]), [
      null,
      again.addedSizes![0],
    ]);
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
  it('names causes, not carriers: the user line that enabled a path first, the module plumbing behind it', () => {
    const g = attribution.graph;
    const costs = new Map(
      [...results.values()].flatMap((r) => (r.cost ? [[r.target.definition, r.cost] as const] : [])),
    );
    const index = new CauseIndex(attribution, costs);
    const node = (suffix: string): number => {
      const i = g.paths.findIndex((p) => p.endsWith(suffix));
      assert.ok(i >= 0, suffix);
      return i;
    };
    const described = (i: number) =>
      index
        .causesOf(i)
        .map((c) => `${c.kind} ${attribution.definitions[c.definition]!.option}${c.mechanism ? ' (mechanism)' : ''}`);
    // zfs-user: the user's supportedFilesystems line enables it; zfs.nix's definitions carry it.
    const zfs = described(node('-zfs-user-2.3.2'));
    assert.equal(zfs[0], 'enables boot.initrd.supportedFilesystems', zfs.join('\n'));
    assert.ok(zfs.includes('carries boot.initrd.extraPackages (mechanism)'), zfs.join('\n'));
    // A service's package: its enable flag (enables) before the module's own definitions.
    const svc = userDefinitions(attribution).find((d) => /^services\.svc\d+\.enable$/.test(d.option))!;
    const name = svc.loc[1]!;
    const pkg = described(node(`-${name}-1.${(Number(name.slice(3)) - 1) % 10}.0`));
    assert.equal(pkg[0], `enables services.${name}.enable`, pkg.join('\n'));
    assert.ok(
      pkg.slice(1).every((x) => x.endsWith('(mechanism)')),
      pkg.join('\n'),
    );
    // The kernel module package reaches the system through another option (boot.zfs.modulePackage): the user's
    // boot.extraModulePackages line carries it, and its counterfactual takes it out.
    const extra = userDefinitions(attribution).find((d) => d.option === 'boot.extraModulePackages')!;
    const extraCost = results.get(targetKey({ definition: extra.id }))!.cost!;
    assert.ok(extraCost.lostNodes.includes(node('-zfs-kernel-2.3.2-6.12.30')), 'zfs-kernel goes without it');
  });

  it("credits an added path in Compare closures… to the user's enabling line, the module's line without measures", () => {
    const g = attribution.graph;
    const costs = new Map(
      [...results.values()].flatMap((r) => (r.cost ? [[r.target.definition, r.cost] as const] : [])),
    );
    // Every path of the configuration is added against a closure of one unrelated path.
    const nothing = '/nix/store/00000000000000000000000000000000-empty';
    const before = {
      graph: ClosureGraph.build([{ path: nothing, narSize: 1, references: [] }], [nothing]),
      label: 'before',
    };
    const after = { graph: g, label: 'after' };
    const originOf = (origin: OriginLookup, suffix: string) => {
      const added = diffClosures(before, after, { origin }).addedPaths.find((p) => p.path.endsWith(suffix));
      assert.ok(added, suffix);
      return added.origin;
    };
    const userFile = userDefinitions(attribution).find((d) => d.option === 'boot.initrd.supportedFilesystems')!.file;
    const measured = originOf(
      originsFromAttribution(attribution, new CauseIndex(attribution, costs)),
      '-zfs-user-2.3.2',
    );
    assert.equal(measured?.option, 'boot.initrd.supportedFilesystems');
    assert.equal(measured?.file, userFile);
    const unmeasured = originOf(originsFromAttribution(attribution), '-zfs-user-2.3.2');
    assert.equal(unmeasured?.option, 'boot.initrd.extraPackages', 'the module definition that carries it');
    assert.notEqual(unmeasured?.file, userFile);
    // A path a line of the user's carries itself keeps that line either way.
    const git = originOf(originsFromAttribution(attribution, new CauseIndex(attribution, costs)), '-git-2.49.0');
    assert.ok(git?.file?.startsWith(dir), JSON.stringify(git));
    assert.deepEqual(git, originOf(originsFromAttribution(attribution), '-git-2.49.0'));
  });

  it("tells alice's and bob's profiles apart, names each chain's own cause, and counts neither as a duplicate", () => {
    const g = attribution.graph;
    const labels = sameNameLabels(g, attribution);
    const profiles = g.paths.map((p, i) => [p, i] as const).filter(([p]) => p.endsWith('-user-environment'));
    assert.equal(profiles.length, 2);
    assert.deepEqual(profiles.map(([, i]) => labels.get(i)).sort(), [
      'user-environment (alice)',
      'user-environment (bob)',
    ]);
    const costs = new Map(
      [...results.values()].flatMap((r) => (r.cost ? [[r.target.definition, r.cost] as const] : [])),
    );
    const index = new CauseIndex(attribution, costs);
    const python = g.paths.findIndex((p) => p.endsWith('-python3-3.13.3'));
    for (const [, profile] of profiles) {
      const user = labels.get(profile)!.slice('user-environment ('.length, -1);
      // root → … → etc → user-environment (user) → python3
      const chain = [g.root];
      const toEtc = g.paths.findIndex((p) => p.endsWith('-etc'));
      chain.push(toEtc, profile, python);
      const causes = index.chainCauses(chain);
      assert.equal(attribution.definitions[causes[0]!.definition]!.option, `users.users.${user}.packages`);
      assert.equal(causes[0]!.kind, 'carries');
    }
    assert.ok(!analysis(g).some((d) => d.pname === 'user-environment'), 'two profiles are not a duplicate');
  });
  it("measures each element of a list definition on its own (alice's packages)", async () => {
    const d = userDefinitions(attribution).find((x) => x.option === 'users.users.alice.packages')!;
    const binding = definitionsOf(scanNixFile(fs.readFileSync(d.file, 'utf8')), d.loc).find((b) => b.line === d.line)!;
    assert.deepEqual(
      binding.elements.map((e) => e.text),
      ['git', 'ripgrep', 'python3'],
    );
    const targets = binding.elements.map((_, k) => ({ definition: d.id, element: k }));
    const measured = await new CounterfactualService(new NixRunner({ env: { NIX_CONFIG } })).measure(
      attribution,
      targets,
    );
    const bytes: number[] = [];
    for (const [k, e] of binding.elements.entries()) {
      const r = measured.get(targetKey(targets[k]!))!;
      assert.equal(r.error, undefined, e.text);
      assert.equal(r.cost!.root?.drvPath, await drvOfEdited(dir, d.file, e.start, e.end), `without ${e.text}`);
      bytes.push(r.cost!.bytes);
    }
    // git is in the system profile too and python3 in bob's: only ripgrep leaves the closure.
    assert.equal(bytes[0], 0);
    assert.ok(bytes[1]! >= 1024 * 1024, `ripgrep: ${bytes[1]}`);
    assert.equal(bytes[2], 0);
  });
  it('ranks each element of a list and of a mkMerge part on its own line, within 5% or 4 KiB of a real rebuild without it', async () => {
    const withElements = userDefinitions(attribution).filter((d) => d.elements.length > 0);
    const texts = withElements.map((d) => `${d.option}: ${d.elements.map((e) => e.text).join(' ')}`).sort();
    assert.deepEqual(texts, [
      'environment.systemPackages: pkgs.vim pkgs.curl',
      'networking.firewall.allowedTCPPorts: 22 80 443',
      'users.users.alice.packages: git ripgrep python3',
      'users.users.bob.packages: pkgs.python3 pkgs.hello',
    ]);
    const targets = userTargets(attribution).filter((t) => t.element !== undefined);
    assert.equal(targets.length, 10);
    const measured = await new CounterfactualService(new NixRunner({ env: { NIX_CONFIG } })).measure(
      attribution,
      targets,
    );
    const rows: string[] = [];
    const failures: string[] = [];
    for (const t of targets) {
      const d = attribution.definitions[t.definition]!;
      const e = d.elements[t.element!]!;
      const where = `${d.option}: ${e.text} (${path.basename(d.file)}:${e.line}:${e.column})`;
      // Its own line and column: the element's text is there in the file.
      const line = fs.readFileSync(d.file, 'utf8').split('\n')[e.line - 1]!;
      assert.equal(line.slice(e.column - 1, e.column - 1 + e.text.length), e.text, where);
      const r = measured.get(targetKey(t))!;
      assert.equal(r.error, undefined, where);
      const cost = r.cost!;
      // The variant is the configuration with only this element cut out of the source.
      const src = fs.readFileSync(d.file, 'utf8');
      const lineStart =
        src
          .split('\n')
          .slice(0, e.line - 1)
          .join('\n').length + (e.line > 1 ? 1 : 0);
      const start = lineStart + e.column - 1;
      assert.equal(cost.root?.drvPath, await drvOfEdited(dir, d.file, start, start + e.text.length), where);
      const realSaved = oldSize - (await closureSize(await buildDrv(cost.root!.drvPath!)));
      const addedBytes = (cost.addedSizes ?? []).reduce<number>((a, x) => a + (x ?? 0), 0);
      const predicted = cost.bytes - addedBytes;
      rows.push(`${where}: predicted ${predicted}, real ${realSaved}`);
      if (Math.abs(predicted - realSaved) > Math.max(4096, Math.abs(realSaved) * 0.05)) failures.push(rows.at(-1)!);
    }
    assert.deepEqual(failures, [], rows.join('\n'));
    const saved = (text: string) => rows.find((r) => r.includes(`: ${text} (`))!;
    assert.match(saved('ripgrep'), /real [1-9]\d{6,}/, "ripgrep is only in alice's profile");
    assert.match(saved('pkgs.hello'), /real [1-9]\d{4,}/, "hello is only in bob's profile");
  });

  it("names the element of a list that carries a path: ripgrep by alice's `ripgrep`, python3 by each profile's own", () => {
    const g = attribution.graph;
    const index = new CauseIndex(attribution, new Map());
    const node = (suffix: string): number => g.paths.findIndex((p) => p.endsWith(suffix));
    const texts = (option: string, i: number): string[] => {
      const d = userDefinitions(attribution).find((x) => x.option === option)!;
      return index.elementsReaching(d.id, i).map((k) => d.elements[k]!.text);
    };
    assert.deepEqual(texts('users.users.alice.packages', node('-ripgrep-14.1.1')), ['ripgrep']);
    assert.deepEqual(texts('users.users.alice.packages', node('-python3-3.13.3')), ['python3']);
    assert.deepEqual(texts('users.users.bob.packages', node('-python3-3.13.3')), ['pkgs.python3']);
    assert.deepEqual(texts('users.users.bob.packages', node('-ripgrep-14.1.1')), []);
    // What an element depends on is reached through it too (glibc through every package).
    assert.ok(texts('users.users.bob.packages', node('-glibc-2.40-66')).length >= 1);
  });
});
