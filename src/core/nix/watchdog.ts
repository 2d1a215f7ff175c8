/**
 * A watchdog that ends nix when the process that started it dies without cleaning up (kill -9, the out-of-memory
 * killer, a crash). nix runs in a process group of its own (so that a cancel can signal all of it), which also
 * means nothing ends it when we die: Linux's PR_SET_PDEATHSIG is not reachable from node, and macOS has none.
 *
 * So one small node process per runner owner watches a pipe from us: we write `+<pid>` when a nix group starts
 * and `-<pid>` when it ends. The pipe closes when we die, however we die; the watchdog then sends SIGTERM to
 * every group still listed (nix ends its builders on SIGTERM), and after a grace period SIGKILL to the groups and
 * to every descendant it saw (builders run in sessions of their own, which a group signal misses). It runs
 * detached (its own group), so a signal to our group or a terminal hangup does not take it down first.
 *
 * Node's own spawn is used with an argument array (no shell), as execa would, because the watchdog must be
 * unref'd: it may never keep us alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** The watchdog's program, run with `node -e`; it needs nothing but node. */
const WATCHDOG_SOURCE = String.raw`
const fs = require('fs');
const graceMs = Number(process.argv[1]) || 3000;
const groups = new Set();
let buf = '';
for (const s of ['SIGINT', 'SIGHUP', 'SIGTERM', 'SIGPIPE']) process.on(s, () => {});
process.stdin.on('data', (d) => {
  buf += d;
  for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
    const line = buf.slice(0, i);
    const pid = Number(line.slice(1));
    if (!(pid > 1)) continue;
    if (line[0] === '+') groups.add(pid);
    else groups.delete(pid);
  }
});
const signal = (pid, sig) => { try { process.kill(pid, sig); } catch {} };
function descendants(roots) {
  const children = new Map();
  let entries = [];
  try { entries = fs.readdirSync('/proc'); } catch {}
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync('/proc/' + e + '/stat', 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(e));
    } catch {}
  }
  const out = [];
  const queue = [...roots];
  while (queue.length > 0) for (const c of children.get(queue.pop()) || []) { out.push(c); queue.push(c); }
  return out;
}
process.stdin.on('end', () => {
  if (groups.size === 0) process.exit(0);
  const seen = new Set(descendants(groups));
  for (const g of groups) signal(-g, 'SIGTERM');
  setTimeout(() => {
    for (const p of descendants(groups)) seen.add(p);
    for (const g of groups) signal(-g, 'SIGKILL');
    for (const p of seen) { signal(-p, 'SIGKILL'); signal(p, 'SIGKILL'); }
    process.exit(0);
  }, graceMs);
});
`;

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
      const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(this.graceMs)], {
        stdio: ['pipe', 'ignore', 'ignore'],
        detached: true,
        // In VS Code's extension host execPath is Electron: this makes it a plain node.
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
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
