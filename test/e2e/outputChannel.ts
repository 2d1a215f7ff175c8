/**
 * The lines of one of the extension's output channels, as VS Code writes them to the window's log folder
 * (a log channel in `<user-data>/logs/<session>/window1/exthost/<publisher.extension>/<channel>.log`, a plain
 * one in `…/exthost/output_logging_<time>/<n>-<channel>.log`): what a user sees in the
 * Output view, read without clicking through it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Profile } from './codeServer';

export function outputChannelLines(profile: Profile, channel: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && (e.name === `${channel}.log` || e.name.endsWith(`-${channel}.log`)))
        lines.push(...fs.readFileSync(full, 'utf8').split('\n'));
    }
  };
  walk(path.join(profile.userDataDir, 'logs'));
  return lines.filter(Boolean);
}
