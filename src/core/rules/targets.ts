/** Which rule blocks of a rules file apply to a loaded closure: its `target` against the installable or store path. */
import * as path from 'node:path';
import type { TargetRules } from './config';

/** How a loaded closure is known: what the user asked for, and the store path it became. */
export interface ClosureIdentity {
  /** The installable as given (`.#web`, `path:/x#packages.x86_64-linux.default`); absent for a plain store path. */
  readonly installable?: string;
  /** The directory the installable is relative to; local flake references are compared as directories. */
  readonly cwd?: string;
  readonly rootPath: string;
}

/**
 * A rule block applies when its target (a glob: `*` any run of characters, `?` one character) matches:
 * - the root store path;
 * - for a target with `#`: the same local flake directory (the target's relative to `configDir`, the
 *   closure's relative to its `cwd`) and the attribute after `#` — or the installable as written;
 * - for a target without `#`: the attribute after `#` of the installable.
 * An attribute also matches the attributes below it, so `nixosConfigurations.web` covers
 * `nixosConfigurations.web.config.system.build.toplevel`.
 */
export function ruleAppliesTo(rule: TargetRules, id: ClosureIdentity, configDir?: string): boolean {
  if (globToRegExp(rule.target).test(id.rootPath)) return true;
  if (!id.installable) return false;
  const have = splitInstallable(id.installable, id.cwd);
  const hash = rule.target.indexOf('#');
  if (hash < 0) return have.attr !== undefined && attrMatches(rule.target, have.attr);
  const want = splitInstallable(rule.target, configDir);
  if (have.attr === undefined || want.attr === undefined || !attrMatches(want.attr, have.attr)) return false;
  if (globToRegExp(want.flake).test(have.flake)) return true;
  // Relative references without a known base directory: compare them as written.
  return (
    normalizeInstallable(rule.target.slice(0, hash)) ===
    normalizeInstallable(id.installable.slice(0, id.installable.indexOf('#')))
  );
}

function attrMatches(pattern: string, attr: string): boolean {
  const attrs = expandAttr(attr);
  for (const p of expandAttr(pattern)) {
    const re = globToRegExp(p);
    for (const a of attrs) {
      if (re.test(a)) return true;
      const parts = a.split('.');
      for (let i = parts.length - 1; i > 0; i--) if (re.test(parts.slice(0, i).join('.'))) return true;
    }
  }
  return false;
}

/** Top-level flake outputs; an attribute that starts with none of them is looked up as Nix does. */
const FLAKE_OUTPUTS = new Set([
  'packages',
  'legacyPackages',
  'nixosConfigurations',
  'homeConfigurations',
  'darwinConfigurations',
  'devShells',
  'checks',
  'apps',
  'formatter',
  'hydraJobs',
  'nixosModules',
  'overlays',
  'lib',
  'defaultPackage',
  'devShell',
]);

/** `hello` means what `nix build .#hello` builds: `packages.<system>.hello` or `legacyPackages.<system>.hello`. */
function expandAttr(attr: string): string[] {
  if (FLAKE_OUTPUTS.has(attr.split('.', 1)[0]!)) return [attr];
  const system = currentSystem();
  return [attr, `packages.${system}.${attr}`, `legacyPackages.${system}.${attr}`];
}

function currentSystem(): string {
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
  return `${arch}-${process.platform}`;
}

/** The flake part (a resolved directory when it is local and a base is known) and the attribute after `#`. */
function splitInstallable(s: string, baseDir: string | undefined): { flake: string; attr: string | undefined } {
  const hash = s.indexOf('#');
  const ref = hash < 0 ? s : s.slice(0, hash);
  const attr = hash < 0 ? undefined : s.slice(hash + 1);
  let local: string | undefined;
  if (ref === '' || ref === '.') local = '.';
  else if (ref.startsWith('path:')) local = ref.slice(5).split('?', 1)[0]!;
  else if (ref.startsWith('git+file://')) local = ref.slice(11).split('?', 1)[0]!;
  else if (ref.startsWith('/') || ref.startsWith('./') || ref.startsWith('../')) local = ref;
  if (local === undefined) return { flake: ref, attr };
  if (local.startsWith('/')) return { flake: path.posix.normalize(local).replace(/\/+$/, '') || '/', attr };
  return { flake: baseDir ? path.resolve(baseDir, local) : normalizeInstallable(ref), attr };
}

/** `.#x` and `#x` and `path:.#x` name the same thing; compare them in one spelling. */
function normalizeInstallable(s: string): string {
  return s
    .replace(/^path:/, '')
    .replace(/^(\.\/)?$/, '.')
    .replace(/^#/, '.#')
    .replace(/^\.\/#/, '.#');
}

export function isGlob(target: string): boolean {
  return /[*?]/.test(target);
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
