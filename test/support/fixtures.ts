/**
 * Fixture flakes built with real Nix, and real Nix as the oracle that tests compare against.
 *
 * `buildFixture('mini-nixos')` copies test/fixtures/flakes/mini-nixos to a temporary directory (so git tracking
 * does not matter), builds every package of it with `nix build --json --no-link` and returns the store paths.
 * Builds are memoised per process; across processes the Nix store makes a rebuild a no-op.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The same settings as test/support/nix-env.sh: flakes on, offline, no sandbox, fast fixture builds. */
export const NIX_CONFIG = [
  'experimental-features = nix-command flakes',
  'substituters =',
  'sandbox = false',
  'fsync-metadata = false',
  'build-users-group =',
  '',
].join('\n');

/** The environment every nix call in tests and the bench gets. */
export function nixEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NIX_CONFIG };
}

export const FIXTURE_NAMES = ['mini-nixos', 'diamonds', 'chain', 'edge-cases'] as const;
/** Fixtures for one test file each, left out of the loops over FIXTURE_NAMES. */
export const SPECIAL_FIXTURE_NAMES = ['precise'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number] | (typeof SPECIAL_FIXTURE_NAMES)[number];

export interface BuiltFixture {
  readonly name: FixtureName;
  /** A temporary copy of the flake; use `installable(attr)` for flake references. */
  readonly flakeDir: string;
  /**
   * Store path of every package output: the key is the package attribute for its default output (`out`) and
   * `attr.output` for the others (`util-linux.lib`, `man-db.man`).
   */
  readonly outputs: Readonly<Record<string, string>>;
  /** The default package's store path. */
  readonly root: string;
  /** `path:<flakeDir>#<attr>`, a flake installable that works whatever git tracks. */
  installable(attr: string): string;
  /** The store path of an output key; throws with the known keys when it is missing. */
  output(key: string): string;
}

