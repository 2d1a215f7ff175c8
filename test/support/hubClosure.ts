/**
 * A generated closure with hubs (preferential attachment, the shape of a NixOS system where glibc is referred to
 * by most paths), put into the store with `nix-store --import` (storeImport.ts: real, valid store paths in
 * seconds): a few hundred real store paths for tests that compare with `nix why-depends` on many pairs, or
 * thousands for the held-out comparison.
 */
import { generateSpec } from '../../bench/generate';
import { importClosure } from './storeImport';

export const HUB_CLOSURE_PATHS = 600;

/** Names of real packages, so hubs look like what users ask about. */
const NAMES = ['glibc-2.39-52', 'bash-5.2p26', 'perl-5.38.2', 'openssl-3.0.13', 'zlib-1.3.1', 'systemd-255.6'];

/**
 * Imports the generated closure into the store (a no-op after the first run) and returns its root. The defaults are
 * the integration test's closure; other sizes and seeds give held-out closures (whyGraphHeldOutNix.test.ts,
 * bench/whyGraph.ts).
 */
export async function realiseHubClosure(paths = HUB_CLOSURE_PATHS, seed = 16): Promise<string> {
  // out-degrees with the shape of a real NixOS runtime closure's (mean about 3.6, median 2, a long tail)
  const outDegrees = [0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5, 6, 9, 14, 25];
  const spec = generateSpec({ names: NAMES, narSizes: [512], outDegrees }, paths, seed, () => 64);
  const { paths: imported } = await importClosure(spec.nodes, `hub-closure-${paths}-${seed}`);
  return imported[paths - 1]!;
}
