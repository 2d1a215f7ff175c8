import assert from 'node:assert/strict';
import {
  MAX_PATH_LENGTH,
  normalizeSettings,
  parsePanelTarget,
  parseWebviewMessage,
  parseWebviewState,
  INITIAL_STATE,
} from '../../src/protocol';

const P = '/nix/store/4bbyr8r3w8ld5dc8h3g8v0yffv8wgl1b-perl-5.38.2';

describe('protocol: messages from the webview', () => {
  it('accepts every well-formed message', () => {
    const good = [
      { type: 'ready' },
      { type: 'selected', path: P },
      { type: 'copyPath', path: P },
      { type: 'revealInTree', path: P },
      { type: 'copyWhyCommand', path: P },
      { type: 'openDefinition', file: '/home/u/flake/configuration.nix', line: 12 },
      { type: 'openDefinition', file: '/home/u/flake/configuration.nix', line: null },
      { type: 'reportError', message: 'TypeError: x is undefined' },
    ];
    for (const m of good) {
      const r = parseWebviewMessage(m);
      assert.ok(r.ok, JSON.stringify(m) + (r.ok ? '' : ` → ${r.reason}`));
      assert.deepEqual(r.value, m);
    }
  });

  it('rejects unknown types, missing and extra fields, wrong types', () => {
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      ['ready', /not an object/],
      [[{ type: 'ready' }], /not an object/],
      [{}, /unknown message type/],
      [{ type: 'runCommand', command: 'rm -rf /' }, /unknown message type "runCommand"/],
      [{ type: 'toString' }, /unknown message type/],
      [{ type: '__proto__' }, /unknown message type/],
      [{ type: 'ready', extra: 1 }, /unexpected field "extra"/],
      [{ type: 'copyPath' }, /"path" must be a string/],
      [{ type: 'copyPath', path: 42 }, /"path" must be a string/],
      [{ type: 'copyPath', path: '' }, /"path" is empty/],
      [{ type: 'copyPath', path: 'a\0b' }, /NUL/],
      [{ type: 'openDefinition', file: '/x.nix', line: 0 }, /positive integer/],
      [{ type: 'openDefinition', file: '/x.nix', line: 1.5 }, /positive integer/],
      [{ type: 'openDefinition', file: '/x.nix', line: '3' }, /positive integer/],
      [{ type: 'openDefinition', file: '/x.nix' }, /positive integer/],
      [{ type: 'reportError', message: { toString: 1 } }, /"message" must be a string/],
    ];
    for (const [m, re] of bad) {
      const r = parseWebviewMessage(m);
      assert.equal(r.ok, false, JSON.stringify(m));
      if (!r.ok) assert.match(r.reason, re);
    }
  });

  it('rejects oversized payloads and truncates error reports', () => {
    const long = '/nix/store/' + 'a'.repeat(MAX_PATH_LENGTH);
    const r = parseWebviewMessage({ type: 'revealInTree', path: long });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /longer than 4096/);
    const e = parseWebviewMessage({ type: 'reportError', message: 'x'.repeat(1_000_000) });
    assert.ok(e.ok && e.value.type === 'reportError' && e.value.message.length === 4000);
  });
});

describe('protocol: persisted state and targets', () => {
  it('round-trips a full state', () => {
    const s = {
      v: 1 as const,
      title: '.#nixosConfigurations.laptop',
      target: { kind: 'installable' as const, installable: '.#nixosConfigurations.laptop.config.system.build.toplevel', cwd: '/home/u/flake' },
      mode: 'chain' as const,
      zoom: P,
      selected: P,
      search: '/^perl/',
      allChains: true,
    };
    assert.deepEqual(parseWebviewState(JSON.parse(JSON.stringify(s))), s);
  });

  it('falls back field by field on damaged state', () => {
    assert.deepEqual(parseWebviewState(undefined), INITIAL_STATE);
    assert.deepEqual(parseWebviewState({ v: 2, mode: 'chain' }), INITIAL_STATE);
    const s = parseWebviewState({ v: 1, mode: 'sideways', target: { kind: 'shell', cmd: 'x' }, zoom: 7, allChains: 'yes' });
    assert.deepEqual(s, { v: 1, mode: 'dominator', allChains: false });
  });

  it('validates panel targets strictly', () => {
    assert.deepEqual(parsePanelTarget({ kind: 'store-path', path: P }), { kind: 'store-path', path: P });
    assert.deepEqual(parsePanelTarget({ kind: 'json-file', file: '/tmp/c.json' }), { kind: 'json-file', file: '/tmp/c.json' });
    assert.equal(parsePanelTarget({ kind: 'store-path', path: P, extra: true }), undefined);
    assert.equal(parsePanelTarget({ kind: 'installable', installable: '' }), undefined);
    assert.equal(parsePanelTarget({ kind: 'installable', installable: '.#x', cwd: 3 }), undefined);
  });

  it('clamps settings', () => {
    assert.deepEqual(normalizeSettings({}), { maxArcs: 2500, sizeStyle: 'iec' });
    assert.deepEqual(normalizeSettings({ maxArcs: 5, sizeStyle: 'nix' }), { maxArcs: 100, sizeStyle: 'nix' });
    assert.deepEqual(normalizeSettings({ maxArcs: 1e9, sizeStyle: 'bogus' }), { maxArcs: 20000, sizeStyle: 'iec' });
    assert.deepEqual(normalizeSettings({ maxArcs: Number.NaN }), { maxArcs: 2500, sizeStyle: 'iec' });
  });
});