/** Walks up from this bundle to the repository (out/test/support, out/test/integration, out/bench...). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.readFileSync(pkg, 'utf8').includes('"name": "nix-closure-lens"')) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nix-closure-lens package.json above ${__dirname}`);
    dir = parent;
  }
}

/** Runs nix with the test environment; rejects with nix's stderr on a non-zero exit. */
export async function runNix(
  args: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const r = await execa('nix', args, {
    env: nixEnv(),
    cwd: opts.cwd,
    timeout: opts.timeoutMs ?? 300_000,
    reject: false,
    stdin: 'ignore',
    maxBuffer: 1024 * 1024 * 1024,
  });
  if (r.exitCode !== 0) {
    throw new Error(`nix ${args.join(' ')} failed (exit ${r.exitCode}):\n${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

let tempRoot: string | undefined;
function fixtureTempRoot(): string {
  if (tempRoot === undefined) {
    tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-fixtures-'));
    const dir = tempRoot;
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return tempRoot;
}

const built = new Map<FixtureName, Promise<BuiltFixture>>();

export function buildFixture(name: FixtureName): Promise<BuiltFixture> {
  let p = built.get(name);
  if (p === undefined) {
    p = doBuild(name);
    built.set(name, p);
    // A failed build is not memoised, so a later test gets a fresh attempt and the real error.
    p.catch(() => built.delete(name));
  }
  return p;
}

const OUTPUT_PATHS_OF_PACKAGES =
  'ps: builtins.mapAttrs (n: p: builtins.listToAttrs (map (o: { name = o; value = p.${o}.outPath; }) (p.outputs or [ "out" ]))) ps';

async function doBuild(name: FixtureName): Promise<BuiltFixture> {
  const source = path.join(repoRoot(), 'test', 'fixtures', 'flakes', name);
  if (!fs.existsSync(path.join(source, 'flake.nix'))) throw new Error(`no fixture flake at ${source}`);
  const flakeDir = path.join(fixtureTempRoot(), name);
  fs.cpSync(source, flakeDir, { recursive: true, dereference: true });
  const ref = `path:${flakeDir}`;
  // `nix build --json` lists its results in its own order, so the output paths come from one evaluation
  // (fixed code, nothing spliced in) and the build only realises them.
  const byAttr = JSON.parse(
    (await runNix(['eval', '--json', `${ref}#packages.x86_64-linux`, '--apply', OUTPUT_PATHS_OF_PACKAGES])).stdout,
  ) as Record<string, Record<string, string>>;
  const attrs = Object.keys(byAttr);
  await runNix(['build', '--no-link', ...attrs.map((a) => `${ref}#${a}`)]);
  const outputs: Record<string, string> = {};
  for (const attr of attrs) {
    for (const [out, storePath] of Object.entries(byAttr[attr]!)) {
      outputs[out === 'out' ? attr : `${attr}.${out}`] = storePath;
    }
  }
  const output = (key: string): string => {
    const p = outputs[key];
    if (p === undefined)
      throw new Error(`fixture ${name} has no output ${key}; known: ${Object.keys(outputs).join(', ')}`);
    return p;
  };
  return {
    name,
    flakeDir,
    outputs,
    root: output('default'),
    installable: (attr) => `${ref}#${attr}`,
    output,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Real Nix as the oracle

export interface NixPathInfo {
  path: string;
  narSize: number;
  closureSize?: number;
  references: string[];
}

/**
 * `nix path-info -r --json [-s] [-S] <paths>`: Nix 2.8 prints an array with `path`, 2.19+ an object keyed by path.
 * `-S` is quadratic in Nix: use it only on the small fixture closures.
 */
export async function nixPathInfo(
  paths: string[],
  opts: { closureSize?: boolean; recursive?: boolean } = {},
): Promise<Map<string, NixPathInfo>> {
  const flags = ['path-info', '--json', '-s'];
  if (opts.recursive ?? true) flags.push('-r');
  if (opts.closureSize) flags.push('-S');
  const parsed = JSON.parse((await runNix([...flags, ...paths])).stdout) as unknown;
  const map = new Map<string, NixPathInfo>();
  const entries: [string, Omit<NixPathInfo, 'path'>][] = Array.isArray(parsed)
    ? (parsed as NixPathInfo[]).map((e) => [e.path, e])
    : Object.entries(parsed as Record<string, Omit<NixPathInfo, 'path'>>);
  for (const [p, e] of entries) {
    map.set(p, { path: p, narSize: e.narSize, closureSize: e.closureSize, references: e.references });
  }
  return map;
}

/** Removes the ANSI escapes that `nix why-depends` writes even when stdout is not a terminal. */
export function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

export interface WhyDependsTree {
  /** Every line as (depth, store path); depth 0 is the package. */
  lines: { depth: number; path: string }[];
  /** Every drawn edge parent → child. */
  edges: [string, string][];
  /** Every path that appears in the tree. */
  nodes: Set<string>;
}

/** Parses the tree that `nix why-depends [--all]` draws (4 columns per level, `├───`, `└───`, `│   `). */
export function parseWhyDependsTree(stdout: string): WhyDependsTree {
  const lines: { depth: number; path: string }[] = [];
  for (const raw of stripAnsi(stdout).split('\n')) {
    if (raw.trim() === '') continue;
    const at = raw.indexOf('/');
    if (at < 0) continue;
    const prefix = raw.slice(0, at);
    // each level is 4 characters ('│   ', '    ', '├───', '└───'), whatever the box-drawing chars are
    const depth = [...prefix].length / 4;
    if (!Number.isInteger(depth)) throw new Error(`unexpected why-depends line: ${JSON.stringify(raw)}`);
    const m = /^\/\S+/.exec(raw.slice(at));
    lines.push({ depth, path: m![0] });
  }
  const edges: [string, string][] = [];
  const stack: string[] = [];
  for (const l of lines) {
    stack.length = l.depth;
    if (l.depth > 0) edges.push([stack[l.depth - 1]!, l.path]);
    stack.push(l.path);
  }
  return { lines, edges, nodes: new Set(lines.map((l) => l.path)) };
}

/** `nix why-depends [--all] pkg dep`, parsed; null when Nix says pkg does not depend on dep. */
export async function nixWhyDepends(
  pkg: string,
  dep: string,
  opts: { all?: boolean } = {},
): Promise<WhyDependsTree | null> {
  const r = await runNix(['why-depends', ...(opts.all ? ['--all'] : []), pkg, dep]);
  if (r.stdout.trim() === '') return null;
  return parseWhyDependsTree(r.stdout);
}

export interface PreciseEdge {
  from: string;
  to: string;
  /** The hit lines Nix prints for this edge, ANSI removed: `rel/file: …snippet…` or `rel/link -> target`. */
  hits: string[];
}

/**
 * Parses `nix why-depends --precise [--all]`: each edge's hit lines come right before the `→ <path>` line of the
 * dependency, at the same depth.
 */
export function parseWhyDependsPrecise(stdout: string): { root: string; edges: PreciseEdge[] } {
  const lines = stripAnsi(stdout)
    .split('\n')
    .filter((l) => l.trim() !== '');
  const root = lines[0]!.trim();
  const stack = [root];
  const edges: PreciseEdge[] = [];
  let pending: string[] = [];
  for (const raw of lines.slice(1)) {
    const chars = [...raw];
    let k = 0;
    while (k < chars.length && '│├└─ '.includes(chars[k]!)) k++;
    if (k % 4 !== 0) throw new Error(`unexpected why-depends --precise line: ${JSON.stringify(raw)}`);
    const depth = k / 4;
    const content = chars.slice(k).join('');
    if (content.startsWith('→ ')) {
      const node = content.slice(2).trim();
      edges.push({ from: stack[depth - 1]!, to: node, hits: pending });
      pending = [];
      stack.length = depth;
      stack.push(node);
    } else {
      pending.push(content);
    }
  }
  return { root, edges };
}

/** `nix why-depends --precise [--all] pkg dep`, parsed. */
export async function nixWhyDependsPrecise(
  pkg: string,
  dep: string,
  opts: { all?: boolean } = {},
): Promise<{ root: string; edges: PreciseEdge[] }> {
  const r = await runNix(['why-depends', '--precise', ...(opts.all ? ['--all'] : []), pkg, dep]);
  return parseWhyDependsPrecise(r.stdout);
}

/** The single chain that `nix why-depends` (without --all) prints: the path of lines from the package down. */
export function chainOfTree(tree: WhyDependsTree): string[] {
  return tree.lines.map((l) => l.path);
}
