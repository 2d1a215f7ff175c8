/**
 * For the launcher (launcher.ts): start `nix path-info` of a cold `closure <store path>` before the CLI bundle
 * loads, so that nix runs while node compiles and starts the CLI (core/nix/prestart.ts hands the process to the
 * runner). Only for the plain form (`closure [--json] [--top N] /nix/store/…` with --nix, --cache-dir, --no-cache,
 * --timeout or --color) and only when the graph cache has no file for the path: anything else, and any doubt, starts
 * nothing, and the CLI runs as it always does.
 *
 * The command is the one the engine would run (engine.ts, loadStorePaths and pathInfoJsonFlags): the same binary,
 * the flags this Nix's remembered version calls for (plain `--json` when none is known), `--` and the path. A guess
 * that is wrong costs a wasted nix process and nothing else: the runner takes the process over only when the
 * engine's command is exactly this one, and stops it otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultCacheDir } from '../core/cacheDir';
import { graphCacheFile, rememberedNixVersionLineSync } from '../core/load/cacheFiles';
import { prestartNix, type PrestartedNix } from '../core/nix/prestart';
import { parseNixVersion, pathInfoJsonFlags } from '../core/nix/version';
import { extractGlobalOptions } from './globalOptions';
import { storeOperand } from './storeOperand';

/** The nix command a cold `closure` of argv would run first, or undefined when argv is not the plain form or warm. */
export function prestartCommand(
  argv: readonly string[],
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): { binary: string; args: string[] } | undefined {
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
  const operand = storeOperand(target);
  if (operand?.kind !== 'store-path') return undefined;
  const storePath = operand.path;
  const binary = options.nix && options.nix.trim() !== '' ? options.nix : 'nix';
  let flags = ['--json'];
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
  return { binary, args: ['path-info', '--recursive', '--size', ...flags, '--', storePath] };
}

/** Starts prestartCommand's command, if any. Never throws. */
export function prestartClosureNix(argv: readonly string[]): PrestartedNix | undefined {
  try {
    const command = prestartCommand(argv);
    return command ? prestartNix(command.binary, command.args) : undefined;
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
