/**
 * The subcommands' names and the global flags that take a value: what the code-cache launcher needs to find the
 * command in argv without loading the CLI bundle. commandTable.ts keys its table by CommandName, so the two
 * cannot drift; globalOptions.ts parses the same flags.
 */
export const COMMAND_NAMES = ['closure', 'why', 'dups', 'options', 'diff', 'check', 'compressed'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export const GLOBAL_FLAGS_WITH_VALUE = ['--nix', '--cache-dir', '--timeout', '--store', '--color'] as const;

export interface LauncherArgs {
  /** The subcommand, when argv names a real one (not a typo, not --help). */
  readonly command: CommandName | undefined;
  readonly cacheDir: string | undefined;
  readonly noCache: boolean;
}

/** The subcommand and the cache flags in argv (after node and the script), read as extractGlobalOptions reads them. */
export function launcherArgs(argv: readonly string[]): LauncherArgs {
  let command: string | undefined;
  let cacheDir: string | undefined;
  let noCache = false;
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    if (arg === '--') break;
    if (arg === '--no-cache') {
      noCache = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if ((GLOBAL_FLAGS_WITH_VALUE as readonly string[]).includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++k];
      if (name === '--cache-dir' && value) cacheDir = value;
      continue;
    }
    command ??= arg;
  }
  const known = (COMMAND_NAMES as readonly string[]).includes(command ?? '') ? (command as CommandName) : undefined;
  return { command: known, cacheDir, noCache };
}
