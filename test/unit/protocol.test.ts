import assert from 'node:assert/strict';
import {
  MAX_PATH_LENGTH,
  normalizeSettings,
  parsePanelTarget,
  parseWebviewMessage,
  parseWebviewState,
  INITIAL_STATE,
  parseHostMessage,
  type HostToWebview,
} from '../../src/shared';
import { deserializeWebviewMessage, serializeWebviewMessage } from '../support/webviewTransport';
import { closureMessage, nixosLikeFixture } from '../webview/closures';

const P = '/nix/store/4bbyr8r3w8ld5dc8h3g8v0yffv8wgl1b-perl-5.38.2';

describe('protocol: messages from the webview', () => {
  it('accepts every well-formed message', () => {
    const good = [
      { type: 'ready', documentAt: 1_796_000_000_000.25, sentAt: 1_796_000_000_900.5 },
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
      [{ type: 'ready', documentAt: 1, sentAt: 2, extra: 1 }, /unexpected field "extra"/],
      [{ type: 'ready', sentAt: 2 }, /"documentAt" must be a time/],
      [{ type: 'ready', documentAt: Infinity, sentAt: 2 }, /"documentAt" must be a time/],
      [{ type: 'ready', documentAt: 1, sentAt: '2' }, /"sentAt" must be a time/],
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
      target: {
        kind: 'installable' as const,
        installable: '.#nixosConfigurations.laptop.config.system.build.toplevel',
        cwd: '/home/u/flake',
      },
      mode: 'chain' as const,
      zoom: P,
      selected: P,
      search: '/^perl/',
      allChains: true,
      whyGraph: true,
      view: 'table' as const,
      tableSort: { column: 'retained' as const, descending: true },
    };
    assert.deepEqual(parseWebviewState(JSON.parse(JSON.stringify(s))), s);
  });

  it('falls back field by field on damaged state', () => {
    assert.deepEqual(parseWebviewState(undefined), INITIAL_STATE);
    assert.deepEqual(parseWebviewState({ v: 2, mode: 'chain' }), INITIAL_STATE);
    const s = parseWebviewState({
      v: 1,
      mode: 'sideways',
      target: { kind: 'shell', cmd: 'x' },
      zoom: 7,
      allChains: 'yes',
      whyGraph: 1,
      view: 'list',
      tableSort: { column: 'hash', descending: true },
    });
    assert.deepEqual(s, { v: 1, mode: 'dominator', allChains: false });
  });

  it('validates panel targets strictly', () => {
    assert.deepEqual(parsePanelTarget({ kind: 'store-path', path: P }), { kind: 'store-path', path: P });
    assert.deepEqual(parsePanelTarget({ kind: 'json-file', file: '/tmp/c.json' }), {
      kind: 'json-file',
      file: '/tmp/c.json',
    });
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

describe('protocol: messages from the host, checked in the webview', () => {
  const good = () => closureMessage(nixosLikeFixture());
  /** A closure message whose snapshot has `patch` applied. */
  const withSnapshot = (patch: Record<string, unknown>) => {
    const m = good();
    return { ...m, snapshot: { ...m.snapshot, ...patch } };
  };

  it('accepts every well-formed message, the closure through VS Code’s transport too', () => {
    const m = good();
    const messages: HostToWebview[] = [
      { type: 'loading', title: 'x', message: 'Loading x…' },
      { type: 'loading', title: 'x', message: 'Loading x…', target: { kind: 'store-path', path: P } },
      m,
      { type: 'attribution', attribution: m.snapshot.attribution! },
      { type: 'select', path: P },
      { type: 'settings', settings: { maxArcs: 2500, sizeStyle: 'nix' } },
      { type: 'error', message: 'boom' },
      { type: 'error', message: 'boom', fix: 'do this' },
    ];
    for (const msg of messages) {
      for (const received of [msg, deserializeWebviewMessage(serializeWebviewMessage(msg)), structuredClone(msg)]) {
        const r = parseHostMessage(received, { nodeCount: m.snapshot.narSize.length });
        assert.ok(r.ok, `${msg.type}: ${r.ok ? '' : r.reason}`);
      }
    }
  });

  it('rejects unknown types, extra fields, wrong versions and wrong field types', () => {
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ type: 'eval', code: '1' }, /unknown message type "eval"/],
      [{ type: 'select', path: P, extra: 1 }, /unexpected field "extra"/],
      [{ type: 'select', path: 7 }, /"path" must be a string/],
      [{ type: 'loading', title: 'x', message: 3 }, /"message" must be a string/],
      [{ type: 'loading', title: 'x', message: 'm', target: { kind: 'shell', cmd: 'x' } }, /panel target/],
      [{ type: 'settings', settings: { maxArcs: '9', sizeStyle: 'nix' } }, /maxArcs/],
      [{ type: 'settings', settings: { maxArcs: 100, sizeStyle: 'si' } }, /sizeStyle/],
      [{ ...good(), protocol: 1 }, /protocol 1, expected/],
      [{ ...good(), snapshot: undefined }, /snapshot: not an object/],
      [{ ...good(), snapshot: { ...good().snapshot, script: 'x' } }, /unexpected field "script"/],
    ];
    for (const [m, re] of bad) {
      const r = parseHostMessage(m);
      assert.equal(r.ok, false, JSON.stringify(m)?.slice(0, 200));
      if (!r.ok) assert.match(r.reason, re);
    }
  });

  it('rejects malformed binary payloads: wrong types, wrong lengths, broken offsets, indices out of range', () => {
    const s = good().snapshot;
    const n = s.narSize.length;
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ names: new TextDecoder().decode(s.names) }, /"names" must be a Uint8Array/],
      [{ names: Array.from(s.names) }, /"names" must be a Uint8Array/],
      [{ narSize: Array.from(s.narSize) }, /"narSize" must be a Float64Array/],
      [{ narSize: new Float32Array(s.narSize) }, /"narSize" must be a Float64Array/],
      [{ refTargets: new Uint32Array(s.refTargets) }, /"refTargets" must be a Int32Array/],
      [{ roots: [0] }, /"roots" must be a Int32Array/],
      [{ narSize: s.narSize.subarray(1) }, new RegExp(`"narSize" has ${n - 1} entries, expected ${n}`)],
      [{ idom: new Int32Array(n + 1) }, /"idom" has/],
      [{ selfReference: new Uint8Array(2) }, /"selfReference" has 2 entries/],
      [{ names: new Uint8Array([...s.names, 10, 65]) }, /expected \d+ \(the string table has \d+ names\)/],
      [{ refOffsets: new Int32Array(n) }, /"refOffsets" has/],
      [
        { refOffsets: Int32Array.from(s.refOffsets, (x, i) => (i === n ? x - 1 : x)) },
        /must run from 0 to the length of "refTargets"/,
      ],
      [
        { childOffsets: Int32Array.from(s.childOffsets, (x, i) => (i === 2 ? s.childOffsets[3]! + 1 : x)) },
        /"childOffsets" goes down/,
      ],
      [
        { refTargets: Int32Array.from(s.refTargets, (x, i) => (i === 0 ? n : x)) },
        /"refTargets" holds an index outside/,
      ],
      [
        { childTargets: Int32Array.from(s.childTargets, (x, i) => (i === 0 ? -1 : x)) },
        /"childTargets" holds an index outside/,
      ],
      [{ idom: Int32Array.from(s.idom, (x, i) => (i === 3 ? n : x)) }, /"idom" holds an index/],
      [{ roots: new Int32Array(0) }, /"roots" must name at least one node/],
      [{ roots: new Int32Array([n]) }, /"roots" must name at least one node/],
      [{ narSize: Float64Array.from(s.narSize, (x, i) => (i === 1 ? -5 : x)) }, /negative or not finite/],
      [{ retained: Float64Array.from(s.retained, (x, i) => (i === 1 ? Infinity : x)) }, /negative or not finite/],
      [{ closureSize: new Float64Array(n - 1) }, /"closureSize" has/],
      [{ hasVirtualRoot: 1 }, /"hasVirtualRoot" must be a boolean/],
      [{ storeDir: 5 }, /"storeDir" must be a string/],
    ];
    for (const [patch, re] of bad) {
      const r = parseHostMessage(withSnapshot(patch));
      assert.equal(r.ok, false, Object.keys(patch).join());
      if (!r.ok) assert.match(r.reason, re, Object.keys(patch).join());
    }
  });

  it('rejects option attribution that does not fit the closure on show', () => {
    const m = good();
    const a = m.snapshot.attribution!;
    const n = m.snapshot.narSize.length;
    const bad: [unknown, RegExp][] = [
      [{ ...a, defOffsets: a.defOffsets.subarray(1) }, /"defOffsets" has/],
      [
        { ...a, defTargets: Int32Array.from(a.defTargets, (x, i) => (i === 0 ? a.definitions.length : x)) },
        /"defTargets" holds an index/,
      ],
      [{ ...a, defTargets: Array.from(a.defTargets) }, /"defTargets" must be a Int32Array/],
      [{ ...a, definitions: [{ ...a.definitions[0]!, line: 0 }] }, /definition 0: "line"/],
      [{ ...a, definitions: [{ ...a.definitions[0]!, onClick: 'x' }] }, /unexpected field "onClick"/],
      [
        { ...a, definitions: a.definitions.map((d, k) => (k === 0 ? { ...d, fileLabel: 42 } : d)) },
        /definition 0: "fileLabel" must be a string/,
      ],
      [{ ...a, evalMs: -1 }, /"evalMs"/],
    ];
    for (const [attribution, re] of bad) {
      const r = parseHostMessage({ type: 'attribution', attribution }, { nodeCount: n });
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, re);
    }
    // Attribution of another closure (other node count) is refused, so is a closure payload with it.
    const other = parseHostMessage({ type: 'attribution', attribution: a }, { nodeCount: n + 1 });
    assert.equal(other.ok, false);
    assert.match(
      parseHostMessage(withSnapshot({ attribution: { ...a, defOffsets: new Int32Array(3) } })).ok ? '' : 'rejected',
      /rejected/,
    );
  });
});

