/** The bundled example flake (test/fixtures/example-flake), built as the demo builds it. */
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { nixEnv, repoRoot } from './fixtures';

export function exampleFlakeDir(): string {
  return path.join(repoRoot(), 'test/fixtures/example-flake');
}

/** The outputs the docs' examples and the demo use (not slow-build, which takes half a minute on purpose). */
export const EXAMPLE_OUTPUTS = [
  '.#nixosConfigurations.demo.config.system.build.toplevel',
  '.#nixosConfigurations.slim.config.system.build.toplevel',
  '.#packages.x86_64-linux.perl',
  '.#packages.x86_64-linux.nginx',
  '.#packages.x86_64-linux.w3m',
  '.#packages.x86_64-linux.systemd',
  '.#packages.x86_64-linux.zfs-user',
  '.#devShells.x86_64-linux.default',
];

export function buildExampleFlake(): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(
      'nix',
      ['build', '--no-link', ...EXAMPLE_OUTPUTS],
      { cwd: exampleFlakeDir(), env: nixEnv(), maxBuffer: 64 * 2 ** 20 },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`building the example flake failed: ${stderr}`)) : resolve(),
    ),
  );
}
