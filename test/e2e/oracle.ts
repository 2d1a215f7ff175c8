/** Real nix as the oracle of the UI scenarios: what the workbench shows is compared with what nix says. */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { NIX_CONFIG } from './workspace';

const execFileAsync = promisify(execFile);
const ANSI = /\x1b\[[0-9;]*m/g;
const STORE_PATH = /\/nix\/store\/[0-9a-z]{32}-[^\s'"`]+/g;

export async function nix(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await execFileAsync('nix', args, {
    cwd,
    env: { ...process.env, NIX_CONFIG },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return stdout;
}

/** `nix build --no-link --json`: the out path of an installable. */
export async function build(installable: string): Promise<string> {
  const built = JSON.parse(await nix(['build', '--no-link', '--json', installable])) as { outputs: { out: string } }[];
  return built[0]!.outputs.out;
}

/** The out path an installable would have, without building it. */
export async function outPath(installable: string): Promise<string> {
  return (await nix(['eval', '--raw', `${installable}.outPath`])).trim();
}

export async function isValid(storePath: string): Promise<boolean> {
  return nix(['path-info', storePath]).then(
    () => true,
    () => false,
  );
}

export interface PathInfo {
  readonly path: string;
  readonly narSize: number;
  readonly references: readonly string[];
}

/** `nix path-info -r --json` (Nix 2.8 prints an array). */
export async function closure(root: string): Promise<Map<string, PathInfo>> {
  const parsed = JSON.parse(await nix(['path-info', '-r', '--json', root])) as PathInfo[] | Record<string, PathInfo>;
  const list = Array.isArray(parsed) ? parsed : Object.entries(parsed).map(([p, v]) => ({ ...v, path: p }));
  return new Map(list.map((i) => [i.path, i]));
}

/** `nix path-info -S --json`: the closure size of a store path, as nix sums it. */
export async function closureSize(root: string): Promise<number> {
  const parsed = JSON.parse(await nix(['path-info', '-S', '--json', root])) as
    { path?: string; closureSize: number }[] | Record<string, { closureSize: number }>;
  const entry = Array.isArray(parsed) ? parsed[0] : parsed[root];
  if (entry?.closureSize === undefined) throw new Error(`nix path-info -S --json ${root} printed no closureSize`);
  return entry.closureSize;
}

/** The attribute names of a flake's `packages.<system>`, by `nix eval` (fixed code, nothing spliced in). */
export async function packageNames(flakeRef: string, system = 'x86_64-linux'): Promise<string[]> {
  return JSON.parse(
    await nix(['eval', '--json', `${flakeRef}#packages.${system}`, '--apply', 'builtins.attrNames']),
  ) as string[];
}

/** The nodes `nix why-depends --all` prints: those on some root → dependency path. */
export async function whyDependsNodes(root: string, dep: string): Promise<Set<string>> {
  return new Set((await nix(['why-depends', '--all', root, dep])).replace(ANSI, '').match(STORE_PATH) ?? []);
}

/** The chain `nix why-depends` prints without --all (not always a shortest one; see nix-cli notes). */
export async function whyDependsChain(root: string, dep: string): Promise<string[]> {
  return (await nix(['why-depends', root, dep])).replace(ANSI, '').match(STORE_PATH) ?? [];
}

export function storePaths(text: string): string[] {
  return text.replace(ANSI, '').match(STORE_PATH) ?? [];
}

/** Parses "35.8 MiB" or "35.8M" (the two size styles) into bytes. */
export function parseSize(text: string): number | undefined {
  const m = /(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|K|M|G|T)\b/.exec(text);
  if (!m) return undefined;
  const power = { B: 0, KiB: 1, K: 1, MiB: 2, M: 2, GiB: 3, G: 3, TiB: 4, T: 4 }[m[2] as 'B'];
  return Number(m[1]) * 1024 ** power;
}

/** Processes whose environment holds `key=value` (a builder's derivation attributes are its environment). */
export function processesWithEnv(key: string, value: string): number[] {
  const needle = `${key}=${value}`;
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(needle)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/**
 * The retained size of every path of a closure, by its definition and not by the engine's dominator tree: the
 * NAR sizes of what the root no longer reaches once that path is gone (one breadth-first walk per path).
 */
export function retainedSizes(info: ReadonlyMap<string, PathInfo>, root: string): Map<string, number> {
  const paths = [...info.keys()];
  const index = new Map(paths.map((p, i) => [p, i]));
  const offsets = new Int32Array(paths.length + 1);
  const targets: number[] = [];
  paths.forEach((p, i) => {
    for (const r of info.get(p)!.references) if (r !== p && index.has(r)) targets.push(index.get(r)!);
    offsets[i + 1] = targets.length;
  });
  const nar = paths.map((p) => info.get(p)!.narSize);
  const total = nar.reduce((a, b) => a + b, 0);
  const start = index.get(root);
  if (start === undefined) throw new Error(`${root} is not in its own closure`);
  const seen = new Int32Array(paths.length).fill(-1);
  const queue = new Int32Array(paths.length);
  const out = new Map<string, number>();
  for (let removed = 0; removed < paths.length; removed++) {
    if (removed === start) {
      out.set(root, total);
      continue;
    }
    let reached = nar[start]!;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    seen[start] = removed;
    seen[removed] = removed;
    while (head < tail) {
      const v = queue[head++]!;
      for (let e = offsets[v]!; e < offsets[v + 1]!; e++) {
        const w = targets[e]!;
        if (seen[w] !== removed) {
          seen[w] = removed;
          reached += nar[w]!;
          queue[tail++] = w;
        }
      }
    }
    out.set(paths[removed]!, total - reached);
  }
  return out;
}