describe('protocol: precise references', () => {
  const GLIBC = '/nix/store/a3g5s8b0v6k7f4q9z2c1d0h8j7m6n5p4-glibc-2.39-52';
  const hash = (p: string) => p.split('/').pop()!.slice(0, 32);
  const hit = {
    file: 'bin/perl',
    kind: 'file',
    offset: 4096,
    before: '/nix/store/',
    hash: hash(GLIBC),
    after: '-glibc-2.39-52/lib',
  };
  const result = (
    patch: Record<string, unknown> = {},
    edgePatch: Record<string, unknown> = {},
    hitPatch: Record<string, unknown> = {},
  ) => ({
    type: 'preciseResult',
    chain: [P, GLIBC],
    edges: [{ from: P, to: GLIBC, hits: [{ ...hit, ...hitPatch }], ...edgePatch }],
    ...patch,
  });

  it('accepts a request for a chain of store paths and the opening of a hit', () => {
    for (const m of [
      { type: 'preciseRequest', chain: [P, GLIBC] },
      { type: 'openReference', referrer: P, file: 'lib/perl5/Config.pm', offset: 0 },
      { type: 'openReference', referrer: P, file: '/', offset: 123 },
    ]) {
      const r = parseWebviewMessage(m);
      assert.ok(r.ok, JSON.stringify(m) + (r.ok ? '' : ` → ${r.reason}`));
      assert.deepEqual(r.value, m);
    }
  });

  it('refuses chains that are not store paths and hits outside the referrer', () => {
    const bad: [unknown, RegExp][] = [
      [{ type: 'preciseRequest', chain: [P] }, /2 to 64 store paths/],
      [{ type: 'preciseRequest', chain: P }, /2 to 64 store paths/],
      [{ type: 'preciseRequest', chain: Array(65).fill(P) }, /2 to 64 store paths/],
      [{ type: 'preciseRequest', chain: [P, '/etc/passwd'] }, /not a store path/],
      [{ type: 'preciseRequest', chain: [P, `${GLIBC}/../../../etc`] }, /not a store path/],
      [{ type: 'preciseRequest', chain: [P, 'nix/store/a3g5s8b0v6k7f4q9z2c1d0h8j7m6n5p4-glibc'] }, /not a store path/],
      [{ type: 'preciseRequest', chain: [P, 7] }, /not a store path/],
      [{ type: 'preciseRequest', chain: [P, P] }, /names a store path twice/],
      [{ type: 'preciseRequest', chain: [P, GLIBC, P] }, /names a store path twice/],
      [{ type: 'preciseRequest', chain: [P, GLIBC], all: true }, /unexpected field "all"/],
      [{ type: 'openReference', referrer: '/etc', file: 'passwd', offset: 0 }, /"referrer" must be a store path/],
      [{ type: 'openReference', referrer: P, file: '../glibc/lib/libc.so', offset: 0 }, /"file" must be/],
      [{ type: 'openReference', referrer: P, file: 'bin/../../x', offset: 0 }, /"file" must be/],
      [{ type: 'openReference', referrer: P, file: '/etc/passwd', offset: 0 }, /"file" must be/],
      [{ type: 'openReference', referrer: P, file: 'bin//perl', offset: 0 }, /"file" must be/],
      [{ type: 'openReference', referrer: P, file: 'bin/perl\0', offset: 0 }, /"file" must be/],
      [{ type: 'openReference', referrer: P, file: 'bin/perl', offset: -1 }, /byte offset/],
      [{ type: 'openReference', referrer: P, file: 'bin/perl', offset: 1.5 }, /byte offset/],
      [{ type: 'openReference', referrer: P, file: 'bin/perl', offset: '0' }, /byte offset/],
    ];
    for (const [m, re] of bad) {
      const r = parseWebviewMessage(m);
      assert.equal(r.ok, false, JSON.stringify(m));
      if (!r.ok) assert.match(r.reason, re);
    }
  });

  it("takes the webview's first-draw marks for the timeline, and nothing else in their place", () => {
    const ok = {
      type: 'drawn',
      marks: [
        { name: 'preview arrived', ms: -310 },
        { name: 'preview painted', ms: -240.5 },
        { name: 'model', ms: 3.5 },
        { name: 'page', ms: 20 },
        { name: 'drawn', ms: 140.25 },
        { name: 'painted', ms: 160 },
      ],
      arcs: 812,
      arrivedAt: 1_796_684_352_519.25,
    };
    const r = parseWebviewMessage(ok);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.deepEqual(r.value, ok);
    const bad: unknown[] = [
      { ...ok, marks: [{ name: 'evil', ms: 1 }] },
      { ...ok, marks: [{ name: 'model', ms: -1 }] },
      { ...ok, marks: [{ name: 'model', ms: Infinity }] },
      { ...ok, marks: [{ name: 'model', ms: 1, extra: 'x' }] },
      { ...ok, marks: [{ name: 'preview arrived', ms: -3_600_001 }] },
      { ...ok, marks: Array(8).fill({ name: 'model', ms: 1 }) },
      { ...ok, marks: 'model' },
      { ...ok, arcs: -1 },
      { ...ok, arcs: 1.5 },
      { ...ok, arrivedAt: -1 },
      { ...ok, arrivedAt: NaN },
      { ...ok, arrivedAt: '1796684352519' },
      { ...ok, arrivedAt: undefined },
      { ...ok, html: '<script>' },
    ];
    for (const m of bad) assert.equal(parseWebviewMessage(m).ok, false, JSON.stringify(m));
  });

  it('the webview accepts a well-formed preciseResult, with hits or with an error per edge', () => {
    for (const m of [
      result(),
      result({}, { hits: [], error: 'cannot read it: permission denied' }),
      result({}, {}, { kind: 'symlink', offset: 11 }),
    ]) {
      const r = parseHostMessage(m);
      assert.ok(r.ok, r.ok ? '' : r.reason);
    }
  });

  it('the webview refuses a preciseResult whose edges do not fit the chain or whose hits are malformed', () => {
    const bad: [unknown, RegExp][] = [
      [result({ edges: [] }), /one entry per edge/],
      [result({ chain: [GLIBC, P] }), /edge 0 does not join paths 0 and 1/],
      [result({}, { from: '/tmp/x' }), /"from" and "to" must be store paths/],
      [result({}, { hits: Array(201).fill(hit) }), /at most 200/],
      [result({}, { error: 3 }), /"error" must be a string/],
      [result({}, { extra: 1 }), /unexpected field "extra"/],
      [result({}, {}, { hash: hash(P) }), /"hash" must be the hash of "to"/],
      [result({}, {}, { kind: 'dir' }), /"kind"/],
      [result({}, {}, { file: '../x' }), /"file"/],
      [result({}, {}, { offset: -4 }), /byte offset/],
      [result({}, {}, { before: 'x'.repeat(5000) }), /short strings/],
      [result({}, {}, { after: null }), /short strings/],
      [result({}, {}, { html: '<b>' }), /unexpected field "html"/],
    ];
    for (const [m, re] of bad) {
      const r = parseHostMessage(m);
      assert.equal(r.ok, false, JSON.stringify(m).slice(0, 200));
      if (!r.ok) assert.match(r.reason, re);
    }
  });
});
