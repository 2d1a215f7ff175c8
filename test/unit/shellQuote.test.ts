/**
 * shellQuote: the command lines the log shows and "Copy why command" copies must mean, to a real POSIX shell,
 * exactly the arguments they name: each is pasted into /bin/sh here and read back.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { shellQuote } from '../../src/shared/shellQuote';

/** The arguments /bin/sh makes of `line`, each printed NUL-terminated. */
function shellWords(line: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  const args = [
    '/nix/store/00000000000000000000000000000000-perl-5.38.2',
    '.#nixosConfigurations.my-host',
    "it's",
    'two words',
    '$(touch /tmp/x) `id` ${HOME} *',
    'a\nnewline',
    '',
    "''",
    '--flag=value,with:colons@and%signs+#',
    'ünïcödé',
  ];

  it('leaves plain arguments alone', () => {
    assert.equal(shellQuote(args[0]!), args[0]);
    assert.equal(shellQuote(args[1]!), args[1]);
    assert.equal(shellQuote(args[8]!), args[8]);
  });

  it('gives /bin/sh back every argument exactly, one word each', () => {
    for (const a of args) assert.deepEqual(shellWords(shellQuote(a)), [a], JSON.stringify(a));
    assert.deepEqual(shellWords(args.map(shellQuote).join(' ')), args);
  });
});
