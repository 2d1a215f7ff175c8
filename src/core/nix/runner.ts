/**
 * The one way closure-lens runs nix: execa with an argument array (never a shell), a timeout, cancellation
 * that ends the whole process tree, stderr delivered line by line for progress, and failures turned into
 * ClosureLensErrors with a cause and a fix.
 *
 * nix runs in its own process group (detached), so a cancel can signal nix and everything it forked.
 * SIGTERM first: Nix handles it and kills its builders, which run in sessions of their own that a group
 * signal does not reach. If nix has not exited after a grace period, SIGKILL goes to its group and to every
 * descendant found through /proc.
 */
import type * as ExecaModule from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ClosureLensError, classifyNixFailure } from '../errors';
import { MAX_TIMEOUT_MS } from './limits';
import { processNixWatchdog } from './watchdog';
import type { PrestartedNix, WatchdogLike } from './prestart';
import { parseNixVersion, versionLabel, type NixVersion } from './version';

export { MAX_TIMEOUT_MS, MAX_TIMEOUT_SECONDS } from './limits';

// execa loads with the first call that needs it: a cold closure whose one nix call was prestarted (prestart.ts) and
// whose Nix version is remembered never loads it (~15 ms of start-up code, while nix runs on the same two cores).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const execaModule = (): typeof ExecaModule => require('execa') as typeof ExecaModule;

export interface RunOptions {
  /** Overrides the runner's default timeout for this call. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly cwd?: string;
  /** Called with each stderr line (without the line break) as it arrives. */
  readonly onStderrLine?: (line: string) => void;
  /** Written to nix's stdin; stdin is closed (`/dev/null`) otherwise. */
  readonly stdin?: string;
  /**
   * Each stdout chunk as nix writes it, undecoded (`stdout` is then ''): a large JSON can be read while nix still
   * writes it, or moved to a worker thread, without being decoded or joined on this one. The output limit still
   * applies; a call that fails after some chunks throws as usual.
   */
  readonly onStdoutChunk?: (chunk: Buffer) => void;
}

export interface RunResult {
  readonly stdout: string;
  /** Stderr (its last 4 MiB when it was longer). */
  readonly stderr: string;
  readonly durationMs: number;
}

/** One finished nix call, for logs. */
export interface CommandRecord {
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly exitCode?: number;
  readonly stderr: string;
}

export interface NixRunnerOptions {
  /** The nix binary: a name looked up on PATH or an absolute path. Default `nix`. */
  readonly nixPath?: string;
  /** Put before every command's arguments, e.g. `['--option', 'substituters', '']`. */
  readonly extraArgs?: readonly string[];
  /** Added to the inherited environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Default timeout per call; 10 minutes unless set. 0 means none. */
  readonly timeoutMs?: number;
  /** How long nix gets to exit after SIGTERM before the group is SIGKILLed. */
  readonly killGraceMs?: number;
  readonly onCommand?: (c: CommandRecord) => void;
  /** The most stdout one call may print before it is stopped as too large; default 480 MiB. */
  readonly maxStdoutBytes?: number;
  /**
   * End nix even when this process is killed outright (kill -9): a watchdog process (watchdog.ts) outlives us and
   * stops the nix groups still running. The CLI and the extension set it; costs one small /bin/sh process per process.
   */
  readonly dieWithParent?: boolean;
  /**
   * A nix process started before this runner (prestart.ts): the first run() of exactly its command takes it over
   * instead of starting nix again (the watchdog is the prestart's then); a first run of another command stops it.
   */
  readonly prestarted?: PrestartedNix;
}

/** A started nix process, whether execa started it or it was prestarted. */
interface Spawned {
  readonly pid: number | undefined;
  /** Each output chunk, from the first. */
  onStdout(listener: (chunk: Buffer) => void): void;
  onStderr(listener: (chunk: Buffer) => void): void;
  /** Stops waiting for the output pipes (a process that escaped the kill may hold them open). */
  destroyPipes(): void;
  readonly result: Promise<SpawnResult>;
}

