/**
 * Option attribution at NixOS scale (issue 15, point 6): a generated module system of 1,000 NixOS-style
 * service modules (about 20,000 options) on the real nixpkgs lib, 50 services enabled
 * (test/support/nixosScale.ts). Measured in one run, against one evaluation of the toplevel by nix itself:
 * - the attribution evaluation (attribution.nix: the walk of every option), wall time and peak memory;
 * - the counterfactual of every definition in the user's files (variants.nix, all in one nix process,
 *   CounterfactualService), wall time, peak memory, and the time until the first 50 were known;
 * - for comparison, the former way: one nix process per definition (one variant per evaluation), for a few.
 * Peak memory is the nix process's maximum resident set size (GNU time's %M); CPU time its user + system time.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OptionAttribution } from '../src/core/attribution/attribute';
import { CounterfactualService, DEFAULT_BATCH, userDefinitions } from '../src/core/attribution/counterfactualService';
import { AttributionService } from '../src/core/attribution/service';
import { evaluateVariants } from '../src/core/attribution/variants';
import { ClosureGraph } from '../src/shared/graph';
import { NixRunner } from '../src/core/nix/runner';
import { NIX_CONFIG, nixEnv, nixPathInfo } from '../test/support/fixtures';
import { generateNixosScale, type NixosScaleSystem } from '../test/support/nixosScale';
import { markdownTable, now, seconds, verdict, type BenchContext, type BenchSection } from './lib';

const SERVICES = 1000;
const ENABLED = 50;
const ATTR = 'nixosConfigurations.scale';
const GIB = 2 ** 30;

/** A NixRunner whose nix calls run under GNU time, which appends each call's wall time, peak RSS and CPU time to `log`. */
function timedRunner(log: string): NixRunner {
  return new NixRunner({
    nixPath: '/usr/bin/time',
    extraArgs: ['-a', '-o', log, '-f', TIME_FORMAT, 'nix'],
    env: { NIX_CONFIG },
  });
}

const TIME_FORMAT = '%e %M %U %S';

interface NixUse {
  /** Wall seconds, summed over the calls. */
  readonly seconds: number;
  /** User + system CPU seconds, summed: what the work costs on an idle machine's one core. */
  readonly cpu: number;
  /** The largest peak RSS of one call. */
  readonly bytes: number;
  readonly calls: number;
}

/** The nix calls logged after line `from` of `log`, together. */
function usedSince(log: string, from: number): NixUse {
  const lines = fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .slice(from)
    .filter((l) => /^\d/.test(l));
  let seconds = 0;
  let cpu = 0;
  let bytes = 0;
  for (const l of lines) {
    const [e, kib, u, sys] = l.trim().split(/\s+/).map(Number);
    seconds += e!;
    cpu += u! + sys!;
    bytes = Math.max(bytes, kib! * 1024);
  }
  return { seconds, cpu, bytes, calls: lines.length };
}

function lineCount(log: string): number {
  return fs.readFileSync(log, 'utf8').split('\n').length - 1;
}

