/**
 * Every `closure-lens` example in README.md and docs/ is what a real run on the example flake prints today
 * (test/support/docExamples.ts says how examples are written). `npm run docs:examples` rewrites them from a run.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { comparable, docExamples, docFiles, runExample } from '../support/docExamples';
import { buildExampleFlake, exampleFlakeDir } from '../support/exampleFlake';
import { nixEnv, repoRoot } from '../support/fixtures';

describe('documentation examples are real runs', function () {
  this.timeout(600_000);
  const root = repoRoot();
  const examples = docFiles(root).flatMap(docExamples);
  let cacheHome: string;

  before(async () => {
    await buildExampleFlake();
    cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-doc-'));
  });
  after(() => fs.rmSync(cacheHome, { recursive: true, force: true }));

  it('the documents have examples', () => assert.ok(examples.length >= 5, `${examples.length} examples`));

  for (const ex of examples) {
    it(`${path.relative(root, ex.file)}:${ex.line}: ${ex.command}`, async () => {
      const env = { ...nixEnv(), XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' };
      const { stdout } = await runExample(root, ex.command, exampleFlakeDir(), env);
      assert.equal(comparable(ex.output), comparable(stdout), 'run `npm run docs:examples` to update the document');
    });
  }
});
