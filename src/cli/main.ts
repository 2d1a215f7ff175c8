/**
 * `closure-lens`: the closure engine on the command line. This file turns argv into a command (src/cli/
 * commandTable.ts) and its outcome into an exit code; the commands are in src/cli/commands/, their renderers in
 * src/cli/render/, their JSON shapes in src/cli/outputs/.
 *
 * Exit codes: 0 success, 1 a user error (one line on stderr saying what to do), 2 an internal error, 3 `check`
 * could not check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import packageJson from '../../package.json';
import { defaultCacheDir } from '../core/cacheDir';
import { ClosureLensError } from '../core/errors';
import { ClosureEngine } from '../core/load/engine';
import { GraphCache } from '../core/load/graphCache';
import type * as RunnerModule from '../core/nix/runner';
import type { PrestartedNix } from '../core/nix/prestart';
import type { NixRunner, NixRunnerOptions } from '../core/nix/runner';
import { COMMANDS, mainUsage } from './commandTable';
import { errorLine, oneLine, printNotes, type CliContext } from './context';
import { extractGlobalOptions, useColor, type GlobalOptions } from './globalOptions';

// The runner (and execa) loads when nix first runs; a query answered from the cache never loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runnerModule = (): typeof RunnerModule => require('../core/nix/runner') as typeof RunnerModule;

export interface MainIO {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stderrIsTTY: boolean;
  /** Colour goes only to a terminal (unless --color=always); absent means not a terminal. */
  readonly stdoutIsTTY?: boolean;
  /** NO_COLOR is read here; process.env when absent. */
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** A nix call the launcher started already (prestart.ts); the runner takes it over when it runs that command. */
  readonly prestarted?: PrestartedNix;
}

/** The whole CLI: argv in, exit code out. Never throws. */
export async function main(argv: string[], io: MainIO): Promise<number> {
  let cacheDir: string | null | undefined;
  try {
    const { options, rest } = extractGlobalOptions(argv);
    const [command, ...commandArgs] = rest;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(mainUsage());
      return 0;
    }
    if (command === '--version' || command === '-V') {
      io.stdout(`closure-lens ${packageJson.version}\n`);
      return 0;
    }
    const sub = COMMANDS[command];
    if (!sub) {
      const what = command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`;
      throw new ClosureLensError('bad-installable', what, {
        fix: `the commands are ${Object.keys(COMMANDS).join(', ')}; see \`closure-lens --help\``,
      });
    }
    // The one cache directory of this run: the graph cache, compressed sizes and attribution all live in it.
    cacheDir = options.noCache ? null : path.resolve(io.cwd, options.cacheDir ?? defaultCacheDir(io.env));
    const engine = makeEngine(options, cacheDir, io.prestarted);
    // --timeout goes to the runner (per nix call), which reports it as a timeout rather than a cancellation.
    const signal = io.signal;
    const ctx: CliContext = {
      cwd: io.cwd,
      stdout: io.stdout,
      stderr: io.stderr,
      ...(signal ? { signal } : {}),
      load: (target, opts) => {
        const progress = io.stderrIsTTY ? progressLine(io) : undefined;
        return engine
          .load(target, {
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(progress ? { onProgress: progress.update } : {}),
          })
          .finally(() => progress?.done())
          .then((loaded) => {
            printNotes(io, loaded);
            return loaded;
          });
      },
      realise: (installable, opts) => {
        // Builds can take long: a terminal gets the live line, a log (CI) one line per derivation started.
        const progress = io.stderrIsTTY ? progressLine(io) : buildLines(io);
        return engine
          .realise(installable, {
            ...(opts.cwd ? { cwd: opts.cwd } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(progress ? { onProgress: progress.update } : {}),
          })
          .finally(() => progress?.done());
      },
      nix: engine.nix,
      cacheDir,
      color: useColor(options.color, io.stdoutIsTTY === true, io.env),
    };
    return await sub.run(commandArgs, ctx);
  } catch (e) {
    return reportError(e, io, cacheDir);
  }
}

