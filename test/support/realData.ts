/**
 * The real Nix data in the repository (test/fixtures/real-data; what each folder is and where it comes from is in
 * its README.md and SOURCE.txt files). Test and bench bundles sit at different depths under out/, so the folder is
 * found by walking up from this bundle rather than by a fixed number of `..`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const FOLDER = path.join('test', 'fixtures', 'real-data');

let found: string | undefined;

/** test/fixtures/real-data, or a file or folder in it: `realDataDir('nix-2.26-outputs', 'path-info-rs.json')`. */
export function realDataDir(...parts: string[]): string {
  if (found === undefined) {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, FOLDER, 'README.md'))) {
      const parent = path.dirname(dir);
      if (parent === dir)
        throw new Error(`no ${FOLDER} above ${__dirname}: run the tests from a checkout of the repository`);
      dir = parent;
    }
    found = path.join(dir, FOLDER);
  }
  return path.join(found, ...parts);
}
