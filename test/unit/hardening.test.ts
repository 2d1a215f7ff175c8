/**
 * Issue 20, second round of hardening: input a user or a repository controls must never choose nix flags, hang,
 * crash the stack, or change an answer. Each case here failed before its fix.
 */
import assert from 'node:assert/strict';
import { parseRulesConfig } from '../../src/core/rules';
import { resolveOperand } from '../../src/core/diff/targets';
import { ClosureLensError } from '../../src/core/errors';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';

describe('hardening: a rules target is never a nix flag', () => {
  for (const flag of ['--accept-flake-config', '--impure', '-L', '--option']) {
    it(`refuses "target": "${flag}" at the target's span`, () => {
      const text = `{"rules": [{"target": ${JSON.stringify(flag)}, "maxPaths": 10}]}`;
      const c = parseRulesConfig(text);
      assert.equal(c.rules.length, 0);
      assert.equal(c.problems.length, 1);
      const p = c.problems[0]!;
      assert.equal(text.slice(p.span.offset, p.span.offset + p.span.length), JSON.stringify(flag));
      assert.match(p.message, /starts with "-"/);
    });
  }

  it('a command-line operand that starts with "-" is not an installable', () => {
    assert.throws(
      () => resolveOperand('--impure', '/nonexistent'),
      (e) => e instanceof ClosureLensError && e.code === 'bad-installable' && /starts with "-"/.test(e.message),
    );
  });
});

describe('hardening: no step limit changes a why answer', () => {
  const p = (i: number) => `/nix/store/${String(i).padStart(32, '0')}-p${i}`;
  const root = `/nix/store/${'r'.repeat(32)}-root`;
  /** root → p0 → … → p(n-1), and p(n-1) → p0 when `cycle`. */
  function chainGraph(n: number, cycle: boolean): ClosureGraph {
    const records: PathRecord[] = [{ path: root, narSize: 1, references: [p(0)] }];
    for (let i = 0; i < n; i++)
      records.push({ path: p(i), narSize: 100, references: i + 1 < n ? [p(i + 1)] : cycle ? [p(0)] : [] });
    return ClosureGraph.build(records, [root]);
  }

  it('on a 10,001-path cycle, why p9999 finds the chain, with and without --all', () => {
    const a = new ClosureAnalysis(chainGraph(10_001, true));
    const dep = a.graph.indexOf(p(9999))!;
    for (const opts of [{}, { all: true, limit: 1 }, { all: true, limit: 100 }]) {
      const set = a.why(dep, opts);
      assert.equal(set.chains.length, 1, JSON.stringify(opts));
      assert.equal(set.chains[0]!.length, 10_001);
      assert.equal(set.totalChains, 1);
    }
  });

  it('on a 100,000-path chain, why of the last path answers in linear time', function () {
    this.timeout(20_000);
    const a = new ClosureAnalysis(chainGraph(100_000, false));
    const dep = a.graph.indexOf(p(99_999))!;
    const started = performance.now();
    const set = a.why(dep, { all: true, limit: 5 });
    assert.equal(set.chains.length, 1);
    assert.equal(set.chains[0]!.length, 100_001);
    assert.equal(set.truncated, false);
    assert.ok(performance.now() - started < 2_000, `${performance.now() - started} ms`);
  });

  it('on a cycle with exponentially many partial chains, the search stops and says so, keeping a true chain', function () {
    this.timeout(30_000);
    // Ladder of 60 rungs, every rung pointing both ways: simple paths explode, the shortest chain stays short.
    const records: PathRecord[] = [{ path: root, narSize: 1, references: [p(0), p(1)] }];
    const rungs = 60;
    for (let i = 0; i < 2 * rungs; i++) {
      const refs = [p(i ^ 1)];
      if (i + 2 < 2 * rungs) refs.push(p(i + 2));
      if (i >= 2) refs.push(p(i - 2));
      records.push({ path: p(i), narSize: 1, references: refs });
    }
    const a = new ClosureAnalysis(ClosureGraph.build(records, [root]));
    const dep = a.graph.indexOf(p(2 * rungs - 1))!;
    const started = performance.now();
    const set = a.why(dep, { all: true, limit: 1_000_000 });
    assert.ok(performance.now() - started < 15_000, `${performance.now() - started} ms`);
    assert.ok(set.chains.length >= 1);
    assert.equal(set.chains[0]!.length, rungs + 1);
    assert.equal(set.incomplete, true);
    assert.equal(set.truncated, true);
  });
});
