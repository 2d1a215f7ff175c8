/**
 * Issue 20, second round of hardening: input a user or a repository controls must never choose nix flags, hang,
 * crash the stack, or change an answer. Each case here failed before its fix.
 */
import assert from 'node:assert/strict';
import { parseRulesConfig } from '../../src/core/rules';
import { resolveOperand } from '../../src/core/diff/targets';
import { ClosureLensError } from '../../src/core/errors';

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
