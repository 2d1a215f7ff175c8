/** `npm run package`: the production bundles and the .vsix in dist/, as users get them (e2e and bench). */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './codeServer';

/**
 * Builds the .vsix (or, with `reuse`, keeps one already built) and returns its path. Afterwards dist/ holds the
 * development build again (source maps), for the sessions that load the extension from this folder.
 */
export function packageVsix(opts: { reuse?: boolean; log?: (output: string) => void } = {}): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
  const vsix = path.join(REPO, 'dist', `${pkg.name}-${pkg.version}.vsix`);
  if (!(opts.reuse && fs.existsSync(vsix))) {
    fs.rmSync(vsix, { force: true });
    const output = execFileSync('npm', ['run', '--silent', 'package'], {
      cwd: REPO,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    opts.log?.(output);
    execFileSync(process.execPath, ['.esbuild.config.mjs'], { cwd: REPO, stdio: 'inherit' });
  }
  if (!fs.existsSync(vsix)) throw new Error(`npm run package did not write ${vsix}`);
  return vsix;
}
