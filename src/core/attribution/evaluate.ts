/**
 * Runs attribution.nix on a module-system configuration of a flake (NixOS, home-manager, nix-darwin)
 * and returns the option definitions with the store paths they carry.
 *
 * One `nix flake metadata` locks the flake (the evaluation then reads exactly that source) and gives
 * its store copy, so files can be mapped back to the workspace. One `nix eval` does the walk. All
 * arguments travel with --argstr; the Nix code is the fixed file shipped with the extension.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ClosureLensError } from '../errors';
import { removeStaleTemporaries } from '../staleTemporaries';
import { parseNixJson } from '../nix/parseNixJson';
import type { NixRunner } from '../nix/runner';
import attributionNix from './attribution.nix';

/** Where a declaration is; line and column are null when Nix does not know them. */
export interface DeclarationPosition {
  readonly file: string;
  readonly line: number | null;
  readonly column: number | null;
}

/** One definition of an option, as attribution.nix reports it. */
export interface RawDefinition {
  /** The file, as Nix knows it (a store copy for flakes). */
  readonly file: string;
  /** Position in the option's definitionsWithLocations (for counterfactual evaluation). */
  readonly index: number;
  /** Store paths in the value. */
  readonly paths: readonly string[];
  /** Derivations in string context whose outputs were not written in the string. */
  readonly drvs: readonly string[];
  /** The walk stopped at a bound (depth, list length, attribute count). */
  readonly truncated: boolean;
  /**
   * For a list value of 2 to 200 elements in the user's files: what each element carries, in order (each element
   * is a row of its own, measured without just that element).
   */
  readonly elements?: readonly { readonly paths: readonly string[]; readonly drvs: readonly string[] }[];
}

export interface RawOption {
  readonly loc: readonly string[];
  readonly option: string;
  readonly type: string | null;
  readonly declarations: readonly DeclarationPosition[];
  readonly definitions: readonly RawDefinition[];
  /**
   * For an option that only its default defines (not read unless includeDefaults): the store names of
   * the packages the default names, read without instantiating them.
   */
  readonly defaultNames: readonly string[];
}

export interface RootPaths {
  readonly drvPath: string | null;
  readonly outPath: string | null;
}

/** The flake as locked for the evaluation. */
export interface LockedFlake {
  /** True when `url` pins the content (a narHash or a rev): then it identifies one evaluation. */
  readonly pinned: boolean;
  /** Locked URL (with narHash): getFlake reads exactly this. */
  readonly url: string;
  /** The flake's store copy, `/nix/store/…-source`. */
  readonly sourcePath: string;
  /** The local directory of a path: or git+file: flake (where its files live in the workspace). */
  readonly localPath: string | null;
}

export interface OptionEvaluation {
  readonly flake: LockedFlake;
  readonly attrPath: readonly string[];
  readonly root: RootPaths | null;
  readonly options: readonly RawOption[];
  /** Wall time of the `nix eval` (not of the flake lock). */
  readonly evalMs: number;
}

export interface EvalOptions {
  readonly signal?: AbortSignal;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly onProgress?: (message: string) => void;
  /** Also read option defaults (slow on a real NixOS: every package option's default is instantiated). */
  readonly includeDefaults?: boolean;
}

/** A flake installable split into its flake reference and the configuration's attribute path. */
export interface ConfigurationTarget {
  readonly flakeRef: string;
  readonly attrPath: readonly string[];
}

/** Outputs whose values are module-system configurations. */
const CONFIGURATION_OUTPUTS = ['nixosConfigurations', 'homeConfigurations', 'darwinConfigurations'];

/**
 * Parses `<flake>#nixosConfigurations.<name>[.config.system.build.toplevel]` (quoted names allowed).
 * Throws a ClosureLensError naming the expected form when it is something else.
 */
export function parseConfigurationInstallable(installable: string): ConfigurationTarget {
  const hash = installable.indexOf('#');
  const flakeRef = hash < 0 ? installable : installable.slice(0, hash);
  const fragment = hash < 0 ? '' : installable.slice(hash + 1);
  const attrPath = splitAttrPath(fragment);
  const bad = (why: string): ClosureLensError =>
    new ClosureLensError('bad-installable', `'${installable}' is not a module-system configuration: ${why}`, {
      fix: `name a configuration, e.g. '${flakeRef || '.'}#nixosConfigurations.<host>' (or homeConfigurations.<name>, darwinConfigurations.<name>)`,
    });
  if (flakeRef === '') throw bad('the flake reference is empty');
  if (attrPath.length < 2 || !CONFIGURATION_OUTPUTS.includes(attrPath[0]!)) {
    throw bad(`option attribution reads ${CONFIGURATION_OUTPUTS.join(', ')}`);
  }
  // The toplevel (what one builds) names the same configuration.
  return { flakeRef, attrPath: attrPath.slice(0, 2) };
}

