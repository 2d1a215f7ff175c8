/**
 * What every bench section shares: the section interface, repeated timing with medians, running commands,
 * machine facts, and where generated data lives (bench/work/, gitignored).
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nixEnv, repoRoot } from '../test/support/fixtures';
export { seededRandom as prng } from '../test/support/prng';

export interface BenchContext {
  readonly repo: string;
  /** bench/work: generated closures, synthetic JSON, caches. Survives runs so reruns are fast. */
  readonly workDir: string;
  /** `--quick`: fewer repetitions, for trying a section out (never for RESULTS.md). */
  readonly quick: boolean;
  log(message: string): void;
}

export interface BenchSection {
  /** Used by `--only`. */
  readonly id: string;
  readonly title: string;
  /** Returns the section's Markdown for RESULTS.md (without its heading). */
  run(ctx: BenchContext): Promise<string>;
}

export function benchContext(quick: boolean): BenchContext {
  const repo = repoRoot();
  const workDir = path.join(repo, 'bench', 'work');
  fs.mkdirSync(workDir, { recursive: true });
  const start = Date.now();
  return {
    repo,
    workDir,
    quick,
    log: (m) => process.stderr.write(`[bench ${((Date.now() - start) / 1000).toFixed(0).padStart(4)}s] ${m}\n`),
  };
}

export interface Timing {
  /** Seconds, one per run. */
  readonly samples: number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { samples, median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

export interface Command {
  readonly label: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Runs before every timed run, untimed (e.g. emptying a cache directory for a cold run). */
  readonly before?: () => void;
}

/**
 * hyperfine-style: `warmup` untimed runs of each command, then `runs` rounds in which every command runs once,
 * interleaved so that drift on a shared machine hits all sides alike. Output goes to /dev/null; a non-zero
 * exit aborts the bench with the command's stderr.
 */
export async function compareCommands(commands: readonly Command[], runs: number, warmup = 1): Promise<Timing[]> {
  const samples: number[][] = commands.map(() => []);
  const once = async (c: Command): Promise<number> => {
    c.before?.();
    const t0 = now();
    const r = await execa(c.file, c.args, {
      // The whole environment is given (never merged with the bench's own; see nodeEnv).
      env: c.env ?? nixEnv(),
      extendEnv: false,
      stdout: 'ignore',
      stdin: 'ignore',
      reject: false,
      timeout: 15 * 60_000,
    });
    const t = now() - t0;
    if (r.exitCode !== 0)
      throw new Error(`${c.label}: ${c.file} ${c.args.join(' ')} exited ${r.exitCode}:\n${r.stderr}`);
    return t;
  };
  for (let w = 0; w < warmup; w++) for (const c of commands) await once(c);
  for (let k = 0; k < runs; k++) {
    for (let i = 0; i < commands.length; i++) samples[i]!.push(await once(commands[i]!));
  }
  return samples.map(summarize);
}

/** Times an in-process function `runs` times after `warmup` calls. */
export function timeInProcess(fn: () => void, runs: number, warmup = 3): Timing {
  for (let w = 0; w < warmup; w++) fn();
  const samples: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = now();
    fn();
    samples.push(now() - t0);
  }
  return summarize(samples);
}

export function seconds(s: number): string {
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}

export function timingCell(t: Timing): string {
  return `${seconds(t.median)} (${seconds(t.min)}–${seconds(t.max)})`;
}

export function verdict(ok: boolean): string {
  return ok ? 'met' : '**NOT met**';
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

async function nodeStartupLine(): Promise<string> {
  const clean = await nodeStartupMs(nodeEnv());
  if (!process.env['NODE_EXTRA_CA_CERTS']) return `${clean.toFixed(0)} ms`;
  const withCerts = await nodeStartupMs(nixEnv());
  return `${clean.toFixed(0)} ms; ${withCerts.toFixed(0)} ms with this sandbox's NODE_EXTRA_CA_CERTS, which the timed node runs leave out`;
}

export async function machineInfo(): Promise<string> {
  const cpus = os.cpus();
  const nix = await execa('nix', ['--version'], { env: nixEnv(), reject: false });
  let kernel = os.release();
  try {
    kernel = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux: keep os.release()
  }
  let distro = '';
  try {
    distro = /PRETTY_NAME="([^"]*)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // no /etc/os-release
  }
  return markdownTable(
    ['', ''],
    [
      [
        'date (UTC)',
        new Date()
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ''),
      ],
      ['CPU', `${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`],
      ['memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
      ['OS', `${distro} (Linux ${kernel})`],
      ['node', process.version],
      ['node start-up (`node -e 0`, median of 9)', await nodeStartupLine()],
      ['nix', nix.stdout.trim()],
      [
        'load average at start',
        os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' '),
      ],
    ],
  );
}