function makeEngine(options: GlobalOptions, cacheDir: string | null, prestarted?: PrestartedNix): ClosureEngine {
  const nix = lazyRunner({
    ...(options.nix ? { nixPath: options.nix } : {}),
    ...(options.timeoutSecs ? { timeoutMs: options.timeoutSecs * 1000 } : {}),
    // kill -9 of the CLI must not leave nix (and its builders) running on.
    dieWithParent: true,
    ...(prestarted ? { prestarted } : {}),
  });
  const store = options.store ? { store: options.store } : {};
  if (cacheDir === null) return new ClosureEngine({ nix, ...store });
  return new ClosureEngine({ nix, ...store, cache: new GraphCache(cacheDir) });
}

/** A NixRunner made (and execa loaded) when the engine first runs nix; a warm cached query never does. */
function lazyRunner(options: NixRunnerOptions): NixRunner {
  let real: NixRunner | undefined;
  const get = (): NixRunner => (real ??= new (runnerModule().NixRunner)(options));
  return new Proxy({} as NixRunner, {
    get(_target, prop) {
      const runner = get();
      const value: unknown = Reflect.get(runner, prop, runner);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(runner) : value;
    },
  });
}

/** One self-overwriting progress line on a terminal's stderr. */
function progressLine(io: MainIO): { update: (p: unknown) => void; done: () => void } {
  let shown = false;
  return {
    update: (p) => {
      const text = progressText(p);
      if (!text) return;
      io.stderr(`\r\u001b[K${text.slice(0, 120)}`);
      shown = true;
    },
    done: () => {
      if (shown) io.stderr('\r\u001b[K');
    },
  };
}

/** Without a terminal: `building <derivation>` once per derivation that starts building. */
function buildLines(io: MainIO): { update: (p: unknown) => void; done: () => void } {
  const seen = new Set<string>();
  return {
    update: (p) => {
      const current = typeof p === 'object' && p !== null ? (p as { current?: unknown }).current : undefined;
      if (typeof current !== 'string' || seen.has(current)) return;
      seen.add(current);
      io.stderr(`building ${current}\n`);
    },
    done: () => undefined,
  };
}

function progressText(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (typeof p === 'object' && p !== null) {
    const o = p as Record<string, unknown>;
    for (const key of ['message', 'text', 'phase']) if (typeof o[key] === 'string') return o[key] as string;
  }
  return undefined;
}

