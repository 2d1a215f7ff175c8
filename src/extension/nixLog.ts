/**
 * The "Nix Closure Lens" output channel: every nix command with its arguments, duration and outcome, so that a
 * failure can be retraced ("Show log"). It also keeps the recent commands in memory for the tests' hook.
 */
import * as vscode from 'vscode';
import { shellQuote } from '../shared/shellQuote';

export interface LoggedCommand {
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly at: number;
}

const KEPT = 500;

export class NixLog implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private readonly recent: LoggedCommand[] = [];
  private total = 0;

  constructor() {
    this.channel = vscode.window.createOutputChannel('Nix Closure Lens', { log: true });
  }

  command(cmd: Omit<LoggedCommand, 'at'>, detail?: string): void {
    const entry = { ...cmd, at: Date.now() };
    this.total++;
    this.recent.push(entry);
    if (this.recent.length > KEPT) this.recent.splice(0, this.recent.length - KEPT);
    const line = `${cmd.ok ? 'ok' : 'failed'} ${(cmd.durationMs / 1000).toFixed(2)}s: nix ${cmd.args.map(shellQuote).join(' ')}${
      cmd.cwd ? `  (in ${cmd.cwd})` : ''
    }`;
    if (cmd.ok) this.channel.info(line);
    // Listing a flake asks for every output category; one the flake does not define is normal, not an error.
    else if (detail && /does not provide attribute '[^']+'/.test(detail) && isListing(cmd.args))
      this.channel.info(`${line.replace(/^failed/, 'not defined')}: the flake has no such output`);
    else this.channel.error(detail ? `${line}\n${detail}` : line);
  }

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string, err?: unknown): void {
    this.channel.error(err === undefined ? message : `${message}: ${describe(err)}`);
  }

  show(): void {
    this.channel.show(true);
  }

  /** Commands run since activation (the last 500), and how many in total. */
  commands(): { readonly total: number; readonly recent: readonly LoggedCommand[] } {
    return { total: this.total, recent: [...this.recent] };
  }

  dispose(): void {
    this.channel.dispose();
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

/** `nix eval --json .#<category>… --apply builtins.attrNames`: the flake-output listing's probe of one category. */
function isListing(args: readonly string[]): boolean {
  return args.includes('eval') && args.includes('builtins.attrNames');
}
