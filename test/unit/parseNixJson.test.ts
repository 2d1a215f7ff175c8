import assert from 'node:assert/strict';
import { ClosureLensError } from '../../src/core/errors';
import { parseNixJson } from '../../src/core/nix/parseNixJson';

describe('parseNixJson', () => {
  it('parses what nix printed', () => {
    assert.deepEqual(parseNixJson('{"a":[1,null]}', { what: 'x' }), { a: [1, null] });
  });

  it('names what printed something that is not JSON, with the fix and the start of the output', () => {
    const out = 'warning: Git tree is dirty\n' + 'x'.repeat(5000);
    assert.throws(
      () => parseNixJson(out, { what: '`nix flake metadata --json`', fix: 'check nix' }),
      (e: unknown) =>
        e instanceof ClosureLensError &&
        e.code === 'malformed-json' &&
        e.message === '`nix flake metadata --json` printed something that is not JSON' &&
        e.fix === 'check nix' &&
        e.detail === out.slice(0, 2000),
    );
    assert.throws(
      () => parseNixJson('', { what: 'the counterfactual evaluation' }),
      (e: unknown) => e instanceof ClosureLensError && /report this as a bug/.test(e.fix ?? ''),
    );
  });
});
