/** The options every command shares (--nix, --cache-dir, --timeout, --color, …), taken out of argv first. */
import { ClosureLensError } from '../core/errors';
import { MAX_TIMEOUT_SECONDS } from '../core/nix/limits';

export const GLOBAL_OPTIONS_HELP = `Options for every command:
  --nix PATH          the nix binary to run (default: nix on PATH)
  --cache-dir DIR     where loaded closures are cached (default: $XDG_CACHE_HOME/closure-lens)
  --no-cache          neither read nor write the cache
  --timeout SECS      give up on a nix call after SECS seconds (default: 600; at most 2147483, 24.8 days)
  --store URI         read closures from another Nix store, e.g. ssh-ng://root@host (ssh options: NIX_SSHOPTS)
  --color WHEN        auto (default: colour when stdout is a terminal and NO_COLOR is unset), always, never
  --help, --version`;

export type ColorChoice = 'auto' | 'always' | 'never';

export interface GlobalOptions {
  nix?: string;
  cacheDir?: string;
  noCache: boolean;
  timeoutSecs?: number;
  store?: string;
  color: ColorChoice;
}

/** Node's timers hold at most 2^31 - 1 ms; a longer delay fires at once (and would stop nix at once). */
export const MAX_TIMEOUT_SECS = MAX_TIMEOUT_SECONDS;

/** Takes the options every command shares out of argv, wherever they appear. */
export function extractGlobalOptions(argv: string[]): { options: GlobalOptions; rest: string[] } {
  const options: GlobalOptions = { noCache: false, color: 'auto' };
  const rest: string[] = [];
  const valued: Record<string, (v: string) => void> = {
    '--nix': (v) => (options.nix = v),
    '--cache-dir': (v) => (options.cacheDir = v),
    '--store': (v) => (options.store = v),
    '--timeout': (v) => (options.timeoutSecs = parseTimeout(v)),
    '--color': (v) => {
      if (v !== 'auto' && v !== 'always' && v !== 'never') {
        throw new ClosureLensError('bad-installable', `--color takes auto, always or never, got '${v}'`, {
          fix: 'write it as, e.g., --color=never',
        });
      }
      options.color = v;
    },
  };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    if (arg === '--') {
      rest.push(...argv.slice(k));
      break;
    }
    if (arg === '--no-cache') {
      options.noCache = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const set = valued[name];
    if (!set) {
      rest.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++k];
    if (value === undefined || value === '') {
      throw new ClosureLensError('bad-installable', `${name} needs a value`, {
        fix: `write it as ${name} <value>; see \`closure-lens --help\``,
      });
    }
    set(value);
  }
  return { options, rest };
}

export function parseTimeout(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) {
    throw new ClosureLensError('bad-installable', `--timeout needs a number of seconds, got '${v}'`, {
      fix: 'write it as, e.g., --timeout 60',
    });
  }
  if (n > MAX_TIMEOUT_SECS) {
    throw new ClosureLensError(
      'bad-installable',
      `--timeout ${v} is too long: the most is ${MAX_TIMEOUT_SECS} seconds (24.8 days)`,
      { fix: `give at most --timeout ${MAX_TIMEOUT_SECS}` },
    );
  }
  return n;
}

/**
 * Colour on stdout: never when NO_COLOR is set (https://no-color.org) unless --color=always says so, else only
 * when stdout is a terminal.
 */
export function useColor(choice: ColorChoice, stdoutIsTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (choice !== 'auto') return choice === 'always';
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return stdoutIsTTY;
}
