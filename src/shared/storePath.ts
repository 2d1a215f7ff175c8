/** Store-path names: `/nix/store/<hash>-<pname>-<version>-<output>`. */

export interface StorePathName {
  /** The 32-character nix-base32 hash part. */
  readonly hash: string;
  /** Everything after `<hash>-`, e.g. `util-linux-2.39.3-lib`. */
  readonly name: string;
  /** The package name as Nix's DrvName splits it: up to the first `-` followed by a digit. */
  readonly pname: string;
  /** Version without the output suffix; '' when there is none. */
  readonly version: string;
  /** A known non-default output suffix such as `man`, `dev` or `lib`; '' for the default output. */
  readonly output: string;
}

/** The name a virtual root (the node over several roots, which is no store path) goes by. */
export const ROOTS_NAME: StorePathName = { hash: '', name: '(roots)', pname: '(roots)', version: '', output: '' };

/** Output names that Nixpkgs appends to store-path names, in the order they are checked. */
export const KNOWN_OUTPUTS = [
  'bin',
  'dev',
  'devdoc',
  'doc',
  'info',
  'lib',
  'man',
  'debug',
  'static',
  'out',
  'modules',
  'data',
  'udev',
  'scripts',
  'terminfo',
  'py',
  'python',
  'firmware',
] as const;
const outputSet = new Set<string>(KNOWN_OUTPUTS);

/** Characters of a store path's hash part. */
export const HASH_LENGTH = 32;
/** Nix's base-32 alphabet (no e, o, u, t), in ASCII order. */
export const NIX_BASE32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';
const NIX_BASE32 = new RegExp(`^[${NIX_BASE32_ALPHABET}]{${HASH_LENGTH}}$`);

/** The base name of a store path (`<hash>-<name>`), whatever its store directory. */
export function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

/** The name of a store path, after its hash: `perl-5.38.2` of `/nix/store/<hash>-perl-5.38.2`. */
export function storeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + HASH_LENGTH + 2);
}

/** The only characters Nix allows in a store path name; anything else comes from a damaged or hand-made file. */
const NIX_NAME = /^[A-Za-z0-9+\-._?=]+$/;

/** True when `base` looks like `<32 nix-base32 chars>-<name>`, the name in Nix's alphabet. */
export function isStoreBaseName(base: string): boolean {
  return (
    base.length > HASH_LENGTH + 1 &&
    base[HASH_LENGTH] === '-' &&
    NIX_BASE32.test(base.slice(0, HASH_LENGTH)) &&
    NIX_NAME.test(base.slice(HASH_LENGTH + 1))
  );
}

export function parseStorePath(path: string): StorePathName {
  const base = baseName(path);
  if (!isStoreBaseName(base)) {
    return { hash: '', name: base, pname: base, version: '', output: '' };
  }
  const hash = base.slice(0, HASH_LENGTH);
  const name = base.slice(HASH_LENGTH + 1);
  let rest = name;
  let output = '';
  const lastDash = rest.lastIndexOf('-');
  if (lastDash > 0) {
    const suffix = rest.slice(lastDash + 1);
    // Only strip a suffix when something remains that could still be a name.
    if (outputSet.has(suffix)) {
      output = suffix;
      rest = rest.slice(0, lastDash);
    }
  }
  const versionStart = findVersionStart(rest);
  if (versionStart < 0) return { hash, name, pname: rest, version: '', output };
  return { hash, name, pname: rest.slice(0, versionStart), version: rest.slice(versionStart + 1), output };
}

/** Index of the dash that starts the version, as Nix's DrvName does it: the first `-` followed by a non-letter. */
function findVersionStart(name: string): number {
  for (let i = 0; i < name.length - 1; i++) {
    if (name[i] === '-') {
      const c = name.charCodeAt(i + 1);
      const isLetter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
      if (!isLetter) return i;
    }
  }
  return -1;
}

/** A short label for views: `perl-5.38.2`, `util-linux-2.39.3 (lib)`. */
export function displayName(p: StorePathName): string {
  return p.output ? `${p.name.slice(0, p.name.length - p.output.length - 1)} (${p.output})` : p.name;
}
