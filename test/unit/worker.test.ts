/**
 * The analysis pipeline in a worker thread (dist/closureWorker.js, as the extension host runs it) against the same
 * pipeline in-process: the same graph, closure sizes, retained sizes and dominator tree on every recorded format
 * and on a real SBOM; closure sizes equal to what `nix path-info -S` recorded; cancellation terminates the
 * worker; errors arrive as the same ClosureLensError; no worker thread is left behind.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ByteFeed } from '../../src/core/load';
import { decode } from '../../src/core/load';
import { inProcessAnalyser, type AnalysedClosure, type PipelineInput } from '../../src/core/load';
import { ClosureEngine } from '../../src/core/load';
import { ClosureLensError } from '../../src/core/errors';
import { nextTurn } from '../../src/shared';
import { NixRunner } from '../../src/core/nix';
import { parseClosureJson } from '../../src/core/parse';
import { WorkerAnalyser } from '../../src/core/worker';
import { requestForTransfer } from '../../src/core/worker';
import { seededRandom } from '../support/prng';
import { settles } from '../support/settles';
import { realDataDir } from '../support/realData';

const REPO = path.resolve(__dirname, '../../..');
const REAL = realDataDir();
const WORKER_SCRIPT = path.join(REPO, 'dist', 'closureWorker.js');
const ROOT = '/nix/store/svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system';

const JSON_FILES = [
  path.join(REAL, 'nix-2.26-outputs/path-info-rs.json'),
  path.join(REAL, 'nix-2.26-outputs/nix-2.8/path-info-rsS.json'),
  path.join(REAL, 'nix2container-closure-graph/closure-graph.json'),
  path.join(REAL, 'nix-security-tracker-sbom/sbom.cdx.json'),
  ...readdirSync(path.join(REPO, 'test/fixtures/recorded'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => path.join(REPO, 'test/fixtures/recorded', f)),
];

const noNix = (): NixRunner => new NixRunner({ nixPath: '/nonexistent/nix-must-not-be-called' });

function assertSameClosure(actual: AnalysedClosure, expected: AnalysedClosure): void {
  const a = actual.graph;
  const e = expected.graph;
  assert.deepEqual([...a.paths], [...e.paths]);
  for (const k of ['narSize', 'refOffsets', 'refTargets', 'revOffsets', 'revTargets', 'selfReference'] as const) {
    assert.deepEqual([...a[k]], [...e[k]], k);
  }
  assert.deepEqual([...a.roots], [...e.roots]);
  assert.equal(a.hasVirtualRoot, e.hasVirtualRoot);
  assert.equal(a.sizesKnown, e.sizesKnown);
  for (const k of ['idom', 'retained', 'childOffsets', 'childTargets'] as const) {
    assert.deepEqual([...actual.dominators[k]], [...expected.dominators[k]], k);
  }
  assert.deepEqual(
    actual.closureSizes && [...actual.closureSizes],
    expected.closureSizes && [...expected.closureSizes],
  );
  assert.equal(actual.format, expected.format);
  assert.deepEqual(actual.notes, expected.notes);
  assert.deepEqual(actual.rootPaths, expected.rootPaths);
  assert.equal(actual.notCached, expected.notCached);
}

/** A `nix path-info -rs --json` (2.19+ object) document of `n` paths, each referencing a few earlier ones. */
function syntheticPathInfo(n: number, seed: number): { json: string; root: string } {
  const random = seededRandom(seed);
  const alphabet = '0123456789abcdfghijklmnpqrsvwxyz';
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    let hash = '';
    for (let k = 0; k < 32; k++) hash += alphabet[Math.floor(random() * 32)];
    paths.push(`/nix/store/${hash}-p${i}-1.0`);
  }
  const doc: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const refs = new Set<string>();
    if (i > 0) refs.add(paths[i - 1]!);
    for (let k = 0; k < 3 && i > 0; k++) refs.add(paths[Math.floor(random() * i)]!);
    doc[paths[i]!] = {
      narSize: 1 + Math.floor(random() * 1e6),
      references: [...refs],
      narHash: 'sha256-x',
      deriver: null,
      valid: true,
    };
  }
  return { json: JSON.stringify(doc), root: paths[n - 1]! };
}

/** `bytes` cut into pieces of `size` bytes, each with a buffer of its own, as a pipe delivers them. */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  // new Uint8Array(view) copies: Buffer#slice would share the original's memory.
  for (let at = 0; at < bytes.byteLength; at += size) out.push(new Uint8Array(bytes.subarray(at, at + size)));
  return out;
}

