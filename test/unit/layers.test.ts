/**
 * The layer rules of docs/ARCHITECTURE.md, as `npm run lint` checks them: each forbidden import is reported, each
 * allowed one is not, and an import cycle is an error. The probe files live in a temporary tree laid out like ours
 * and are linted with the repository's own eslint.config.mjs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { repoRoot } from '../support/fixtures';

describe('lint: layer rules', function () {
  this.timeout(60_000);
  let dir: string;
  let eslint: ESLint;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-layers-'));
    eslint = new ESLint({ cwd: dir, overrideConfigFile: path.join(repoRoot(), 'eslint.config.mjs') });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes `files` into the probe tree and returns the rule ids reported for `file`. */
  async function ruleIds(files: Record<string, string>, file: string): Promise<string[]> {
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    const [result] = await eslint.lintFiles([path.join(dir, file)]);
    return result!.messages.map((m) => m.ruleId ?? m.message);
  }

  const cases: [file: string, importFrom: string, forbidden: boolean][] = [
    ['src/core/engine.ts', 'vscode', true],
    ['src/core/engine.ts', '../cli/main', true],
    ['src/core/engine.ts', '../extension/commands', true],
    ['src/core/engine.ts', '../../webview/app', true],
    ['src/core/engine.ts', '../shared/graph', false],
    ['src/core/engine.ts', 'node:fs', false],
    ['src/shared/graph.ts', 'node:fs', true],
    ['src/shared/graph.ts', 'fs', true],
    ['src/shared/graph.ts', '../core/errors', true],
    ['src/shared/graph.ts', 'execa', true],
    ['src/shared/graph.ts', './storePath', false],
    ['src/cli/main.ts', '../extension/commands', true],
    ['src/cli/main.ts', '../core/load', false],
    ['src/extension/commands.ts', '../cli/main', true],
    ['src/extension/commands.ts', 'vscode', false],
    ['webview/app.ts', '../src/core/graph', true],
    ['webview/app.ts', 'node:path', true],
    ['webview/app.ts', '../src/shared/graph', false],
  ];
  for (const [file, from, forbidden] of cases) {
    it(`${file} importing ${from}: ${forbidden ? 'an error' : 'allowed'}`, async () => {
      const ids = await ruleIds({ [file]: `import * as x from '${from}';\nexport const y = x;\n` }, file);
      assert.equal(ids.includes('no-restricted-imports'), forbidden, ids.join(', '));
    });
  }

  it('an import cycle is an error', async () => {
    const ids = await ruleIds(
      {
        'src/core/cycleA.ts': "import { b } from './cycleB';\nexport const a = () => b();\n",
        'src/core/cycleB.ts': "import { a } from './cycleA';\nexport const b = () => a();\n",
      },
      'src/core/cycleA.ts',
    );
    assert.ok(ids.includes('import-x/no-cycle'), ids.join(', '));
  });
});
