/**
 * A generated closure with hubs (preferential attachment, the shape of a NixOS system where glibc is referred to
 * by most paths), realised into the store with bench/gen.nix: a few hundred real store paths for tests that
 * compare with `nix why-depends` on many pairs. Building takes about a minute the first time, nothing after.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { generateSpec } from '../../bench/generate';
import { nixEnv, repoRoot } from './fixtures';

export const HUB_CLOSURE_PATHS = 600;

/** Names of real packages, so hubs look like what users ask about. */
const NAMES = ['glibc-2.39-52', 'bash-5.2p26', 'perl-5.38.2', 'openssl-3.0.13', 'zlib-1.3.1', 'systemd-255.6'];

/**
 * Builds the generated closure into the store (a no-op after the first run) and returns its root. The defaults are
 * the test's closure; bench/whyGraph.ts builds a held-out one of thousands of paths with another seed.
 */
export async function realiseHubClosure(paths = HUB_CLOSURE_PATHS, seed = 16): Promise<string> {
  // out-degrees with the shape of a real NixOS runtime closure's (mean about 3.6, median 2, a long tail)
  const outDegrees = [0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5, 6, 9, 14, 25];
  const spec = generateSpec({ names: NAMES, narSizes: [512], outDegrees }, paths, seed, () => 64);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'why-graph-'));
  try {
    const specFile = path.join(dir, 'spec.json');
    fs.writeFileSync(specFile, JSON.stringify({ nodes: spec.nodes }));
    const evaluated = await execa(
      'nix',
      ['eval', '--json', '--file', path.join(repoRoot(), 'bench', 'gen.nix'), '--argstr', 'spec', specFile, 'result'],
      { env: nixEnv(), maxBuffer: 1 << 28 },
    );
    const { drvPaths, outPaths } = JSON.parse(evaluated.stdout) as { drvPaths: string[]; outPaths: string[] };
    // In batches in dependency order: Nix 2.8's scheduler slows down with many goals (docs in nix-cli notes).
    for (let start = 0; start < drvPaths.length; start += 1000)
      await execa(
        'nix-store',
        [
          '--realise',
          '--option',
          'fsync-metadata',
          'false',
          '--option',
          'build-users-group',
          '',
          ...drvPaths.slice(start, start + 1000),
        ],
        { env: nixEnv(), stdout: 'ignore', stderr: 'ignore' },
      );
    return outPaths[paths - 1]!;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
