/**
 * The one home of closure-lens's caches on disk: `$XDG_CACHE_HOME/closure-lens`, else `~/.cache/closure-lens`.
 * The CLI (graph cache, compressed sizes, option attribution), its code-cache launcher and the core's own
 * defaults all ask here. (Before 0.1.0 the graph cache's default was `nix-closure-lens`; nothing reads that
 * folder any more, and it may be deleted.)
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const CACHE_FOLDER_NAME = 'closure-lens';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, CACHE_FOLDER_NAME);
}
