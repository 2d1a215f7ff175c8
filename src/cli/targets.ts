/** From a command's positional arguments (or --from-json) to the engine's Target, with the CLI's own checks. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as DiffTargetsModule from '../core/diff/targets';
import type { Target } from '../core/load/engine';
import { ClosureLensError } from '../core/errors';
import { usageError } from './args';
import { storeOperand } from './storeOperand';
import type { CliContext } from './context';

export const TARGET_HELP = `  <target>            a flake installable (.#hello, .#nixosConfigurations.host.config.system.build.toplevel,
                      path:/some/flake#pkg), a store path, or a link into the store (./result)
  --from-json FILE    read the closure from a file instead: nix path-info --recursive --size --json output
                      (any Nix version), closureInfo/exportReferencesGraph JSON, or a CycloneDX SBOM`;

export const BUILD_HELP = `  --build             build the target first when it is not built yet (progress on stderr); without it an
                      unbuilt target is an error`;

// core/diff/targets runs git and nix (execa); a query answered from the cache loads none of that. esbuild turns
// this require() into a lazy module initialiser inside the one bundle.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const diffTargets = (): typeof DiffTargetsModule => require('../core/diff/targets') as typeof DiffTargetsModule;

/**
 * A command-line operand as core/diff/targets reads it, after one check Nix words badly: `dir#pkg` for a local
 * flake directory is a registry lookup to Nix ("'dir' is not a commit hash"), so it is refused here with the fix.
 */
export function resolveCliOperand(spec: string, cwd: string): DiffTargetsModule.DiffOperand {
  refuseBarePathFlakeRef(spec, cwd);
  return diffTargets().resolveOperand(spec, cwd);
}

/** `example-flake#pkg` where ./example-flake/flake.nix exists: Nix needs `./` to read it as a path. */
export function refuseBarePathFlakeRef(spec: string, cwd: string): void {
  const hash = spec.indexOf('#');
  if (hash <= 0) return;
  const ref = spec.slice(0, hash);
  // Path references start with . / or ~; anything with a scheme (path:, github:, git+file:) is Nix's to read.
  if (/^[./~]/.test(ref) || ref.includes(':')) return;
  if (!fs.existsSync(path.join(path.resolve(cwd, ref), 'flake.nix'))) return; // a registry name such as nixpkgs
  throw new ClosureLensError(
    'bad-installable',
    `a path flake reference needs ./: did you mean ./${spec}? ('${ref}' without ./ is a flake registry name to Nix)`,
    { fix: `write it as ./${spec}` },
  );
}

export interface ResolvedTarget {
  target: Target;
  /** True when the target came from the first positional argument (and not from --from-json). */
  fromPositional: boolean;
}

export function targetFrom(
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
  const inStore = storeOperand(spec);
  if (inStore?.kind === 'not-a-store-path') {
    throw new ClosureLensError(
      'invalid-path',
      `${spec} is not a store path (expected /nix/store/<32-character hash>-<name>)`,
      {
        fix: 'check the path, e.g. with `ls -d /nix/store/*-<name>`',
      },
    );
  }
  // What resolveOperand answers for a path in the store that is no link out of it, without loading it.
  if (inStore) return { target: inStore, fromPositional: true };
  return { target: resolveCliOperand(spec, ctx.cwd).target, fromPositional: true };
}
