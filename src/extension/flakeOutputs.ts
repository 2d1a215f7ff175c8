/**
 * Lists the closure-worthy outputs of one flake without `nix flake show`, which evaluates every output and takes
 * minutes on a big flake. Each output category costs one `nix eval --json .#<category> --apply builtins.attrNames`:
 * only the attribute names are forced, never the configurations or packages themselves.
 *
 * No `vscode` import: this runs (and is tested) in plain node too.
 */
import { isClosureLensError } from '../core/errors';

/** What this module needs from the engine's NixRunner; NixRunner satisfies it structurally. */
export interface NixCommandRunner {
  run(
    args: string[],
    opts?: { timeoutMs?: number; signal?: AbortSignal; cwd?: string },
  ): Promise<{ stdout: string; stderr: string; durationMs: number }>;
}

export type OutputCategory =
  'nixosConfigurations' | 'packages' | 'devShells' | 'homeConfigurations' | 'darwinConfigurations';

export interface FlakeOutput {
  category: OutputCategory;
  /** The attribute name inside its category (`myhost`, `hello`). */
  name: string;
  /** Full attribute path of the derivation whose closure is shown, unquoted components. */
  attrPath: string[];
  /** `.#<fragment>`, valid when nix runs with the flake directory as its working directory. */
  installable: string;
  /** Short human form, `nixosConfigurations.myhost`; also what `nixClosureLens.defaultTarget` matches. */
  label: string;
}

interface CategorySpec {
  category: OutputCategory;
  /** Attribute path whose names are listed. */
  listed: (system: string) => string[];
  /** Attribute path of the derivation of one entry. */
  target: (system: string, name: string) => string[];
}

export const CATEGORIES: readonly CategorySpec[] = [
  {
    category: 'nixosConfigurations',
    listed: () => ['nixosConfigurations'],
    target: (_s, n) => ['nixosConfigurations', n, 'config', 'system', 'build', 'toplevel'],
  },
  { category: 'packages', listed: (s) => ['packages', s], target: (s, n) => ['packages', s, n] },
  { category: 'devShells', listed: (s) => ['devShells', s], target: (s, n) => ['devShells', s, n] },
  {
    category: 'homeConfigurations',
    listed: () => ['homeConfigurations'],
    target: (_s, n) => ['homeConfigurations', n, 'activationPackage'],
  },
  {
    category: 'darwinConfigurations',
    listed: () => ['darwinConfigurations'],
    target: (_s, n) => ['darwinConfigurations', n, 'system'],
  },
];

const PLAIN_ATTR = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/**
 * Whether a name can be written in an installable's attribute path at all. Nix's attribute-path parser has
 * quoting but no escapes, so a name holding `"` cannot be selected from the command line.
 */
export function isSelectableAttrName(name: string): boolean {
  return !name.includes('"');
}

/**
 * The URL fragment that selects `components`: names that are not plain identifiers are double-quoted (so a dot
 * inside `"my.host"` is not a separator), then everything is percent-encoded because Nix percent-decodes the
 * fragment before it parses the attribute path (`%41` would otherwise turn into `A`, `#` would end the URL).
 */
export function attrPathFragment(components: readonly string[]): string {
  for (const c of components) {
    if (!isSelectableAttrName(c))
      throw new Error(`attribute name ${JSON.stringify(c)} cannot be selected: it holds a double quote`);
  }
  const quoted = components.map((c) => (PLAIN_ATTR.test(c) ? c : `"${c}"`)).join('.');
  // encodeURIComponent leaves `.`; `"` is allowed raw in a flake URL fragment and keeps logs readable.
  return encodeURIComponent(quoted).replace(/%22/g, '"');
}

/** The inverse of `installableFor`: the attribute path components of `.#<fragment>`; undefined when malformed. */
export function parseInstallable(installable: string): string[] | undefined {
  if (!installable.startsWith('.#')) return undefined;
  let text: string;
  try {
    text = decodeURIComponent(installable.slice(2));
  } catch {
    return undefined;
  }
  // Nix's own rule: `.` separates, `"…"` quotes (no escapes).
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '.') {
      out.push(cur);
      cur = '';
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return undefined;
      cur += text.slice(i + 1, end);
      i = end;
    } else cur += c;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** The output that an attribute path stands for, if it has the shape of one of the categories. */
