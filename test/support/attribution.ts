/** Builders of option evaluations for the attribution tests (what attribution.nix would report). */
import type { OptionEvaluation, RawOption } from '../../src/core/attribution';

/** The flake's store copy and nixpkgs' source, as evaluated paths look. */
export const SOURCE = '/nix/store/ssssssssssssssssssssssssssssssss-source';
export const NIXPKGS = '/nix/store/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn-source';

/** A valid store path whose hash encodes `i`. */
export function storePath(i: number, name: string): string {
  const hash = i
    .toString(36)
    .padStart(32, '0')
    .replace(/[eotu]/g, 'a');
  return `/nix/store/${hash}-${name}`;
}

export function evaluation(options: RawOption[]): OptionEvaluation {
  return {
    flake: { url: 'path:/ws?narHash=x', pinned: true, sourcePath: SOURCE, localPath: '/ws' },
    attrPath: ['nixosConfigurations', 'demo'],
    root: { drvPath: null, outPath: null },
    options,
    evalMs: 12,
  };
}

/** A list option declared in nixpkgs with one definition per entry of `defs`. */
export function option(
  name: string,
  defs: { file: string; paths: string[] }[],
  extra: Partial<RawOption> = {},
): RawOption {
  return {
    loc: name.split('.'),
    option: name,
    type: 'listOf',
    declarations: [{ file: `${NIXPKGS}/nixos/modules/${name}.nix`, line: 3, column: 5 }],
    definitions: defs.map((d, index) => ({ file: d.file, index, paths: d.paths, drvs: [], truncated: false })),
    defaultNames: [],
    ...extra,
  };
}
