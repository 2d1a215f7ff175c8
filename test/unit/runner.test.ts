/**
 * The runner's process handling, with real processes: a small shell script stands in for the binary so that
 * process trees, slow exits and stderr streams can be produced on demand. Behaviour with the real nix
 * (errors, builds, cancelling a build) is in test/integration/engine-runner.test.ts.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner, type CommandRecord } from '../../src/core/nix';
import { waitUntilGone } from '../support/processes';

let dir: string;

function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

async function rejects(p: Promise<unknown>, code: string): Promise<ClosureLensError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClosureLensError, String(e));
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

/** A sleep duration no other process uses, so that its command line finds it: `300.<digits>`. */
const uniqueSleep = (): string => `300.${process.pid}${Math.floor(Math.random() * 1e6)}`;

const sleepUntilGone = (marker: string, ms: number): Promise<number[]> => waitUntilGone(marker, ms, 50);

describe('NixRunner process handling', () => {
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'runner-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes arguments as an array (no shell), returns stdout, streams stderr lines', async () => {
    const bin = script('echoargs', 'for a in "$@"; do printf "%s\\n" "$a"; done; printf "one\\ntwo\\r\\nthree" >&2');
    const lines: string[] = [];
    const records: CommandRecord[] = [];
    const runner = new NixRunner({ nixPath: bin, extraArgs: ['--extra'], onCommand: (c) => records.push(c) });
    const r = await runner.run(['a b', '$(touch /tmp/pwned)', "'q'"], { onStderrLine: (l) => lines.push(l) });
    assert.equal(r.stdout, "--extra\na b\n$(touch /tmp/pwned)\n'q'\n");
    assert.deepEqual(lines, ['one', 'two', 'three']);
    assert.equal(r.stderr, 'one\ntwo\r\nthree');
    assert.equal(records.length, 1);
    assert.equal(records[0]!.ok, true);
    assert.deepEqual(records[0]!.args, ['--extra', 'a b', '$(touch /tmp/pwned)', "'q'"]);
  });

  it('passes env, cwd and stdin', async () => {
    const bin = script('envcwd', 'printf "%s|%s|" "$CLOSURE_LENS_TEST" "$(pwd)"; cat');
    const runner = new NixRunner({ nixPath: bin, env: { CLOSURE_LENS_TEST: 'yes' } });
    const r = await runner.run([], { cwd: dir, stdin: 'input' });
    assert.equal(r.stdout, `yes|${dir}|input`);
  });

  it('a missing binary is nix-not-found with a fix', async () => {
    const e = await rejects(
      new NixRunner({ nixPath: path.join(dir, 'no-such-nix') }).run(['--version']),
      'nix-not-found',
    );
    assert.match(e.message, /no-such-nix.*not found/);
    assert.match(e.fix, /install Nix|nixPath/);
  });

  it('a non-zero exit is classified from stderr', async () => {
    const bin = script(
      'fails',
      'echo "error: unrecognised flag \'--frobnicate\'" >&2; echo "Try \'nix --help\' for more information." >&2; exit 1',
    );
    const e = await rejects(new NixRunner({ nixPath: bin }).run(['build', '--frobnicate']), 'unsupported-flag');
    assert.match(e.message, /--frobnicate/);
  });

  it('cancelling kills the whole process tree, also a child that ignores SIGTERM', async () => {
    const marker = uniqueSleep();
    // The "nix" starts a grandchild that ignores SIGTERM, then waits.
    const bin = script('tree', `sh -c 'trap "" TERM; exec sleep ${marker}' 2>/dev/null & echo started >&2; wait`);
    const ac = new AbortController();
    const runner = new NixRunner({ nixPath: bin, killGraceMs: 300 });
    const started = Date.now();
    const p = runner.run([], {
      signal: ac.signal,
      onStderrLine: (l) => {
        if (l === 'started') setTimeout(() => ac.abort(), 100);
      },
    });
    await rejects(p, 'cancelled');
    assert.ok(Date.now() - started < 5000, 'cancel is prompt');
    assert.deepEqual(await sleepUntilGone(marker, 2000), [], 'no process of the tree survives');
  });

  it('a "nix" that ignores SIGTERM is killed after the grace period, with a child in its own session', async () => {
    const marker = uniqueSleep();
    // Like Nix's builders: the child runs in a new session, out of reach of a process-group signal.
    const bin = script(
      'stubborn',
      `trap "" TERM; setsid sleep ${marker} & echo started >&2; while :; do sleep 1; done`,
    );
    const ac = new AbortController();
    const p = new NixRunner({ nixPath: bin, killGraceMs: 300 }).run([], {
      signal: ac.signal,
      onStderrLine: (l) => {
        if (l === 'started') setTimeout(() => ac.abort(), 200);
      },
    });
    await rejects(p, 'cancelled');
    assert.deepEqual(await sleepUntilGone(marker, 2000), [], 'the child in its own session is gone too');
  });

  it('a timeout stops the tree and says which command and how long', async () => {
    const marker = uniqueSleep();
    const bin = script('slow', `sleep ${marker} & wait`);
    const e = await rejects(
      new NixRunner({ nixPath: bin, killGraceMs: 200 }).run(['path-info', 'x'], { timeoutMs: 300 }),
      'timeout',
    );
    assert.match(e.message, /path-info x.*0\.3 s/);
    assert.match(e.fix, /timeout/);
    assert.deepEqual(await sleepUntilGone(marker, 2000), []);
  });

  it('an already aborted signal runs nothing', async () => {
    const marker = path.join(dir, 'ran');
    const bin = script('touch', `touch ${marker}`);
    const ac = new AbortController();
    ac.abort();
    await rejects(new NixRunner({ nixPath: bin }).run([], { signal: ac.signal }), 'cancelled');
    assert.throws(() => readFileSync(marker));
  });

  it('version() asks once and caches; a failure is not cached', async () => {
    const counter = path.join(dir, 'count');
    writeFileSync(counter, '');
    const bin = script('ver', `echo x >> ${counter}; echo 'nix (Nix) 2.8.0'`);
    const runner = new NixRunner({ nixPath: bin });
    const [a, b] = await Promise.all([runner.version(), runner.version()]);
    assert.equal(a, b);
    assert.equal((await runner.version()).version, '2.8.0');
    assert.equal(readFileSync(counter, 'utf8'), 'x\n');
    const broken = new NixRunner({ nixPath: path.join(dir, 'missing') });
    await rejects(broken.version(), 'nix-not-found');
    await rejects(broken.version(), 'nix-not-found');
  });

  it('a closure past the output limit is stopped as too-large, with stdout whole or passed on chunk by chunk', async () => {
    // A "nix" that prints 3 MiB of JSON against a 1 MiB limit (the default is 480 MiB).
    const output = path.join(dir, 'big-output.json');
    writeFileSync(output, `[${'x'.repeat(3072 * 1024)}]`);
    const big = script('big-nix', `cat '${output}'`);
    const runner = new NixRunner({ nixPath: big, maxStdoutBytes: 1024 * 1024 });
    let passedOn = 0;
    const onStdoutChunk = (chunk: Buffer): void => void (passedOn += chunk.byteLength);
    for (const opts of [{}, { onStdoutChunk }]) {
      const e = await rejects(runner.run(['path-info', '-rs', '--json', '/nix/store/x'], opts), 'too-large');
      assert.match(
        e.message,
        /the closure is too large to analyse here: `.*big-nix path-info -rs --json \/nix\/store\/x` printed more than 1 MiB/,
      );
      assert.match(e.fix ?? '', /smaller closure/);
    }
    assert.ok(passedOn <= 1024 * 1024, `${passedOn} bytes passed on past the limit`);
    // Under the limit the same output is returned whole, or passed on chunk by chunk as it is written.
    const under = new NixRunner({ nixPath: big, maxStdoutBytes: 4 * 1024 * 1024 });
    const ok = await under.run(['path-info']);
    assert.equal(ok.stdout.length, 3072 * 1024 + 2);
    const chunks: Buffer[] = [];
    const fed = await under.run(['path-info'], { onStdoutChunk: (c) => chunks.push(c) });
    assert.equal(fed.stdout, '', 'chunks passed on are not kept as well');
    assert.ok(chunks.length > 1);
    assert.equal(Buffer.concat(chunks).toString(), ok.stdout);
  });
});
