/** What every subcommand gets from main: where it runs, where it writes, and the engine behind it. */
import type { LoadedClosure, Target } from '../core/load/engine';
import type { OriginLookup } from '../core/diff/diff';
import type { NixRunner } from '../core/nix/runner';
import type { ClosureLensError } from '../core/errors';

export interface CliContext {
  readonly cwd: string;
  /** Writes to stdout; `text` carries its own newlines. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly signal?: AbortSignal;
  /** Loads a closure through the engine (cache, progress and nix errors are handled there). */
  readonly load: (target: Target, opts: { signal?: AbortSignal }) => Promise<LoadedClosure>;
  /** ANSI colour on stdout (--color, NO_COLOR, and whether stdout is a terminal decide it). */
  readonly color?: boolean;
  /**
   * Builds an installable (ClosureEngine.realise), with progress on stderr. Without it an installable that is not
   * built yet fails with a 'not-built' error; a git revision's outputs usually are not built.
   */
  readonly realise?: (installable: string, opts: { cwd?: string; signal?: AbortSignal }) => Promise<string[]>;
  /** The engine's runner (honours --nix and --timeout), for commands that evaluate more (diff --options). */
  readonly nix?: NixRunner;
  /** Where commands keep their own caches (compressed sizes, attribution); null with --no-cache. */
  readonly cacheDir: string | null;
  /** Option attribution for added and forbidden paths, when the caller has it already (tests, the extension). */
  readonly origin?: (target: Target) => Promise<OriginLookup | undefined>;
}

/** One entry of the command table (src/cli/commandTable.ts). */
export interface Subcommand {
  /** One line for `closure-lens --help`. */
  readonly summary: string;
  /** The full usage text for `closure-lens <command> --help` and usage errors. */
  readonly usage: string;
  readonly run: (argv: string[], ctx: CliContext) => Promise<number>;
}

export function signalOpt(ctx: Pick<CliContext, 'signal'>): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

/** Builds an installable first (when the CLI may), then loads its closure. */
export async function loadBuilt(target: Target, ctx: CliContext): Promise<LoadedClosure> {
  if (target.kind === 'installable' && ctx.realise) {
    await ctx.realise(target.installable, { ...(target.cwd ? { cwd: target.cwd } : {}), ...signalOpt(ctx) });
  }
  return ctx.load(target, signalOpt(ctx));
}

/** `--build`: build the target first (progress on stderr); else load only what is in the store already. */
export function loadOrBuild(target: Target, ctx: CliContext, build: boolean): Promise<LoadedClosure> {
  return build ? loadBuilt(target, ctx) : ctx.load(target, signalOpt(ctx));
}

/** What the engine says a reader should know (an SBOM has no sizes, the cache could not be written). */
export function printNotes(ctx: CliContext, loaded: LoadedClosure): void {
  for (const note of loaded.notes ?? []) ctx.stderr(`note: ${oneLine(note)}\n`);
}

export function printUsage(ctx: CliContext, usage: string): number {
  ctx.stdout(usage);
  return 0;
}

/** How the CLI reports a ClosureLensError: one line on stderr, cause and fix. */
export function errorLine(e: ClosureLensError): string {
  return `closure-lens: ${oneLine(e.oneLine())}\n`;
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
