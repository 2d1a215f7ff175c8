/**
 * For the launcher (launcher.ts): start `nix path-info` of a cold `closure <store path>` before the CLI bundle
 * loads, so that nix runs while node compiles and starts the CLI (core/nix/prestart.ts hands the process to the
 * runner). Only for the plain form (`closure [--json] [--top N] /nix/store/…` with --nix, --cache-dir, --no-cache,
 * --timeout or --color) and only when the graph cache has no file for the path: anything else, and any doubt, starts
 * nothing, and the CLI runs as it always does.
 *
 * The commands are those the engine would run (engine.ts, loadStorePaths and pathInfoJsonFlags): the same binary,
 * the flags this Nix's remembered version calls for (plain `--json` when none is known), `--` and the path; and when
 * no version is known, `nix --version`, which the engine runs alongside to learn it. Started here, in a process that
 * has not loaded the bundle yet, it costs a few ms where the engine's own start of it (execa loaded for it, a spawn
 * from a large process) took ~40 ms of CPU while nix ran. A guess that is wrong costs a wasted nix process and nothing
 * else: the runner takes a process over only when the engine's command is exactly its one, and stops them otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultCacheDir } from '../core/cacheDir';
import { graphCacheFile, rememberedNixVersionLineSync } from '../core/load/cacheFiles';
import { prestartNix, type PrestartedNix } from '../core/nix/prestart';
import { parseNixVersion, pathInfoJsonFlags } from '../core/nix/version';
import { baseName, isStoreBaseName } from '../shared/storePath';
import { extractGlobalOptions } from './globalOptions';

/**
 * The nix commands a cold `closure` of argv would run (path-info first, then `--version` when the engine learns it),
 * or undefined when argv is not the plain form or the closure is cached.
 */
export function prestartCommands(
  argv: readonly string[],
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): { binary: string; commands: string[][] } | undefined {
  let parsed: ReturnType<typeof extractGlobalOptions>;
  try {
    parsed = extractGlobalOptions([...argv]);
  } catch {
    return undefined; // the CLI reports it
  }
  const { options, rest } = parsed;
  if (rest[0] !== 'closure' || options.store !== undefined) return undefined;
  const target = plainClosureTarget(rest.slice(1));
  if (target === undefined) return undefined;
  const storePath = storePathOf(target);
  if (storePath === undefined) return undefined;
  const binary = options.nix && options.nix.trim() !== '' ? options.nix : 'nix';
  let flags: string[] | undefined;
  if (!options.noCache) {
    const dir = path.resolve(cwd, options.cacheDir ?? defaultCacheDir(env));
    // Cached: the CLI answers without nix.
    if (fs.statSync(graphCacheFile(dir, storePath), { throwIfNoEntry: false })) return undefined;
    const line = rememberedNixVersionLineSync(dir, binary);
    if (line !== undefined) {
      try {
        flags = pathInfoJsonFlags(parseNixVersion(line));
      } catch {
        // a damaged entry: the engine asks nix, with plain --json meanwhile
      }
    }
  }
  const pathInfo = ['path-info', '--recursive', '--size', ...(flags ?? ['--json']), '--', storePath];
  return { binary, commands: flags ? [pathInfo] : [pathInfo, ['--version']] };
}

/** Starts prestartCommands' commands, if any, in their order. Never throws. */
export function prestartClosureNix(argv: readonly string[]): PrestartedNix[] | undefined {
  try {
    const planned = prestartCommands(argv);
    if (!planned) return undefined;
    const started: PrestartedNix[] = [];
    for (const args of planned.commands) {
      const one = prestartNix(planned.binary, args);
      if (!one) break;
      started.push(one);
    }
    return started;
  } catch {
    return undefined;
  }
}

/** The one operand of `closure [--json] [--top N] <operand>`; undefined for any other shape. */
function plainClosureTarget(args: readonly string[]): string | undefined {
  let target: string | undefined;
  for (let k = 0; k < args.length; k++) {
    const arg = args[k]!;
    if (arg === '--json') continue;
    if (arg === '--top' || arg.startsWith('--top=')) {
      const value = arg === '--top' ? args[++k] : arg.slice('--top='.length);
      if (value === undefined || !/^[1-9]\d{0,8}$/.test(value)) return undefined;
      continue;
    }
    if (arg.startsWith('-') || target !== undefined) return undefined;
    target = arg;
  }
  return target;
}

/** The store path targets.ts makes of `spec` when it is a path in /nix/store (not a link out of it). */
function storePathOf(spec: string): string | undefined {
  const storePath = /^\/nix\/store\/[^/]+/.exec(spec)?.[0];
  if (storePath === undefined || !isStoreBaseName(baseName(storePath))) return undefined;
  if (!fs.existsSync(spec)) return storePath;
  if (spec.endsWith('.json')) return undefined;
  const real = fs.realpathSync(spec);
  return real === storePath || real.startsWith(`${storePath}/`) ? storePath : undefined;
}