export function splitAttrPath(fragment: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of fragment) {
    if (c === '"') quoted = !quoted;
    else if (c === '.' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur !== '' || out.length > 0) out.push(cur);
  return out.filter((s) => s !== '');
}

let scriptFile: string | undefined;
/** Directories of attribution.nix, named after the process: `closure-lens-attr-<pid>-XXXXXX`. */
const SCRIPT_DIR_PREFIX = 'closure-lens-attr-';
const STALE_SCRIPT_DIR = /^closure-lens-attr-(\d+)-/;

/**
 * attribution.nix on disk (nix eval -f needs a file); in a private temporary directory that goes when the process
 * exits. Directories left by processes that were killed are removed when the next one makes its own.
 */
export function attributionScript(): string {
  if (!scriptFile) {
    removeStaleTemporaries(tmpdir(), STALE_SCRIPT_DIR);
    const dir = mkdtempSync(join(tmpdir(), `${SCRIPT_DIR_PREFIX}${process.pid}-`));
    scriptFile = join(dir, 'attribution.nix');
    writeFileSync(scriptFile, attributionNix, { mode: 0o600 });
    process.once('exit', removeAttributionScript);
  }
  return scriptFile;
}

/**
 * An evaluation error that nix places in attribution.nix is about the user's flake, never about our helper file
 * (which the user cannot edit): a missing attribute names the configuration that does not exist, and anything else
 * points at the user's configuration instead of our file.
 */
function notOurScript(e: unknown, flakeRef: string, attrPath: readonly string[]): unknown {
  if (!(e instanceof ClosureLensError) || !scriptFile || e.position?.file !== scriptFile) return e;
  const installable = `${flakeRef}#${attrPath.join('.')}`;
  const missing = /attribute '([^']+)' missing/.exec(e.message);
  if (missing) {
    return new ClosureLensError(
      'missing-attribute',
      `${installable} does not exist: the flake has no attribute '${missing[1]}' there`,
      {
        fix: 'check the name (`nix flake show` lists the configurations), e.g. .#nixosConfigurations.<host>',
        cause: e,
        ...(e.detail !== undefined ? { detail: e.detail } : {}),
      },
    );
  }
  const message = e.message.replace(/ at \/\S*attribution\.nix:\d+:\d+/, '');
  return new ClosureLensError(e.code, `${message} (while evaluating the options of ${installable})`, {
    fix: `evaluate the configuration itself to see where: \`nix eval ${installable}.config.system.build.toplevel.drvPath --show-trace\``,
    cause: e,
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
  });
}

/** Removes attribution.nix and its directory (at exit; a later call writes it again). */
export function removeAttributionScript(): void {
  if (!scriptFile) return;
  rmSync(dirname(scriptFile), { recursive: true, force: true });
  scriptFile = undefined;
  process.removeListener('exit', removeAttributionScript);
}

export async function lockFlake(nix: NixRunner, flakeRef: string, opts: EvalOptions = {}): Promise<LockedFlake> {
  opts.onProgress?.(`locking ${flakeRef}`);
  const r = await nix.run(['flake', 'metadata', '--json', '--', flakeRef], runOpts(opts));
  type FlakeMetadata = {
    url?: unknown;
    path?: unknown;
    resolved?: { type?: unknown; path?: unknown; url?: unknown };
    locked?: { type?: unknown; path?: unknown; url?: unknown };
  };
  const meta = (parseNixJson(r.stdout, {
    what: '`nix flake metadata --json`',
    fix: 'check that `nix` is a working Nix 2.8 or newer',
  }) ?? {}) as FlakeMetadata;
  if (typeof meta.url !== 'string' || typeof meta.path !== 'string') {
    throw new ClosureLensError('malformed-json', '`nix flake metadata --json` gave no locked url or store path', {
      fix: 'check that `nix` is a working Nix 2.8 or newer',
      detail: r.stdout.slice(0, 2000),
    });
  }
  return {
    url: meta.url,
    pinned: /[?&](narHash|rev)=/.test(meta.url),
    sourcePath: meta.path,
    localPath: localPathOf(meta.resolved ?? meta.locked),
  };
}

function localPathOf(ref: { type?: unknown; path?: unknown; url?: unknown } | undefined): string | null {
  if (!ref) return null;
  if (ref.type === 'path' && typeof ref.path === 'string') return ref.path;
  if (ref.type === 'git' && typeof ref.url === 'string' && ref.url.startsWith('file://')) {
    return decodeURIComponent(ref.url.slice('file://'.length).split('?')[0]!);
  }
  return null;
}

