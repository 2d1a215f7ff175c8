/** `npm run docs:examples`: runs every example of README.md and docs/ and writes its real output into the file. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { docExamples, docFiles, runExample } from './docExamples';
import { buildExampleFlake, exampleFlakeDir } from './exampleFlake';
import { nixEnv, repoRoot } from './fixtures';

async function main(): Promise<void> {
  const root = repoRoot();
  await buildExampleFlake();
  const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-doc-'));
  try {
    for (const file of docFiles(root)) {
      const examples = docExamples(file);
      if (examples.length === 0) continue;
      let text = fs.readFileSync(file, 'utf8');
      // Run in document order (as the test does: a later example may read what an earlier one cached), then
      // replace from the end, so that earlier offsets stay right.
      const outputs: string[] = [];
      for (const ex of examples) {
        const env = { ...nixEnv(), XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' };
        outputs.push((await runExample(root, ex.command, exampleFlakeDir(), env)).stdout);
      }
      for (let k = examples.length - 1; k >= 0; k--) {
        text = text.slice(0, examples[k]!.start) + outputs[k]! + text.slice(examples[k]!.end);
      }
      fs.writeFileSync(file, text);
      console.log(`${path.relative(root, file)}: ${examples.length} example(s)`);
    }
  } finally {
    fs.rmSync(cacheHome, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