function reportError(e: unknown, io: MainIO, cacheDir: string | null | undefined): number {
  if (e instanceof ClosureLensError) {
    io.stderr(errorLine(e, cacheDir));
    return 1;
  }
  const message = e instanceof Error ? e.message : String(e);
  io.stderr(
    `closure-lens: internal error: ${oneLine(message)} (please report it; set CLOSURE_LENS_DEBUG=1 for details)\n`,
  );
  if (process.env['CLOSURE_LENS_DEBUG'] && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return 2;
}

/** Whether stdout is a file (or /dev/null), which node writes synchronously; asked once. */
let stdoutFile: boolean | undefined;
function stdoutIsFile(): boolean {
  if (stdoutFile === undefined) {
    try {
      const st = fs.fstatSync(1);
      stdoutFile = st.isFile() || (st.isCharacterDevice() && process.stdout.isTTY !== true);
    } catch {
      stdoutFile = false;
    }
  }
  return stdoutFile;
}

const STDOUT_PIECE = 64 * 1024;

/** `text` cut into pieces of about `length` UTF-16 units, never between the two halves of a surrogate pair. */
export function textPieces(text: string, length: number): string[] {
  const pieces: string[] = [];
  for (let from = 0; from < text.length;) {
    let to = Math.min(from + length, text.length);
    // A lone half would be written as U+FFFD.
    if (to < text.length && (text.charCodeAt(to - 1) & 0xfc00) === 0xd800) to++;
    pieces.push(text.slice(from, to));
    from = to;
  }
  return pieces;
}

function writeStdout(text: string): void {
  try {
    if (!stdoutIsFile()) {
      process.stdout.write(text);
      return;
    }
    // Into a file, node would first copy the whole text into a Buffer of its own: at 4 MB (closure --json of
    // 10,000 paths) fresh memory whose page faults took ~15 ms. Pieces are encoded into a small reused buffer.
    if (text.length <= STDOUT_PIECE) writePiece(text);
    else for (const piece of textPieces(text, STDOUT_PIECE)) writePiece(piece);
  } catch (e) {
    // `closure-lens … | head`: the reader left; nothing more to say.
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
  }
}

/** Where writeStdout encodes each piece: UTF-8 takes at most 3 bytes per UTF-16 unit (a piece may be one longer). */
let pieceBuffer: Buffer | undefined;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * One piece into stdout through the reused buffer. ASCII text (closure --json: store paths and numbers) is the same
 * bytes in Latin-1, which node 20 encodes far faster than UTF-8 (4 MB: 0.6 ms against 15 ms; `fs.writeSync` of the
 * string itself took as long); any other piece is encoded as UTF-8, as before.
 */
function writePiece(piece: string): void {
  const buffer = (pieceBuffer ??= Buffer.allocUnsafe(3 * (STDOUT_PIECE + 1)));
  const length = buffer.write(piece, 0, NON_ASCII.test(piece) ? 'utf8' : 'latin1');
  for (let at = 0; at < length;) at += fs.writeSync(1, buffer, at, length - at);
}

/** The signals that stop the CLI as Ctrl-C does: nix and its builders are stopped, then the CLI exits 128 + n. */
const STOP_SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/** Runs the CLI as this process: argv, stdio, signals, and the exit code (dist/closure-lens.js calls it). */
export function runAsProcess(prestarted?: PrestartedNix): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  const abort = new AbortController();
  let stoppedBy: keyof typeof STOP_SIGNALS | undefined;
  for (const name of Object.keys(STOP_SIGNALS) as (keyof typeof STOP_SIGNALS)[]) {
    // Once: a second signal ends the CLI at once (the exit hooks and the nix watchdog still stop nix).
    process.once(name, () => {
      stoppedBy ??= name;
      for (const other of Object.keys(STOP_SIGNALS)) if (other !== name) process.removeAllListeners(other);
      abort.abort(new Error(`interrupted by ${name}`));
    });
  }
  void main(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: writeStdout,
    stderr: (t) => process.stderr.write(t),
    stderrIsTTY: process.stderr.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    signal: abort.signal,
    ...(prestarted ? { prestarted } : {}),
  }).then((code) => {
    // Stopped by a signal, the command answers at once while nix is still ending its builders (SIGTERM): the
    // process stays until nix is gone, since its exit hook SIGKILLs nix's group and a builder in a session of its
    // own would outlive that.
    if (stoppedBy) process.exitCode = 128 + STOP_SIGNALS[stoppedBy];
    else exitOnceWritten(code);
  });
}

/**
 * Ends the process as soon as what it wrote has left. A command that ran to its end has awaited every piece of its
 * work, so nothing is cut short; what a natural exit adds after that is the event loop winding down and the heap
 * torn down: 10–20 ms after a 10,000-path `closure --json`. The 'exit' handlers (the code cache) still run. Writes
 * to a pipe or terminal can be pending on some systems (macOS pipes): those end first.
 */
function exitOnceWritten(code: number): void {
  process.exitCode = code;
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
  if (pending.length === 0) process.exit();
  const written = (s: NodeJS.WriteStream) =>
    new Promise((resolve) => {
      // A reader that left (EPIPE) never drains.
      for (const event of ['drain', 'error', 'close']) s.once(event, resolve);
    });
  void Promise.all(pending.map(written)).then(() => process.exit());
}

if (require.main === module) runAsProcess();
