/**
 * Every failure a user can cause or fix, as one typed error with the cause and what to do about it.
 * Nix's stderr is classified here so that the CLI and the extension show the same messages.
 */

export type ErrorCode =
  | 'nix-not-found'
  | 'experimental-disabled'
  | 'eval-error'
  | 'missing-attribute'
  | 'bad-installable'
  | 'not-built'
  | 'invalid-path'
  | 'unsupported-flag'
  | 'build-failed'
  | 'store-unavailable'
  | 'timeout'
  | 'cancelled'
  | 'malformed-json'
  | 'file-not-found'
  | 'empty-closure'
  | 'not-in-closure'
  | 'cache-failed'
  | 'nix-failed'
  /** More than this machine can analyse: nix's output past the runner's limit, or the analysis out of memory. */
  | 'too-large'
  // closure diff, rules and compression (diff.ts, rules.ts, compression.ts)
  | 'git-failed'
  | 'invalid-config'
  | 'tool-not-found';

/** A position in a Nix file, as Nix prints it (`at /path/file.nix:12:5` or `at «string»:1:3`). */
export interface NixPosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface ClosureLensErrorOptions {
  /** What the user can do about it: one sentence, concrete. */
  readonly fix: string;
  /** The underlying error (an execa result, a JSON SyntaxError, an errno error). */
  readonly cause?: unknown;
  /** Nix's own words (stderr with ANSI codes removed), for a details view. */
  readonly detail?: string;
  /** Where an evaluation error happened, when Nix said so. */
  readonly position?: NixPosition;
}

export class ClosureLensError extends Error {
  readonly code: ErrorCode;
  readonly fix: string;
  readonly detail: string | undefined;
  readonly position: NixPosition | undefined;

  constructor(code: ErrorCode, message: string, options: ClosureLensErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClosureLensError';
    this.code = code;
    this.fix = options.fix;
    this.detail = options.detail;
    this.position = options.position;
  }

  /** One line for a terminal: what happened and what to do. */
  oneLine(): string {
    return `${this.message} — ${this.fix}`;
  }
}

export function isClosureLensError(e: unknown, code?: ErrorCode): e is ClosureLensError {
  return e instanceof ClosureLensError && (code === undefined || e.code === code);
}

// CSI sequences (colours, cursor moves such as `\r\e[K`) and OSC sequences (hyperlinks).

const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export const EXPERIMENTAL_FIX =
  'add the line `experimental-features = nix-command flakes` to ~/.config/nix/nix.conf (or /etc/nix/nix.conf), ' +
  "or set NIX_CONFIG='experimental-features = nix-command flakes' in the environment";

/** What the classifier needs to know about a failed nix call. */
export interface NixFailure {
  readonly args: readonly string[];
  readonly stderr: string;
  readonly exitCode?: number | undefined;
  /** The binary that was run, for messages. */
  readonly binary?: string;
  /** e.g. "Nix 2.8.0", for unsupported-flag messages. */
  readonly versionLabel?: string;
}

/**
 * Turns the stderr of a failed nix call into a ClosureLensError.
 * Accepts plain stderr and `--log-format internal-json` stderr (`@nix {...}` lines), with or without ANSI codes.
 */
