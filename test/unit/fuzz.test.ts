/**
 * Seeded, deterministic fuzzing of everything that reads outside input: closure JSON (through the engine, as a
 * user's file), store path names, and messages from the webview. The rule: a ClosureLensError (or a clean
 * rejection), never any other exception; and what is accepted is exact (names and sizes survive unchanged
 * through the graph, the cache file and the webview snapshot).
 *
 * A failure message carries the seed and the case number: `FUZZ_SEED=<seed> npx mocha ...` replays it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decode, encode } from '../../src/core/load';
import { ClosureEngine, type LoadedClosure } from '../../src/core/load';
import { ClosureLensError } from '../../src/core/errors';
import { NixRunner } from '../../src/core/nix';
import { buildSnapshot, snapshotPaths } from '../../src/shared';
import { displayName, isStoreBaseName, parseStorePath } from '../../src/shared';
import { MAX_PATH_LENGTH, parseWebviewMessage } from '../../src/shared';
import { seededRandom as rng } from '../support/prng';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261125);

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chars(alphabet: string, min: number, max: number): string {
    const cs = [...alphabet];
    let s = '';
    for (let i = min + this.int(max - min + 1); i > 0; i--) s += this.pick(cs);
    return s;
  }
}

const NIX_BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';
/** Every character Nix allows in a store path name. */
const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=';
/** Characters Nix does not allow, but a hand-made or damaged file may hold. */
const ODD = [
  'é',
  '日本',
  '🦀',
  ' ',
  '"',
  "'",
  '\\',
  '\n',
  '\t',
  '\u0000',
  '\u202e',
  '$(x)',
  '`',
  ';',
  '..',
  '/',
  '%00',
  '\ud800',
];

function storeName(g: Gen, odd: boolean): string {
  const hash = g.chars(NIX_BASE32, 32, 32);
  let name = g.pick([
    'perl',
    'glibc',
    'systemd-minimal',
    'python3.12-foo',
    '-',
    '.dot',
    '=',
    '?q',
    'x'.repeat(180),
    'a+b',
    '1.0',
  ]);
  if (g.int(3) === 0) name += `-${g.chars('0123456789.', 1, 6)}`;
  if (odd) name += g.pick(ODD) + g.chars(NAME_CHARS, 0, 3);
  return `/nix/store/${hash}-${name}`;
}

interface Entry {
  path: unknown;
  narSize: unknown;
  references: unknown;
  narHash?: unknown;
  [k: string]: unknown;
}

/** A well-formed `nix path-info -rs --json` (Nix 2.8 array) of a random DAG; the first entry is the root. */
function closure(g: Gen, n: number, oddNames: boolean): Entry[] {
  const paths = Array.from({ length: n }, () => storeName(g, oddNames && g.int(3) === 0));
  return paths.map((p, i) => {
    const refs = new Set<string>();
    if (i + 1 < n) refs.add(paths[i + 1]!); // a chain through all: every path is reachable from the root
    for (let k = g.int(3); k > 0 && i + 1 < n; k--) refs.add(paths[i + 1 + g.int(n - i - 1)]!);
    if (g.int(5) === 0) refs.add(p);
    return {
      path: p,
      narHash: `sha256:${g.chars(NIX_BASE32, 52, 52)}`,
      narSize: g.int(1 << 30),
      references: [...refs],
    };
  });
}

const WRONG_VALUES: unknown[] = [null, true, -1, 1.5, '12', '', [], {}, [1], { a: 1 }, 2 ** 53, 2 ** 64, -0, 1e308];

function mutate(g: Gen, entries: Entry[]): { text: string; what: string } {
  const e = structuredClone(entries);
  const victim = e[g.int(e.length)]!;
  switch (g.int(9)) {
    case 0: {
      const text = JSON.stringify(e);
      const cut = g.int(text.length);
      return { text: text.slice(0, cut), what: `truncated at ${cut}/${text.length}` };
    }
    case 1: {
      const field = g.pick(['path', 'narSize', 'references', 'narHash']);
      victim[field] = g.pick(WRONG_VALUES);
      return { text: JSON.stringify(e), what: `${field} = ${JSON.stringify(victim[field])}` };
    }
    case 2: {
      // Past 2^53 as the text says it (JSON.parse rounds it): the parser must not accept a rounded size.
      const big = g.pick([
        '9007199254740993',
        '18446744073709551615',
        '1e400',
        '9007199254740992',
        '123456789012345678901234567890',
      ]);
      const text = JSON.stringify(e).replace(`"narSize":${victim.narSize as number}`, `"narSize":${big}`);
      return { text, what: `narSize ${big}` };
    }
    case 3:
      (victim.references as unknown[]).push(storeName(g, false));
      return { text: JSON.stringify(e), what: 'a reference to a path missing from the closure' };
    case 4:
      delete victim[g.pick(['path', 'narSize', 'references'])];
      return { text: JSON.stringify(e), what: 'a field missing' };
    case 5:
      e.push(structuredClone(victim));
      return { text: JSON.stringify(e), what: 'a path listed twice' };
    case 6:
      victim.path = storeName(g, true).replace(
        '/nix/store/',
        g.pick(['/nix/store/', '/gnu/store/', 'nix/store/', '/nix/store/../', '']),
      );
      return { text: JSON.stringify(e), what: `path ${JSON.stringify(victim.path)}` };
    case 7: {
      const raw = [...JSON.stringify(e)];
      for (let k = 1 + g.int(4); k > 0; k--) raw[g.int(raw.length)] = g.pick(['"', ',', ']', '}', '{', '\\', 'x', '0']);
      return { text: raw.join(''), what: 'bytes flipped' };
    }
    default:
      return {
        text: JSON.stringify(
          g.pick([{}, [], null, 7, 'x', { info: {}, version: 2 }, { '/nix/store/x': 1 }, [[]], [null]]),
        ),
        what: 'another shape',
      };
  }
}

