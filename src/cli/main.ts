/**
 * `closure-lens`: the closure engine on the command line.
 *
 * Subcommands live in one table (COMMANDS); each takes its own argv and a CliContext and returns an exit code.
 * Output is produced by small pure render functions (exported for the unit tests). Exit codes: 0 success,
 * 1 a user error (one line on stderr saying what to do), 2 an internal error.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import packageJson from '../../package.json';
import type { ClosureAnalysis } from '../core/analysis/closure';
import { EAGER_CLOSURE_SIZE_LIMIT } from '../shared/analysis/closureSize';
import type { ChainSet } from '../shared/analysis/why';
import { GraphCache } from '../core/load/graphCache';
import type * as DiffCommandsModule from './diffCommands';
import type * as DiffTargetsModule from '../core/diff/targets';
import type * as ReportModule from '../core/attribution/report';
import type * as RunnerModule from '../core/nix/runner';
import { ClosureEngine, type LoadedClosure, type Target } from '../core/load/engine';
import { ClosureLensError } from '../core/errors';
import { nodesByPath, type ClosureGraph } from '../shared/graph';
import { drawChains, formatBytes, renderTable, type SizeStyle } from '../shared/format';
import type { NixRunner, NixRunnerOptions } from '../core/nix/runner';
import { baseName, isStoreBaseName } from '../shared/storePath';

// ---------------------------------------------------------------------------------------------------------
// The command table

export interface CliContext {
  readonly cwd: string;
  /** Writes to stdout; `text` carries its own newlines. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly signal?: AbortSignal;
  /** Loads a closure through the engine (cache, progress and nix errors are handled there). */
  readonly load: (target: Target, opts: { signal?: AbortSignal }) => Promise<LoadedClosure>;
  /** Colour and terminal niceties. */
  readonly color?: boolean;
  /** Builds an installable (diff and check compare git revisions whose outputs are not built yet). */
  readonly realise?: (installable: string, opts: { cwd?: string; signal?: AbortSignal }) => Promise<string[]>;
  /** The engine's runner, for commands that evaluate more (diff --options). */
  readonly nix?: NixRunner;
  /** Where commands keep their own caches; null with --no-cache. */
  readonly cacheDir?: string | null;
}

export interface Subcommand {
  /** One line for `closure-lens --help`. */
  readonly summary: string;
  /** The full usage text for `closure-lens <command> --help` and usage errors. */
  readonly usage: string;
  readonly run: (argv: string[], ctx: CliContext) => Promise<number>;
}

const TARGET_HELP = `  <target>            a flake installable (.#hello, .#nixosConfigurations.host.config.system.build.toplevel,
                      path:/some/flake#pkg), a store path, or a link into the store (./result)
  --from-json FILE    read the closure from a file instead: nix path-info --recursive --size --json output
                      (any Nix version), closureInfo/exportReferencesGraph JSON, or a CycloneDX SBOM`;

const CLOSURE_USAGE = `closure-lens closure <target> [--json] [--top N]

Lists a closure: its total size and the paths that weigh most, by retained size (the bytes that would
leave the closure if nothing referenced the path any more).
${TARGET_HELP}
  --top N             show the N heaviest paths (default 20; with --json, all paths unless given)
  --json              print {"root", "pathCount", "closureSize", "paths": [...]}
`;

const WHY_USAGE = `closure-lens why <target> <dependency> [--all] [--limit N] [--json]

Shows why <target> depends on <dependency>, as chains of references (drawn like nix why-depends).
${TARGET_HELP}
  <dependency>        a store path, or a name in the closure (perl, perl-5.38.2, /regex/)
  --all               list every chain, shortest first (up to --limit)
  --limit N           most chains to list with --all (default 100)
  --json              print {"root", "dependency", "chains": [[root, ..., dependency], ...], "truncated"}
`;

const DUPS_USAGE = `closure-lens dups <target> [--json]

Finds packages that are in the closure more than once (two versions, or variants such as systemd and
systemd-minimal) and what each duplicate costs.
${TARGET_HELP}
  --json              print {"groups": [{"pname", "paths", "extraBytes"}]}
`;

