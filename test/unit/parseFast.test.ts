/**
 * The fast paths for path-info JSON (compactPathInfo.ts: Nix's compact output by regular expression;
 * fastPathInfo.ts: any layout by a byte scanner; pathInfoGraph.ts: straight into the graph) against the generic
 * parser (JSON.parse + pathInfo.ts, then ClosureGraph.build), which stays the oracle: on every real recording, on the bench's synthetic closure, and on seeded mutations, each fast path
 * either declines (undefined) or gives exactly the generic result, or throws exactly the generic error. And the
 * public parseClosureJson (string or bytes) behaves as the generic parser alone.
 *
 * A failure names the seed and the case: `FUZZ_SEED=<seed> npx mocha out/test/unit/parse-fast.test.js` replays it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { syntheticClosure } from '../../bench/generate';
import { ClosureLensError } from '../../src/core/errors';
import { ClosureGraph } from '../../src/shared';
import { parseClosureGraph, parseClosureJson, parseClosureValue, type ParseOptions } from '../../src/core/parse';
import { parseCompactPathInfo } from '../../src/core/parse';
import { parsePathInfoFast } from '../../src/core/parse';
import { pathInfoGraphFast, type GraphFromJson } from '../../src/core/parse';
import { PathInfoStream } from '../../src/core/parse';
import { parseJsonText } from '../../src/core/parse';
import { seededRandom } from '../support/prng';
import { realDataDir } from '../support/realData';

const REPO = path.resolve(__dirname, '../../..');
const REAL = realDataDir();
const REC26 = path.join(REAL, 'nix-2.26-outputs');
const REC28 = path.join(REC26, 'nix-2.8');
const RECORDED = path.join(REPO, 'test/fixtures/recorded');
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261125);

type Outcome = { ok: unknown } | { error: { name: string; code: string; message: string } } | { declined: true };

function outcome(f: () => unknown): Outcome {
  try {
    const r = f();
    return r === undefined ? { declined: true } : { ok: r };
  } catch (e) {
    if (e instanceof ClosureLensError) return { error: { name: e.name, code: e.code, message: e.message } };
    throw e; // anything else is a bug in a parser: the test fails with its stack
  }
}

const generic = (text: string, options: ParseOptions): Outcome =>
  outcome(() => parseClosureValue(parseJsonText(text, 'input.json'), 'input.json', options));

const stages = {
  compact: (text: string, options: ParseOptions) => parseCompactPathInfo(text, 'input.json', options),
  scanner: (text: string, options: ParseOptions) => parsePathInfoFast(text, 'input.json', options),
  'scanner (bytes)': (text: string, options: ParseOptions) =>
    parsePathInfoFast(text, 'input.json', options, Buffer.from(text, 'utf8')),
};
type Stage = keyof typeof stages;

/** A graph as plain data, and what came with it; any error (ClosureGraph.build throws plain Errors) as its message. */
function graphOutcome(f: () => (GraphFromJson & { notes?: string[] }) | undefined): Outcome {
  try {
    const r = f();
    if (r === undefined) return { declined: true };
    const g = r.graph;
    return {
      ok: {
        paths: g.paths,
        narSize: [...g.narSize],
        refOffsets: [...g.refOffsets],
        refTargets: [...g.refTargets],
        selfReference: [...g.selfReference],
        graphRoots: g.roots,
        hasVirtualRoot: g.hasVirtualRoot,
        sizesKnown: g.sizesKnown,
        dangling: g.danglingReferences,
        roots: r.roots,
        format: r.format,
        storeDir: r.storeDir,
        invalidPaths: r.invalidPaths,
      },
    };
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return { error: { name: e.name, code: e instanceof ClosureLensError ? e.code : '', message: e.message } };
  }
}

/** checkGraph's streamed reads that read entries before the end (or the stream comparison proves little). */
let readEarly = 0;

/**
 * The graph path (pathInfoGraph.ts, parseClosureGraph) against parseClosureJson's records built into a graph, from
 * the roots the parser finds and from given roots; returns whether the fast graph path accepted it.
 */