describe(`fuzz (seed ${SEED})`, function () {
  this.timeout(120_000);
  let dir: string;
  // No nix call may happen: a JSON file is read by the engine alone.
  const engine = new ClosureEngine({ nix: new NixRunner({ nixPath: '/nonexistent/nix' }) });

  before(() => (dir = fs.mkdtempSync(path.join(tmpdir(), 'fuzz-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Loads `text` as a user's closure file and uses every analysis a view uses. */
  async function loadAndUse(text: string): Promise<LoadedClosure> {
    const file = path.join(dir, 'closure.json');
    fs.writeFileSync(file, text);
    const loaded = await engine.load({ kind: 'json-file', file });
    const a = loaded.analysis;
    const g = a.graph;
    a.dominators;
    a.duplicates();
    a.heaviest(20);
    a.find('perl');
    for (let i = 0; i < g.nodeCount; i++) a.closureSize(i);
    if (g.nodeCount > 1) a.why(g.nodeCount - 1, { all: true, limit: 5 });
    // What the webview gets, and what the cache stores, name the same paths.
    assert.deepEqual(snapshotPaths(buildSnapshot(a)), [...g.paths], 'the webview snapshot names the graph’s paths');
    if (!g.hasVirtualRoot) {
      const back = decode(encode(g.paths[0]!, g, { source: 'fuzz' }), g.paths[0]!);
      assert.deepEqual([...back.graph.paths], [...g.paths], 'the cache file keeps every name');
      assert.deepEqual([...back.graph.narSize], [...g.narSize]);
    }
    return loaded;
  }

  async function expectCleanOutcome(text: string, label: string): Promise<'ok' | string> {
    try {
      await loadAndUse(text);
      return 'ok';
    } catch (e) {
      if (e instanceof ClosureLensError) {
        assert.ok(e.message.length > 0 && e.fix.length > 0, `${label}: an error without message or fix`);
        return e.code;
      }
      assert.fail(`${label}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\ninput: ${text.slice(0, 600)}`);
    }
  }

  it('well-formed closures (Nix-valid names) load exactly: paths, sizes and references as written', async () => {
    const g = new Gen(SEED);
    for (let c = 0; c < 60; c++) {
      const entries = closure(g, 1 + g.int(40), false);
      const loaded = await loadAndUse(JSON.stringify(entries));
      const graph = loaded.analysis.graph;
      assert.equal(loaded.rootPath, entries[0]!.path, `case ${c}`);
      for (const e of entries) {
        const i = graph.indexOf(e.path as string);
        assert.ok(i !== undefined, `case ${c}: ${String(e.path)} is missing`);
        assert.equal(graph.narSize[i], e.narSize);
        const refs = (e.references as string[]).filter((r) => r !== e.path).sort();
        assert.deepEqual([...graph.references(i)].map((j) => graph.paths[j]).sort(), refs, `case ${c}`);
      }
    }
  });

  it('damaged closures: truncated, wrong types, sizes past 2^53, missing references, odd names → ClosureLensError or an exact load, never a crash', async () => {
    const g = new Gen(SEED + 1);
    const outcomes = new Map<string, number>();
    for (let c = 0; c < 600; c++) {
      const { text, what } = mutate(g, closure(g, 1 + g.int(25), g.int(2) === 0));
      const outcome = await expectCleanOutcome(text, `seed ${SEED + 1}, case ${c} (${what})`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (/past 2\^53|1e400|18446744073709551615|123456789012345678901234567890/.test(what)) {
        assert.notEqual(outcome, 'ok', `case ${c}: a size past 2^53 was accepted (${what})`);
      }
    }
    // The mutations reach the parser's checks, not just the JSON syntax check.
    assert.ok((outcomes.get('malformed-json') ?? 0) > 100, JSON.stringify([...outcomes]));
    assert.ok((outcomes.get('empty-closure') ?? 0) > 0, JSON.stringify([...outcomes]));
  });

  it('names outside Nix’s alphabet (unicode, spaces, quotes, newlines, NUL, slashes) are rejected or kept byte for byte', async () => {
    const g = new Gen(SEED + 2);
    for (let c = 0; c < 150; c++) {
      const entries = closure(g, 2 + g.int(6), false);
      const odd = g.pick(ODD);
      const original = entries[1]!.path as string;
      const renamed = `${original}${odd}`;
      for (const e of entries) {
        if (e.path === original) e.path = renamed;
        e.references = (e.references as string[]).map((r) => (r === original ? renamed : r));
      }
      // JSON.stringify escapes what needs it (a newline, a lone surrogate), so the file says exactly `renamed`.
      const text = JSON.stringify(entries);
      const label = `seed ${SEED + 2}, case ${c} (name with ${JSON.stringify(odd)})`;
      const outcome = await expectCleanOutcome(text, label);
      if (outcome === 'ok') {
        const loaded = await loadAndUse(text);
        assert.ok(loaded.analysis.graph.indexOf(renamed) !== undefined, `${label}: the name changed on the way`);
      }
    }
  });

  it('store path names of every shape Nix allows parse without throwing and display non-empty', () => {
    const g = new Gen(SEED + 3);
    for (let c = 0; c < 5000; c++) {
      const base = `${g.chars(NIX_BASE32, 32, 32)}-${g.chars(NAME_CHARS, 1, 211)}`;
      assert.equal(isStoreBaseName(base), true, base);
      const p = parseStorePath(`/nix/store/${base}`);
      assert.ok(displayName(p).length > 0, base);
      assert.ok(base.endsWith(p.name), base);
    }
    for (const weird of [
      '',
      '-',
      'x',
      '/',
      '/nix/store/',
      '/nix/store/short-x',
      `/nix/store/${'e'.repeat(32)}`,
      `/nix/store/${'e'.repeat(32)}-`,
      '\u0000',
      'é'.repeat(300),
    ]) {
      assert.doesNotThrow(() => displayName(parseStorePath(weird)), JSON.stringify(weird));
    }
  });

  it('webview messages: unknown types, wrong shapes and huge payloads are rejected with a reason, never thrown', () => {
    const g = new Gen(SEED + 4);
    const types = [
      'ready',
      'selected',
      'copyPath',
      'revealInTree',
      'copyWhyCommand',
      'openDefinition',
      'reportError',
      'select',
      'closure',
      '__proto__',
      'constructor',
      'toString',
      '',
    ];
    const values: unknown[] = [
      ...WRONG_VALUES,
      undefined,
      '/nix/store/x',
      'a'.repeat(MAX_PATH_LENGTH + 1),
      'x\u0000y',
      Symbol('s'),
      () => 1,
      new Uint8Array(4),
      Object.create(null),
    ];
    let accepted = 0;
    for (let c = 0; c < 5000; c++) {
      const msg: Record<string, unknown> = {};
      if (g.int(10) > 0) msg['type'] = g.int(4) === 0 ? g.pick(values) : g.pick(types);
      for (let k = g.int(4); k > 0; k--)
        msg[g.pick(['path', 'file', 'line', 'message', 'extra', '__proto__', 'type'])] = g.pick(values);
      const raw: unknown = g.int(20) === 0 ? g.pick(values) : msg;
      let r: ReturnType<typeof parseWebviewMessage>;
      try {
        r = parseWebviewMessage(raw);
      } catch (e) {
        assert.fail(`case ${c}: parseWebviewMessage threw ${String(e)}`);
      }
      if (r.ok) {
        accepted++;
        // Whatever passes has exactly the declared shape.
        const v = r.value as Record<string, unknown>;
        if ('path' in v)
          assert.ok(typeof v['path'] === 'string' && v['path'].length <= MAX_PATH_LENGTH && !v['path'].includes('\0'));
        if ('file' in v) assert.ok(typeof v['file'] === 'string' && v['file'].length <= MAX_PATH_LENGTH);
      } else {
        assert.ok(
          r.reason.length > 0 && r.reason.length < 300,
          `case ${c}: reason ${JSON.stringify(r.reason.slice(0, 400))}`,
        );
      }
    }
    assert.ok(accepted > 0, 'some random messages are well-formed');
    // A huge payload: rejected without being copied into the reason.
    const huge = parseWebviewMessage({ type: 'selected', path: `/nix/store/${'a'.repeat(50_000_000)}` });
    assert.equal(huge.ok, false);
    if (!huge.ok) assert.ok(huge.reason.length < 300);
    const hugeError = parseWebviewMessage({ type: 'reportError', message: 'e'.repeat(10_000_000) });
    assert.ok(
      hugeError.ok && hugeError.value.type === 'reportError' && hugeError.value.message.length <= 4000,
      'error reports are truncated',
    );
  });
});