/** Runs attribution.nix once on the configuration. */
export async function evaluateOptions(
  nix: NixRunner,
  target: ConfigurationTarget,
  opts: EvalOptions = {},
): Promise<OptionEvaluation> {
  return evaluateLocked(nix, await lockFlake(nix, target.flakeRef, opts), target, opts);
}

/** Runs attribution.nix on a configuration of an already locked flake. */
export async function evaluateLocked(
  nix: NixRunner,
  flake: LockedFlake,
  target: ConfigurationTarget,
  opts: EvalOptions = {},
): Promise<OptionEvaluation> {
  opts.onProgress?.(`evaluating the options of ${target.attrPath.join('.')}`);
  const started = performance.now();
  const r = await nix
    .run(
      attributionEvalArgs(flake, target.attrPath, {
        userPrefix: `${flake.sourcePath}/`,
        includeDefaults: opts.includeDefaults ? '1' : '0',
      }),
      runOpts(opts),
    )
    .catch((e: unknown) => {
      throw notOurScript(e, target.flakeRef, target.attrPath);
    });
  const evalMs = performance.now() - started;
  const doc = parseResult(r.stdout, target);
  return {
    flake,
    attrPath: target.attrPath,
    root: readRoot(doc['root']),
    options: readOptions(doc['options']),
    evalMs,
  };
}

/**
 * `nix eval` of attribution.nix on one configuration. Every value goes in with --argstr (attribute paths as
 * JSON), never into Nix code.
 */
function attributionEvalArgs(flake: LockedFlake, attrPath: readonly string[], extra: Record<string, string>): string[] {
  const args = ['eval', '--json', '-f', attributionScript(), 'result'];
  for (const [name, value] of Object.entries({ flake: flake.url, attrPath: JSON.stringify(attrPath), ...extra })) {
    args.push('--argstr', name, value);
  }
  return args;
}

function runOpts(opts: EvalOptions): { signal?: AbortSignal; cwd?: string; timeoutMs?: number } {
  return {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  };
}

type Json = Record<string, unknown>;

function parseResult(stdout: string, target: ConfigurationTarget): Json {
  const doc = parseNixJson(stdout, { what: 'the option attribution evaluation' });
  if (typeof doc !== 'object' || doc === null) throw malformedResult(stdout);
  const obj = doc as Json;
  if (obj['error'] === 'not-a-configuration') {
    const attrs = Array.isArray(obj['attributes']) ? (obj['attributes'] as unknown[]).slice(0, 12).join(', ') : '';
    throw new ClosureLensError(
      'bad-installable',
      `${target.attrPath.join('.')} of ${target.flakeRef} is not a module-system configuration (it has no options and config${attrs ? `; it has: ${attrs}` : ''})`,
      { fix: 'name a NixOS, home-manager or nix-darwin configuration, e.g. nixosConfigurations.<host>' },
    );
  }
  return obj;
}

function malformedResult(stdout: string): ClosureLensError {
  return new ClosureLensError('malformed-json', 'the option attribution evaluation returned an unexpected shape', {
    fix: 'report this as a bug of closure-lens, with the output in the details',
    detail: stdout.slice(0, 2000),
  });
}

function readRoot(v: unknown): RootPaths | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Json;
  return {
    drvPath: typeof o['drv'] === 'string' ? o['drv'] : null,
    outPath: typeof o['out'] === 'string' ? o['out'] : null,
  };
}

function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function readOptions(v: unknown): RawOption[] {
  if (!Array.isArray(v)) throw malformedResult(JSON.stringify(v)?.slice(0, 2000) ?? '');
  return v.map((o: Json) => ({
    loc: stringArray(o['loc']),
    option: String(o['option']),
    type: typeof o['type'] === 'string' ? o['type'] : null,
    declarations: (Array.isArray(o['declarations']) ? (o['declarations'] as Json[]) : []).map((d) => ({
      file: String(d['file']),
      line: typeof d['line'] === 'number' ? d['line'] : null,
      column: typeof d['column'] === 'number' ? d['column'] : null,
    })),
    defaultNames: stringArray(o['defaultNames']),
    definitions: (Array.isArray(o['definitions']) ? (o['definitions'] as Json[]) : []).map((d) => ({
      file: String(d['file']),
      index: Number(d['index']),
      paths: stringArray(d['paths']),
      drvs: stringArray(d['drvs']),
      truncated: d['truncated'] === true,
      ...(Array.isArray(d['elements'])
        ? {
            elements: (d['elements'] as Json[]).map((e) => ({
              paths: stringArray(e?.['paths']),
              drvs: stringArray(e?.['drvs']),
            })),
          }
        : {}),
    })),
  }));
}
