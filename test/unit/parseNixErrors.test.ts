import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { classifyNixFailure, lastErrorMessage, stripAnsi, type ErrorCode } from '../../src/core/errors';
import { realDataDir } from '../support/realData';

const REAL = realDataDir('nix-2.26-outputs');
const DIRS = { '2.26.3': REAL, '2.8.0': path.join(REAL, 'nix-2.8') } as const;

interface Expectation {
  code: ErrorCode;
  message: RegExp;
  /** `file:line:column` of the position, or null when Nix printed none. */
  position?: Record<string, string | null>;
}

const SOURCE = '/nix/store/1p4jxbnxp7v08hdjxrpcib5x6j35vrwk-source/flake.nix';
const THROWS = /fixture: this output always throws/;

// Every failing command in both recordings, by stdout file name. A recorded failure missing here fails the test.
const EXPECTED: Record<string, Expectation> = {
  'build-print-out-paths.txt': { code: 'unsupported-flag', message: /does not know the flag '--print-out-paths'/ },
  'path-info-json-format-1.json': {
    code: 'unsupported-flag',
    message: /this Nix \(Nix \d+\.\d+\.\d+\) does not know the flag '--json-format'/,
  },
  'path-info-json-format-2.json': { code: 'unsupported-flag', message: /'--json-format'/ },
  'path-info-rsS-json-format-1.json': { code: 'unsupported-flag', message: /'--json-format'/ },
  'path-info-rsS-json-format-2.json': { code: 'unsupported-flag', message: /'--json-format'/ },
  'path-info-multi-output-installable.json': { code: 'bad-installable', message: /is not a valid URL/ },
  'path-info-missing-text.txt': {
    code: 'invalid-path',
    message: /00000000000000000000000000000000-missing is not a valid path/,
  },
  'eval-error-throw.txt': {
    code: 'eval-error',
    message: THROWS,
    position: { '2.26.3': `${SOURCE}:116:18`, '2.8.0': null },
  },
  'eval-error-throw-show-trace.txt': { code: 'eval-error', message: THROWS },
  'eval-error-throw.tty.txt': {
    code: 'eval-error',
    message: THROWS,
    position: { '2.26.3': `${SOURCE}:116:18`, '2.8.0': null },
  },
  'build-error-throw.txt': { code: 'eval-error', message: THROWS },
  'build-error-throw-in-derivation.txt': {
    code: 'eval-error',
    message: /broken-pkg has no builder script/,
    // the innermost frame in a user file, not <nix/derivation-internal.nix>
    position: { '2.26.3': `${SOURCE}:15:9`, '2.8.0': null },
  },
  'eval-error-syntax.txt': {
    code: 'eval-error',
    message: /syntax error, unexpected ';'|forbidden in pure eval mode/,
    position: { '2.26.3': '/nix/store/8qs64ah062nmdv7l28dym222g00pi305-broken-syntax.nix:1:7', '2.8.0': null },
  },
  'build-error-missing-attr.txt': {
    code: 'missing-attribute',
    message: /does not provide attribute 'packages\.x86_64-linux\.doesNotExist'/,
  },
  'build-failure.txt': {
    code: 'build-failed',
    message: /3kzag0zxf4gl8dsigs4gjsv5iby3d9wa-fails-to-build-1\.0\.drv failed \(exit code 3\)/,
  },
  'build-internal-json-failure.txt': {
    code: 'build-failed',
    message: /fails-to-build-1\.0\.drv failed \(exit code 3\)/,
  },
  'flake-syntax-error.txt': {
    code: 'eval-error',
    message: /syntax error, unexpected ';'/,
    position: {
      '2.26.3': '/nix/store/0dsv4naga3smwhc531410zl5nxjniiaf-source/flake.nix:4:9',
      '2.8.0': '/nix/store/0dsv4naga3smwhc531410zl5nxjniiaf-source/flake.nix:4:9',
    },
  },
  'eval-internal-json-throw.txt': {
    code: 'eval-error',
    message: THROWS,
    position: { '2.26.3': `${SOURCE}:116:18`, '2.8.0': null },
  },
};

interface Row {
  stdout: string;
  exit: number;
  stderr: string;
  args: string[];
}