/** The part of execa's result the runner reads. */
interface SpawnResult {
  readonly exitCode?: number | undefined;
  readonly signal?: string | undefined;
  readonly failed: boolean;
  readonly isMaxBuffer?: boolean;
  /** The spawn error's code (ENOENT, EACCES) when it could not start. */
  readonly code?: string;
  readonly stdout?: unknown;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

const STDERR_KEPT = 4 * 1024 * 1024;
// A 100,000-path `path-info --json` is about 100 MB; V8 strings end near 512 MB.
const STDOUT_MAX = 480 * 1024 * 1024;

export class NixRunner {
  readonly binary: string;
  private readonly extraArgs: readonly string[];
  private readonly env: Readonly<Record<string, string>>;
  private readonly defaultTimeoutMs: number;
  private readonly killGraceMs: number;
  private readonly onCommand: ((c: CommandRecord) => void) | undefined;
  private readonly maxStdoutBytes: number;
  private readonly watchdog: WatchdogLike | undefined;
  private prestarted: PrestartedNix | undefined;
  private versionPromise: Promise<NixVersion> | undefined;
  private knownVersion: NixVersion | undefined;

  constructor(options: NixRunnerOptions = {}) {
    this.binary = options.nixPath && options.nixPath.trim() !== '' ? options.nixPath : 'nix';
    this.extraArgs = options.extraArgs ?? [];
    this.env = options.env ?? {};
    this.defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.killGraceMs = options.killGraceMs ?? 3000;
    this.onCommand = options.onCommand;
    this.maxStdoutBytes = options.maxStdoutBytes ?? STDOUT_MAX;
    this.prestarted = options.prestarted;
    this.watchdog = options.dieWithParent
      ? (options.prestarted?.watchdog ?? processNixWatchdog(this.killGraceMs))
      : undefined;
  }

  /**
   * Implementation and version, asked once (`nix --version`, under the runner's timeout like every call: a nix
   * behind a slow wrapper or network file system may need more than a fixed limit); a failed attempt is retried.
   */
  version(opts: { signal?: AbortSignal } = {}): Promise<NixVersion> {
    this.versionPromise ??= this.run(['--version'], opts.signal ? { signal: opts.signal } : {}).then(
      (r) => (this.knownVersion = parseNixVersion(r.stdout)),
      (e: unknown) => {
        this.versionPromise = undefined;
        throw e;
      },
    );
    return this.versionPromise;
  }

  async run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const fullArgs = [...this.extraArgs, ...args];
    const prestarted = this.takePrestarted(fullArgs, opts);
    if (opts.signal?.aborted) {
      prestarted?.discard();
      throw cancelled(this.binary, fullArgs);
    }
    const timeoutMs = Math.min(opts.timeoutMs ?? this.defaultTimeoutMs, MAX_TIMEOUT_MS);
    // A prestarted call's time (and timeout) counts from its real start.
    const started = prestarted ? prestarted.startedAt : performance.now();
    const onStdoutChunk = opts.onStdoutChunk;

    const sub = prestarted ? takenOver(prestarted) : this.start(fullArgs, opts);
    const pid = sub.pid;
    if (pid !== undefined) {
      trackGroup(pid);
      // The prestart listed it already.
      if (!prestarted) this.watchdog?.watch(pid);
    }

    const stderr = new StderrCollector(opts.onStderrLine);
    sub.onStderr((chunk) => stderr.push(chunk));

    let stopReason: 'cancelled' | 'timeout' | 'too-much-output' | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const stop = (reason: 'cancelled' | 'timeout' | 'too-much-output'): void => {
      if (stopReason || pid === undefined) return;
      stopReason = reason;
      signalGroup(pid, 'SIGTERM');
      graceTimer = setTimeout(() => {
        killTree(pid);
        // A process that escaped the kill may still hold our pipes open; stop waiting for them.
        graceTimer = setTimeout(() => {
          sub.destroyPipes();
        }, this.killGraceMs);
      }, this.killGraceMs);
    };
    let stdoutBytes = 0;
    if (onStdoutChunk) {
      sub.onStdout((chunk) => {
        stdoutBytes += chunk.byteLength;
        if (stdoutBytes > this.maxStdoutBytes) stop('too-much-output');
        else if (stopReason === undefined) onStdoutChunk(chunk);
      });
    }
    const onAbort = (): void => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeoutMs > 0
        ? setTimeout(() => stop('timeout'), Math.max(0, timeoutMs - (performance.now() - started)))
        : undefined;