export function classifyNixFailure(f: NixFailure): ClosureLensError {
  const text = humanStderr(f.stderr);
  const detail = text.trim();
  const command = `${f.binary ?? 'nix'} ${f.args.join(' ')}`.trim();
  const base = { detail, cause: f };

  let m = /experimental Nix feature '([^']+)' is disabled/.exec(text);
  if (m) {
    return new ClosureLensError(
      'experimental-disabled',
      `Nix refused to run: the experimental feature '${m[1]}' is disabled`,
      {
        ...base,
        fix: EXPERIMENTAL_FIX,
      },
    );
  }

  m = /unrecognised flag '([^']+)'/.exec(text) ?? /unrecognized flag '([^']+)'/.exec(text);
  if (m) {
    const which = f.versionLabel ? `this Nix (${f.versionLabel})` : 'this Nix';
    return new ClosureLensError('unsupported-flag', `${which} does not know the flag '${m[1]}' (in \`${command}\`)`, {
      ...base,
      fix: 'upgrade Nix, or report this: closure-lens should not pass flags that your Nix lacks',
    });
  }

  m = /path '([^']+)' is required, but there is no substituter that can build it/.exec(text);
  if (m) {
    return new ClosureLensError('not-built', `${m[1]} is not in the Nix store and cannot be substituted`, {
      ...base,
      fix: 'build it first (for example `nix build --no-link <installable>`), or enable a substituter that has it',
    });
  }

  m =
    /path '([^']+)' is not valid/.exec(text) ??
    /path '([^']+)' is not a valid store path/.exec(text) ??
    /path '([^']+)' does not exist and cannot be created/.exec(text);
  if (m) {
    if (m[1]!.endsWith('.drv')) return derivationGiven(m[1]!, base);
    return new ClosureLensError('invalid-path', `${m[1]} is not a valid path in the Nix store`, {
      ...base,
      fix: 'check the store path (it may have been garbage-collected); rebuild it or pick a path that exists',
    });
  }

  m = /builder for '([^']+)' failed with exit code (\d+)/.exec(text) ?? /build of '([^']+)' failed/.exec(text);
  if (m) {
    const drv = m[1]!;
    return new ClosureLensError('build-failed', `the build of ${drv} failed${m[2] ? ` (exit code ${m[2]})` : ''}`, {
      ...base,
      fix: `read the build log with \`nix log ${drv}\`, fix the derivation, and try again`,
    });
  }

  m = /does not provide attribute '([^']+)'/.exec(text);
  if (m) {
    return new ClosureLensError('missing-attribute', lastErrorMessage(text) ?? `the flake has no attribute '${m[1]}'`, {
      ...base,
      fix: 'check the attribute path (`nix flake show` lists what the flake provides)',
    });
  }

  m =
    /'([^']*)' is not a valid URL/.exec(text) ??
    /cannot find flake '([^']+)'/.exec(text) ??
    /path '([^']+)' is not a flake/.exec(text);
  if (m) {
    return new ClosureLensError(
      'bad-installable',
      lastErrorMessage(text) ?? `'${m[1]}' is not a flake reference Nix understands`,
      {
        ...base,
        fix: 'use a flake installable such as `.#hello` or `path:/abs/dir#pkg`, or a /nix/store path',
      },
    );
  }

  const remote = /cannot open connection to remote store '([^']*)'/.exec(text);
  if (remote) {
    return new ClosureLensError('store-unavailable', lastErrorMessage(text) ?? `cannot reach the store ${remote[1]}`, {
      ...base,
      fix: `check that \`ssh\` to that host works without a prompt (keys, port and user in ~/.ssh/config or NIX_SSHOPTS) and that nix is on the remote PATH, or clear the store setting (nixClosureLens.store / --store)`,
    });
  }

  if (
    /cannot connect to socket|Connection refused|daemon-socket|opening lock file '[^']*': Permission denied|Permission denied.*\/nix\/var/.test(
      text,
    )
  ) {
    return new ClosureLensError('store-unavailable', lastErrorMessage(text) ?? 'the Nix store cannot be reached', {
      ...base,
      fix: 'start the Nix daemon (`systemctl start nix-daemon`) or run as a user who may use the store',
    });
  }

  if (isEvaluationError(text, evaluates(f.args))) {
    const position = evalErrorPosition(text);
    const where = position ? ` at ${position.file}:${position.line}:${position.column}` : '';
    return new ClosureLensError(
      'eval-error',
      `Nix evaluation failed${where}: ${lastErrorMessage(text) ?? 'see details'}`,
      {
        ...base,
        position,
        fix: position
          ? `fix the Nix code at ${position.file}:${position.line}:${position.column} (add --show-trace to the nix command for the full trace)`
          : 'fix the Nix expression (run the nix command with --show-trace for the full trace)',
      },
    );
  }

  const message = lastErrorMessage(text) ?? (detail.split('\n').pop() || `exit code ${f.exitCode ?? 'unknown'}`);
  return new ClosureLensError('nix-failed', `\`${command}\` failed: ${message}`, {
    ...base,
    fix: 'run the same nix command in a terminal to see the full output',
  });
}

