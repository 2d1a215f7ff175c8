/**
 * Closures of another machine's store (`--store ssh-ng://…`, the engine's `store` option, the CLI's --store, the
 * extension's nixClosureLens.store) against a real sshd on 127.0.0.1 with nix on both ends.
 *
 * The "remote machine" is this one behind a loopback sshd of our own (its own host key, one authorized key, a
 * free high port). So that the remote store really is another store, the sshd session gets
 * NIX_REMOTE=local?root=<tmp>/remote: the remote `nix-daemon --stdio` (ssh-ng) or `nix-store --serve` (ssh) serves
 * a chroot store. The test closure is built locally, copied there and deleted here: only the remote has it.
 *
 * Needs /usr/sbin/sshd (Debian's openssh-server, installed by .ci/setup) and root (sshd's privilege separation).
 * If sshd cannot start, the suite fails; it never skips.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { ClosureEngine } from '../../src/core/load';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner } from '../../src/core/nix';
import { repoRoot } from '../support/fixtures';
import { NIX_CONFIG } from './engineFlake';

const SSHD = '/usr/sbin/sshd';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('remote store over a loopback sshd', function () {
  this.timeout(180_000);
  let work: string;
  let sshd: ChildProcess | undefined;
  let sshdLog = '';
  let env: Record<string, string>;
  let top: string;
  let dep: string;
  let flakeDir: string;
  const STORE = 'ssh-ng://root@127.0.0.1';

  const nix = (args: string[]): string =>
    execFileSync('nix', args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const accepted = (): number => (sshdLog.match(/Accepted publickey for root/g) ?? []).length;

  before(async () => {
    assert.ok(fs.existsSync(SSHD), `${SSHD} is missing: install openssh-server (.ci/setup does)`);
    assert.equal(process.getuid?.(), 0, 'the loopback sshd needs root (privilege separation, login as root)');
    work = fs.mkdtempSync(path.join(tmpdir(), 'remote-store-'));
    for (const key of ['host', 'user']) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(work, key)]);
    }
    fs.copyFileSync(path.join(work, 'user.pub'), path.join(work, 'authorized_keys'));
    const port = await freePort();
    fs.writeFileSync(
      path.join(work, 'sshd_config'),
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${work}/host`,
        `AuthorizedKeysFile ${work}/authorized_keys`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        `PidFile ${work}/sshd.pid`,
        `SetEnv NIX_REMOTE=local?root=${work}/remote`,
        '',
      ].join('\n'),
    );
    fs.mkdirSync('/run/sshd', { recursive: true });
    sshd = spawn(SSHD, ['-D', '-e', '-f', path.join(work, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr!.on('data', (d: Buffer) => (sshdLog += d.toString()));
    const started = Date.now();
    while (!(await connects(port))) {
      if (sshd.exitCode !== null || Date.now() - started > 20_000)
        throw new Error(`sshd did not start on port ${port}:\n${sshdLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    env = {
      NIX_CONFIG,
      NIX_SSHOPTS: `-p ${port} -i ${work}/user -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR`,
    };

    // A closure only the remote store holds.
    flakeDir = path.join(work, 'flake');
    fs.mkdirSync(flakeDir);
    const salt = `${process.pid}-${Date.now()}`;
    fs.writeFileSync(
      path.join(flakeDir, 'flake.nix'),
      `{
  outputs = { self }: let
    mk = name: script: builtins.derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" script ]; };
    dep = mk "remote-dep-1.0" "echo ${salt} > $out";
  in {
    packages.x86_64-linux.default = mk "remote-top-2.0" "echo \${dep} > $out; echo $out >> $out";
  };
}
`,
    );
    const built = JSON.parse(nix(['build', '--no-link', '--json', `path:${flakeDir}#default`])) as {
      outputs: { out: string };
    }[];
    top = built[0]!.outputs.out;
    dep = nix(['path-info', '-r', top])
      .trim()
      .split('\n')
      .find((p) => p !== top)!;
    nix(['copy', '--no-check-sigs', '--to', `local?root=${work}/remote`, top]);
    nix(['store', 'delete', top, dep]);
  });

  after(() => {
    if (sshd && sshd.exitCode === null) sshd.kill('SIGTERM');
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('the closure is in the remote store only (the fixture is right)', () => {
    assert.throws(() => nix(['path-info', top]), /not valid/);
    assert.deepEqual(nix(['path-info', '-r', '--store', STORE, top]).trim().split('\n').sort(), [dep, top].sort());
  });

  for (const store of [STORE, 'ssh://root@127.0.0.1']) {
    it(`the engine with store ${store} reads the remote closure, like \`nix path-info -rs --store\``, async () => {
      const before = accepted();
      const engine = new ClosureEngine({ nix: new NixRunner({ env }), store });
      const loaded = await engine.load({ kind: 'store-path', path: top });
      assert.equal(loaded.rootPath, top);
      assert.match(loaded.source, new RegExp(`--store ${store.replace(/[/.]/g, '\\$&')}`));
      const oracle = JSON.parse(nix(['path-info', '-rs', '--json', '--store', store, top])) as {
        path: string;
        narSize: number;
        references: string[];
      }[];
      const g = loaded.analysis.graph;
      assert.deepEqual([...g.paths].filter((p) => p !== '').sort(), oracle.map((o) => o.path).sort());
      for (const o of oracle) {
        const i = g.indexOf(o.path);
        assert.ok(i !== undefined, o.path);
        assert.equal(g.narSize[i], o.narSize, o.path);
        assert.deepEqual(
          [...g.references(i)].map((j) => g.paths[j]).sort(),
          o.references.filter((r) => r !== o.path).sort(),
        );
      }
      assert.equal(
        loaded.analysis.closureSize(g.indexOf(top)!),
        oracle.reduce((s, o) => s + o.narSize, 0),
      );
      assert.ok(accepted() > before, 'the engine logged in through the sshd');
    });
  }

  it('the local store does not have it: without the store option the same load is invalid-path', async () => {
    const engine = new ClosureEngine({ nix: new NixRunner({ env }) });
    await assert.rejects(
      engine.load({ kind: 'store-path', path: top }),
      (e: unknown) => e instanceof ClosureLensError && e.code === 'invalid-path',
    );
  });

  it('a flake output is evaluated here and looked up there (--eval-store auto)', async () => {
    const engine = new ClosureEngine({ nix: new NixRunner({ env }), store: STORE });
    const loaded = await engine.load({ kind: 'installable', installable: `path:${flakeDir}#default` });
    assert.equal(loaded.rootPath, top);
    assert.equal(loaded.analysis.graph.pathCount, 2);
    // No derivation was written into the remote store.
    assert.deepEqual(
      fs.readdirSync(path.join(work, 'remote', 'nix', 'store')).filter((f) => f.endsWith('.drv')),
      [],
    );
  });

  it('the CLI: closure-lens --store <uri> closure --json', async () => {
    const cliJs = path.join(repoRoot(), 'dist', 'cli.js');
    const r = await execa(process.execPath, [cliJs, '--store', STORE, '--no-cache', 'closure', '--json', top], {
      env: { ...env, NO_COLOR: '1' },
      reject: false,
      stdin: 'ignore',
    });
    assert.equal(r.exitCode, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { root: string; pathCount: number; closureSize: number };
    assert.equal(doc.root, top);
    assert.equal(doc.pathCount, 2);
    const sizes = JSON.parse(nix(['path-info', '-S', '--json', '--store', STORE, top])) as { closureSize: number }[];
    assert.equal(doc.closureSize, sizes[0]!.closureSize);
  });

  it('an unreachable store is a ClosureLensError that names the store', async () => {
    const closed = await freePort();
    const engine = new ClosureEngine({
      nix: new NixRunner({ env: { ...env, NIX_SSHOPTS: env['NIX_SSHOPTS']!.replace(/-p \d+/, `-p ${closed}`) } }),
      store: STORE,
    });
    const e = await engine.load({ kind: 'store-path', path: top }).then(
      () => assert.fail('loaded from a closed port'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof ClosureLensError, String(e));
    assert.equal(e.code, 'store-unavailable');
    assert.match(e.message, /ssh-ng:\/\/root@127\.0\.0\.1/);
    assert.match(e.fix, /ssh.*NIX_SSHOPTS.*nixClosureLens\.store/);
  });
});