    let result;
    try {
      result = await sub.result;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      if (pid !== undefined) {
        // Whatever nix left in its group (a stray child) goes with it.
        if (stopReason) signalGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
        this.watchdog?.unwatch(pid);
      }
      if (graceTimer) clearTimeout(graceTimer);
    }
    stderr.end();
    const durationMs = performance.now() - started;
    const stderrText = stderr.text();
    const record = (ok: boolean): void =>
      this.onCommand?.({
        args: fullArgs,
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
        durationMs,
        ok,
        ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
        stderr: stderrText,
      });

    if (stopReason === 'cancelled') {
      record(false);
      throw cancelled(this.binary, fullArgs);
    }
    if (stopReason === 'too-much-output') {
      record(false);
      throw tooMuchOutput(this.binary, fullArgs, this.maxStdoutBytes, result);
    }
    if (stopReason === 'timeout') {
      record(false);
      throw new ClosureLensError(
        'timeout',
        `\`${this.binary} ${fullArgs.join(' ')}\` did not finish within ${formatSeconds(timeoutMs)} and was stopped`,
        {
          fix: 'raise the timeout (the nixClosureLens.timeoutSeconds setting or --timeout) or find out why Nix is slow (a large evaluation, a build, a stuck download)',
          detail: stderrText,
        },
      );
    }
    const code = result.code;
    if (code === 'ENOENT' || code === 'EACCES') {
      record(false);
      throw new ClosureLensError(
        'nix-not-found',
        `cannot run '${this.binary}': ${code === 'ENOENT' ? 'not found' : 'permission denied'}`,
        {
          fix: 'install Nix (https://nixos.org/download) or point closure-lens at the nix binary (the nixClosureLens.nixPath setting or --nix)',
          cause: result,
        },
      );
    }
    if (result.failed) {
      record(false);
      if (result.signal && !result.isMaxBuffer) {
        // Killed from outside (the out-of-memory killer, a kill): its output is partial and must not be used.
        throw new ClosureLensError(
          'nix-failed',
          `\`${this.binary} ${fullArgs.join(' ')}\` was killed by ${result.signal}`,
          {
            fix: 'run it again; if it happens again, look for the out-of-memory killer in `dmesg` or `journalctl -k`',
            detail: stderrText,
            cause: result,
          },
        );
      }
      if (result.isMaxBuffer) throw tooMuchOutput(this.binary, fullArgs, this.maxStdoutBytes, result);
      throw classifyNixFailure({
        args: fullArgs,
        stderr: stderrText,
        exitCode: result.exitCode,
        binary: this.binary,
        ...(this.knownVersion ? { versionLabel: versionLabel(this.knownVersion) } : {}),
      });
    }
    record(true);
    return { stdout: String(result.stdout ?? ''), stderr: stderrText, durationMs };
  }

  private start(fullArgs: string[], opts: RunOptions): Spawned {
    const sub = execaModule().execa(this.binary, fullArgs, {
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      env: this.env,
      extendEnv: true,
      ...(opts.stdin !== undefined ? { input: opts.stdin } : { stdin: 'ignore' as const }),
      detached: true,
      cleanup: false,
      reject: false,
      stripFinalNewline: false,
      // With onStdoutChunk the chunks go there as they come: joining 50 MB into one buffer would stall this thread.
      buffer: { stdout: opts.onStdoutChunk === undefined, stderr: false },
      maxBuffer: { stdout: this.maxStdoutBytes },
    });
    return {
      pid: sub.pid,
      onStdout: (listener) => sub.stdout?.on('data', listener),
      onStderr: (listener) => sub.stderr?.on('data', listener),
      destroyPipes: () => {
        sub.stdout?.destroy();
        sub.stderr?.destroy();
      },
      result: sub as Promise<SpawnResult>,
    };
  }