/** Plain-text stderr: ANSI removed, internal-json messages replaced by their text. */
/**
 * A `.drv` given where a closure is asked for: a derivation is the recipe, and its runtime closure is that of its
 * outputs. Nix only says "not valid" (the .drv is often not registered, or was collected).
 */
export function derivationGiven(drv: string, extra: Partial<ClosureLensErrorOptions> = {}): ClosureLensError {
  return new ClosureLensError(
    'invalid-path',
    `${drv} is a derivation (a build recipe), not a built path, and it is not valid in this store`,
    {
      ...extra,
      fix: `give what it builds: an installable such as .#name, or its output path (\`nix-store --query --outputs ${drv}\`, after \`nix-store --realise ${drv}\`)`,
    },
  );
}

export function humanStderr(stderr: string): string {
  const out: string[] = [];
  for (const rawLine of stripAnsi(stderr).split('\n')) {
    // On a terminal Nix redraws with `\r`; what stays visible is the last non-empty part.
    const line = rawLine.includes('\r')
      ? (rawLine
          .split('\r')
          .filter((p) => p !== '')
          .pop() ?? '')
      : rawLine;
    if (!line.startsWith('@nix ')) {
      out.push(line);
      continue;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(line.slice(5));
    } catch {
      continue;
    }
    if (typeof msg !== 'object' || msg === null) continue;
    const o = msg as Record<string, unknown>;
    // Level 0 is an error, 1 a warning; the rest is progress chatter.
    if (o['action'] === 'msg' && typeof o['msg'] === 'string' && typeof o['level'] === 'number' && o['level'] <= 1) {
      out.push(stripAnsi(o['msg']));
    }
  }
  return out.join('\n');
}

/**
 * The message after the last `error:` (Nix ≥ 2.13 prints the trace first and the message last, after an
 * empty `error:` header; Nix 2.8 prints `error: message` only).
 */
export function lastErrorMessage(text: string): string | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\s*error:\s*(.*)$/.exec(lines[i]!);
    if (m && m[1]!.trim() !== '') return m[1]!.trim();
  }
  return undefined;
}

/** True when the command evaluates Nix code (a flake installable or `nix eval`), so a bare `error:` is an evaluation error. */
function evaluates(args: readonly string[]): boolean {
  return args[0] === 'eval' || args.some((a) => !a.startsWith('-') && a.includes('#'));
}

function isEvaluationError(text: string, evaluating: boolean): boolean {
  return (
    /^\s*(\u2026|\.\.\.) while /m.test(text) ||
    /\bat (?:\u00ab[^\u00bb]*\u00bb|<[^>]+>|\/\S+):\d+:\d+/.test(text) ||
    /syntax error|undefined variable|attribute '[^']*' missing|called without required argument|is forbidden in pure eval(uation)? mode|infinite recursion|value is (?:a|an) \w+ while (?:a|an) \w+ was expected|assertion .* failed|use '--show-trace'/.test(
      text,
    ) ||
    (evaluating && /^error: (?!builder for)/m.test(text))
  );
}

const POSITION = /\bat (\u00ab[^\u00bb]*\u00bb|<[^>]+>|\/[^\s]*?):(\d+):(\d+)/;

/**
 * The most useful position of an evaluation error: the one right after the final message (a parse error
 * points there), else the innermost trace frame in a user file (frames in `<nix/...>` are Nix internals).
 */
export function evalErrorPosition(text: string): NixPosition | undefined {
  const lines = text.split('\n');
  let lastError = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^\s*error:\s*\S/.test(lines[i]!)) {
      lastError = i;
      break;
    }
  }
  const at = (i: number): NixPosition | undefined => {
    const m = POSITION.exec(lines[i]!);
    return m ? { file: m[1]!, line: Number(m[2]), column: Number(m[3]) } : undefined;
  };
  if (lastError >= 0) {
    for (let i = lastError + 1; i < lines.length; i++) {
      const p = at(i);
      if (p) return p;
    }
  }
  let fallback: NixPosition | undefined;
  for (let i = (lastError >= 0 ? lastError : lines.length) - 1; i >= 0; i--) {
    const p = at(i);
    if (!p) continue;
    if (!p.file.startsWith('<')) return p;
    fallback ??= p;
  }
  return fallback;
}
