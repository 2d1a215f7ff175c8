/**
 * CLI manners (issue 19) and the CLI's faults of issue 20 (#5 timeouts, #10 messages), on the built CLI and with
 * real processes: colour, check's exit codes, sizes, a path flake reference without ./, --timeout bounds, a nix
 * whose stderr is 10 MB.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main, textPieces, type MainIO } from '../../src/cli';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner } from '../../src/core/nix';
import { MAX_TIMEOUT_SECONDS } from '../../src/core/nix/limits';
import { realDataDir } from '../support/realData';

const REPO = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO, 'dist/cli.js');
const CLOSURE = realDataDir('nix-2.26-outputs', 'path-info-rs.json');

let dir: string;
before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-manners-'))));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg'), ...env },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** The recorded closure with its largest path rebuilt 1008 bytes smaller (a new hash, references renamed). */
function smallerGlibc(): string {
  const text = fs.readFileSync(CLOSURE, 'utf8');
  const sizes = JSON.parse(text) as Record<string, { narSize: number }>;
  const largest = Object.keys(sizes).sort((a, b) => sizes[b]!.narSize - sizes[a]!.narSize)[0]!;
  const hash = largest.slice(11, 43);
  const rebuilt = largest.replace(hash, [...hash].reverse().join(''));
  const data = JSON.parse(text.split(largest).join(rebuilt)) as Record<string, { narSize: number }>;
  data[rebuilt]!.narSize -= 1008;
  const file = path.join(dir, 'after.json');
  fs.writeFileSync(file, JSON.stringify(data));
  return file;
}

async function inProcess(argv: string[], io: Partial<MainIO>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    cwd: dir,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stderrIsTTY: false,
    env: {},
    ...io,
  });
  return { code, out, err };
}

