/** What tests and the bench use of the CLI; dist/cli.js runs main.ts. */
export { main, runAsProcess, textPieces, type MainIO } from './main';
export { COMMANDS, EXIT_CODES_HELP, mainUsage } from './commandTable';
export type { CliContext, Subcommand } from './context';
export { extractGlobalOptions, parseTimeout, useColor, MAX_TIMEOUT_SECS } from './globalOptions';
export { usageError } from './args';
export { refuseBarePathFlakeRef } from './targets';
export { closureJson, closureJsonPieces, renderClosureText } from './render/closure';
export { dupsJson, renderDupsText } from './render/dups';
export { renderWhyText, whyJson, whyNote } from './render/why';
export { resolveDependency } from './commands/why';
export * from './outputs';
