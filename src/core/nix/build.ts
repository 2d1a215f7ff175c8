/**
 * Building an installable: `nix build --no-link --json --log-format internal-json`, with its progress (builds done and
 * expected, the derivation building now, the latest log line) read from nix's internal-json log.
 */
import { ClosureLensError } from '../errors';
import { outputPaths, parseBuildJson } from '../parse/buildResult';
import { InternalJsonProgress } from '../parse/internalJson';
import type { NixRunner } from './runner';

export interface RealiseProgress {
  readonly buildsDone: number;
  readonly buildsExpected: number;
  readonly buildsRunning: number;
  readonly buildsFailed: number;
  /** Store paths copied from substituters. */
  readonly fetchesDone: number;
  readonly fetchesExpected: number;
  /** The derivation building now (the most recently started one), e.g. `hello-2.12.1`. */
  readonly current?: string;
  readonly currentAction?: 'building';
  /** Every derivation building now. */
  readonly running: readonly string[];
  /** The latest build log line, prefixed with its derivation. */
  readonly logLine?: string;
  /** One line for a status bar. */
  readonly message: string;
}

export interface RealiseOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RealiseProgress) => void;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

function realiseMessage(s: Omit<RealiseProgress, 'message'>): string {
  const parts: string[] = [];
  if (s.buildsExpected > 0) parts.push(`${s.buildsDone}/${s.buildsExpected} built`);
  if (s.fetchesExpected > 0) parts.push(`${s.fetchesDone}/${s.fetchesExpected} fetched`);
  if (s.buildsFailed > 0) parts.push(`${s.buildsFailed} failed`);
  if (s.current) parts.push(`building ${s.current}`);
  return parts.join(', ') || 'evaluating…';
}

export async function realiseInstallable(
  nix: NixRunner,
  installable: string,
  opts: RealiseOptions,
  signal: AbortSignal,
  emit: (p: RealiseProgress) => void,
): Promise<string[]> {
  const tracker = new InternalJsonProgress();
  let state: Omit<RealiseProgress, 'message'> = {
    buildsDone: 0,
    buildsExpected: 0,
    buildsRunning: 0,
    buildsFailed: 0,
    fetchesDone: 0,
    fetchesExpected: 0,
    running: [],
  };
  const publish = (): void => emit({ ...state, message: realiseMessage(state) });
  // `--`: the installable may come from a file (a rules target); nix must never read it as an option.
  const args = ['build', '--no-link', '--json', '--log-format', 'internal-json', '--', installable];
  const r = await nix.run(args, {
    signal,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    onStderrLine: (line) => {
      for (const ev of tracker.feed(line)) {
        if (ev.kind === 'builds') {
          const current = ev.current[ev.current.length - 1];
          const { current: _c, currentAction: _a, ...rest } = state;
          state = {
            ...rest,
            buildsDone: ev.done,
            buildsExpected: ev.expected,
            buildsRunning: ev.running,
            buildsFailed: ev.failed,
            running: ev.current,
            ...(current ? { current, currentAction: 'building' as const } : {}),
          };
        } else if (ev.kind === 'copies') {
          state = { ...state, fetchesDone: ev.done, fetchesExpected: ev.expected };
        } else if (ev.kind === 'log') {
          state = { ...state, logLine: `${ev.derivation}> ${ev.line}` };
        } else continue;
        publish();
      }
    },
  });
  const paths = outputPaths(parseBuildJson(r.stdout, `\`nix ${args.join(' ')}\``));
  if (paths.length === 0) {
    throw new ClosureLensError('bad-installable', `building ${installable} produced no output path`, {
      fix: 'use an installable that is a derivation',
    });
  }
  return paths;
}