// The commands that run nix or evaluate (and execa, most of the bundle's start-up time) are loaded when first
// used: a query answered from the cache starts nothing but node. esbuild turns these require() calls into lazy
// module initialisers inside the one bundle.
/* eslint-disable @typescript-eslint/no-require-imports */
const diffCommands = (): typeof DiffCommandsModule => require('./diffCommands') as typeof DiffCommandsModule;
const diffTargets = (): typeof DiffTargetsModule => require('../core/diff/targets') as typeof DiffTargetsModule;
const report = (): typeof ReportModule => require('../core/attribution/report') as typeof ReportModule;
const runnerModule = (): typeof RunnerModule => require('../core/nix/runner') as typeof RunnerModule;
/* eslint-enable @typescript-eslint/no-require-imports */

/** A command whose module loads on first use of any of its fields. */
function lazyCommand(load: () => Subcommand): Subcommand {
  return {
    get summary() {
      return load().summary;
    },
    get usage() {
      return load().usage;
    },
    run: (argv, ctx) => load().run(argv, ctx),
  };
}

export const COMMANDS: Record<string, Subcommand> = {
  closure: { summary: 'sizes of a closure and its heaviest paths', usage: CLOSURE_USAGE, run: runClosure },
  why: { summary: 'why a closure contains a path (chains like nix why-depends)', usage: WHY_USAGE, run: runWhy },
  dups: { summary: 'packages in a closure more than once, and what they cost', usage: DUPS_USAGE, run: runDups },
  options: {
    summary: 'which NixOS option definitions put what in a closure, with file, line and cost',
    get usage() {
      return report().OPTIONS_USAGE;
    },
    run: (argv, ctx) => report().runOptionsCommand(argv, ctx),
  },
  diff: lazyCommand(() => diffCommands().DIFF_SUBCOMMANDS.diff),
  check: lazyCommand(() => diffCommands().DIFF_SUBCOMMANDS.check),
  compressed: lazyCommand(() => diffCommands().DIFF_SUBCOMMANDS.compressed),
};

const GLOBAL_OPTIONS_HELP = `Options for every command:
  --nix PATH          the nix binary to run (default: nix on PATH)
  --cache-dir DIR     where loaded closures are cached (default: $XDG_CACHE_HOME/closure-lens)
  --no-cache          neither read nor write the cache
  --timeout SECS      give up on a nix call after SECS seconds (default: 600)
  --store URI         read closures from another Nix store, e.g. ssh-ng://root@host (ssh options: NIX_SSHOPTS)
  --help, --version`;

export function mainUsage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`);
  return `closure-lens ${packageJson.version}: what is in a Nix closure, and why.

Usage: closure-lens <command> [options]

Commands:
${lines.join('\n')}

Targets:
${TARGET_HELP}

${GLOBAL_OPTIONS_HELP}

Run \`closure-lens <command> --help\` for a command's options. Exit codes: 0 success, 1 a problem you can
fix (the message says how), 2 an internal error.
`;
}

// ---------------------------------------------------------------------------------------------------------
// Commands

