/**
 * The nix watchdog's script (src/core/nix/watchdog.ts) run as the runner runs it, on real processes: when its
 * stdin closes (its owner died), the groups still listed and their descendants in sessions of their own (as
 * nix's builders run) are killed, and nothing else is.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { WATCHDOG_SOURCE } from '../../src/core/nix/watchdog';
import { processesWith, waitUntilGone } from '../support/processes';

/**
 * A detached group (like nix) whose leader forks a child into a session of its own (like a builder). The marker is
 * in the command lines of the shells; they sleep 30 s at most, so nothing outlives the test long.
 */
function groupWithBuilder(marker: string): ChildProcess {
  const sleeper = (name: string) => `sh -c 'sleep 30; :' ${marker}-${name}`;
  return spawn('/bin/sh', ['-c', `setsid ${sleeper('builder')} & ${sleeper('nix')}; wait`], {
    detached: true,
    stdio: 'ignore',
  });
}

async function started(marker: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (processesWith(`${marker}-builder`).length === 0 || processesWith(`${marker}-nix`).length === 0) {
    assert.ok(Date.now() < end, `${marker} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('nix watchdog script', function () {
  this.timeout(30_000);
  const marker = `wd-${process.pid}-${Date.now()}`;
  const leftovers: ChildProcess[] = [];
  after(() => {
    for (const c of leftovers) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
  });

  it('kills the listed groups and their builders when its stdin closes; never an unlisted or removed one', async () => {
    const watched = groupWithBuilder(`${marker}-a`);
    const removed = groupWithBuilder(`${marker}-b`);
    const unlisted = groupWithBuilder(`${marker}-c`);
    leftovers.push(watched, removed, unlisted);
    await Promise.all(['a', 'b', 'c'].map((k) => started(`${marker}-${k}`)));
    const watchdog = spawn('/bin/sh', ['-c', WATCHDOG_SOURCE, 'closure-lens-watchdog', '500'], {
      detached: true,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    watchdog.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => watchdog.on('exit', resolve));
    // Junk lines are skipped; a group added and removed again is not touched.
    watchdog.stdin!.write(`+${watched.pid}\n+${removed.pid}\nx${unlisted.pid}\n+\n+1\n+12ab\n-${removed.pid}\n`);
    watchdog.stdin!.end();
    assert.equal(await exited, 0, stderr);
    assert.equal(stderr, '');
    assert.deepEqual(await waitUntilGone(`${marker}-a-nix`, 5000), [], 'the listed group is gone');
    assert.deepEqual(await waitUntilGone(`${marker}-a-builder`, 5000), [], 'its builder (own session) is gone');
    for (const k of ['b', 'c']) {
      assert.ok(processesWith(`${marker}-${k}-nix`).length > 0, `group ${k} is left alone`);
      assert.ok(processesWith(`${marker}-${k}-builder`).length > 0, `builder ${k} is left alone`);
    }
  });

  it('exits at once when nothing is listed', async () => {
    const watchdog = spawn('/bin/sh', ['-c', WATCHDOG_SOURCE, 'closure-lens-watchdog', '3000'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const t0 = Date.now();
    const exited = new Promise<number | null>((resolve) => watchdog.on('exit', resolve));
    watchdog.stdin!.end('+5\n-5\n');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  });
});
