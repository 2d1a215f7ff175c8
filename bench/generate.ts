/**
 * Bench data: closure graphs with real-world shape, either imported as real store paths (1k/5k/10k) or written
 * as a synthetic `nix path-info -rs --json` document (100k).
 *
 * Shape: names and NAR sizes are drawn from 978 real cache.nixos.org narinfos (test/fixtures/real-data/
 * tvix-narinfo-sample); out-degrees from the dependency lists of a real NixOS runtime closure (the sbomnix SBOM in
 * test/fixtures/real-data/nix-security-tracker-sbom: mean 3.6, median 2, p90 9, max 98; the narinfo sample's
 * reference counts come from random cache paths and are dominated by closure-info style outliers, so they are not
 * a closure's). Targets are chosen half by preferential attachment (hubs like glibc), half near the referrer in
 * build order (local structure), and every path except the root is referenced by a later one, the root taking
 * what is left (like system-path). Generated with a seeded PRNG: the same graph every run.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nixEnv } from '../test/support/fixtures';
import { prng, type BenchContext } from './lib';
import { realDataDir } from '../test/support/realData';
import { importClosure } from '../test/support/storeImport';

export interface NodeSpec {
  name: string;
  /** NAR size of the real path (the synthetic JSON), or the bytes to write (real closures). */
  size: number;
  /** Indices of earlier nodes. */
  refs: number[];
}

export interface GraphSpec {
  /** In dependency order: node i refers only to nodes < i; the last node is the root. */
  nodes: NodeSpec[];
  /** A node at the largest distance from the root, named `perl-5.38.2`: the `why` target. */
  target: number;
  /** Edge distance of `target` from the root. */
  targetDistance: number;
}

interface Samples {
  names: string[];
  narSizes: number[];
  outDegrees: number[];
}

let samplesCache: Samples | undefined;

