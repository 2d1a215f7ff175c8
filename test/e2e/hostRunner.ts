/**
 * The `extensionTestsPath` module: VS Code's extension host (code-server's, or a desktop VS Code's under
 * @vscode/test-electron) calls `run()` and reports its outcome. Runs every mocha file in out/test/e2e/suite/, or in
 * out/test/e2e/<CLOSURE_LENS_E2E_SUITE>/ (suite-multiroot: the tests that need a multi-root workspace).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  const suite = process.env['CLOSURE_LENS_E2E_SUITE'] ?? 'suite';
  if (!/^suite[\w-]*$/.test(suite)) throw new Error(`CLOSURE_LENS_E2E_SUITE must name a suite directory, not ${suite}`);
  const dir = path.join(__dirname, suite);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  if (files.length === 0) throw new Error(`no *.test.js in ${dir}: run node .esbuild.config.mjs`);
  for (const f of files) mocha.addFile(path.join(dir, f));
  await new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} e2e test(s) failed`)) : resolve()));
  });
}
