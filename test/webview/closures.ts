/**
 * Closures for the webview tests and the first-draw bench:
 * - `nixosLikeFixture()`: a hand-made NixOS-shaped graph with known chains and option attribution,
 * - `realSbomClosure()`: the real NixOS 23.11 system from test/fixtures/real-data/nix-security-tracker-sbom, whose
 *   SBOM has no sizes; each path gets a real NarSize from the cache.nixos.org narinfo sample
 *   (test/fixtures/real-data/tvix-narinfo-sample), chosen deterministically by a hash of the path,
 * - `syntheticClosure(n)`: a deterministic random DAG of n paths with realistic names and sizes (for the bench).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { parseClosureJson } from '../../src/core/parse';
import { buildSnapshot, type AttributionInput } from '../../src/shared';
import {
  DEFAULT_VIEW_SETTINGS,
  PROTOCOL_VERSION,
  type HostToWebview,
  type PanelTarget,
  type ViewSettings,
} from '../../src/shared';
import { seededRandom as rng } from '../support/prng';
import { realDataDir } from '../support/realData';
/** The repository root: the nearest directory above this bundle with a package.json (tests and bench differ in depth). */
export const REPO = (() => {
  let d = __dirname;
  while (!fs.existsSync(path.join(d, 'package.json')) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
})();

export const REAL_DATA = realDataDir();

const ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

/** A fixed, valid-looking nix-base32 hash from a string (FNV-1a driven), so fixtures are stable. */
export function fakeHash(seed: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
  let out = '';
  for (let i = 0; i < 32; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = (h + 0x9e3779b9) >>> 0;
    out += ALPHABET[h % 32];
  }
  return out;
}

export const sp = (name: string) => `/nix/store/${fakeHash(name)}-${name}`;

export interface TestClosure {
  readonly analysis: ClosureAnalysis;
  readonly graph: ClosureGraph;
  readonly attribution?: AttributionInput;
  readonly title: string;
  readonly target: PanelTarget;
  /** How the sizes were obtained, for test names and reports. */
  readonly sizes: string;
}

export function closureMessage(
  c: TestClosure,
  settings: ViewSettings = DEFAULT_VIEW_SETTINGS,
  withAttribution = true,
): Extract<HostToWebview, { type: 'closure' }> {
  return {
    type: 'closure',
    protocol: PROTOCOL_VERSION,
    title: c.title,
    target: c.target,
    snapshot: buildSnapshot(c.analysis, withAttribution && c.attribution ? { attribution: c.attribution } : {}),
    settings,
  };
}

const KiB = 1024;
const MiB = 1024 * 1024;

/**
 * A small system: perl arrives by two chains (nixos-help → w3m → perl, and git → perl), so its dominator is
 * system-path; systemd and systemd-minimal both appear (initrd); the attribution names the options.
 */
export function nixosLikeFixture(): TestClosure {
  const spec: [string, number, string[]][] = [
    [
      'nixos-system-demo-24.05',
      20 * KiB,
      ['system-path', 'etc', 'initrd-linux-6.6.30', 'linux-6.6.30', 'linux-6.6.30-modules', 'firmware'],
    ],
    [
      'system-path',
      60 * KiB,
      [
        'nixos-help',
        'git-2.44.0',
        'coreutils-9.5',
        'bash-5.2p26',
        'systemd-255.6',
        'dejavu-fonts-2.37',
        'python3-3.11.9',
        'nginx-1.26.0',
      ],
    ],
    ['etc', 40 * KiB, ['systemd-255.6', 'dbus-1.14.10', 'nginx-1.26.0']],
    ['nixos-help', 2 * MiB, ['w3m-0.5.3', 'nixos-manual-html']],
    ['nixos-manual-html', 9 * MiB, []],
    ['w3m-0.5.3', 1.5 * MiB, ['perl-5.38.2', 'openssl-3.0.13', 'glibc-2.39-52']],
    ['git-2.44.0', 30 * MiB, ['perl-5.38.2', 'openssl-3.0.13', 'curl-8.7.1', 'glibc-2.39-52', 'git-2.44.0-doc']],
    ['git-2.44.0-doc', 8 * MiB, []],
    ['curl-8.7.1', 1 * MiB, ['openssl-3.0.13', 'glibc-2.39-52']],
    ['perl-5.38.2', 55 * MiB, ['glibc-2.39-52', 'perl-5.38.2-man']],
    ['perl-5.38.2-man', 6 * MiB, []],
    ['openssl-3.0.13', 6 * MiB, ['glibc-2.39-52']],
    ['coreutils-9.5', 18 * MiB, ['glibc-2.39-52', 'acl-2.3.2', 'attr-2.5.2']],
    ['acl-2.3.2', 300 * KiB, ['glibc-2.39-52', 'attr-2.5.2']],
    ['attr-2.5.2', 200 * KiB, ['glibc-2.39-52']],
    ['bash-5.2p26', 1.6 * MiB, ['glibc-2.39-52']],
    ['glibc-2.39-52', 30 * MiB, []],
    [
      'systemd-255.6',
      40 * MiB,
      ['glibc-2.39-52', 'util-linux-2.39.4-lib', 'dbus-1.14.10', 'kmod-31', 'systemd-255.6-man'],
    ],
    ['systemd-255.6-man', 3 * MiB, []],
    ['systemd-minimal-255.6', 12 * MiB, ['glibc-2.39-52', 'util-linux-minimal-2.39.4']],
    ['util-linux-minimal-2.39.4', 3 * MiB, ['glibc-2.39-52']],
    ['util-linux-2.39.4-lib', 2 * MiB, ['glibc-2.39-52']],
    ['dbus-1.14.10', 1.2 * MiB, ['glibc-2.39-52', 'expat-2.6.2']],
    ['expat-2.6.2', 400 * KiB, ['glibc-2.39-52']],
    ['kmod-31', 300 * KiB, ['glibc-2.39-52']],
    ['dejavu-fonts-2.37', 11 * MiB, []],
    ['python3-3.11.9', 100 * MiB, ['glibc-2.39-52', 'openssl-3.0.13', 'expat-2.6.2', 'python3-3.11.9-dev']],
    ['python3-3.11.9-dev', 1 * MiB, []],
    ['nginx-1.26.0', 2 * MiB, ['openssl-3.0.13', 'glibc-2.39-52']],
    ['initrd-linux-6.6.30', 25 * MiB, ['systemd-minimal-255.6']],
    ['linux-6.6.30', 12 * MiB, []],
    ['linux-6.6.30-modules', 80 * MiB, ['firmware']],
    ['firmware', 300 * MiB, []],
  ];
  const records: PathRecord[] = spec.map(([name, size, refs]) => ({
    path: sp(name),
    narSize: Math.round(size),
    references: refs.map(sp),
  }));
  const graph = ClosureGraph.build(records, [sp('nixos-system-demo-24.05')]);
  const analysis = new ClosureAnalysis(graph);
  const file = '/home/alice/flake/configuration.nix';
  const documentation = '/nix/store/3m1f5q4hll1c0xxk4lr1gzbpv5j2sx8a-source/nixos/modules/misc/documentation.nix';
  // The shape of `closure-lens options --json`: each definition lists the paths its value carries; the
  // per-path map lists every definition that *reaches* a path (so perl appears under git's and nixos-help's).
  const attribution: AttributionInput = {
    definitions: [
      {
        option: 'environment.systemPackages',
        file,
        // As the extension labels it (relative to the workspace); the other definitions show a shortened path.
        fileLabel: 'configuration.nix',
        line: 12,
        column: 3,
        inWorkspace: true,
        fromDefault: false,
        paths: [sp('git-2.44.0')],
        removalCost: 39 * MiB,
      },
      {
        option: 'environment.systemPackages',
        file: documentation,
        line: 331,
        column: 5,
        inWorkspace: false,
        fromDefault: false,
        paths: [sp('nixos-help')],
        removalCost: 12.5 * MiB,
      },
      {
        option: 'services.nginx.package',
        file,
        line: 20,
        column: 3,
        inWorkspace: true,
        fromDefault: false,
        paths: [sp('nginx-1.26.0')],
        removalCost: 2 * MiB,
        counterfactual: { removedBytes: 2 * MiB + 40 * KiB },
      },
      {
        option: 'fonts.packages',
        file,
        line: 27,
        column: 3,
        inWorkspace: true,
        fromDefault: false,
        paths: [sp('dejavu-fonts-2.37')],
        removalCost: 11 * MiB,
      },
      {
        option: 'documentation.nixos.enable',
        file,
        line: 31,
        column: 3,
        inWorkspace: true,
        fromDefault: false,
        paths: [],
        removalCost: 0,
        moduleCost: { files: [documentation], bytes: 12.5 * MiB },
      },
    ],
    paths: {
      [sp('git-2.44.0')]: [0],
      [sp('nixos-help')]: [1],
      [sp('w3m-0.5.3')]: [1],
      [sp('perl-5.38.2')]: [0, 1],
      [sp('nginx-1.26.0')]: [2],
      [sp('dejavu-fonts-2.37')]: [3],
    },
    evalSeconds: 2.34,
  };
  return {
    analysis,
    graph,
    attribution,
    title: '.#nixosConfigurations.demo',
    target: {
      kind: 'installable',
      installable: '.#nixosConfigurations.demo.config.system.build.toplevel',
      cwd: '/home/alice/flake',
    },
    sizes: 'hand-written sizes',
  };
}

/** NarSize values of the 978 real narinfos, in file order. */
export function narinfoSizes(): number[] {
  const file = path.join(REAL_DATA, 'tvix-narinfo-sample', 'narinfo.zst');
  const text = execFileSync('zstd', ['-dc', file], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const sizes = [...text.matchAll(/^NarSize: (\d+)$/gm)].map((m) => Number(m[1]));
  if (sizes.length < 900) throw new Error(`expected ~978 NarSize lines in ${file}, found ${sizes.length}`);
  return sizes;
}

/** Deterministic pick of a sample size for a path: FNV-1a of the path modulo the sample count. */
export function sampledSize(sizes: readonly number[], storePath: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < storePath.length; i++) h = Math.imul(h ^ storePath.charCodeAt(i), 0x01000193) >>> 0;
  return sizes[h % sizes.length]!;
}

export function realSbomClosure(): TestClosure {
  const file = path.join(REAL_DATA, 'nix-security-tracker-sbom', 'sbom.cdx.json');
  const parsed = parseClosureJson(fs.readFileSync(file, 'utf8'), file);
  const sizes = narinfoSizes();
  const records = parsed.records.map((r) => ({ ...r, narSize: sampledSize(sizes, r.path) }));
  const graph = ClosureGraph.build(records, parsed.roots);
  return {
    analysis: new ClosureAnalysis(graph),
    graph,
    title: 'nixos-system-nixos-23.11 (SBOM)',
    target: { kind: 'json-file', file },
    sizes: 'NarSize sampled from 978 real cache.nixos.org narinfos by a hash of each path',
  };
}

/** The same SBOM as it really is: no sizes at all. */
export function realSbomWithoutSizes(): TestClosure {
  const file = path.join(REAL_DATA, 'nix-security-tracker-sbom', 'sbom.cdx.json');
  const parsed = parseClosureJson(fs.readFileSync(file, 'utf8'), file);
  const graph = ClosureGraph.build(parsed.records, parsed.roots);
  return {
    analysis: new ClosureAnalysis(graph),
    graph,
    title: 'nixos-system-nixos-23.11 (SBOM, no sizes)',
    target: { kind: 'json-file', file },
    sizes: 'none',
  };
}

const PNAMES = [
  'glibc',
  'openssl',
  'zlib',
  'perl',
  'python3',
  'systemd',
  'util-linux',
  'coreutils',
  'bash',
  'gcc',
  'libffi',
  'ncurses',
  'readline',
  'dbus',
  'glib',
  'gtk+3',
  'mesa',
  'llvm',
  'linux',
  'linux-modules',
  'dejavu-fonts',
  'noto-fonts',
  'libxml2',
  'sqlite',
  'curl',
  'git',
  'vim',
  'emacs',
  'xorg-server',
  'libX11',
  'harfbuzz',
  'cairo',
  'pango',
  'icu4c',
  'boost',
  'nodejs',
  'rustc',
  'go',
  'ghc',
  'texlive',
  'qtbase',
  'ffmpeg',
  'gstreamer',
  'pipewire',
];
const OUTPUTS = ['', '', '', '', '', '-lib', '-dev', '-man', '-doc', '-bin'];

/**
 * n paths shaped like a real closure: a random tree (each path under an earlier one, preferring recent ones,
 * so packages nest), extra referrers from the parent's own ancestors (a DAG whose dominator tree stays deep,
 * as in real closures), and a few shared base libraries that a tenth of all paths reference (glibc and
 * friends). Sizes follow a log-uniform spread from 1 KiB to ~200 MiB.
 */
export function syntheticClosure(n: number, seed = 42): TestClosure {
  const rand = rng(seed);
  const built: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = PNAMES[Math.floor(rand() * PNAMES.length)]!;
    const v = `${1 + Math.floor(rand() * 9)}.${Math.floor(rand() * 30)}.${i}`;
    built.push(`/nix/store/${fakeHash(`${seed}:${i}`)}-${p}-${v}${OUTPUTS[Math.floor(rand() * OUTPUTS.length)]}`);
  }
  // Paths from Nix arrive through JSON.parse as flat strings; concatenated ones would be ropes and skew timings.
  const names = JSON.parse(JSON.stringify(built)) as string[];
  const parentOf = new Int32Array(n).fill(-1);
  const refs: Set<string>[] = names.map(() => new Set());
  const shared = Math.min(8, Math.max(1, n >> 10));
  for (let i = 1; i < n; i++) {
    // A random recursive tree: depth ~ e·ln n (about 30 at 100k paths), a few dozen children at the top.
    const parent = Math.floor(rand() * i);
    parentOf[i] = parent;
    refs[parent]!.add(names[i]!);
    const extra = Math.floor(rand() * 3);
    for (let k = 0; k < extra; k++) {
      let a = parent;
      for (let up = 1 + Math.floor(rand() * 4); up > 0 && parentOf[a]! >= 0; up--) a = parentOf[a]!;
      if (a !== i) refs[a]!.add(names[i]!);
    }
    // The shared libraries are the last paths, so references to them never close a cycle.
    if (i < n - shared && rand() < 0.1) refs[i]!.add(names[n - 1 - Math.floor(rand() * shared)]!);
  }
  const records: PathRecord[] = names.map((p, i) => ({
    path: p,
    narSize: Math.round(1024 * Math.exp(rand() * Math.log(200 * 1024))),
    references: [...refs[i]!],
  }));
  const graph = ClosureGraph.build(records, [names[0]!]);
  return {
    analysis: new ClosureAnalysis(graph),
    graph,
    title: `synthetic-${n}`,
    target: { kind: 'store-path', path: names[0]! },
    sizes: 'synthetic log-uniform sizes',
  };
}