/** Threads of this process (the main thread, libuv's pool, V8's platform threads and every worker thread). */
function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return assert.fail('expected a rejection');
}

describe('nix stdout as chunks (NixRunner onStdoutChunk), moved to the worker', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'runner-chunks-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the chunks hold exactly what the process wrote (multi-byte characters across chunk borders too), and move without a copy', async () => {
    const expected = Buffer.from(`${'é€x'.repeat(400_000)}\n`);
    const data = path.join(dir, 'out.txt');
    writeFileSync(data, expected);
    const bin = path.join(dir, 'fake-nix');
    writeFileSync(bin, `#!/bin/sh\nexec cat '${data}'\n`, { mode: 0o755 });
    const chunks: Buffer[] = [];
    const r = await new NixRunner({ nixPath: bin }).run(['path-info'], { onStdoutChunk: (c) => chunks.push(c) });
    assert.equal(r.stdout, '');
    assert.ok(chunks.length > 1, `${chunks.length} chunk(s)`);
    assert.ok(Buffer.concat(chunks).equals(expected));
    const { transfer } = requestForTransfer({ kind: 'path-info', json: chunks, source: 'cat', roots: [] });
    assert.equal(transfer.length, chunks.length, 'every pipe chunk owns its buffer: each is transferred as it is');
    assert.equal(Buffer.concat(chunks).toString('utf8'), expected.toString('utf8'));
  });
});

