/**
 * The examples in README.md and docs/*.md that show a `closure-lens` run: a ```console block whose first line is
 * `$ closure-lens …`. Each runs in the example flake (test/fixtures/example-flake) and its block holds what the run
 * printed on stdout. test/integration/docExamples.test.ts runs every one and compares; `npm run docs:examples`
 * writes the real output into the documents.
 *
 * A command may end in `| jq .` (the JSON pretty-printed as jq prints it) or `| head -n N` (the first N lines).
 * Durations (`0.3 s`, `12 ms`, JSON fields ending in Seconds or Ms) are compared as `<t>`: they differ from run to
 * run, and so does whether a result came from a cache (JSON fields ending in FromCache). The example flake's
 * absolute path (it depends on where the repository is cloned) is written as EXAMPLE_FLAKE_AS_SHOWN, a path a
 * user's own flake could have.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';

export interface DocExample {
  readonly file: string;
  /** 1-based line of the ```console fence. */
  readonly line: number;
  /** The command after `$ `. */
  readonly command: string;
  /** The output lines in the document. */
  readonly output: string;
  /** Offsets of the output in the file's text, to replace it. */
  readonly start: number;
  readonly end: number;
}

/** Where the example flake appears to be in the documents. */
export const EXAMPLE_FLAKE_AS_SHOWN = '/home/me/example-flake';

const FENCE = /^```console\n\$ (closure-lens [^\n]*)\n([\s\S]*?)^```$/gm;

export function docFiles(root: string): string[] {
  const docs = path.join(root, 'docs');
  return [
    path.join(root, 'README.md'),
    ...fs
      .readdirSync(docs)
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join(docs, f)),
  ];
}

export function docExamples(file: string): DocExample[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: DocExample[] = [];
  for (const m of text.matchAll(FENCE)) {
    const start = m.index + m[0].indexOf('\n', m[0].indexOf('\n') + 1) + 1;
    out.push({
      file,
      line: text.slice(0, m.index).split('\n').length,
      command: m[1]!,
      output: m[2]!,
      start,
      end: start + m[2]!.length,
    });
  }
  return out;
}

/** Splits `closure-lens a b 'c d' | jq .` into argv and the post-processing. */
export function parseCommand(command: string): { argv: string[]; jq: boolean; head?: number } {
  const [main, ...pipes] = command.split(' | ');
  const argv: string[] = [];
  for (const m of main!.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) argv.push(m[1] ?? m[2] ?? m[3]!);
  argv.shift(); // closure-lens
  let jq = false;
  let head: number | undefined;
  for (const p of pipes) {
    if (p.trim() === 'jq .') jq = true;
    else if (/^head -n \d+$/.test(p.trim())) head = Number(p.trim().slice('head -n '.length));
    else throw new Error(`unsupported pipe in a doc example: ${p}`);
  }
  return { argv, jq, ...(head !== undefined && { head }) };
}

/** Runs one example's command with the built CLI (dist/cli.js) in `cwd`; stdout after the pipes. */
export function runExample(
  root: string,
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; code: number }> {
  const { argv, jq, head } = parseCommand(command);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(root, 'dist/cli.js'), ...argv],
      { cwd, env, maxBuffer: 64 * 2 ** 20 },
      (error, stdout) => {
        if (error && typeof error.code !== 'number') return reject(error);
        let text = stdout.split(cwd).join(EXAMPLE_FLAKE_AS_SHOWN);
        if (jq) text = JSON.stringify(JSON.parse(text), null, 2) + '\n';
        if (head !== undefined) text = text.split('\n').slice(0, head).join('\n') + '\n';
        resolve({ stdout: text, code: typeof error?.code === 'number' ? error.code : 0 });
      },
    );
  });
}

/** What two outputs are compared as: durations masked. */
export function comparable(output: string): string {
  return output
    .replace(/\b\d+(\.\d+)? ?(s|ms)\b/g, '<t>')
    .replace(/("\w*(?:Seconds|Ms)": )\d+(\.\d+)?/g, '$1<t>')
    .replace(/("\w*FromCache": )(true|false)/g, '$1<cache>');
}
