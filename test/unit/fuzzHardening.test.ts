/**
 * Seeded fuzzing of the inputs issue 20 hardened, each bounded in time: `--from-json` files (deep nesting,
 * cycles, duplicate keys, a BOM, damaged text), `.closure-lens.json` (mutations of a real one) and regular
 * expressions (`/re/` lookups and rule patterns). The rule: a ClosureLensError or a reported problem, never any
 * other exception, and no case slower than its bound (a backtracking regex or a recursion would be).
 *
 * A failure message carries the seed and the case: `FUZZ_SEED=<seed> npx mocha out/test/unit/fuzzHardening.test.js`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ClosureAnalysis } from '../../src/core/analysis';
import { ClosureLensError } from '../../src/core/errors';
import { ClosureEngine } from '../../src/core/load';
import { NixRunner } from '../../src/core/nix';
import { evaluateRules, parseRulesConfig } from '../../src/core/rules';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { findByName, resolveName } from '../../src/shared/analysis/names';
import { compileUserRegex } from '../../src/shared/userRegex';
import { seededRandom } from '../support/prng';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261207);
/** Each lane stops generating cases after this long (it still finishes the case it is in). */
const LANE_MS = 3_000;

function gen(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

const p = (i: number) => `/nix/store/${String(i).padStart(32, '0')}-pkg${i}-1.${i % 7}`;

/** A small closure with a few shapes, including a cycle when asked. */
function records(g: ReturnType<typeof gen>, n: number, cycle: boolean): PathRecord[] {
  const out: PathRecord[] = [];
  for (let i = 0; i < n; i++) {
    const refs = new Set<string>();
    for (let k = g.int(3); k > 0; k--) if (i + 1 < n) refs.add(p(i + 1 + g.int(n - i - 1)));
    if (cycle && i === n - 1) refs.add(p(1));
    out.push({ path: p(i), narSize: g.int(1000), references: [...refs] });
  }
  return out;
}

function mutate(g: ReturnType<typeof gen>, text: string): string {
  const pieces = ['[', ']', '{', '}', ',', ':', '"', '\\', '\uFEFF', '"path"', '"references"', '1e400', '-1', 'null'];
  let t = text;
  for (let k = 1 + g.int(4); k > 0; k--) {
    const at = g.int(t.length + 1);
    switch (g.int(5)) {
      case 0:
        t = t.slice(0, at) + g.pick(pieces) + t.slice(at);
        break;
      case 1:
        t = t.slice(0, at) + t.slice(at + 1 + g.int(8));
        break;
      case 2: {
        const depth = g.pick([10, 1000, 100_000]);
        t = t.slice(0, at) + '['.repeat(depth) + (g.int(2) ? ']'.repeat(depth) : '') + t.slice(at);
        break;
      }
      case 3:
        t = '\uFEFF' + t;
        break;
      default:
        t = t.slice(0, at);
    }
  }
  return t;
}

function isExpected(e: unknown): boolean {
  return e instanceof ClosureLensError && e.code !== 'nix-failed';
}

describe(`fuzz (seed ${SEED}): hardened inputs, bounded in time`, function () {
  this.timeout(60_000);

  it('--from-json: damaged, deep, cyclic files load or fail with a ClosureLensError', async () => {
    const g = gen(SEED);
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'closure-lens-fuzz-json-'));
    const engine = new ClosureEngine({ nix: new NixRunner({ nixPath: '/nonexistent/nix' }) });
    const started = Date.now();
    let cases = 0;
    try {
      while (Date.now() - started < LANE_MS) {
        const base = JSON.stringify(records(g, 2 + g.int(30), g.int(3) === 0));
        const text = g.int(4) === 0 ? base : mutate(g, base);
        const file = path.join(dir, `case-${cases}.json`);
        fs.writeFileSync(file, text);
        try {
          const loaded = await engine.load({ kind: 'json-file', file });
          const a = loaded.analysis;
          for (let i = 0; i < a.graph.nodeCount; i++) if (!a.graph.isVirtual(i)) a.why(i, { all: true, limit: 3 });
        } catch (e) {
          assert.ok(isExpected(e), `seed ${SEED} case ${cases}: ${String(e)}\n${text.slice(0, 300)}`);
        }
        fs.rmSync(file);
        cases++;
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(cases > 5, `only ${cases} cases ran`);
  });

  it('.closure-lens.json: any mutation parses to rules and problems, and evaluating them never throws', () => {
    const g = gen(SEED + 1);
    const graph = ClosureGraph.build(records(g, 40, false), [p(0)]);
    const analysis = new ClosureAnalysis(graph);
    const patterns = ['perl', '/^py/', '/([a-z]+)*!/', '(a|aa)*$', '[', '(?=x)', '\\1', 'x{1000}', '.*.*.*=', ''];
    const started = Date.now();
    let cases = 0;
    while (Date.now() - started < LANE_MS) {
      const config = {
        rules: [
          {
            target: g.pick(['*', '.#x', p(0), '-L', '']),
            maxPaths: g.pick([0, 10, -1, 1.5]),
            forbiddenDependencies: [g.pick(patterns), g.pick(patterns)],
            forbiddenDependenciesRegexes: [g.pick(patterns)],
            maxCompressedSize: { zstd: g.pick(['1 MiB', 'x', 5]) },
          },
        ],
      };
      const text = g.int(3) === 0 ? JSON.stringify(config) : mutate(g, JSON.stringify(config, null, 2));
      const t0 = performance.now();
      const parsed = parseRulesConfig(text);
      for (const rule of parsed.rules) evaluateRules(rule, { rootPath: p(0) }, analysis);
      const took = performance.now() - t0;
      assert.ok(took < 2_000, `seed ${SEED + 1} case ${cases}: ${took.toFixed(0)} ms\n${text.slice(0, 300)}`);
      for (const problem of parsed.problems) assert.ok(problem.span.offset >= 0 && problem.span.offset <= text.length);
      cases++;
    }
    assert.ok(cases > 20, `only ${cases} cases ran`);
  });

  it('regular expressions: compile or say why, and match in linear time', () => {
    const g = gen(SEED + 2);
    const graph = ClosureGraph.build(records(g, 30, false), [p(0)]);
    const atoms = [
      'a',
      '.',
      '[a-z0-9.-]',
      '\\d',
      '(',
      ')',
      '*',
      '+',
      '?',
      '|',
      '{2,}',
      '^',
      '$',
      '!',
      '\\',
      '(?i)',
      '[^',
      ']',
    ];
    const subject = `${'a'.repeat(60)}-${'9'.repeat(60)}`;
    const started = Date.now();
    let cases = 0;
    while (Date.now() - started < LANE_MS) {
      let source = '';
      for (let k = 1 + g.int(12); k > 0; k--) source += g.pick(atoms);
      const t0 = performance.now();
      const compiled = compileUserRegex(source, g.int(2) ? 'i' : '');
      if (compiled.ok) compiled.regex.test(subject);
      else assert.ok(compiled.message.length > 0);
      const found = findByName(graph, `/${source}/`);
      const resolved = resolveName(graph, `/${source}/`);
      if (!compiled.ok) {
        assert.deepEqual(found, []);
        assert.equal(resolved.kind, 'invalid-regex', `seed ${SEED + 2} case ${cases}: /${source}/`);
      }
      const took = performance.now() - t0;
      assert.ok(took < 1_000, `seed ${SEED + 2} case ${cases}: /${source}/ took ${took.toFixed(0)} ms`);
      cases++;
    }
    assert.ok(cases > 50, `only ${cases} cases ran`);
  });
});
