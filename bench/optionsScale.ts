/**
 * Option attribution at NixOS scale (issue 15, point 6): a generated module system of 1,000 NixOS-style
 * service modules (about 20,000 options) on the real nixpkgs lib, 50 services enabled
 * (test/support/nixosScale.ts). Measured in one run, against one evaluation of the toplevel by nix itself:
 * - the attribution evaluation (attribution.nix: the walk of every option), wall time and peak memory;
 * - the counterfactual of every definition in the user's files (variants.nix, all in one nix process,
 *   CounterfactualService), wall time, peak memory, and the time until the first 50 were known;
 * - for comparison, the former way: one nix process per definition (evaluateWithout), for a few.
 * Peak memory is the nix process's maximum resident set size (GNU time's %M).
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OptionAttribution } from '../src/core/attribution/attribute';
import { CounterfactualService, userDefinitions } from '../src/core/attribution/counterfactualService';
import { evaluateWithout } from '../src/core/attribution/evaluate';
import { AttributionService } from '../src/core/attribution/service';
import { ClosureGraph } from '../src/shared/graph';
import { NixRunner } from '../src/core/nix/runner';
import { NIX_CONFIG, nixEnv, nixPathInfo } from '../test/support/fixtures';
import { generateNixosScale, type NixosScaleSystem } from '../test/support/nixosScale';
import { markdownTable, now, seconds, verdict, type BenchContext, type BenchSection } from './lib';

const SERVICES = 1000;
const ENABLED = 50;
const ATTR = 'nixosConfigurations.scale';
const GIB = 2 ** 30;

/** A NixRunner whose nix calls run under GNU time, which writes each call's wall time and peak RSS to `log`. */
function timedRunner(log: string): NixRunner {
  return new NixRunner({
    nixPath: '/usr/bin/time',
    extraArgs: ['-a', '-o', log, '-f', '%e %M', 'nix'],
    env: { NIX_CONFIG },
  });
}

function lastPeak(log: string): { seconds: number; bytes: number } {
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  const [s, kib] = lines[lines.length - 1]!.trim().split(/\s+/).map(Number);
  return { seconds: s!, bytes: kib! * 1024 };
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
    await execa('/usr/bin/time', ['-a', '-o', log, '-f', '%e %M', 'nix', 'eval', '--raw', `${toplevel}.drvPath`], {
      env: nixEnv(),
    });
    const plain = lastPeak(log);

    const info = await nixPathInfo([root]);
    const graph = ClosureGraph.build(
      [...info.values()].map((e) => ({ path: e.path, narSize: e.narSize, references: e.references })),
      [root],
    );
    const nix = timedRunner(log);
    const ta = now();
    const ev = await new AttributionService(nix).evaluate(`path:${sys.dir}#${ATTR}`);
    const attributionWall = now() - ta;
    const attributionNix = lastPeak(log);
    const attribution = new OptionAttribution({ graph, evaluation: ev });
    const mine = userDefinitions(attribution);
    ctx.log(
      `attribution: ${ev.options.length} options with definitions read, ${mine.length} user definitions, ${attributionWall.toFixed(1)} s`,
    );

    const service = new CounterfactualService(nix);
    const arrivals: number[] = [];
    const tc = now();
    const results = await service.measure(attribution, undefined, { onResult: () => arrivals.push(now() - tc) });
    const cfWall = now() - tc;
    const cfNix = lastPeak(log);
    const measured = [...results.values()];
    const errors = measured.filter((r) => r.error !== undefined).length;
    const first50 = arrivals[Math.min(49, arrivals.length - 1)] ?? cfWall;
    const positive = measured.filter((r) => (r.cost?.bytes ?? 0) > 0).length;

    // The former way, one nix process per definition, for a few definitions.
    const sample = mine.slice(0, ctx.quick ? 2 : 4);
    const ts = now();
    for (const d of sample) await evaluateWithout(nix, ev.flake, ev.attrPath, d);
    const perProcess = (now() - ts) / sample.length;

    const rows = [
      [
        '`nix eval` of the toplevel drvPath (reference)',
        seconds(plain.seconds),
        `${(plain.bytes / 2 ** 20).toFixed(0)} MiB`,
        '1.0',
      ],
      [
        'attribution evaluation (attribution.nix, nix process)',
        seconds(attributionNix.seconds),
        `${(attributionNix.bytes / 2 ** 20).toFixed(0)} MiB`,
        (attributionNix.seconds / plain.seconds).toFixed(1),
      ],
      [
        'attribution, whole call (lock + eval + parse)',
        seconds(attributionWall),
        '',
        (attributionWall / plain.seconds).toFixed(1),
      ],
      [
        `counterfactuals of all ${mine.length} user definitions, one nix process`,
        seconds(cfWall),
        `${(cfNix.bytes / 2 ** 20).toFixed(0)} MiB`,
        (cfWall / plain.seconds).toFixed(1),
      ],
      [
        '… per definition',
        seconds(cfWall / Math.max(1, mine.length)),
        '',
        (cfWall / Math.max(1, mine.length) / plain.seconds).toFixed(2),
      ],
      [
        `… until the first ${Math.min(50, arrivals.length)} were known`,
        seconds(first50),
        '',
        (first50 / plain.seconds).toFixed(1),
      ],
      [
        `former way: one nix process per definition (${sample.length} timed)`,
        `${seconds(perProcess)} each`,
        '',
        (perProcess / plain.seconds).toFixed(1),
      ],
    ];
    return [
      `Generated system: ${SERVICES} service modules with ${sys.serviceOptions} options (plus the core modules), ${ENABLED} services enabled, two users with packages, zfs in the initrd, nfs, fonts; closure of ${graph.pathCount} paths, built in ${seconds(buildSeconds)}${sys.fresh ? ' (first build)' : ' (already built)'}. ${ev.options.length} options have definitions that were read; ${mine.length} definitions are in the user's files.`,
      '',
      markdownTable(['what', 'wall time', 'peak RSS of nix', '÷ toplevel eval'], rows),
      '',
      `Counterfactual results: ${measured.length - errors} costs (${positive} of them non-zero), ${errors} variants that cannot be built (a failed assertion or a missing value, as a real rebuild would fail).`,
      '',
      `- attribution ≤ 10 s: ${verdict(attributionWall <= 10)} (${seconds(attributionWall)})`,
      `- attribution ≤ 2 GiB peak: ${verdict(attributionNix.bytes <= 2 * GIB)} (${(attributionNix.bytes / GIB).toFixed(2)} GiB)`,
      `- 50 counterfactuals ≤ 60 s together: ${verdict(first50 <= 60)} (${seconds(first50)}; all ${mine.length}: ${seconds(cfWall)})`,
    ].join('\n');
  },
};