const copies = new Map<string, string>();

/**
 * A private copy of a built file (dist/cli.js, out/bench/scale-child.js), taken once per bench run. Others rebuild
 * the shared tree at any time, and a process that starts while esbuild rewrites its file runs a truncated script
 * (exit 0, no output): the copies keep every measurement on one intact build.
 */
export function stableCopy(ctx: BenchContext, relative: string): string {
  let copy = copies.get(relative);
  if (copy === undefined) {
    const built = path.join(ctx.repo, relative);
    if (!fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
    copy = path.join(ctx.workDir, 'under-test', relative.replace(/[\\/]/g, '_'));
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.copyFileSync(built, copy);
    copies.set(relative, copy);
  }
  return copy;
}

/**
 * The CLI under test as users run it: the `closure-lens` executable (closure-lens.js, which loads cli.js next to it
 * through its V8 code cache) as it ships, minified (`npm pack` and the .vsix build dist/ with --production; the
 * build puts the same two bundles in out/bench/shipped-cli), copied once per bench run. `npm run bench` builds them
 * first.
 */
export function cliPath(ctx: BenchContext): string {
  let launcher = copies.get('cli');
  if (launcher === undefined) {
    const dir = path.join(ctx.workDir, 'under-test', 'cli');
    fs.mkdirSync(dir, { recursive: true });
    // Side by side under their own names: the launcher finds cli.js next to itself.
    for (const name of ['closure-lens.js', 'cli.js'])
      fs.copyFileSync(stableCopy(ctx, path.join('out', 'bench', 'shipped-cli', name)), path.join(dir, name));
    launcher = path.join(dir, 'closure-lens.js');
    copies.set('cli', launcher);
  }
  return launcher;
}

/**
 * Empties a CLI cache directory (`$XDG_CACHE_HOME` of cliEnv) of everything but the CLI's V8 code cache
 * (`closure-lens/code`): a cold run is a closure closure-lens has not seen, on a machine where the CLI ran before.
 */
export function emptyGraphCache(cacheDir: string): void {
  const own = path.join(cacheDir, 'closure-lens');
  fs.mkdirSync(own, { recursive: true });
  for (const name of fs.readdirSync(own))
    if (name !== 'code') fs.rmSync(path.join(own, name), { recursive: true, force: true });
}

/**
 * The environment for a CLI run with its cache in `cacheDir`: XDG_CACHE_HOME is where the engine's GraphCache
 * lives (`$XDG_CACHE_HOME/closure-lens`).
 */
export function cliEnv(cacheDir: string): NodeJS.ProcessEnv {
  return { ...nodeEnv(), XDG_CACHE_HOME: cacheDir };
}

/**
 * The environment for node processes under test: nixEnv() without NODE_EXTRA_CA_CERTS. This sandbox sets that
 * variable, and node then reads and parses the whole CA bundle at start-up before running any code (machineInfo
 * measures what that costs); closure-lens makes no TLS connection, and users' machines do not set it, so it is left
 * out of every timed node run.
 */
export function nodeEnv(): NodeJS.ProcessEnv {
  const env = nixEnv();
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

/** Median wall time of `node -e 0` in `env`, ms. */
async function nodeStartupMs(env: NodeJS.ProcessEnv, runs = 9): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await execa(process.execPath, ['-e', '0'], { env, extendEnv: false });
    times.push((now() - t0) * 1e3);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}
