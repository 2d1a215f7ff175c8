/**
 * Which Nix we talk to (`nix --version`), and what follows from it: which flags exist and which JSON shape
 * `path-info --json` prints. Lix and Determinate Nix report their own names; Determinate also the Nix version
 * it is based on, which is what decides the flags.
 */
import { ClosureLensError } from '../errors';

export type NixImplementation = 'nix' | 'lix' | 'determinate';

export interface NixVersion {
  readonly implementation: NixImplementation;
  /** The Nix-compatible version (for Determinate, the upstream Nix version it is based on), e.g. `2.8.0`. */
  readonly version: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Determinate Nix's own version (`3.6.2`), when it says so. */
  readonly vendorVersion?: string;
  /** The line Nix printed. */
  readonly raw: string;
}

/** Parses the first line of `nix --version`: `nix (Nix) 2.8.0`, `nix (Lix, like Nix) 2.91.1`, `nix (Determinate Nix 3.6.2) 2.29.0`. */
export function parseNixVersion(output: string): NixVersion {
  const raw = output.trim().split('\n')[0] ?? '';
  const m = /^nix \(([^)]*)\) (\d+)\.(\d+)(?:\.(\d+))?(\S*)/.exec(raw);
  if (!m) {
    throw new ClosureLensError(
      'nix-failed',
      `cannot tell the Nix version from \`nix --version\`: ${JSON.stringify(raw)}`,
      {
        fix: 'make sure the configured binary is Nix (2.8 or newer), Lix or Determinate Nix',
      },
    );
  }
  const vendor = m[1]!;
  const implementation: NixImplementation = /\bLix\b/i.test(vendor)
    ? 'lix'
    : /Determinate/i.test(vendor)
      ? 'determinate'
      : 'nix';
  const vendorVersion = /Determinate Nix (\d[\w.+-]*)/.exec(vendor)?.[1];
  const major = Number(m[2]);
  const minor = Number(m[3]);
  const patch = Number(m[4] ?? 0);
  return {
    implementation,
    version: `${major}.${minor}.${patch}${m[5] ?? ''}`,
    major,
    minor,
    patch,
    ...(vendorVersion ? { vendorVersion } : {}),
    raw,
  };
}

export function versionLabel(v: NixVersion): string {
  const name = v.implementation === 'lix' ? 'Lix' : v.implementation === 'determinate' ? 'Determinate Nix' : 'Nix';
  return v.vendorVersion ? `${name} ${v.vendorVersion} (Nix ${v.version})` : `${name} ${v.version}`;
}

function atLeast(v: NixVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** What this Nix can do, as far as closure-lens cares. */
export interface NixCapabilities {
  /**
   * `path-info --json` takes `--json-format` (Nix 2.33+; without it Nix warns that plain `--json` is deprecated).
   * Lix's versions (2.9x) are not comparable with Nix's: Lix has no such flag.
   */
  readonly pathInfoJsonFormat: boolean;
  /** `nix build --print-out-paths` exists (Nix 2.10+, Lix); 2.8 rejects it, so we use `--json` everywhere. */
  readonly printOutPaths: boolean;
  /** Minimum version we support. */
  readonly supported: boolean;
}

export function capabilities(v: NixVersion): NixCapabilities {
  const isLix = v.implementation === 'lix';
  return {
    pathInfoJsonFormat: !isLix && atLeast(v, 2, 33),
    printOutPaths: isLix || atLeast(v, 2, 10),
    supported: isLix || atLeast(v, 2, 8),
  };
}

/** The flags for `path-info --json` on this Nix: the structured v2 format where it exists. */
export function pathInfoJsonFlags(v: NixVersion): string[] {
  return capabilities(v).pathInfoJsonFormat ? ['--json', '--json-format', '2'] : ['--json'];
}
