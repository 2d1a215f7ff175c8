/**
 * A large closure for the e2e tests, in the real store without building it: a graph of bench/generate.ts (names
 * and NAR sizes of real cache.nixos.org paths, out-degrees of a real NixOS closure) imported with
 * `nix-store --import` (test/support/storeImport.ts; 10,000 paths in about 20 s, nothing on a rerun). nix answers
 * on it like on any other closure. A GC root under the temp dir keeps it between runs.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { generateSpec, loadSamples, scaledNarSize, type GraphSpec } from '../../bench/generate';
import { nixEnv } from './fixtures';
import { importClosure as importNodes } from './storeImport';

export interface ImportedClosure {
  readonly root: string;
  /** Every path, in dependency order (the root last). */
  readonly paths: readonly string[];
  readonly spec: GraphSpec;
}

/** Imports a generated closure of `n` paths (a no-op when it is there already) and returns its paths. */
export async function importClosure(n: number, seed = 10_000): Promise<ImportedClosure> {
  const samples = await loadSamples();
  const spec = generateSpec(samples, n, seed, scaledNarSize); // as the bench's real closures
  const { paths } = await importNodes(spec.nodes, `e2e-${n}-${seed}`);
  const root = paths[n - 1]!;
  const gcroot = path.join(os.tmpdir(), `closure-lens-imported-${n}-${seed}`);
  await execa('nix-store', ['--realise', '--add-root', gcroot, '--indirect', root], {
    env: nixEnv(),
    stdout: 'ignore',
  });
  return { root, paths, spec };
}
