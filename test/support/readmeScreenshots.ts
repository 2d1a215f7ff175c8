/**
 * The pictures in README.md and docs/ (media/screenshot-*.png) are screenshots that tests take anyway. With
 * UPDATE_SCREENSHOTS=1 in the environment, such a test also copies its screenshot over the picture in media/;
 * otherwise the pictures are left alone, so an ordinary test run changes no tracked file. Which test writes which
 * picture: CONTRIBUTING.md, "README pictures".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './fixtures';

/** The pictures tests write, by file name under media/. */
export type ReadmePicture = 'screenshot-vscode.png' | 'screenshot-sunburst.png' | 'screenshot-table.png';

export function updatingScreenshots(): boolean {
  return process.env['UPDATE_SCREENSHOTS'] === '1';
}

/** Copies `screenshot` (a PNG a test just wrote) to media/`picture` when UPDATE_SCREENSHOTS=1. */
export function publishScreenshot(screenshot: string, picture: ReadmePicture): void {
  if (!updatingScreenshots()) return;
  fs.copyFileSync(screenshot, path.join(repoRoot(), 'media', picture));
}
