import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { capabilities, parseNixVersion, pathInfoJsonFlags, versionLabel } from '../../src/core/nix';
import { realDataDir } from '../support/realData';

const REAL = realDataDir('nix-2.26-outputs');

describe('parseNixVersion', () => {
  it('reads the recorded `nix --version` of 2.8.0 and 2.26.3', () => {
    const v28 = parseNixVersion(readFileSync(path.join(REAL, 'nix-2.8/nix-version.txt'), 'utf8'));
    assert.deepEqual([v28.implementation, v28.version, v28.major, v28.minor, v28.patch], ['nix', '2.8.0', 2, 8, 0]);
    const v226 = parseNixVersion(readFileSync(path.join(REAL, 'nix-version.txt'), 'utf8'));
    assert.equal(v226.version, '2.26.3');
    assert.deepEqual(pathInfoJsonFlags(v28), ['--json']);
    assert.deepEqual(pathInfoJsonFlags(v226), ['--json']);
    assert.equal(capabilities(v28).printOutPaths, false, '2.8 rejects --print-out-paths (recorded)');
    assert.equal(capabilities(v226).printOutPaths, true);
  });

  it('Lix: its own name, no --json-format', () => {
    const v = parseNixVersion('nix (Lix, like Nix) 2.91.1\n');
    assert.equal(v.implementation, 'lix');
    assert.equal(v.version, '2.91.1');
    assert.deepEqual(pathInfoJsonFlags(v), ['--json']);
    assert.equal(versionLabel(v), 'Lix 2.91.1');
  });

  it('Determinate Nix: flags follow the upstream Nix version it reports', () => {
    const old = parseNixVersion('nix (Determinate Nix 3.6.2) 2.29.0');
    assert.equal(old.implementation, 'determinate');
    assert.equal(old.vendorVersion, '3.6.2');
    assert.equal(old.version, '2.29.0');
    assert.deepEqual(pathInfoJsonFlags(old), ['--json']);
    assert.equal(versionLabel(old), 'Determinate Nix 3.6.2 (Nix 2.29.0)');
    const recent = parseNixVersion('nix (Determinate Nix 3.15.0) 2.33.1');
    assert.deepEqual(pathInfoJsonFlags(recent), ['--json', '--json-format', '2']);
  });

  it('Nix 2.33+ asks for the v2 format; pre-release suffixes are kept', () => {
    const v = parseNixVersion('nix (Nix) 2.34.0pre20260101_abcdef');
    assert.equal(v.version, '2.34.0pre20260101_abcdef');
    assert.deepEqual(pathInfoJsonFlags(v), ['--json', '--json-format', '2']);
    assert.equal(capabilities(parseNixVersion('nix (Nix) 2.3.16')).supported, false);
  });

  it('rejects output that is not a Nix version', () => {
    assert.throws(() => parseNixVersion('bash: nix: command not found'), /cannot tell the Nix version/);
  });
});