describe('the analysis pipeline in a worker thread', function () {
  this.timeout(120_000);
  let worker: WorkerAnalyser;
  let baselineThreads: number;

  before(async () => {
    assert.ok(existsSync(WORKER_SCRIPT), `${WORKER_SCRIPT} is built by \`node .esbuild.config.mjs\``);
    worker = new WorkerAnalyser(WORKER_SCRIPT);
    // One load first: libuv's thread pool and V8's platform threads start on first use and stay.
    await worker.analyse({ kind: 'file', file: JSON_FILES[0]! });
    assert.ok(await settles(() => WorkerAnalyser.running === 0));
    baselineThreads = threadCount();
  });

  afterEach(async () => {
    assert.ok(await settles(() => WorkerAnalyser.running === 0), `${WorkerAnalyser.running} worker(s) still running`);
    assert.ok(
      await settles(() => threadCount() <= baselineThreads),
      `${threadCount()} threads, ${baselineThreads} before`,
    );
  });

  for (const file of JSON_FILES) {
    it(`${path.relative(path.dirname(REAL), file)}: the same graph, sizes and dominator tree as in-process`, async () => {
      const input: PipelineInput = { kind: 'file', file };
      const [inWorker, inProcess] = [await worker.analyse(input), await inProcessAnalyser.analyse(input)];
      assertSameClosure(inWorker, inProcess);
      assert.ok(inWorker.graph.nodeCount > 1);
    });
  }

  it('nix path-info output handed over as bytes: the sizes nix path-info -S recorded, and the same cache file', async () => {
    const bytes = readFileSync(path.join(REAL, 'nix-2.26-outputs/path-info-rs.json'));
    const recorded = JSON.parse(readFileSync(path.join(REAL, 'nix-2.26-outputs/path-info-rsS.json'), 'utf8')) as Record<
      string,
      { closureSize: number }
    >;
    const input = (json: Uint8Array[] | string): PipelineInput => ({
      kind: 'path-info',
      json,
      source: 'nix path-info -rs --json',
      roots: [ROOT],
      cacheKey: ROOT,
    });
    const sent = chunked(bytes, 5000);
    const inWorker = await worker.analyse(input(sent));
    assert.equal(sent[0]!.byteLength, 0, 'the chunks were moved to the worker, not copied');
    const inProcess = await inProcessAnalyser.analyse(input(bytes.toString('utf8')));
    assertSameClosure(inWorker, inProcess);
    const g = inWorker.graph;
    assert.equal(g.pathCount, Object.keys(recorded).length);
    for (const [p, { closureSize }] of Object.entries(recorded))
      assert.equal(inWorker.closureSizes![g.indexOf(p)!], closureSize, p);
    // The worker encoded the cache file: it decodes to the same graph and dominator tree.
    const fromWorker = decode(Buffer.from(inWorker.cacheFile!), ROOT);
    const fromHere = decode(Buffer.from(inProcess.cacheFile!), ROOT);
    assert.deepEqual([...fromWorker.graph.paths], [...fromHere.graph.paths]);
    assert.deepEqual([...fromWorker.dominators!.idom], [...inProcess.dominators.idom]);
    assert.deepEqual([...fromWorker.dominators!.childTargets], [...fromHere.dominators!.childTargets]);
  });

  it('a 30,000-path closure: the same as in-process', async () => {
    const { json, root } = syntheticPathInfo(30_000, 7);
    const input = (j: Uint8Array[] | string): PipelineInput => ({
      kind: 'path-info',
      json: j,
      source: 'synthetic',
      roots: [root],
    });
    assertSameClosure(
      await worker.analyse(input(chunked(Buffer.from(json), 65536))),
      await inProcessAnalyser.analyse(input(json)),
    );
  });

  it('nix output fed as it arrives (ByteFeed): the worker starts on it before the end, with the in-process result', async () => {
    const text = readFileSync(path.join(REAL, 'nix-2.26-outputs/nix-2.8/path-info-rs.json'), 'utf8');
    const roots = parseClosureJson(text).roots;
    const fed = (json: ByteFeed | string): PipelineInput => ({
      kind: 'path-info',
      json,
      source: 'nix path-info -rs --json',
      roots,
    });
    const [toWorker, toHere] = [new ByteFeed(), new ByteFeed()];
    const progress: string[] = [];
    const inWorker = worker.analyse(fed(toWorker), { onProgress: (p) => progress.push(p.stage) });
    const inProcess = inProcessAnalyser.analyse(fed(toHere));
    for (const chunk of chunked(Buffer.from(text), 4096)) {
      toWorker.push(chunk);
      toHere.push(chunk.slice());
      await nextTurn();
    }
    assert.equal(WorkerAnalyser.running, 1, 'the worker runs while nix still writes');
    assert.deepEqual(progress, [], 'no parsing progress before the output ended');
    toWorker.end();
    toHere.end();
    const whole = await inProcessAnalyser.analyse(fed(text));
    assertSameClosure(await inWorker, whole);
    assertSameClosure(await inProcess, whole);
  });

  it('a feed that fails (the nix call failed) fails the load with that error, in the worker and in-process', async () => {
    const text = readFileSync(path.join(REAL, 'nix-2.26-outputs/nix-2.8/path-info-rs.json'), 'utf8');
    for (const analyser of [worker, inProcessAnalyser]) {
      const feed = new ByteFeed();
      const load = analyser.analyse({ kind: 'path-info', json: feed, source: 'nix path-info', roots: [] });
      feed.push(Buffer.from(text.slice(0, 3000)));
      await nextTurn();
      const failure = new ClosureLensError('nix-failed', 'nix path-info failed', { fix: 'see above' });
      feed.fail(failure);
      assert.equal(await rejection(load), failure);
    }
  });

  it('the engine with the worker loads JSON files exactly like the in-process engine', async () => {
    const viaWorker = new ClosureEngine({ nix: noNix(), analyser: worker });
    const inProcess = new ClosureEngine({ nix: noNix() });
    for (const file of JSON_FILES) {
      const a = await viaWorker.load({ kind: 'json-file', file });
      const b = await inProcess.load({ kind: 'json-file', file });
      assert.equal(a.rootPath, b.rootPath);
      assert.equal(a.format, b.format);
      assert.deepEqual(a.notes, b.notes);
      const g = a.analysis.graph;
      for (let i = 0; i < g.nodeCount; i++) {
        assert.equal(a.analysis.closureSize(i), b.analysis.closureSize(i), g.paths[i]);
        assert.equal(a.analysis.retainedSize(i), b.analysis.retainedSize(i), g.paths[i]);
      }
      assert.deepEqual(a.analysis.heaviest(10), b.analysis.heaviest(10));
      assert.deepEqual(a.analysis.duplicates(), b.analysis.duplicates());
    }
  });

  it('progress comes from the worker; cancelling terminates it and rejects with a cancelled error', async () => {
    const { json, root } = syntheticPathInfo(60_000, 11);
    const ac = new AbortController();
    const stages: string[] = [];
    const exits = { ...WorkerAnalyser.exits };
    const e = await rejection(
      worker.analyse(
        { kind: 'path-info', json: chunked(Buffer.from(json), 65536), source: 'synthetic', roots: [root] },
        {
          signal: ac.signal,
          onProgress: (p) => {
            stages.push(p.stage);
            ac.abort();
          },
        },
      ),
    );
    assert.ok(e instanceof ClosureLensError, String(e));
    assert.equal(e.code, 'cancelled');
    assert.deepEqual(stages, ['parsing']);
    assert.ok(await settles(() => WorkerAnalyser.running === 0));
    assert.deepEqual(
      WorkerAnalyser.exits,
      { answered: exits.answered, stopped: exits.stopped + 1 },
      'terminated, not run to its end',
    );
    // afterEach: its thread is gone.
  });

  it('a worker that answered exits by itself', async () => {
    const exits = { ...WorkerAnalyser.exits };
    await worker.analyse({ kind: 'file', file: JSON_FILES[1]! });
    assert.ok(await settles(() => WorkerAnalyser.running === 0));
    assert.deepEqual(WorkerAnalyser.exits, { answered: exits.answered + 1, stopped: exits.stopped });
  });

  it('an already aborted signal starts no worker', async () => {
    const ac = new AbortController();
    ac.abort();
    const before = WorkerAnalyser.running;
    const e = await rejection(worker.analyse({ kind: 'file', file: JSON_FILES[0]! }, { signal: ac.signal }));
    assert.ok(e instanceof ClosureLensError && e.code === 'cancelled');
    assert.equal(WorkerAnalyser.running, before);
  });

  describe('errors cross the thread boundary as the same ClosureLensError', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(path.join(tmpdir(), 'closure-worker-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    async function sameError(input: PipelineInput, code: string): Promise<ClosureLensError> {
      const fromWorker = await rejection(worker.analyse(input));
      const fromHere = await rejection(inProcessAnalyser.analyse(input));
      assert.ok(fromWorker instanceof ClosureLensError, String(fromWorker));
      assert.ok(fromHere instanceof ClosureLensError, String(fromHere));
      assert.equal(fromWorker.code, code);
      assert.equal(fromWorker.code, fromHere.code);
      assert.equal(fromWorker.message, fromHere.message);
      assert.equal(fromWorker.fix, fromHere.fix);
      assert.equal(fromWorker.oneLine(), fromHere.oneLine());
      return fromWorker;
    }

    it('malformed JSON (truncated nix output) says where, with the fix', async () => {
      const cut = readFileSync(path.join(REAL, 'nix-2.26-outputs/path-info-rs.json'), 'utf8').slice(0, 500);
      const e = await sameError(
        { kind: 'path-info', json: [Buffer.from(cut)], source: 'nix path-info -rs --json', roots: [ROOT] },
        'malformed-json',
      );
      assert.match(e.message, /ends early/);
      assert.match(e.fix, /regenerate/);
      assert.equal(
        (e.cause as Error | undefined)?.name,
        'SyntaxError',
        'the JSON.parse error comes along as the cause',
      );
    });

    it('a truncated file, a missing file, a root nix did not describe, a reference to a path nix did not list', async () => {
      writeFileSync(path.join(dir, 'cut.json'), '[{"path":"/nix/store/');
      assert.match(
        (await sameError({ kind: 'file', file: path.join(dir, 'cut.json') }, 'malformed-json')).message,
        /cut\.json/,
      );
      assert.match(
        (await sameError({ kind: 'file', file: path.join(dir, 'nope.json') }, 'file-not-found')).message,
        /no such file/,
      );
      const text = readFileSync(path.join(REAL, 'nix-2.26-outputs/path-info-missing.json'), 'utf8');
      const missing = JSON.parse(text) as Record<string, unknown>;
      const invalidRoot = Object.keys(missing).find((k) => missing[k] === null)!;
      await sameError(
        { kind: 'path-info', json: [Buffer.from(text)], source: 'nix path-info', roots: [invalidRoot] },
        'invalid-path',
      );
      const doc = JSON.parse(readFileSync(path.join(REAL, 'nix-2.26-outputs/path-info-rs.json'), 'utf8')) as Record<
        string,
        { references: string[] }
      >;
      const glibc = Object.keys(doc).find((p) => p.includes('glibc'))!;
      delete doc[glibc];
      const e = await sameError(
        { kind: 'path-info', json: JSON.stringify(doc), source: 'nix path-info', roots: [ROOT] },
        'malformed-json',
      );
      assert.match(e.message, /not a whole closure/);
    });

    it('a worker script that is missing is an Error naming it, and leaves no thread', async () => {
      const broken = new WorkerAnalyser(path.join(dir, 'closureWorker.js'));
      const e = await rejection(broken.analyse({ kind: 'file', file: JSON_FILES[0]! }));
      assert.ok(e instanceof Error && !(e instanceof ClosureLensError));
      assert.match(e.message, /closure analysis worker .*closureWorker\.js.* failed/);
    });
  });
});