export async function loadSamples(): Promise<Samples> {
  if (samplesCache) return samplesCache;
  const realData = realDataDir();
  const narinfo = await execa('zstd', ['-dc', path.join(realData, 'tvix-narinfo-sample', 'narinfo.zst')], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const names: string[] = [];
  const narSizes: number[] = [];
  for (const record of narinfo.stdout.split(/\n\s*\n/)) {
    const storePath = /^StorePath: \S+\/[0-9a-z]{32}-(\S+)$/m.exec(record)?.[1];
    const narSize = /^NarSize: (\d+)$/m.exec(record)?.[1];
    // .drv files are in the cache too; a derivation cannot be named like one
    if (storePath === undefined || narSize === undefined || storePath.endsWith('.drv')) continue;
    names.push(storePath);
    narSizes.push(Number(narSize));
  }
  const sbom = JSON.parse(
    fs.readFileSync(path.join(realData, 'nix-security-tracker-sbom', 'sbom.cdx.json'), 'utf8'),
  ) as { dependencies?: { dependsOn?: unknown[] }[] };
  const outDegrees = (sbom.dependencies ?? []).map((d) => d.dependsOn?.length ?? 0);
  if (names.length < 900 || outDegrees.length < 500) {
    throw new Error(`real-data samples look wrong: ${names.length} narinfos, ${outDegrees.length} SBOM nodes`);
  }
  samplesCache = { names, narSizes, outDegrees };
  return samplesCache;
}

export function generateSpec(
  samples: Samples,
  n: number,
  seed: number,
  sizeOf: (narSize: number) => number,
): GraphSpec {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const nodes: NodeSpec[] = [];
  const referenced = new Uint8Array(n);
  const unreferenced: number[] = []; // lazily pruned: entries may have been referenced since
  const urn: number[] = []; // every target once per reference: picking from it is preferential attachment
  for (let i = 0; i < n - 1; i++) {
    const k = Math.floor(rand() * samples.names.length);
    const degree = Math.min(pick(samples.outDegrees), i);
    const refs = new Set<number>();
    // first reference: a path nothing refers to yet, so the closure stays connected
    while (degree > 0 && unreferenced.length > 0 && refs.size === 0) {
      const slot = Math.floor(rand() * unreferenced.length);
      const j = unreferenced[slot]!;
      unreferenced[slot] = unreferenced[unreferenced.length - 1]!;
      unreferenced.pop();
      if (!referenced[j]) refs.add(j);
    }
    for (let tries = 0; refs.size < degree && tries < degree * 20; tries++) {
      const j =
        rand() < 0.5 && urn.length > 0 ? pick(urn) : Math.max(0, i - 1 - Math.floor(-Math.log(1 - rand()) * 30));
      refs.add(j);
    }
    for (const j of refs) {
      referenced[j] = 1;
      urn.push(j);
    }
    unreferenced.push(i);
    nodes.push({ name: samples.names[k]!, size: sizeOf(samples.narSizes[k]!), refs: [...refs].sort((a, b) => a - b) });
  }
  const rootRefs = unreferenced.filter((j) => !referenced[j]).sort((a, b) => a - b);
  nodes.push({ name: 'nixos-system-bench-24.05', size: sizeOf(4096), refs: rootRefs });

  // the why target: a path as far from the root as any
  const dist = new Int32Array(n).fill(-1);
  dist[n - 1] = 0;
  const queue = [n - 1];
  for (let h = 0; h < queue.length; h++) {
    for (const j of nodes[queue[h]!]!.refs) {
      if (dist[j] === -1) {
        dist[j] = dist[queue[h]!]! + 1;
        queue.push(j);
      }
    }
  }
  if (queue.length !== n) throw new Error(`generated graph is not connected: ${queue.length} of ${n} reachable`);
  const target = queue[queue.length - 1]!;
  nodes[target]!.name = 'perl-5.38.2';
  return { nodes, target, targetDistance: dist[target]! };
}

export interface RealClosure {
  readonly paths: number;
  readonly root: string;
  /** The `why` target, a path far from the root. */
  readonly target: string;
  readonly targetDistance: number;
  readonly edges: number;
  /** How long putting it into the store took (seconds; about 0 when it was there already), for RESULTS.md. */
  readonly importSeconds: number;
  readonly fromCache: boolean;
}

const SEED = 20_240_601;

/** Real NAR sizes scaled down 256× (at most 64 KiB): a 10k closure of real sizes would be gigabytes; the shape stays. */
export const scaledNarSize = (narSize: number): number => Math.min(64 * 1024, Math.round(narSize / 256));

/**
 * A real closure of `n` store paths in the local store, imported with `nix-store --import`
 * (test/support/storeImport.ts: seconds, where building n derivations with Nix 2.8 took 50 minutes at 10,000).
 * The paths are named from the spec, so a rerun finds them valid and imports nothing; a GC root in bench/work
 * keeps them through `nix-collect-garbage`.
 */
export async function realClosure(ctx: BenchContext, n: number, variant = 0): Promise<RealClosure> {
  const samples = await loadSamples();
  const spec = generateSpec(samples, n, SEED + n, scaledNarSize);
  // A variant is the same graph under other store paths: a closure no cache has seen, for cold runs.
  const salt = `${createHash('sha256').update(JSON.stringify(spec.nodes)).digest('hex').slice(0, 16)}${variant ? `-v${variant}` : ''}`;
  const t0 = Date.now();
  const { paths, imported } = await importClosure(spec.nodes, `bench-${salt}`);
  const importSeconds = (Date.now() - t0) / 1000;
  ctx.log(
    `real ${n}-path closure: ${imported ? `${imported} paths imported` : 'valid already'} in ${importSeconds.toFixed(1)} s`,
  );
  await execa(
    'nix-store',
    [
      '--realise',
      '--add-root',
      path.join(ctx.workDir, `gcroot-${n}${variant ? `-v${variant}` : ''}`),
      '--indirect',
      paths[n - 1]!,
    ],
    {
      env: nixEnv(),
      stdout: 'ignore',
    },
  );
  return {
    paths: n,
    root: paths[n - 1]!,
    target: paths[spec.target]!,
    targetDistance: spec.targetDistance,
    edges: spec.nodes.reduce((s, x) => s + x.refs.length, 0),
    importSeconds,
    fromCache: imported === 0,
  };
}

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

export interface SyntheticClosure {
  readonly file: string;
  readonly paths: number;
  readonly edges: number;
  readonly bytes: number;
  readonly root: string;
  readonly target: string;
}

/**
 * A `nix path-info -rs --json` document (Nix 2.8's array form, every field Nix prints) for a generated closure of
 * `n` paths with real (unscaled) NAR sizes. Written once into bench/work.
 */
export async function syntheticClosure(ctx: BenchContext, n: number): Promise<SyntheticClosure> {
  const samples = await loadSamples();
  const file = path.join(ctx.workDir, `synthetic-${n}.json`);
  const spec = generateSpec(samples, n, SEED + n, (s) => s);
  const rand = prng(SEED ^ n);
  const hash = () => {
    let h = '';
    for (let k = 0; k < 32; k++) h += NIX_BASE32[Math.floor(rand() * 32)];
    return h;
  };
  const paths = spec.nodes.map((x) => `/nix/store/${hash()}-${x.name}`);
  const meta = path.join(ctx.workDir, `synthetic-${n}.meta.json`);
  const edges = spec.nodes.reduce((s, x) => s + x.refs.length, 0);
  if (!fs.existsSync(file) || !fs.existsSync(meta) || JSON.parse(fs.readFileSync(meta, 'utf8')).root !== paths[n - 1]) {
    ctx.log(`writing a synthetic ${n}-path path-info JSON`);
    const order = paths.map((_, i) => i).sort((a, b) => (paths[a]! < paths[b]! ? -1 : 1));
    const parts: string[] = [];
    for (const i of order) {
      const x = spec.nodes[i]!;
      parts.push(
        JSON.stringify({
          path: paths[i],
          narHash: `sha256-${createHash('sha256').update(paths[i]!).digest('base64')}`,
          narSize: x.size,
          references: x.refs.map((j) => paths[j]!).sort(),
          deriver: `/nix/store/${hash()}-${x.name}.drv`,
          registrationTime: 1_700_000_000 + i,
          ultimate: true,
        }),
      );
    }
    fs.writeFileSync(file, `[${parts.join(',')}]`);
    fs.writeFileSync(meta, JSON.stringify({ root: paths[n - 1] }));
  }
  return { file, paths: n, edges, bytes: fs.statSync(file).size, root: paths[n - 1]!, target: paths[spec.target]! };
}
