/**
 * A watchdog that ends nix when the process that started it dies without cleaning up (kill -9, the out-of-memory
 * killer, a crash). nix runs in a process group of its own (so that a cancel can signal all of it), which also
 * means nothing ends it when we die: Linux's PR_SET_PDEATHSIG is not reachable from node, and macOS has none.
 *
 * So one small process per runner owner watches a pipe from us: we write `+<pid>` when a nix group starts
 * and `-<pid>` when it ends. The pipe closes when we die, however we die; the watchdog then sends SIGTERM to
 * every group still listed (nix ends its builders on SIGTERM), and after a grace period (whole seconds, rounded up)
 * SIGKILL to the groups and to every descendant it saw (builders run in sessions of their own, which a group signal
 * misses). It runs detached (its own group), so a signal to our group or a terminal hangup does not take it down
 * first.
 *
 * The watchdog is a fixed /bin/sh script (no value of ours is ever put into it: pids arrive on its stdin, and a
 * line that is not `+` or `-` and digits is skipped): a node process started for it cost ~100 ms of CPU, while
 * nix, which it shares the machine with, was running (bench/RESULTS.md, closure section); sh starts in ~2 ms.
 * Node's own spawn is used with an argument array, as execa would, because the watchdog must be unref'd: it may
 * never keep us alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The watchdog's program, run with `/bin/sh -c`; its one argument is the grace period in milliseconds. Lines of
 * plain strings (no template: every `${` in it is the shell's).
 */
export const WATCHDOG_SOURCE = [
  "trap '' INT HUP TERM PIPE",
  "case $1 in ''|*[!0-9]*) grace=3 ;; *) grace=$(( ($1 + 999) / 1000 )) ;; esac",
  "groups=' '",
  'while IFS= read -r line; do',
  '  pid=${line#?}',
  "  case $pid in ''|*[!0-9]*) continue ;; esac",
  '  [ "$pid" -gt 1 ] || continue',
  '  case $line in',
  '    +*) case $groups in *" $pid "*) ;; *) groups="$groups$pid " ;; esac ;;',
  '    -*) case $groups in *" $pid "*) groups="${groups%% "$pid" *} ${groups#* "$pid" }" ;; esac ;;',
  '  esac',
  'done',
  '[ "$groups" = \' \' ] && exit 0',
  'descendants() {',
  "  pairs=' '",
  '  for f in /proc/[0-9]*/stat; do',
  '    { read -r stat < "$f"; } 2>/dev/null || continue',
  '    p=${f#/proc/}',
  '    p=${p%/stat}',
  '    set -- ${stat##*) }',
  '    pairs="$pairs$p:$2 "',
  '  done',
  '  queue=$groups',
  "  out=' '",
  '  while :; do',
  '    set -- $queue',
  '    [ $# -gt 0 ] || break',
  '    x=$1',
  '    shift',
  '    queue="$* "',
  '    for pair in $pairs; do',
  '      case $pair in *":$x") c=${pair%%:*}; case $out in *" $c "*) ;; *) out="$out$c "; queue="$queue$c " ;; esac ;; esac',
  '    done',
  '  done',
  '  echo "$out"',
  '}',
  'seen=$(descendants)',
  'for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done',
  'sleep "$grace"',
  'seen="$seen $(descendants)"',
  'for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done',
  'for p in $seen; do kill -s KILL -- "-$p" 2>/dev/null; kill -s KILL "$p" 2>/dev/null; done',
  'exit 0',
].join('\n');

export class NixWatchdog {
  private child: ChildProcess | undefined;
  private failed = false;

  constructor(private readonly graceMs: number) {}

  /** Lists a nix process group; started on first use. A watchdog that cannot start costs only this safety net. */
  watch(pid: number): void {
    this.send(`+${pid}\n`);
  }

  unwatch(pid: number): void {
    if (this.child) this.send(`-${pid}\n`);
  }

  private send(line: string): void {
    const child = this.start();
    if (!child?.stdin || child.stdin.destroyed) return;
    child.stdin.write(line);
  }

  private start(): ChildProcess | undefined {
    if (this.child || this.failed) return this.child;
    try {
      const child = spawn(
        '/bin/sh',
        ['-c', WATCHDOG_SOURCE, 'closure-lens-watchdog', String(Math.ceil(this.graceMs))],
        {
          stdio: ['pipe', 'ignore', 'ignore'],
          detached: true,
        },
      );
      child.on('error', () => {
        this.failed = true;
        this.child = undefined;
      });
      child.stdin?.on('error', () => undefined);
      child.unref();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      this.child = child;
    } catch {
      this.failed = true;
    }
    return this.child;
  }
}

let processWatchdog: NixWatchdog | undefined;

/**
 * The one watchdog of this process: every runner that asks shares it, so a runner rebuilt after a settings change
 * (the extension's) does not leave another watchdog behind for the rest of the session.
 */
export function processNixWatchdog(graceMs: number): NixWatchdog {
  return (processWatchdog ??= new NixWatchdog(graceMs));
}