function rows(dir: string): Row[] {
  const lines = readFileSync(path.join(dir, 'commands.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [stdout, exit, stderr, , command] = l.split('\t') as [string, string, string, string, string];
    const inner = /^script -q -e -c '(.*)' \/dev\/null$/.exec(command)?.[1] ?? command;
    return { stdout, exit: Number(exit), stderr, args: inner.split(' ').slice(1) };
  });
}

describe('classifyNixFailure on the recorded stderr of Nix 2.8.0 and 2.26.3', () => {
  for (const [version, dir] of Object.entries(DIRS)) {
    const failing = rows(dir).filter((r) => r.exit !== 0);
    it(`${version}: every recorded failure has an expectation`, () => {
      assert.ok(failing.length >= 12);
      for (const r of failing) assert.ok(EXPECTED[r.stdout], `no expectation for ${r.stdout}`);
    });
    for (const r of failing) {
      const exp = EXPECTED[r.stdout];
      if (!exp) continue;
      it(`${version}: ${r.stdout} → ${exp.code}`, () => {
        const merged = r.stderr.startsWith('(merged');
        const stderr = readFileSync(path.join(dir, merged ? r.stdout : r.stderr), 'utf8');
        const e = classifyNixFailure({ args: r.args, stderr, exitCode: r.exit, versionLabel: `Nix ${version}` });
        assert.equal(e.code, exp.code, `${e.code}: ${e.message}`);
        assert.match(e.message, exp.message);
        assert.ok(e.fix.length > 20, 'says what to do');
        assert.ok(!/\u001b/.test(e.message + (e.detail ?? '')), 'no ANSI codes in what users see');
        assert.ok(e.detail && e.detail.length > 0, 'keeps Nix’s words');
        if (exp.position && version in exp.position) {
          const want = exp.position[version];
          const got = e.position ? `${e.position.file}:${e.position.line}:${e.position.column}` : null;
          assert.equal(got, want);
          if (want)
            assert.ok(e.message.includes(want) && e.fix.includes(want), 'the position is in the message and the fix');
        }
      });
    }
  }

  it('names the nix.conf / NIX_CONFIG line when an experimental feature is off (2.8 wording)', () => {
    for (const feature of ['nix-command', 'flakes']) {
      const e = classifyNixFailure({
        args: ['build', '.#x'],
        stderr: `error: experimental Nix feature '${feature}' is disabled; use '--extra-experimental-features ${feature}' to override\n`,
      });
      assert.equal(e.code, 'experimental-disabled');
      assert.match(e.message, new RegExp(`'${feature}'`));
      assert.match(e.fix, /experimental-features = nix-command flakes/);
      assert.match(e.fix, /NIX_CONFIG/);
      assert.match(e.fix, /nix\.conf/);
    }
  });

  it('not-built: the substituter message', () => {
    const e = classifyNixFailure({
      args: ['path-info', '--json', '.#x'],
      stderr:
        "error: path '/nix/store/0ck5rrh29n0sy0dwys6v3lmxnr4xbhfr-x' is required, but there is no substituter that can build it\n",
    });
    assert.equal(e.code, 'not-built');
    assert.match(e.message, /0ck5rrh29n0sy0dwys6v3lmxnr4xbhfr-x is not in the Nix store/);
    assert.match(e.fix, /nix build/);
  });

  it('positions in «string» and <nix/...> pseudo-files are kept as Nix prints them', () => {
    const e = classifyNixFailure({
      args: ['eval', '--expr', '1 +'],
      stderr:
        'error: syntax error, unexpected end of file\n\n       at «string»:1:4:\n\n            1| 1 +\n             |    ^\n',
    });
    assert.equal(e.code, 'eval-error');
    assert.deepEqual(e.position, { file: '«string»', line: 1, column: 4 });
  });

  it('a bare error from a command that does not evaluate is not called an evaluation error', () => {
    const e = classifyNixFailure({
      args: ['path-info', '/nix/store/x'],
      stderr: 'error: something odd happened\n',
      exitCode: 1,
    });
    assert.equal(e.code, 'nix-failed');
    assert.match(e.message, /something odd happened/);
  });

  it('stripAnsi and lastErrorMessage', () => {
    assert.equal(stripAnsi('\u001b[31;1merror:\u001b[0m x\r\u001b[K'), 'error: x\r');
    assert.equal(lastErrorMessage('error:\n   … frame\n\n   error: the message\n'), 'the message');
  });
});