async function runClosure(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, CLOSURE_USAGE, {
    json: { type: 'boolean' },
    top: { type: 'string' },
    'from-json': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return printUsage(ctx, CLOSURE_USAGE);
  const target = targetFrom(positionals, values['from-json'] as string | undefined, 0, ctx, CLOSURE_USAGE);
  if (positionals.length > (target.fromPositional ? 1 : 0)) throw usageError('closure takes one target', CLOSURE_USAGE);
  const top = values['top'] === undefined ? undefined : positiveInt(values['top'] as string, '--top');
  const loaded = await ctx.load(target.target, signalOpt(ctx));
  if (values['json']) ctx.stdout(JSON.stringify(closureJson(loaded.analysis, loaded.rootPath, top)) + '\n');
  else {
    ctx.stdout(renderClosureText(loaded.analysis, loaded.rootPath, top ?? 20));
    printNotes(ctx, loaded);
  }
  return 0;
}

async function runWhy(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, WHY_USAGE, {
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    limit: { type: 'string' },
    'from-json': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return printUsage(ctx, WHY_USAGE);
  const target = targetFrom(positionals, values['from-json'] as string | undefined, 1, ctx, WHY_USAGE);
  const rest = positionals.slice(target.fromPositional ? 1 : 0);
  if (rest.length !== 1) {
    throw usageError(
      rest.length === 0
        ? 'why needs a dependency (a store path or a name such as perl)'
        : 'why takes one target and one dependency',
      WHY_USAGE,
    );
  }
  const limit = values['limit'] === undefined ? 100 : positiveInt(values['limit'] as string, '--limit');
  const loaded = await ctx.load(target.target, signalOpt(ctx));
  const a = loaded.analysis;
  const dep = resolveDependency(a, rest[0]!, loaded.rootPath);
  const set = a.why(dep, { all: values['all'] === true, limit });
  if (set.chains.length === 0) {
    // Cannot happen for a closure loaded from its root, but a multi-root JSON file could be inconsistent.
    throw new ClosureLensError(
      'invalid-path',
      `${describeRoot(loaded.rootPath)} does not depend on ${a.graph.paths[dep]}`,
      {
        fix: 'pick a dependency from `closure-lens closure` of this target',
      },
    );
  }
  if (values['json']) ctx.stdout(JSON.stringify(whyJson(a, loaded.rootPath, dep, set)) + '\n');
  else {
    ctx.stdout(renderWhyText(a, set));
    const note = whyNote(set, values['all'] === true);
    if (note) ctx.stderr(note);
  }
  return 0;
}

async function runDups(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, DUPS_USAGE, {
    json: { type: 'boolean' },
    'from-json': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help']) return printUsage(ctx, DUPS_USAGE);
  const target = targetFrom(positionals, values['from-json'] as string | undefined, 0, ctx, DUPS_USAGE);
  if (positionals.length > (target.fromPositional ? 1 : 0)) throw usageError('dups takes one target', DUPS_USAGE);
  const loaded = await ctx.load(target.target, signalOpt(ctx));
  if (values['json']) ctx.stdout(JSON.stringify(dupsJson(loaded.analysis)) + '\n');
  else {
    ctx.stdout(renderDupsText(loaded.analysis));
    printNotes(ctx, loaded);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Pure renderers (unit-tested)

/** Sizes are null when the input carried none (a CycloneDX SBOM). */
export interface ClosureJson {
  root: string | null;
  pathCount: number;
  closureSize: number | null;
  paths: {
    path: string;
    narSize: number | null;
    closureSize: number | null;
    retainedSize: number | null;
    references: string[];
  }[];
}

/**
 * The closure as JSON: every path (or the `top` heaviest), heaviest retained size first, so the root comes
 * first. `references` are as Nix lists them: full paths, sorted, a self-reference included.
 */
export function closureJson(a: ClosureAnalysis, rootPath: string, top?: number): ClosureJson {
  const g = a.graph;
  const byPath = nodesByPath(g);
  const nodes = realNodesByRetained(a, byPath);
  const shown = top === undefined ? nodes : nodes.slice(0, top);
  if (top === undefined && g.sizesKnown && g.nodeCount <= EAGER_CLOSURE_SIZE_LIMIT) a.closureSizes.all(); // one bitset pass, not N walks
  const known = g.sizesKnown;
  const refs = referencesInNixOrder(g, byPath);
  const retained = a.dominators.retained;
  return {
    root: g.hasVirtualRoot ? null : rootPath,
    pathCount: g.pathCount,
    closureSize: known ? a.totalSize : null,
    paths: shown.map((i) => {
      const references: string[] = [];
      for (let e = refs.offsets[i]!, end = refs.offsets[i + 1]!; e < end; e++)
        references.push(g.paths[refs.targets[e]!]!);
      return {
        path: g.paths[i]!,
        narSize: known ? g.narSize[i]! : null,
        closureSize: known ? a.closureSize(i) : null,
        retainedSize: known ? retained[i]! : null,
        references,
      };
    }),
  };
}

export function renderClosureText(a: ClosureAnalysis, rootPath: string, top: number, style: SizeStyle = 'iec'): string {
  const g = a.graph;
  const size = (n: number) => (g.sizesKnown ? formatBytes(n, style) : '-');
  const nodes = realNodesByRetained(a).filter((i) => i !== g.root);
  const shown = nodes.slice(0, top);
  const head = [
    `${describeRoot(rootPath)}`,
    g.sizesKnown
      ? `${plural(g.pathCount, 'path')}, closure size ${formatBytes(a.totalSize, style)}`
      : `${plural(g.pathCount, 'path')}; sizes unknown (the input has none, e.g. an SBOM)`,
    '',
  ];
  const rows = [['PATH', 'NAR', 'CLOSURE', 'RETAINED']];
  for (const i of shown) {
    rows.push([g.paths[i]!, size(g.narSize[i]!), size(a.closureSize(i)), size(a.retainedSize(i))]);
  }
  const lines = [...head, ...renderTable(rows, ['left', 'right', 'right', 'right'])];
  if (nodes.length > shown.length) lines.push(`… ${nodes.length - shown.length} more paths (--top N shows more)`);
  return lines.join('\n') + '\n';
}

export interface WhyJson {
  root: string | null;
  dependency: string;
  chains: string[][];
  truncated: boolean;
  /** How many chains exist in all (exact up to 2^53 - 1, then capped). */
  totalChains: number;
}

export function whyJson(a: ClosureAnalysis, rootPath: string, dep: number, set: ChainSet): WhyJson {
  const g = a.graph;
  return {
    root: g.hasVirtualRoot ? null : rootPath,
    dependency: g.paths[dep]!,
    chains: chainPaths(a, set),
    truncated: set.truncated,
    totalChains: set.totalChains,
  };
}

/**
 * The chains drawn as `nix why-depends` draws them (one tree; shared prefixes merged). Like Nix, a path asked
 * why it depends on itself shows its self-reference as one step.
 */
export function renderWhyText(a: ClosureAnalysis, set: ChainSet): string {
  const g = a.graph;
  const chains = chainPaths(a, set).map((c, k) => {
    const only = set.chains[k]!;
    return only.length === 1 && g.selfReference[only[0]!] ? [c[0]!, c[0]!] : c;
  });
  // Several real roots behind a virtual one: draw one tree per root.
  const byRoot = new Map<string, string[][]>();
  for (const c of chains) {
    const list = byRoot.get(c[0]!);
    if (list) list.push(c);
    else byRoot.set(c[0]!, [c]);
  }
  return [...byRoot.values()].map((cs) => drawChains(cs).join('\n') + '\n').join('');
}

/** A hint on stderr when chains were left out; undefined when everything was shown. */
export function whyNote(set: ChainSet, all: boolean): string | undefined {
  if (!set.truncated) return undefined;
  if (set.incomplete) {
    return `note: the input has a cycle (a Nix closure has none), and listing its chains stopped early: the ${set.chains.length} shown are true, others may be missing\n`;
  }
  const total = set.totalChains >= Number.MAX_SAFE_INTEGER ? 'more than 2^53' : String(set.totalChains);
  return all
    ? `note: showing the ${set.chains.length} shortest of ${total} chains; --limit N shows more\n`
    : `note: this is a shortest chain; there are ${total} in all (--all lists them)\n`;
}

/** `extraBytes` is null when the input carried no sizes. */
export interface DupsJson {
  groups: { pname: string; paths: string[]; extraBytes: number | null }[];
}

export function dupsJson(a: ClosureAnalysis): DupsJson {
  const known = a.graph.sizesKnown;
  return {
    groups: a.duplicates().map((d) => ({
      pname: d.pname,
      paths: d.paths.map((i) => a.graph.paths[i]!),
      extraBytes: known ? d.extraBytes : null,
    })),
  };
}

export function renderDupsText(a: ClosureAnalysis, style: SizeStyle = 'iec'): string {
  const groups = a.duplicates();
  if (groups.length === 0) return 'No package is in the closure more than once.\n';
  const g = a.graph;
  const size = (n: number) => (g.sizesKnown ? formatBytes(n, style) : '-');
  const rows = [['PACKAGE', 'EXTRA', 'RETAINED', 'PATHS']];
  for (const d of groups) {
    d.paths.forEach((i, k) => {
      rows.push([k === 0 ? d.pname : '', k === 0 ? size(d.extraBytes) : '', size(a.retainedSize(i)), g.paths[i]!]);
    });
  }
  const total = groups.reduce((s, d) => s + d.extraBytes, 0);
  return (
    [
      ...renderTable(rows, ['left', 'right', 'right', 'left']),
      '',
      `${plural(groups.length, 'package')} in more than one copy. EXTRA: the bytes that would leave the closure if only`,
      `the first (largest) path of each package stayed${g.sizesKnown ? `; ${formatBytes(total, style)} in all` : ''}.`,
    ].join('\n') + '\n'
  );
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** The real nodes by retained size, largest first; equal sizes in path order. */
function realNodesByRetained(a: ClosureAnalysis, byPath: Int32Array = nodesByPath(a.graph)): number[] {
  const g = a.graph;
  const retained = a.dominators.retained;
  const nodes: number[] = [];
  for (const i of byPath) if (!g.isVirtual(i)) nodes.push(i);
  // A stable sort: nodes of equal size keep their path order.
  return nodes.sort((x, y) => retained[y]! - retained[x]!);
}

/**
 * Every node's references as Nix lists them (sorted by path, a self-reference included), as CSR: the nodes are
 * visited once in path order and each is appended to its referrers' lists, so no list needs a sort of its own.
 */
function referencesInNixOrder(g: ClosureGraph, byPath: Int32Array): { offsets: Int32Array; targets: Int32Array } {
  const n = g.nodeCount;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    offsets[i + 1] = offsets[i]! + (g.refOffsets[i + 1]! - g.refOffsets[i]!) + (g.selfReference[i] ? 1 : 0);
  const targets = new Int32Array(offsets[n]!);
  const fill = offsets.slice(0, n);
  for (const j of byPath) {
    if (g.selfReference[j]) targets[fill[j]!++] = j;
    for (let e = g.revOffsets[j]!, end = g.revOffsets[j + 1]!; e < end; e++) targets[fill[g.revTargets[e]!]!++] = j;
  }
  return { offsets, targets };
}

/** Chains as store paths; a virtual root (several roots in the input) is left out of them. */
function chainPaths(a: ClosureAnalysis, set: ChainSet): string[][] {
  const g = a.graph;
  return set.chains.map((c) =>
    (g.hasVirtualRoot && c[0] === g.root && c.length > 1 ? c.slice(1) : c).map((i) => g.paths[i]!),
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The engine names a closure by its root path, or by the file or installable when it has several roots. */
function describeRoot(rootPath: string): string {
  return rootPath === '' ? 'the closure' : rootPath;
}

/** A store path or a name (perl, perl-5.38.2, /re/) → one node of the closure, or a user error. */
export function resolveDependency(a: ClosureAnalysis, spec: string, rootPath: string): number {
  const g = a.graph;
  const where = `the closure of ${describeRoot(rootPath)}`;
  // `/re/` is a name pattern unless it is a path into the store.
  const storeDir = path.dirname(g.paths[g.hasVirtualRoot ? 1 : 0] ?? '/nix/store/x');
  const isPattern = /^\/.+\/i?$/.test(spec) && !spec.startsWith(`${storeDir}/`);
  if (spec.startsWith('/') && !isPattern) {
    const storePath = spec.replace(/\/+$/, '');
    const base = baseName(storePath);
    const direct = g.indexOf(storePath);
    if (direct !== undefined && !g.isVirtual(direct)) return direct;
    if (!isStoreBaseName(base) || path.dirname(storePath) === '/') {
      throw new ClosureLensError(
        'invalid-path',
        `${spec} is not a store path (expected /nix/store/<32-character hash>-<name>)`,
        {
          fix: 'give a full store path from `closure-lens closure`, or a package name such as perl',
        },
      );
    }
    throw new ClosureLensError('invalid-path', `${spec} is not in ${where}`, {
      fix: `check the path; \`closure-lens closure <target> --top 100\` lists what is in it, or give a name such as ${nameHint(base)}`,
    });
  }
  const r = a.resolve(spec);
  if (r.kind === 'unique') return r.node;
  if (r.kind === 'none') {
    throw new ClosureLensError('invalid-path', `nothing named '${spec}' is in ${where}`, {
      fix: 'check the name (`closure-lens closure <target> --json` lists every path), or use /regex/',
    });
  }
  const listed = r.nodes.slice(0, 8).map((i) => g.paths[i]!);
  const more = r.nodes.length > listed.length ? `, and ${r.nodes.length - listed.length} more` : '';
  throw new ClosureLensError('invalid-path', `'${spec}' matches ${r.nodes.length} paths: ${listed.join(', ')}${more}`, {
    fix: `give one of them as a full store path, or a full name such as '${g.name(r.nodes[0]!).name}'`,
  });
}

function nameHint(base: string): string {
  const name = base.slice(33);
  return name ? `'${name}'` : 'perl';
}

interface ResolvedTarget {
  target: Target;
  /** True when the target came from the first positional argument (and not from --from-json). */
  fromPositional: boolean;
}

function targetFrom(
  positionals: string[],
  fromJson: string | undefined,
  extraPositionals: number,
  ctx: CliContext,
  usage: string,
): ResolvedTarget {
  if (fromJson !== undefined) {
    const file = path.resolve(ctx.cwd, fromJson);
    if (!fs.existsSync(file)) {
      throw new ClosureLensError('file-not-found', `${fromJson} does not exist`, {
        fix: 'write the closure first, e.g. `nix path-info --recursive --size --json <path> > closure.json`',
      });
    }
    if (positionals.length > extraPositionals) {
      throw usageError('give the target either as an argument or with --from-json, not both', usage);
    }
    return { target: { kind: 'json-file', file }, fromPositional: false };
  }
  const spec = positionals[0];
  if (spec === undefined || spec === '') throw usageError('no target given', usage);
  if (spec.startsWith('/nix/store/')) {
    const storePath = /^\/nix\/store\/[^/]+/.exec(spec)![0];
    if (!isStoreBaseName(baseName(storePath))) {
      throw new ClosureLensError(
        'invalid-path',
        `${spec} is not a store path (expected /nix/store/<32-character hash>-<name>)`,
        {
          fix: 'check the path, e.g. with `ls -d /nix/store/*-<name>`',
        },
      );
    }
    if (!fs.existsSync(spec)) return { target: { kind: 'store-path', path: storePath }, fromPositional: true };
    // What resolveOperand answers for a path in the store that is no link out of it, without loading it.
    if (!spec.endsWith('.json')) {
      const real = fs.realpathSync(spec);
      if (real === storePath || real.startsWith(`${storePath}/`))
        return { target: { kind: 'store-path', path: storePath }, fromPositional: true };
    }
  }
  return { target: diffTargets().resolveOperand(spec, ctx.cwd).target, fromPositional: true };
}

function positiveInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new ClosureLensError('bad-installable', `${flag} needs a positive whole number, got '${value}'`, {
      fix: `write it as, e.g., ${flag} 10`,
    });
  }
  return Number(value);
}

type OptionSpec = Record<string, { type: 'boolean' | 'string'; short?: string }>;

function parseCommandArgs(argv: string[], usage: string, options: OptionSpec) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(parseArgsMessage(e), usage);
  }
}

/** parseArgs errors carry Node's wording plus advice for scripts; keep the first sentence. */
function parseArgsMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split(/\. (?=To specify)/)[0]!.replace(/\.$/, '');
}

function usageError(message: string, usage: string): ClosureLensError {
  const command = usage.split(' ', 2)[1] ?? '';
  return new ClosureLensError('bad-installable', message, { fix: `see \`closure-lens ${command} --help\`` });
}

/** What the engine says a reader should know (an SBOM has no sizes, the cache could not be written). */
function printNotes(ctx: CliContext, loaded: LoadedClosure): void {
  for (const note of loaded.notes ?? []) ctx.stderr(`note: ${oneLine(note)}\n`);
}

function printUsage(ctx: CliContext, usage: string): number {
  ctx.stdout(usage);
  return 0;
}

function signalOpt(ctx: CliContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

// ---------------------------------------------------------------------------------------------------------
// main

interface GlobalOptions {
  nix?: string;
  cacheDir?: string;
  noCache: boolean;
  timeoutSecs?: number;
  store?: string;
}

/** Takes the options every command shares out of argv, wherever they appear. */
export function extractGlobalOptions(argv: string[]): { options: GlobalOptions; rest: string[] } {
  const options: GlobalOptions = { noCache: false };
  const rest: string[] = [];
  const valued: Record<string, (v: string) => void> = {
    '--nix': (v) => (options.nix = v),
    '--cache-dir': (v) => (options.cacheDir = v),
    '--store': (v) => (options.store = v),
    '--timeout': (v) => {
      const n = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) {
        throw new ClosureLensError('bad-installable', `--timeout needs a number of seconds, got '${v}'`, {
          fix: 'write it as, e.g., --timeout 60',
        });
      }
      options.timeoutSecs = n;
    },
  };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    if (arg === '--') {
      rest.push(...argv.slice(k));
      break;
    }
    if (arg === '--no-cache') {
      options.noCache = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const set = valued[name];
    if (!set) {
      rest.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++k];
    if (value === undefined || value === '') {
      throw new ClosureLensError('bad-installable', `${name} needs a value`, {
        fix: `write it as ${name} <value>; see \`closure-lens --help\``,
      });
    }
    set(value);
  }
  return { options, rest };
}

function defaultCacheDir(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'closure-lens');
}

export interface MainIO {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stderrIsTTY: boolean;
  readonly signal?: AbortSignal;
}

/** The whole CLI: argv in, exit code out. Never throws. */
export async function main(argv: string[], io: MainIO): Promise<number> {
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
    const engine = makeEngine(options);
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
          .finally(() => progress?.done());
      },
      realise: (installable, opts) => {
        const progress = io.stderrIsTTY ? progressLine(io) : undefined;
        return engine
          .realise(installable, {
            ...(opts.cwd ? { cwd: opts.cwd } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
            ...(progress ? { onProgress: progress.update } : {}),
          })
          .finally(() => progress?.done());
      },
      nix: engine.nix,
      cacheDir: options.noCache ? null : (options.cacheDir ?? defaultCacheDir()),
      color: io.stderrIsTTY,
    };
    return await sub.run(commandArgs, ctx);
  } catch (e) {
    return reportError(e, io);
  }
}