export function outputFromAttrPath(attrPath: readonly string[]): FlakeOutput | undefined {
  for (const spec of CATEGORIES) {
    if (attrPath[0] !== spec.category) continue;
    const system = attrPath[1] ?? '';
    const name = spec.listed(system).length === 2 ? attrPath[2] : attrPath[1];
    if (name === undefined) return undefined;
    const expected = spec.target(system, name);
    if (expected.length !== attrPath.length || expected.some((c, i) => c !== attrPath[i])) return undefined;
    return {
      category: spec.category,
      name,
      attrPath: expected,
      installable: installableFor(expected),
      label: attrPathLabel([spec.category, name]),
    };
  }
  return undefined;
}

export function installableFor(components: readonly string[]): string {
  return `.#${attrPathFragment(components)}`;
}

/** Human form of an attribute path: plain names joined with dots, odd ones quoted as Nix would print them. */
export function attrPathLabel(components: readonly string[]): string {
  return components.map((c) => (PLAIN_ATTR.test(c) ? c : JSON.stringify(c))).join('.');
}

export interface ListOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called for names that cannot be selected (see isSelectableAttrName), so the caller can say so. */
  onSkipped?: (category: OutputCategory, name: string, why: string) => void;
}

/** True when nix failed only because the flake has no such attribute (a category it does not define). */
export function isMissingAttributeError(err: unknown): boolean {
  return isClosureLensError(err, 'missing-attribute');
}

/**
 * Lists every output of the flake in `flakeDir` for the given system, in category order, names sorted.
 * A category the flake does not define yields nothing; any other evaluation error is thrown as nix reported it.
 */
export async function listFlakeOutputs(
  nix: NixCommandRunner,
  flakeDir: string,
  system: string,
  opts: ListOptions = {},
): Promise<FlakeOutput[]> {
  // allSettled, not all: on a failure, the other evaluations still finish before the error is thrown, so no nix
  // process outlives the call.
  const settled = await Promise.allSettled(
    CATEGORIES.map(async (spec) => {
      let names: string[];
      try {
        const { stdout } = await nix.run(
          ['eval', '--json', installableFor(spec.listed(system)), '--apply', 'builtins.attrNames'],
          { cwd: flakeDir, signal: opts.signal, timeoutMs: opts.timeoutMs },
        );
        names = parseNameList(stdout);
      } catch (err) {
        if (isMissingAttributeError(err)) return [];
        throw err;
      }
      const outputs: FlakeOutput[] = [];
      for (const name of names) {
        if (!isSelectableAttrName(name)) {
          opts.onSkipped?.(spec.category, name, 'Nix cannot select attribute names that contain a double quote');
          continue;
        }
        const attrPath = spec.target(system, name);
        outputs.push({
          category: spec.category,
          name,
          attrPath,
          installable: installableFor(attrPath),
          label: attrPathLabel([spec.category, name]),
        });
      }
      return outputs;
    }),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

function parseNameList(stdout: string): string[] {
  const parsed: unknown = JSON.parse(stdout);
  if (!Array.isArray(parsed) || !parsed.every((n) => typeof n === 'string')) {
    throw new Error(`nix eval printed something other than a list of names: ${stdout.slice(0, 200)}`);
  }
  return [...parsed].sort();
}

/** Nix's name for this machine's platform, used when `builtins.currentSystem` cannot be asked. */
export function systemFromNode(arch: string = process.arch, platform: string = process.platform): string {
  const cpu =
    ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
  return `${cpu}-${platform}`;
}

/** The system Nix builds for here; `--impure` is needed only to read `builtins.currentSystem`, a fixed expression. */
export async function currentSystem(
  nix: NixCommandRunner,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string> {
  const { stdout } = await nix.run(['eval', '--raw', '--impure', '--expr', 'builtins.currentSystem'], opts);
  const system = stdout.trim();
  if (!/^[A-Za-z0-9_]+-[A-Za-z0-9_]+$/.test(system)) throw new Error(`unexpected system name from nix: ${system}`);
  return system;
}
