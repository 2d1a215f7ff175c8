/** What every subcommand gets from main: where it runs, where it writes, and the engine behind it. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LoadedClosure, Target } from '../core/load/engine';
import type { OriginLookup } from '../core/diff/diff';
import type { NixRunner } from '../core/nix/runner';
import { ClosureLensError, isClosureLensError } from '../core/errors';

export interface CliContext {
  readonly cwd: string;
  /** Writes to stdout; `text` carries its own newlines. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly signal?: AbortSignal;
  /**
   * Loads a closure through the engine (cache, progress and nix errors are handled there). Its notes (an SBOM has
   * no sizes, the cache could not be written) are printed on stderr as it loads, whatever the output format.
   */
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
export async function loadOrBuild(target: Target, ctx: CliContext, build: boolean): Promise<LoadedClosure> {
  if (build) return loadBuilt(target, ctx);
  try {
    return await ctx.load(target, signalOpt(ctx));
  } catch (e) {
    if (!isClosureLensError(e, 'not-built') || target.kind !== 'installable') throw e;
    throw new ClosureLensError(e.code, e.message, {
      fix: `run the command again with --build (progress on stderr), or build it first: nix build --no-link '${target.installable}'`,
      cause: e,
    });
  }
}

/** What the engine says a reader should know (an SBOM has no sizes, the cache could not be written). */
export function printNotes(ctx: Pick<CliContext, 'stderr'>, loaded: LoadedClosure): void {
  for (const note of loaded.notes ?? []) ctx.stderr(`note: ${oneLine(note)}\n`);
}

export function printUsage(ctx: CliContext, usage: string): number {
  ctx.stdout(usage);
  return 0;
}

/** Longer error lines are cut: a 10 MB nix stderr once became a 4 MB line. */
export const MAX_ERROR_LINE = 2000;
const KEPT_HEAD = 1200;
const KEPT_TAIL = 600;

/**
 * How the CLI reports a ClosureLensError: one line on stderr, cause and fix. A line longer than MAX_ERROR_LINE
 * keeps its head and its end (where the fix is), and the whole message with Nix's output goes to a log file
 * (`last-error.log` in the cache directory, else a new private folder under the temp directory) that it names.
 */
export function errorLine(e: ClosureLensError, logDir?: string | null): string {
  const line = oneLine(e.oneLine());
  if (line.length <= MAX_ERROR_LINE) return `closure-lens: ${line}\n`;
  const log = writeErrorLog(e, logDir);
  const cut = line.length - KEPT_HEAD - KEPT_TAIL;
  const where = log ? `; the whole message and Nix's output are in ${log}` : '';
  return `closure-lens: ${line.slice(0, KEPT_HEAD)} … [${cut} characters cut${where}] … ${line.slice(-KEPT_TAIL)}\n`;
}

function writeErrorLog(e: ClosureLensError, logDir: string | null | undefined): string | undefined {
  const text = `${e.message}\n\nfix: ${e.fix}\n${e.detail ? `\nNix's output (its last 4 MiB at most):\n${e.detail}\n` : ''}`;
  try {
    let file: string;
    if (logDir) {
      fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });
      file = path.join(logDir, 'last-error.log');
    } else {
      file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-error-')), 'error.log');
    }
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  } catch {
    return undefined; // the cut line still says what happened
  }
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