function system(ctx: BenchContext): NixosScaleSystem & { fresh: boolean } {
  const dir = path.join(ctx.workDir, `nixos-scale-${SERVICES}`);
  const stamp = path.join(dir, '.generated');
  if (fs.existsSync(stamp)) {
    return { ...(JSON.parse(fs.readFileSync(stamp, 'utf8')) as NixosScaleSystem), fresh: false };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const s = generateNixosScale(dir, { services: SERVICES, enabled: ENABLED });
  fs.writeFileSync(stamp, JSON.stringify(s));
  return { ...s, fresh: true };
}

export const optionsScaleSection: BenchSection = {
  id: 'options-scale',
  title: 'Option attribution and counterfactual costs at NixOS scale',
  async run(ctx) {
    const sys = system(ctx);
    ctx.log(
      `${sys.fresh ? 'generated' : 'reusing'} ${sys.dir}: ${SERVICES} service modules, ${sys.serviceOptions} service options, ${ENABLED} enabled`,
    );
    const toplevel = `path:${sys.dir}#${ATTR}.config.system.build.toplevel`;
    const t0 = now();
    const built = await execa('nix', ['build', '--no-link', '--json', toplevel], { env: nixEnv() });
    const root = (JSON.parse(built.stdout) as { outputs: { out: string } }[])[0]!.outputs.out;
    const buildSeconds = now() - t0;

    // One evaluation of the toplevel by nix: the unit everything else is compared with.
    const log = path.join(ctx.workDir, 'options-scale-time.log');
    fs.writeFileSync(log, '');
    const loadBefore = os.loadavg()[0]!;
    await execa('/usr/bin/time', ['-a', '-o', log, '-f', TIME_FORMAT, 'nix', 'eval', '--raw', `${toplevel}.drvPath`], {
      env: nixEnv(),
    });
    const plain = usedSince(log, 0);

    const info = await nixPathInfo([root]);
    const graph = ClosureGraph.build(
      [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
      [root],
    );
    const nix = timedRunner(log);
    let mark = lineCount(log);
    const ta = now();
    const ev = await new AttributionService(nix).evaluate(`path:${sys.dir}#${ATTR}`);
    const attributionWall = now() - ta;
    const attributionNix = usedSince(log, mark + 1); // the first call is `nix flake metadata`
    const attribution = new OptionAttribution({ graph, evaluation: ev });
    const mine = userDefinitions(attribution);
    ctx.log(
      `attribution: ${ev.options.length} options with definitions read, ${mine.length} user definitions, ${attributionWall.toFixed(1)} s`,
    );

    const service = new CounterfactualService(nix);
    const arrivals: number[] = [];
    mark = lineCount(log);
    const tc = now();
    const results = await service.measure(attribution, undefined, { onResult: () => arrivals.push(now() - tc) });
    const cfWall = now() - tc;
    const cfNix = usedSince(log, mark);
    const measured = [...results.values()];
    const errors = measured.filter((r) => r.error !== undefined).length;
    const first50 = arrivals[Math.min(49, arrivals.length - 1)] ?? cfWall;
    const positive = measured.filter((r) => (r.cost?.bytes ?? 0) > 0).length;

    // The former way, one nix process per definition, for a few definitions.
    const sample = mine.slice(0, ctx.quick ? 2 : 4);
    mark = lineCount(log);
    const ts = now();
    for (const d of sample) await evaluateVariants(nix, ev.flake, ev.attrPath, [{ loc: d.loc, index: d.index }]);
    const perProcess = (now() - ts) / sample.length;
    const perProcessCpu = usedSince(log, mark).cpu / sample.length;
    const loadAfter = os.loadavg()[0]!;

    const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const perDef = cfNix.cpu / Math.max(1, mine.length);
    const rows = [
      [
        '`nix eval` of the toplevel drvPath (reference)',
        seconds(plain.seconds),
        seconds(plain.cpu),
        mib(plain.bytes),
        '1.0',
      ],
      [
        'attribution evaluation (attribution.nix)',
        `${seconds(attributionNix.seconds)} (whole call ${seconds(attributionWall)})`,
        seconds(attributionNix.cpu),
        mib(attributionNix.bytes),
        (attributionNix.cpu / plain.cpu).toFixed(1),
      ],
      [
        `counterfactuals of all ${mine.length} user definitions (${cfNix.calls} nix processes of up to ${DEFAULT_BATCH} variants)`,
        seconds(cfWall),
        seconds(cfNix.cpu),
        mib(cfNix.bytes),
        (cfNix.cpu / plain.cpu).toFixed(1),
      ],
      [
        '… per definition',
        seconds(cfWall / Math.max(1, mine.length)),
        seconds(perDef),
        '',
        (perDef / plain.cpu).toFixed(2),
      ],
      [`… until the first ${Math.min(50, arrivals.length)} were known`, seconds(first50), '', '', ''],
      [
        `former way: one nix process per definition (${sample.length} timed)`,
        `${seconds(perProcess)} each`,
        `${seconds(perProcessCpu)} each`,
        '',
        (perProcessCpu / plain.cpu).toFixed(1),
      ],
    ];
    // On a loaded machine wall time is shared with other work; CPU time is what this work costs.
    const first50Cpu =
      perDef * Math.min(50, mine.length) + plain.cpu * Math.ceil(Math.min(50, mine.length) / DEFAULT_BATCH);
    return [
      `Generated system: ${SERVICES} service modules with ${sys.serviceOptions} options (plus the core modules), ${ENABLED} services enabled, two users with packages, zfs in the initrd, nfs, fonts; closure of ${graph.pathCount} paths, built in ${seconds(buildSeconds)}${sys.fresh ? ' (first build)' : ' (already built)'}. ${ev.options.length} options have definitions that were read; ${mine.length} definitions are in the user's files. Load average (1 min) ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end, on ${os.cpus().length} cores: wall times include waiting for other processes; CPU time (user + system of the nix processes) is what the work itself costs.`,
      '',
      markdownTable(['what', 'wall time', 'CPU time of nix', 'peak RSS of nix', 'CPU ÷ toplevel eval'], rows),
      '',
      `Counterfactual results: ${measured.length - errors} costs (${positive} of them non-zero), ${errors} variants that cannot be built (a failed assertion or a missing value, as a real rebuild would fail).`,
      '',
      `- attribution ≤ 10 s: wall ${verdict(attributionWall <= 10)} (${seconds(attributionWall)}); CPU ${verdict(attributionNix.cpu <= 10)} (${seconds(attributionNix.cpu)})`,
      `- attribution ≤ 2 GiB peak: ${verdict(attributionNix.bytes <= 2 * GIB)} (${(attributionNix.bytes / GIB).toFixed(2)} GiB)`,
      `- 50 counterfactuals ≤ 60 s together: wall ${verdict(first50 <= 60)} (${seconds(first50)}); CPU ${verdict(first50Cpu <= 60)} (${seconds(first50Cpu)}, estimated from the per-definition CPU time plus one base evaluation per batch); all ${mine.length}: ${seconds(cfWall)} wall, ${seconds(cfNix.cpu)} CPU`,
      `- counterfactual peak memory: ${(cfNix.bytes / GIB).toFixed(2)} GiB per nix process`,
    ].join('\n');
  },
};
