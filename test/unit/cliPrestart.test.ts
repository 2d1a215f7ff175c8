// src/cli/prestart.ts: which argv lets the launcher start `nix path-info` before the CLI bundle loads, and with which
// command. Anything but the plain cold form must start nothing; the command must be the engine's (the integration
// test cliPrestart checks the engine takes it over; here the flags follow the version GraphCache remembered).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prestartCommand } from '../../src/cli/prestart';
import { GraphCache } from '../../src/core/load/graphCache';
import { ClosureGraph } from '../../src/shared/graph';

const P = '/nix/store/4iwl3z1wp80n95gac8fbwn6zdsnaxlpv-nixos-system-bench-24.05';
const plain = (binary: string, flags = ['--json']) => ({
  binary,
  args: ['path-info', '--recursive', '--size', ...flags, '--', P],
});

describe('closure-lens launcher: which commands prestart nix', () => {
  let dir: string;
  let cwd: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prestart-'));
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'prestart-cwd-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  });
  const command = (...argv: string[]) => prestartCommand(argv, cwd, { XDG_CACHE_HOME: dir });

  it('the plain cold forms start `nix path-info -rs --json -- <path>` with the chosen nix', () => {
    assert.deepEqual(command('closure', '--json', P), plain('nix'));
    assert.deepEqual(command('closure', P, '--top', '5'), plain('nix'));
    assert.deepEqual(command('--no-cache', 'closure', `${P}/bin/hello`, '--top=5'), plain('nix'));
    assert.deepEqual(command('--nix', '/opt/nix/bin/nix', 'closure', P), plain('/opt/nix/bin/nix'));
    assert.deepEqual(command('--timeout', '30', '--color=never', 'closure', P), plain('nix'));
    assert.deepEqual(command('--cache-dir', 'c', 'closure', P), plain('nix'));
  });

  it('anything else starts nothing', () => {
    for (const argv of [
      ['why', P, 'hello'],
      ['closure'],
      ['closure', '--build', P],
      ['closure', '--from-json', 'x.json'],
      ['closure', '--help', P],
      ['closure', P, P],
      ['closure', P, '--top', '0'],
      ['closure', P, '--top'],
      ['closure', '.#hello'],
      ['closure', './result'],
      ['closure', '/nix/store/not-a-store-path'],
      ['--store', 'ssh-ng://host', 'closure', P],
      ['--timeout', 'soon', 'closure', P],
      ['--nix', '', 'closure', P],
      ['closure', '--', P],
    ])
      assert.equal(command(...argv), undefined, argv.join(' '));
  });

  it('a closure in the graph cache starts nothing; the remembered Nix version picks the flags', async () => {
    const cache = new GraphCache(path.join(dir, 'closure-lens'));
    // The version GraphCache remembered for this "nix" (any executable file has an identity).
    await cache.rememberNixVersionLine(process.execPath, 'nix (Nix) 2.33.0');
    assert.deepEqual(
      command('--nix', process.execPath, 'closure', P),
      plain(process.execPath, ['--json', '--json-format', '2']),
    );
    await cache.rememberNixVersionLine(process.execPath, 'nix (Nix) 2.8.0');
    assert.deepEqual(command('--nix', process.execPath, 'closure', P), plain(process.execPath));
    // --no-cache reads no remembered version, as the engine without a cache does.
    await cache.rememberNixVersionLine(process.execPath, 'nix (Nix) 2.33.0');
    assert.deepEqual(command('--no-cache', '--nix', process.execPath, 'closure', P), plain(process.execPath));
    await cache.put(P, ClosureGraph.build([{ path: P, narSize: 1, references: [] }], [P]), { source: 'test' });
    assert.equal(command('closure', P), undefined);
    assert.deepEqual(command('--no-cache', 'closure', P), plain('nix'));
    assert.deepEqual(command('--cache-dir', 'elsewhere', 'closure', P), plain('nix'));
  });
});
