/** "Last used first" in the target pick. No `vscode` import (runs in plain node too). */
import assert from 'node:assert/strict';
import { pushRecent, splitByRecent } from '../../../src/extension/recentOrder';

describe('last used targets first', () => {
  it('moves a used key to the front, without repeats, keeping at most the limit', () => {
    let keys: string[] = [];
    for (const k of ['a', 'b', 'c', 'b', 'd']) keys = pushRecent(keys, k, 3);
    assert.deepEqual(keys, ['d', 'b', 'c']);
  });

  it('puts used items first, most recent first, and keeps the listing order of the rest', () => {
    const items = ['nixos.demo', 'nixos.slim', 'pkg.perl', 'pkg.nginx', 'shell.default'];
    const { recent, rest } = splitByRecent(items, (s) => s, ['pkg.nginx', 'gone', 'nixos.demo']);
    assert.deepEqual(recent, ['pkg.nginx', 'nixos.demo']);
    assert.deepEqual(rest, ['nixos.slim', 'pkg.perl', 'shell.default']);
  });

  it('lists a target once among the recent ones even when two flakes list the same key', () => {
    const items = [
      { key: 'x', from: 1 },
      { key: 'x', from: 2 },
      { key: 'y', from: 1 },
    ];
    const { recent, rest } = splitByRecent(items, (i) => i.key, ['x']);
    assert.deepEqual(recent, [{ key: 'x', from: 1 }]);
    assert.deepEqual(rest, [{ key: 'y', from: 1 }]);
  });
});
