/**
 * The subcommands, in one table: each takes its own argv and a CliContext and returns an exit code.
 *
 * The commands that run nix or evaluate (and execa, most of the bundle's start-up time) are loaded when first
 * used: a query answered from the cache starts nothing but node. esbuild turns these require() calls into lazy
 * module initialisers inside the one bundle.
 */
import packageJson from '../../package.json';
import { closureCommand } from './commands/closure';
import type * as CheckModule from './commands/check';
import type * as CompressedModule from './commands/compressed';
import type * as DiffModule from './commands/diff';
import { dupsCommand } from './commands/dups';
import type * as OptionsModule from './commands/options';
import { whyCommand } from './commands/why';
import type { CommandName } from './commandNames';
import type { Subcommand } from './context';
import { GLOBAL_OPTIONS_HELP } from './globalOptions';
import { TARGET_HELP } from './targets';

export type { Subcommand };

/** A command whose module loads on first use of any of its fields. */
function lazyCommand(load: () => Subcommand): Subcommand {
  return {
    get summary() {
      return load().summary;
    },
    get usage() {
      return load().usage;
    },
    run: (argv, ctx) => load().run(argv, ctx),
  };
}

/* eslint-disable @typescript-eslint/no-require-imports */
const TABLE = {
  closure: closureCommand,
  why: whyCommand,
  dups: dupsCommand,
  options: lazyCommand(() => (require('./commands/options') as typeof OptionsModule).optionsCommand),
  diff: lazyCommand(() => (require('./commands/diff') as typeof DiffModule).diffCommand),
  check: lazyCommand(() => (require('./commands/check') as typeof CheckModule).checkCommand),
  compressed: lazyCommand(() => (require('./commands/compressed') as typeof CompressedModule).compressedCommand),
} satisfies Record<CommandName, Subcommand>; // every name of commandNames.ts, and no other
/* eslint-enable @typescript-eslint/no-require-imports */

/** The command table, looked up by the word the user typed. */
export const COMMANDS: Readonly<Record<string, Subcommand | undefined>> = TABLE;

/** What `closure-lens check` and every other command exit with; README's exit code section says the same. */
export const EXIT_CODES_HELP = `Exit codes: 0 success; 1 a problem you can fix (the message says how), or for check: a rule is
broken; 2 an internal error; 3 check could not check (bad arguments, a bad rules file, a failed build or
evaluation); 128 + n stopped by signal n (130 Ctrl-C, 143 SIGTERM).`;

export function mainUsage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`);
  return `closure-lens ${packageJson.version}: what is in a Nix closure, and why.

Usage: closure-lens <command> [options]

Commands:
${lines.join('\n')}

Targets:
${TARGET_HELP}

${GLOBAL_OPTIONS_HELP}

Run \`closure-lens <command> --help\` for a command's options.

${EXIT_CODES_HELP}
`;
}