  /**
   * The prestarted process, when this run is exactly its command (same binary, arguments and environment, no cwd,
   * no stdin, output taken chunk by chunk, which is how it was started); it is offered to the first run only, and
   * stopped when that run is another command.
   */
  private takePrestarted(fullArgs: readonly string[], opts: RunOptions): PrestartedNix | undefined {
    const prestarted = this.prestarted;
    if (!prestarted) return undefined;
    this.prestarted = undefined;
    const same =
      prestarted.binary === this.binary &&
      prestarted.args.length === fullArgs.length &&
      prestarted.args.every((a, i) => a === fullArgs[i]) &&
      Object.keys(this.env).length === 0 &&
      opts.cwd === undefined &&
      opts.stdin === undefined &&
      opts.onStdoutChunk !== undefined;
    if (same && prestarted.claim()) return prestarted;
    prestarted.discard();
    return undefined;
  }
}

/** A prestarted process as the runner's own: its outcome read as execa reports one (reject: false). */
function takenOver(prestarted: PrestartedNix): Spawned {
  return {
    pid: prestarted.pid,
    onStdout: (listener) => prestarted.onStdout(listener),
    onStderr: (listener) => prestarted.onStderr(listener),
    destroyPipes: () => prestarted.destroyPipes(),
    result: prestarted.outcome.then((o) => ({
      failed: o.error !== undefined || o.exitCode !== 0 || o.signal !== null,
      ...(o.exitCode !== null ? { exitCode: o.exitCode } : {}),
      ...(o.signal !== null ? { signal: o.signal } : {}),
      ...(o.errorCode !== undefined ? { code: o.errorCode } : {}),
      isMaxBuffer: false,
    })),
  };
}

function tooMuchOutput(binary: string, args: readonly string[], limit: number, cause: unknown): ClosureLensError {
  const mib = Math.round(limit / 2 ** 20);
  return new ClosureLensError(
    'too-large',
    `the closure is too large to analyse here: \`${binary} ${args.join(' ')}\` printed more than ${mib} MiB and was stopped`,
    {
      fix: 'analyse a smaller closure (one package or one output instead of a whole system), or a part of it with --from-json',
      cause,
    },
  );
}

function cancelled(binary: string, args: readonly string[]): ClosureLensError {
  return new ClosureLensError('cancelled', `\`${binary} ${args.join(' ')}\` was cancelled`, {
    fix: 'run it again when you need it',
  });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Splits stderr into lines as it arrives and keeps the last STDERR_KEPT characters. */
class StderrCollector {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private chunks: string[] = [];
  private size = 0;

  constructor(private readonly onLine: ((line: string) => void) | undefined) {}

  push(chunk: Buffer): void {
    this.add(this.decoder.write(chunk));
  }

  end(): void {
    this.add(this.decoder.end());
    if (this.partial !== '') {
      this.emit(this.partial);
      this.partial = '';
    }
  }

  text(): string {
    return this.chunks.join('');
  }

  private add(s: string): void {
    if (s === '') return;
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > STDERR_KEPT && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    if (!this.onLine) return;
    const lines = (this.partial + s).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) this.emit(l);
  }

  private emit(line: string): void {
    try {
      this.onLine!(line.endsWith('\r') ? line.slice(0, -1) : line);
    } catch {
      // A failing progress callback must not break the nix call.
    }
  }
}

/** Process groups of nix calls still running; killed if this process exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const g of liveGroups) signalGroup(g, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

/**
 * SIGKILL for nix, its group, and every descendant in another session (Nix starts builders with setsid, so
 * a group signal misses them; found through /proc while nix is still their parent, Linux only).
 */
function killTree(pid: number): void {
  const victims = descendants(pid);
  signalGroup(pid, 'SIGKILL');
  for (const child of victims) {
    signalGroup(child, 'SIGKILL');
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may contain spaces and parentheses, so parse after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid);
      if (list) list.push(Number(entry));
      else children.set(ppid, [Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.pop()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
