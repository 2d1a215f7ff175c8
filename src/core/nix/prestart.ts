/**
 * A nix call started before the runner that will own it exists. The CLI's launcher starts `nix path-info` for a
 * cold `closure <store path>` before the CLI bundle is even compiled (src/cli/prestart.ts): nix then runs while
 * the bundle loads, instead of ~60–100 ms later. The first NixRunner.run() whose command is exactly this one takes
 * the process over (NixRunnerOptions.prestarted) and treats it as one it started itself: the same timeout,
 * cancellation, output limit, watchdog and error messages. A run of any other command means the engine chose
 * differently (the guess was wrong); the prestarted process is then stopped and costs only its CPU.
 *
 * The process is started as the runner starts nix (node's spawn, argument array, no shell, its own process group,
 * stdin closed, the inherited environment) and listed with the watchdog at once, as the runner does. Until it is
 * taken over it holds nothing open in the event loop: a CLI that never needs it (an error, a cache hit) exits as
 * usual, and an exit hook kills its group then.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { processNixWatchdog, type NixWatchdog } from './watchdog';
import { DEFAULT_KILL_GRACE_MS } from './limits';

/** How a prestarted process ended: its exit (code or signal), or the error that kept it from starting. */
export interface PrestartOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The spawn error's code (ENOENT, EACCES) when it never ran. */
  readonly errorCode?: string;
  readonly error?: Error;
}

/** The watchdog's part the runner uses: structural, since the launcher's bundle and the CLI's each have theirs. */
export type WatchdogLike = Pick<NixWatchdog, 'watch' | 'unwatch'>;

export interface PrestartedNix {
  readonly binary: string;
  readonly args: readonly string[];
  readonly pid: number | undefined;
  /** performance.now() when it was started: the runner's timeout counts from here. */
  readonly startedAt: number;
  /** The watchdog that lists it; the runner that takes it over uses this one too (one watchdog per process). */
  readonly watchdog: WatchdogLike | undefined;
  /** Settles when it has exited and its output pipes have closed, or it could not start. Never rejects. */
  readonly outcome: Promise<PrestartOutcome>;
  /** Takes it over (once): true when it is the caller's now; it then keeps the event loop alive again. */
  claim(): boolean;
  /** Each stdout chunk, from the first (those that came before are passed on at once); after claim(). */
  onStdout(listener: (chunk: Buffer) => void): void;
  onStderr(listener: (chunk: Buffer) => void): void;
  /** Stops reading its output pipes. */
  destroyPipes(): void;
  /** Stops it (SIGKILL to its group) unless it is taken over or has ended. */
  discard(): void;
}

/**
 * Starts `binary args` as NixRunner.run would, with the watchdog, for a runner to take over. Returns undefined when
 * node cannot even try (the runner then starts it itself and reports the failure).
 */
export function prestartNix(
  binary: string,
  args: readonly string[],
  options: { dieWithParent: boolean } = { dieWithParent: true },
): PrestartedNix | undefined {
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch {
    return undefined;
  }
  const startedAt = performance.now();
  const pid = child.pid;
  const watchdog = options.dieWithParent ? processNixWatchdog(DEFAULT_KILL_GRACE_MS) : undefined;
  if (pid !== undefined) watchdog?.watch(pid);
  let exited = false;
  let claimed = false;
  const outcome = new Promise<PrestartOutcome>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      exited = true;
      resolve({
        exitCode: null,
        signal: null,
        error,
        ...(typeof error.code === 'string' ? { errorCode: error.code } : {}),
      });
    });
    child.once('exit', () => {
      exited = true;
      // Claimed, the runner unlists it; unclaimed, nothing else would (and its pid may be reused).
      if (!claimed && pid !== undefined) watchdog?.unwatch(pid);
    });
    child.once('close', (exitCode: number | null, signal: NodeJS.Signals | null) => resolve({ exitCode, signal }));
  });
  const killGroup = (): void => {
    if (exited || pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  // Unclaimed, it must neither keep this process alive nor outlive it.
  process.once('exit', () => {
    if (!claimed) killGroup();
  });
  const stdout = new HeldOutput(child.stdout);
  const stderr = new HeldOutput(child.stderr);
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  return {
    binary,
    args,
    pid,
    startedAt,
    watchdog,
    outcome,
    claim() {
      if (claimed) return false;
      claimed = true;
      child.ref();
      (child.stdout as { ref?: () => void } | null)?.ref?.();
      (child.stderr as { ref?: () => void } | null)?.ref?.();
      return true;
    },
    onStdout: (listener) => stdout.pipeTo(listener),
    onStderr: (listener) => stderr.pipeTo(listener),
    destroyPipes() {
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
    discard() {
      if (claimed) return;
      claimed = true;
      killGroup();
      if (pid !== undefined && !exited) watchdog?.unwatch(pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
}

/**
 * One output pipe of a prestarted process, held until the runner listens. It must be read from the start: when the
 * process exits, node resumes every pipe nobody reads and what is in it is lost (a small closure's nix is done
 * before the CLI bundle has loaded). So it is read at once, paused (nix waits at a full pipe, as it would for the
 * runner), and what arrives (all of it once nix has exited) is kept for the listener.
 */
class HeldOutput {
  private held: Buffer[] = [];
  private listener: ((chunk: Buffer) => void) | undefined;

  constructor(private readonly stream: Readable | null) {
    if (!stream) return;
    // A pipe error must not be an uncaught 'error'; the outcome still settles on 'close'.
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => (this.listener ? this.listener(chunk) : this.held.push(chunk)));
    stream.pause();
  }

  pipeTo(listener: (chunk: Buffer) => void): void {
    const held = this.held;
    this.held = [];
    for (const chunk of held) listener(chunk);
    this.listener = listener;
    this.stream?.resume();
  }
}