describe('cli manners', function () {
  this.timeout(120_000);

  describe('colour follows stdout, NO_COLOR and --color', () => {
    const ESC = '\u001b[';
    const diff = () => ['--no-cache', 'diff', CLOSURE, smallerGlibc()];
    it('none when stdout is not a terminal, even with stderr on one', async () => {
      const r = await inProcess(diff(), { stdoutIsTTY: false, stderrIsTTY: true });
      assert.equal(r.code, 0, r.err);
      assert.ok(!r.out.includes(ESC), r.out);
    });
    it('on a terminal; not with NO_COLOR; --color=always and --color=never win', async () => {
      assert.ok((await inProcess(diff(), { stdoutIsTTY: true })).out.includes(ESC));
      assert.ok(!(await inProcess(diff(), { stdoutIsTTY: true, env: { NO_COLOR: '1' } })).out.includes(ESC));
      assert.ok((await inProcess(['--color=always', ...diff()], { env: { NO_COLOR: '1' } })).out.includes(ESC));
      assert.ok(!(await inProcess(['--color', 'never', ...diff()], { stdoutIsTTY: true })).out.includes(ESC));
      const bad = await inProcess(['--color=sometimes', ...diff()], {});
      assert.equal(bad.code, 1);
      assert.match(bad.err, /--color takes auto, always or never, got 'sometimes'/);
    });
  });

  it('diff prints sizes in the units of every other command (no `-1008 B`)', () => {
    const r = cli(['--no-cache', 'diff', CLOSURE, smallerGlibc(), '--all-rebuilt']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(-1\.0 KiB\)/);
    assert.doesNotMatch(r.stdout, /\d B\b/);
  });

  describe('check: 0 rules hold, 1 a rule is broken, 3 could not check', () => {
    const check = (rules: unknown, ...extra: string[]) => {
      fs.writeFileSync(path.join(dir, 'rules.json'), typeof rules === 'string' ? rules : JSON.stringify(rules));
      return cli(['--no-cache', 'check', '--config', 'rules.json', CLOSURE, ...extra]);
    };
    it('0 and 1', () => {
      assert.equal(check({ rules: [{ target: '*', maxClosureSize: '100 GiB' }] }).code, 0);
      const broken = check({ rules: [{ target: '*', maxClosureSize: '1 KiB' }] });
      assert.equal(broken.code, 1, broken.stderr);
      assert.match(broken.stdout, /✗ maxClosureSize/);
    });
    it('3 for a bad rules file, a missing one, a missing target, and bad arguments', () => {
      for (const r of [
        check('{"rules": [{"target": "*", "maxClosureSize": "huge"}]}'),
        cli(['--no-cache', 'check', '--config', 'no-such-rules.json', CLOSURE]),
        check({ rules: [{ target: '*', maxPaths: 3 }] }).code === 1
          ? cli(['--no-cache', 'check', '--config', 'rules.json', path.join(dir, 'missing.json')])
          : assert.fail('the rule should break'),
        check({ rules: [{ target: '*', maxPaths: 3 }] }, '--no-such-flag'),
      ]) {
        assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, /^closure-lens: /m);
      }
    });
  });

  it('a path flake reference without ./ gets the fix, not a registry error', () => {
    fs.mkdirSync(path.join(dir, 'example-flake'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'example-flake', 'flake.nix'), '{ outputs = _: { }; }');
    for (const command of [['closure'], ['why'], ['dups'], ['diff', './example-flake#a']]) {
      const r = cli(['--no-cache', ...command, 'example-flake#pkg', ...(command[0] === 'why' ? ['perl'] : [])]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /a path flake reference needs \.\/: did you mean \.\/example-flake#pkg\?/);
    }
  });

  describe('timeouts (issue 20 #5)', () => {
    it('--timeout past what a timer holds is refused with the limit; the limit itself is taken', () => {
      const r = cli(['--timeout', '2147484', 'closure', '--from-json', CLOSURE]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--timeout 2147484 is too long: the most is 2147483 seconds/);
      assert.equal(cli(['--timeout', '2147483', '--no-cache', 'closure', '--from-json', CLOSURE]).code, 0);
    });
    it('a runner given a timeout longer than a timer holds does not stop its process at once', async () => {
      const sleeper = script('sleeps.sh', 'sleep 0.5; echo done');
      const r = await new NixRunner({ nixPath: sleeper, timeoutMs: 2147484 * 1000 }).run([]);
      assert.equal(r.stdout, 'done\n');
    });
    it("the extension's timeoutSeconds setting has the same maximum", () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
        contributes: { configuration: { properties: Record<string, { maximum?: number }> } };
      };
      const setting = pkg.contributes.configuration.properties['nixClosureLens.timeoutSeconds']!;
      assert.equal(setting.maximum, MAX_TIMEOUT_SECONDS);
      assert.equal(MAX_TIMEOUT_SECONDS, 2147483);
    });
    it('`nix --version` runs under the runner’s timeout, not a fixed 30 s', async () => {
      const slow = script('slow-version.sh', 'sleep 5; echo "nix (Nix) 2.8.0"');
      const started = Date.now();
      await assert.rejects(
        new NixRunner({ nixPath: slow, timeoutMs: 300, killGraceMs: 200 }).version(),
        (e: unknown) => e instanceof ClosureLensError && e.code === 'timeout',
      );
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    });
  });

  it('a 10 MB nix stderr: one line under 2,000 characters with head, end and the log file', () => {
    const loud = script(
      'loud-nix.sh',
      `[ "$1" = "--version" ] && { echo "nix (Nix) 2.8.0"; exit 0; }
printf 'HEAD-OF-IT ' >&2
head -c 10000000 /dev/zero | tr '\\0' x >&2
printf ' END-OF-IT' >&2
exit 1`,
    );
    const cache = path.join(dir, 'loud-cache');
    const r = cli(['--nix', loud, '--cache-dir', cache, 'closure', '.#anything']);
    assert.equal(r.code, 1);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `one line, got ${lines.length}`);
    assert.ok(lines[0]!.length < 2500, `${lines[0]!.length} characters`);
    assert.match(lines[0]!, /END-OF-IT/);
    const log = /the whole message and Nix's output are in (\S+)\]/.exec(lines[0]!)?.[1];
    assert.ok(log && fs.existsSync(log), lines[0]!.slice(0, 3000));
    assert.equal(path.dirname(log), cache);
    assert.ok(fs.statSync(log).size > 4_000_000, 'the log holds what was kept of the output');
  });

  describe('stdout into a file (written in pieces)', () => {
    it('the same bytes as into a pipe, past one piece', () => {
      // A chain of 1,500 paths: its closure --json is ~300 KB, several 64 KiB pieces.
      const name = (i: number) =>
        `/nix/store/${String(i)
          .padStart(32, '0')
          .replace(/[0-9]/g, (d) => 'abcdfghijk'[+d]!)}-p${i}`;
      const chain: Record<string, { narSize: number; references: string[] }> = {};
      for (let i = 0; i < 1500; i++) chain[name(i)] = { narSize: 1000 + i, references: i > 0 ? [name(i - 1)] : [] };
      const input = path.join(dir, 'chain.json');
      fs.writeFileSync(input, JSON.stringify(chain));
      const piped = cli(['closure', '--from-json', input, '--json']);
      assert.equal(piped.code, 0, piped.stderr);
      const file = path.join(dir, 'chain-out.json');
      /** The CLI with its stdout on `file` (a regular file, not a pipe): it writes there in pieces. */
      const runToFile = (args: string[]) => {
        const fd = fs.openSync(file, 'w');
        const r = spawnSync(process.execPath, [CLI, ...args], {
          cwd: dir,
          env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') },
          stdio: ['ignore', fd, 'pipe'],
          timeout: 60_000,
        });
        fs.closeSync(fd);
        assert.equal(r.status, 0, String(r.stderr));
      };
      runToFile(['closure', '--from-json', input, '--json']);
      const written = fs.readFileSync(file, 'utf8');
      assert.ok(written.length > 4 * 64 * 1024, `${written.length} characters`);
      assert.equal(written, piped.stdout);
      assert.equal((JSON.parse(written) as { pathCount: number }).pathCount, 1500);

      // ASCII pieces, then a last one that is not (`… 99 more paths`): the same bytes as well.
      for (const args of [['closure', '--from-json', input, '--top', '1400']]) {
        const viaPipe = cli(args);
        assert.equal(viaPipe.code, 0, viaPipe.stderr);
        assert.match(viaPipe.stdout, /\u2026 99 more paths/);
        runToFile(args);
        assert.ok(fs.statSync(file).size > 64 * 1024, 'more than one piece');
        assert.deepEqual(fs.readFileSync(file), Buffer.from(viaPipe.stdout, 'utf8'), args.join(' '));
      }
    });

    it('pieces never split a surrogate pair', () => {
      const text = `${'a'.repeat(5)}\u{1F600}${'b'.repeat(9)}\u{1F600}\u{1F600}c`;
      for (const length of [1, 2, 5, 6, 7, 16]) {
        const pieces = textPieces(text, length);
        assert.equal(pieces.join(''), text);
        for (const p of pieces) assert.equal(Buffer.from(p, 'utf8').toString('utf8'), p, `length ${length}: ${p}`);
      }
    });
  });
});