function makeEngine(options: GlobalOptions): ClosureEngine {
  const nix = lazyRunner({
    ...(options.nix ? { nixPath: options.nix } : {}),
    ...(options.timeoutSecs ? { timeoutMs: options.timeoutSecs * 1000 } : {}),
  });
  const store = options.store ? { store: options.store } : {};
  if (options.noCache) return new ClosureEngine({ nix, ...store });
  return new ClosureEngine({ nix, ...store, cache: new GraphCache(options.cacheDir ?? defaultCacheDir()) });
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

function progressText(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (typeof p === 'object' && p !== null) {
    const o = p as Record<string, unknown>;
    for (const key of ['message', 'text', 'phase']) if (typeof o[key] === 'string') return o[key] as string;
  }
  return undefined;
}

function reportError(e: unknown, io: MainIO): number {
  if (e instanceof ClosureLensError) {
    io.stderr(`closure-lens: ${oneLine(e.oneLine())}\n`);
    return 1;
  }
  const message = e instanceof Error ? e.message : String(e);
  io.stderr(
    `closure-lens: internal error: ${oneLine(message)} (please report it; set CLOSURE_LENS_DEBUG=1 for details)\n`,
  );
  if (process.env['CLOSURE_LENS_DEBUG'] && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return 2;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

function writeStdout(text: string): void {
  try {
    process.stdout.write(text);
  } catch (e) {
    // `closure-lens … | head`: the reader left; nothing more to say.
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
  }
}

/** Runs the CLI as this process: argv, stdio, SIGINT, and the exit code (dist/closure-lens.js calls it). */
export function runAsProcess(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('interrupted')));
  void main(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: writeStdout,
    stderr: (t) => process.stderr.write(t),
    stderrIsTTY: process.stderr.isTTY === true,
    signal: abort.signal,
  }).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) runAsProcess();