function checkGraph(text: string, label: string): boolean {
  let accepted = false;
  const found = generic(text, {});
  const some = 'ok' in found ? (found.ok as { records: { path: string }[] }).records.map((r) => r.path) : [];
  const rootChoices: (string[] | undefined)[] = [undefined, ['/nix/store/00000000000000000000000000000000-none']];
  if (some.length > 0) rootChoices.push([some[0]!], [some[some.length - 1]!, some[0]!, some[0]!]);
  for (const roots of rootChoices) {
    const expected = graphOutcome(() => {
      const p = parseClosureValue(parseJsonText(text, 'input.json'), 'input.json', {
        trustClosure: roots !== undefined,
      });
      const r = roots === undefined ? p.roots : [...new Set(roots)];
      return {
        graph: ClosureGraph.build(p.records, r),
        roots: r,
        format: p.format,
        storeDir: p.storeDir,
        invalidPaths: p.invalidPaths,
      };
    });
    const where = `${label}, roots ${JSON.stringify(roots)}`;
    for (const input of [{ text }, { bytes: Buffer.from(text, 'utf8') }]) {
      const got = graphOutcome(() => pathInfoGraphFast(input, roots));
      if ('declined' in got) continue;
      accepted = true;
      assert.deepStrictEqual(
        got,
        expected,
        `${where}: the graph fast path (${Object.keys(input)[0]}) differs\ninput: ${text.slice(0, 400)}`,
      );
    }
    // The public entry point also says when a root the caller asked about is not listed (nix calls it invalid).
    const missingRoots = ((): string[] => {
      if (roots === undefined) return [];
      try {
        const listed = parseClosureValue(parseJsonText(text, 'input.json'), 'input.json', {
          trustClosure: true,
        }).records.map((r) => r.path);
        return [...new Set(roots)].filter((r) => !listed.includes(r));
      } catch {
        return []; // the parse error comes first
      }
    })();
    const expectedPublic =
      missingRoots.length > 0
        ? {
            error: {
              code: 'invalid-path',
              message: `${missingRoots.join(', ')} is not a valid path in the Nix store`,
              name: 'ClosureLensError',
            },
          }
        : expected;
    assert.deepStrictEqual(
      graphOutcome(() => parseClosureGraph(text, 'input.json', roots)),
      expectedPublic,
      `${where}: parseClosureGraph differs`,
    );
    const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
    assert.deepStrictEqual(
      graphOutcome(() => parseClosureGraph(bytes, 'input.json', roots)),
      expectedPublic,
      `${where}: parseClosureGraph(bytes) differs`,
    );
    // Read as nix writes it: the chunks cut anywhere (inside a character too), pieces read as soon as they hold
    // 1 byte, 100 bytes, or the default 64 KiB.
    const rand = seededRandom(text.length);
    for (const pieceLength of [1, 100, undefined]) {
      const stream = new PathInfoStream(pieceLength);
      for (let at = 0; at < bytes.length;) {
        const size = 1 + Math.floor(rand() * (rand() < 0.5 ? 8 : 5000));
        stream.push(bytes.slice(at, at + size));
        at += size;
      }
      assert.deepStrictEqual(
        graphOutcome(() => stream.finish('input.json', roots)),
        expectedPublic,
        `${where}: PathInfoStream (pieces of ${pieceLength}) differs`,
      );
      if (stream.entriesReadEarly > 0) readEarly++;
    }
  }
  return accepted;
}

/**
 * Checks every fast stage and the public entry point (string and bytes) against the generic parser on `text`;
 * returns the stages that accepted it.
 */
function check(text: string, label: string, options: ParseOptions = {}): Set<Stage> {
  const expected = generic(text, options);
  const accepted = new Set<Stage>();
  for (const [name, stage] of Object.entries(stages) as [Stage, (t: string, o: ParseOptions) => unknown][]) {
    const got = outcome(() => stage(text, options));
    if ('declined' in got) continue;
    accepted.add(name);
    assert.deepStrictEqual(
      got,
      expected,
      `${label}: the ${name} fast path differs from the generic parser\ninput: ${text.slice(0, 400)}`,
    );
  }
  const viaString = outcome(() => parseClosureJson(text, 'input.json', options));
  assert.deepStrictEqual(viaString, expected, `${label}: parseClosureJson differs from the generic parser`);
  const viaBytes = outcome(() => parseClosureJson(new Uint8Array(Buffer.from(text, 'utf8')), 'input.json', options));
  assert.deepStrictEqual(viaBytes, expected, `${label}: parseClosureJson(bytes) differs from the generic parser`);
  return accepted;
}

const pathInfoFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => /^path-info.*\.json$/.test(f))
    .map((f) => path.join(dir, f));

describe('fast path-info parsers agree with the generic parser', function () {
  this.timeout(120_000);

  it('on every recorded output (real Nix 2.8 and 2.26, the hand-made newer formats, exportReferencesGraph)', () => {
    const files = [
      ...pathInfoFiles(REC26),
      ...pathInfoFiles(REC28),
      ...pathInfoFiles(RECORDED),
      path.join(REAL, 'nix2container-closure-graph', 'closure-graph.json'),
    ];
    assert.ok(files.length >= 30, `only ${files.length} recordings found`);
    const acceptedBy = new Map<string, Set<Stage>>();
    const graphAccepted = new Set<string>();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const options of [{}, { trustClosure: true }]) {
        const accepted = check(text, path.relative(REAL, file), options);
        if (!options.trustClosure)
          acceptedBy.set(path.basename(path.dirname(file)) + '/' + path.basename(file), accepted);
      }
      if (checkGraph(text, path.relative(REAL, file)))
        graphAccepted.add(path.basename(path.dirname(file)) + '/' + path.basename(file));
      // Pretty-printed (jq-style), the scanner must still read it exactly. (Some recordings are Nix's empty
      // output of a failed command.)
      if (text.trim() !== '')
        check(JSON.stringify(JSON.parse(text), null, 2), `${path.relative(REAL, file)} pretty-printed`);
    }
    // The fast paths must take the shapes that matter for speed, not decline everything.
    const takes = (file: string, stage: Stage): void =>
      assert.ok(acceptedBy.get(file)?.has(stage), `${file} should be read by the ${stage} fast path`);
    takes('nix-2.8/path-info-rsS.json', 'compact'); // Nix 2.8 array, with closureSize among the other fields
    takes('nix-2.8/path-info-rs.json', 'compact');
    takes('nix-2.26-outputs/path-info-rs.json', 'compact'); // Nix 2.19+ object
    takes('nix-2.26-outputs/path-info-missing.json', 'compact'); // an invalid path (null)
    takes('recorded/path-info-nix-2.33-json-format-1.json', 'compact');
    takes('nix-2.8/path-info-missing.json', 'scanner'); // "valid": false
    takes('recorded/path-info-lix-with-invalid.json', 'scanner');
    takes('recorded/path-info-nix-2.33-json-format-2.json', 'scanner');
    takes('recorded/path-info-nix-json-format-3.json', 'scanner');
    takes('nix2container-closure-graph/closure-graph.json', 'scanner');
    for (const f of [
      'nix-2.8/path-info-rsS.json',
      'nix-2.26-outputs/path-info-rs.json',
      'recorded/path-info-nix-2.33-json-format-2.json',
    ]) {
      takes(f, 'scanner (bytes)');
    }
    for (const f of [
      'nix-2.8/path-info-rsS.json',
      'nix-2.26-outputs/path-info-rs.json',
      'recorded/path-info-lix-with-invalid.json',
      'recorded/path-info-nix-2.33-json-format-2.json',
    ]) {
      assert.ok(graphAccepted.has(f), `${f} should go straight into the graph`);
    }
  });

  it('Nix 2.8 output read as it arrives: entries are read before the end, and the graph is the whole text’s', () => {
    const text = readFileSync(path.join(REC28, 'path-info-rs.json'), 'utf8');
    const bytes = Buffer.from(text);
    const records = parseClosureJson(text).records.length;
    const stream = new PathInfoStream(4096);
    for (let at = 0; at < bytes.length; at += 4096) stream.push(bytes.subarray(at, at + 4096));
    const early = stream.entriesReadEarly;
    assert.ok(early > records / 2 && early < records, `${early} of ${records} entries read before the end`);
    const whole = parseClosureGraph(bytes, 'x', undefined);
    const streamed = stream.finish('x', undefined);
    assert.deepEqual([...streamed.graph.paths], [...whole.graph.paths]);
    assert.deepEqual([...streamed.graph.refTargets], [...whole.graph.refTargets]);
    // Text that is not Nix's compact array (pretty-printed, or not ASCII) is read at the end, the generic way.
    for (const other of [JSON.stringify(JSON.parse(text), null, 1), text.replace('"narHash":"', '"narHash":"é')]) {
      const s = new PathInfoStream(1);
      const b = Buffer.from(other);
      for (let at = 0; at < b.length; at += 512) s.push(b.subarray(at, at + 512));
      assert.equal(s.entriesReadEarly, 0);
      assert.deepEqual(
        [...s.finish('x', undefined).graph.paths],
        [...parseClosureGraph(b, 'x', undefined).graph.paths],
      );
    }
  });

  it('on the bench generator’s synthetic `nix path-info -rs --json` (2,000 paths), as written and pretty-printed', async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'parse-fast-'));
    try {
      const synthetic = await syntheticClosure({ repo: REPO, workDir, quick: true, log: () => undefined }, 2000);
      const text = readFileSync(synthetic.file, 'utf8');
      const accepted = check(text, 'synthetic');
      assert.ok(checkGraph(text, 'synthetic'), 'the synthetic closure should go straight into the graph');
      assert.deepEqual([...accepted].sort(), ['compact', 'scanner', 'scanner (bytes)']);
      const parsed = parseClosureJson(text);
      assert.equal(parsed.records.length, 2000);
      assert.deepEqual(parsed.roots, [synthetic.root]);
      assert.ok(check(JSON.stringify(JSON.parse(text), null, 1), 'synthetic pretty-printed').has('scanner'));
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it(`on seeded mutations of every shape (seed ${SEED}): each fast path declines or equals the generic parser`, () => {
    const rand = seededRandom(SEED);
    const int = (n: number): number => Math.floor(rand() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const B32 = '0123456789abcdfghijklmnpqrsvwxyz';
    const hash = (): string => Array.from({ length: 32 }, () => pick([...B32])).join('');
    const NAMES = [
      'perl-5.38.2',
      'glibc-2.39-52',
      'systemd-minimal-255',
      'a+b',
      '.dot',
      '=',
      '?q',
      'x'.repeat(120),
      'python3.12-foo-1.0',
    ];
    const ODD = ['é', '日本', '🦀', ' ', '\\', '"', '\n', '\u0000', '\u2028', '\ud800', '/', "'"];
    const tally = new Map<string, number>();
    const count = (k: string): void => void tally.set(k, (tally.get(k) ?? 0) + 1);

    type Entry = Record<string, unknown>;
    function closure(n: number): { base: string[]; entries: Entry[] } {
      const base = Array.from({ length: n }, () => `${hash()}-${pick(NAMES)}${int(8) === 0 ? pick(ODD) : ''}`);
      const entries = base.map((b, i) => {
        const refs = new Set<string>();
        if (i + 1 < n) refs.add(base[i + 1]!);
        for (let k = int(3); k > 0 && i + 1 < n; k--) refs.add(base[i + 1 + int(n - i - 1)]!);
        if (int(5) === 0) refs.add(b);
        const e: Entry = {
          base: b,
          narHash: `sha256-${hash()}=`,
          narSize: int(6) === 0 ? 0 : int(2 ** 31),
          references: [...refs].sort(),
        };
        if (int(4) !== 0) e['deriver'] = `${hash()}-${pick(NAMES)}.drv`;
        return e;
      });
      return { base, entries };
    }

    /** One closure in one of the shapes Nix prints. */
    function render(entries: Entry[], shape: number, storeDir: string): unknown {
      const full = (b: string): string => `${storeDir}/${b}`;
      const info = (e: Entry, full: boolean): Entry => {
        const o: Entry = {};
        const deriver = e['deriver'] as string | undefined;
        for (const [k, v] of Object.entries(e)) {
          if (k === 'base') continue;
          if (k === 'references') o[k] = full ? (v as string[]).map((r) => `${storeDir}/${r}`) : v;
          else if (k === 'deriver') o[k] = full && deriver !== undefined ? `${storeDir}/${deriver}` : deriver;
          else o[k] = v;
        }
        return o;
      };
      switch (shape) {
        case 0: // Nix 2.8 array
          return entries.map((e) => ({
            path: full(e['base'] as string),
            ...info(e, true),
            registrationTime: 1_700_000_000,
            ultimate: int(2) === 0,
          }));
        case 1: // Lix array
          return entries.map((e) => ({
            path: full(e['base'] as string),
            valid: true,
            ...info(e, true),
            signatures: ['cache.example.org-1:AAAA=='],
          }));
        case 2: {
          // Nix 2.19+ object, keys sorted as Nix prints them
          const o: Entry = {};
          const sorted = [...entries].sort((a, b) => ((a['base'] as string) < (b['base'] as string) ? -1 : 1));
          for (const e of sorted) {
            const i = info(e, true);
            o[full(e['base'] as string)] = Object.fromEntries(
              Object.entries({ ca: null, ...i, registrationTime: 1, signatures: [], ultimate: true }).sort(),
            );
          }
          return o;
        }
        case 3: {
          // Nix 2.33 v2
          const inf: Entry = {};
          for (const e of entries) inf[e['base'] as string] = { ca: null, ...info(e, false), storeDir, version: 2 };
          return { info: inf, storeDir, version: pick([2, 3]) };
        }
        default: // exportReferencesGraph
          return entries.map((e) => ({
            path: full(e['base'] as string),
            narHash: e['narHash'],
            narSize: e['narSize'],
            references: info(e, true)['references'],
          }));
      }
    }

    const WRONG: unknown[] = [
      null,
      true,
      false,
      -1,
      1.5,
      1e21,
      '12',
      '',
      [],
      {},
      [1],
      { a: [1, { b: null }] },
      2 ** 53,
      -0,
    ];

    /** A structural mutation of the document (before it is written). */
    function mutateDoc(doc: unknown): string {
      const entries: Entry[] = Array.isArray(doc)
        ? (doc as Entry[])
        : Object.values(((doc as Entry)['info'] as Entry | undefined) ?? (doc as Entry)).filter(
            (e): e is Entry => e !== null && typeof e === 'object',
          );
      const victim = entries.length > 0 ? pick(entries) : undefined;
      if (!victim) return 'none';
      switch (int(10)) {
        case 0: {
          const field = pick(['path', 'narSize', 'references', 'narHash', 'deriver', 'valid', 'ca']);
          victim[field] = pick(WRONG);
          return `${field} = ${JSON.stringify(victim[field])}`;
        }
        case 1:
          delete victim[pick(['path', 'narSize', 'references', 'narHash', 'deriver'])];
          return 'a field deleted';
        case 2:
          victim[pick(['closureSize', 'x', 'registrationTime', 'signatures', 'valid', 'lastUsageTime', 'path'])] = pick(
            [...WRONG, 'sig', ['a', 'b']],
          );
          return 'an extra or changed field';
        case 3: {
          // keys in another order
          const keys = Object.keys(victim);
          const values = keys.map((k) => victim[k]);
          for (const k of keys) delete victim[k];
          const order = keys.map((_, i) => i).sort(() => rand() - 0.5);
          for (const i of order) victim[keys[i]!] = values[i];
          return 'keys reordered';
        }
        case 4:
          victim['valid'] = false;
          return 'valid: false';
        case 5:
          if (Array.isArray(victim['references']))
            (victim['references'] as unknown[]).push(pick([`/nix/store/${hash()}-gone`, `${hash()}-gone`, '', '/x']));
          return 'a reference to nothing listed';
        case 6:
          if (Array.isArray(doc)) doc.push(structuredClone(victim));
          return 'an entry twice';
        case 7: {
          if (!Array.isArray(doc)) {
            const holder = ((doc as Entry)['info'] as Entry | undefined) ?? (doc as Entry);
            const key = pick(Object.keys(holder));
            holder[key] = null;
            return 'an invalid path (null)';
          }
          return 'none';
        }
        case 8:
          victim['deriver'] = pick(['', `${hash()}-x.drv`, '/nix/store/not-a-store-path', null]);
          return 'deriver variant';
        default:
          victim['narHash'] = pick([
            '',
            'sha256:é',
            { algorithm: 'sha256', format: 'base16', hash: 'ab' },
            { algorithm: 'sha256', hash: 'x' },
          ]);
          return 'narHash variant';
      }
    }

    /** A textual mutation (after it is written). */
    function mutateText(text: string): [string, string] {
      switch (int(10)) {
        case 0: {
          const cut = int(text.length);
          return [text.slice(0, cut), `truncated at ${cut}`];
        }
        case 1: {
          // a character written as an escape: the same JSON value, spelled differently
          const at = text.indexOf(pick(['/nix/store/', 'sha256', '"narSize"', '"path"', '"references"', 'drv']));
          if (at < 0) return [text, 'none'];
          const c = text[at + 1]!;
          const escaped = pick([
            `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
            c === '/' ? '\\/' : `\\u00${c.charCodeAt(0).toString(16)}`,
          ]);
          return [text.slice(0, at + 1) + escaped + text.slice(at + 2), 'an escape'];
        }
        case 2: {
          const big = pick([
            '9007199254740993',
            '9007199254740991',
            '18446744073709551615',
            '1e3',
            '1.0',
            '-0',
            '0123',
            '1E400',
            '12.5e-1',
          ]);
          return [text.replace(/"narSize": ?\d+/, `"narSize":${big}`), `narSize ${big}`];
        }
        case 3:
          return [
            text
              .replace(/,"/g, () => pick([',"', ', "', ',\n  "', ',\t"', ',\r\n"']))
              .replace(/":/g, () => pick(['":', '": ', '" :'])),
            'whitespace',
          ];
        case 4: {
          const raw = [...text];
          for (let k = 1 + int(3); k > 0; k--)
            raw[int(raw.length)] = pick(['"', ',', ']', '}', '{', '\\', 'x', '0', ' ', '\u0001', 'é']);
          return [raw.join(''), 'characters flipped'];
        }
        case 5: {
          // a key twice in one object
          const key = pick([
            'narSize":7',
            'narHash":"x"',
            'references":[]',
            'deriver":""',
            'path":"/nix/store/00000000000000000000000000000000-a"',
            'valid":false',
            'x":1',
          ]);
          const at = text.indexOf('{"', 1);
          return at < 0
            ? [text, 'none']
            : [text.slice(0, at + 1) + `"${key},` + text.slice(at + 1), `duplicate ${key}`];
        }
        case 6:
          return [`${pick([' ', '\n', '\ufeff', ''])}${text}${pick([' ', '\n', 'x', ',', ''])}`, 'around the document'];
        case 7:
          return [text.replace(/"\/nix\/store\//, '"/nix/store2/'), 'another store dir'];
        case 8: {
          // inside a reference: a control character, an escape, a quote, or the reference cut short
          const at = text.indexOf('"references":["');
          if (at < 0) return [text, 'none'];
          const k = at + 15 + int(60);
          const what = pick(['\u0001', '\t', '\\n', '\\/', '\\u0061', '"', '","', '\\"']);
          return [
            text.slice(0, k) + what + text.slice(k + int(2)),
            `reference changed to contain ${JSON.stringify(what)}`,
          ];
        }
        default:
          return [text, 'unchanged'];
      }
    }

    for (let c = 0; c < 1500; c++) {
      const { entries } = closure(1 + int(12));
      const shape = int(5);
      const doc = render(
        entries,
        shape,
        pick(['/nix/store', '/nix/store', '/gnu/store', '/nix/st ore', 'relative/store']),
      );
      const docChange = int(3) === 0 ? 'intact' : mutateDoc(doc);
      const written = JSON.stringify(doc, null, int(6) === 0 ? 1 : undefined);
      const [text, textChange] = int(2) === 0 ? [written, 'intact'] : mutateText(written);
      const label = `seed ${SEED}, case ${c} (shape ${shape}, ${docChange}, ${textChange})`;
      const accepted = check(text, label, { trustClosure: int(2) === 0 });
      for (const s of accepted) count(s);
      if (c % 3 === 0 && checkGraph(text, label)) count('graph');
      count(`generic ${Object.keys(generic(text, {}))[0]}`);
    }
    // The mutations reach both fast paths and both generic outcomes, or this test proves little.
    const summary = JSON.stringify([...tally].sort());
    if (process.env['FUZZ_TALLY']) console.log(summary);
    assert.ok((tally.get('compact') ?? 0) > 80, summary);
    assert.ok((tally.get('scanner') ?? 0) > 250, summary);
    assert.ok((tally.get('generic error') ?? 0) > 250, summary);
    assert.ok((tally.get('generic ok') ?? 0) > 250, summary);
    assert.ok((tally.get('graph') ?? 0) > 50, summary);
    assert.ok(readEarly > 100, `${readEarly} streamed reads read entries before the end`);
  });
});
