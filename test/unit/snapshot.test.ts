import assert from 'node:assert/strict';
import { ClosureGraph } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { allChains } from '../../src/shared';
import {
  buildAttribution,
  buildSnapshot,
  buildSnapshotInSlices,
  commonStoreDir,
  graphFromSnapshot,
  snapshotNames,
  snapshotPaths,
} from '../../src/shared';
import { checkAttribution, checkSnapshot, parseHostMessage, type HostToWebview } from '../../src/shared';
import { deserializeWebviewMessage, serializeWebviewMessage } from '../support/webviewTransport';
import {
  closureMessage,
  nixosLikeFixture,
  realSbomClosure,
  realSbomWithoutSizes,
  sp,
  syntheticClosure,
  type TestClosure,
} from '../webview/closures';

describe('snapshot: the compact closure payload for the webview', () => {
  it('carries the engine’s arrays and the base names of the paths', () => {
    const f = nixosLikeFixture();
    const s = buildSnapshot(f.analysis);
    const g = f.graph;
    assert.equal(s.storeDir, '/nix/store');
    assert.deepEqual(
      snapshotNames(s),
      g.paths.map((p) => p.slice('/nix/store/'.length)),
    );
    assert.deepEqual(snapshotPaths(s), g.paths);
    assert.deepEqual(s.narSize, g.narSize);
    assert.deepEqual(s.refOffsets, g.refOffsets);
    assert.deepEqual(s.refTargets, g.refTargets);
    const dom = f.analysis.dominators;
    assert.deepEqual(s.idom, dom.idom);
    assert.deepEqual(s.retained, dom.retained);
    assert.deepEqual(s.childOffsets, dom.childOffsets);
    assert.deepEqual(s.childTargets, dom.childTargets);
    assert.deepEqual(s.distance, f.analysis.distances);
    assert.ok(s.closureSize);
    for (let i = 0; i < g.nodeCount; i++) assert.equal(s.closureSize[i], f.analysis.closureSize(i));
    // Own buffers: a message in flight never aliases the host's analysis.
    assert.notEqual(s.retained.buffer, dom.retained.buffer);
    assert.notEqual(s.narSize.buffer, g.narSize.buffer);
  });

  it('survives a structured clone (what postMessage does) with its typed arrays intact', () => {
    const s = buildSnapshot(realSbomClosure().analysis);
    const copy = structuredClone(s);
    for (const [k, v] of Object.entries(s)) {
      if (ArrayBuffer.isView(v)) {
        const c = (copy as unknown as Record<string, unknown>)[k];
        assert.equal(Object.getPrototypeOf(c), Object.getPrototypeOf(v), k);
        assert.deepEqual(c, v, k);
      }
    }
  });

  it('rebuilds the same graph on the other side: same paths, edges, referrers and why-chains', () => {
    const real = realSbomClosure();
    const g = real.graph;
    const back = graphFromSnapshot(structuredClone(buildSnapshot(real.analysis)));
    assert.equal(back.nodeCount, 628);
    assert.deepEqual(back.paths, g.paths);
    assert.deepEqual(back.revOffsets, g.revOffsets);
    assert.deepEqual(back.revTargets, g.revTargets);
    for (const target of [5, 100, 400, 627]) {
      assert.deepEqual(allChains(back, 0, target, 20), allChains(g, 0, target, 20));
    }
  });

  it('keeps a virtual root (several roots) as an empty name', () => {
    const rec = (name: string, refs: string[] = []) => ({ path: sp(name), narSize: 100, references: refs.map(sp) });
    const g = ClosureGraph.build([rec('a-1', ['c-1']), rec('b-1', ['c-1']), rec('c-1')], [sp('a-1'), sp('b-1')]);
    const s = buildSnapshot(new ClosureAnalysis(g));
    assert.equal(s.hasVirtualRoot, true);
    assert.equal(snapshotNames(s)[0], '');
    assert.equal(s.storeDir, '/nix/store');
    assert.deepEqual(snapshotPaths(s), g.paths);
    assert.deepEqual(graphFromSnapshot(s).roots, g.roots);
  });

  it('falls back to full paths when the store directories differ', () => {
    assert.equal(commonStoreDir(['/nix/store/a-x', '/nix/store/b-y'], false), '/nix/store');
    assert.equal(commonStoreDir(['/nix/store/a-x', '/other/store/b-y'], false), '');
    assert.equal(commonStoreDir(['/nix/store/a-x', '/nix/store/sub/b-y'], false), '');
    assert.equal(commonStoreDir(['/nix/store/a-x', '/nix/storeX/b'], false), '');
    assert.equal(commonStoreDir(['', '/nix/store/a-x'], true), '/nix/store');
    const g = ClosureGraph.build(
      [
        { path: '/nix/store/aaaa-x', narSize: 1, references: ['/custom/store/bbbb-y'] },
        { path: '/custom/store/bbbb-y', narSize: 2, references: [] },
      ],
      ['/nix/store/aaaa-x'],
    );
    const s = buildSnapshot(new ClosureAnalysis(g));
    assert.equal(s.storeDir, '');
    assert.deepEqual(snapshotPaths(s), g.paths);
  });

  it('maps option attribution onto node indices as CSR: the paths each definition carries, own definitions first', () => {
    const f = nixosLikeFixture();
    const g = f.graph;
    const defsOf = (a: ReturnType<typeof buildAttribution>, p: string) => {
      const i = g.indexOf(p)!;
      return Array.from(a.defTargets.subarray(a.defOffsets[i]!, a.defOffsets[i + 1]!));
    };
    // As `closure-lens options --json` gives it: the definitions' own paths say who introduced what; the
    // per-path map (definitions that merely reach a path, like perl) is not used for that.
    const a = buildAttribution(f.analysis, f.attribution!);
    assert.deepEqual(defsOf(a, sp('git-2.44.0')), [0]);
    assert.deepEqual(defsOf(a, sp('nixos-help')), [1]);
    assert.deepEqual(defsOf(a, sp('perl-5.38.2')), []);
    assert.equal(a.defOffsets.length, g.nodeCount + 1);
    assert.equal(a.evalMs, 2340);
    assert.equal(a.definitions[2]!.counterfactualCost, 2 * 1024 * 1024 + 40 * 1024);
    assert.deepEqual(a.definitions[4]!.moduleCost?.files, [f.attribution!.definitions[1]!.file]);
    assert.equal('paths' in a.definitions[0]!, false);

    // Two definitions carrying one path: the user's own comes first, a module's next, a default last.
    const shared = buildAttribution(f.analysis, {
      definitions: [
        { option: 'a', file: '/m.nix', line: 1, removalCost: 0, fromDefault: true, paths: [sp('glibc-2.39-52')] },
        { option: 'b', file: '/n.nix', line: 2, removalCost: 0, inWorkspace: false, paths: [sp('glibc-2.39-52')] },
        {
          option: 'c',
          file: '/c.nix',
          line: 3,
          removalCost: 0,
          inWorkspace: true,
          paths: [sp('glibc-2.39-52'), '/nix/store/zzzz-elsewhere'],
        },
      ],
    });
    assert.deepEqual(defsOf(shared, sp('glibc-2.39-52')), [2, 1, 0]);
    assert.equal(shared.defTargets.length, 3);

    // Without per-definition paths, the map is used; bad indices and foreign paths are dropped.
    const byMap = buildAttribution(f.analysis, {
      definitions: f.attribution!.definitions.map(({ paths: _p, ...d }) => d),
      paths: new Map([
        [sp('git-2.44.0'), [0, 0, 2]],
        [sp('nixos-help'), [1, 99, -1, 1.5]],
        ['/nix/store/zzzz-not-in-this-closure', [3]],
      ]),
    });
    assert.deepEqual(defsOf(byMap, sp('git-2.44.0')), [0, 2]);
    assert.deepEqual(defsOf(byMap, sp('nixos-help')), [1]);
    assert.equal(byMap.defTargets.length, 3);
  });

  it('says what removing a definition brings back, with sizes, and the host check accepts only that shape', () => {
    const f = nixosLikeFixture();
    const a = buildAttribution(f.analysis, {
      definitions: [
        {
          option: 'boot.initrd.supportedFilesystems',
          file: '/c.nix',
          line: 3,
          removalCost: 2 * 1024 * 1024,
          costMethod: 'counterfactual',
          counterfactual: {
            removedBytes: 2 * 1024 * 1024,
            addedPaths: [
              '/nix/store/0000000000000000000000000000000a-systemd-minimal-257.5',
              '/nix/store/0000000000000000000000000000000b-x',
            ],
            addedSizes: [2_000_000, null],
          },
        },
        { option: 'b', file: '/n.nix', line: 2, removalCost: 0, counterfactual: { removedBytes: 0 } },
      ],
    });
    assert.deepEqual(a.definitions[0]!.broughtBack, [
      { name: 'systemd-minimal-257.5', bytes: 2_000_000 },
      { name: 'x', bytes: null },
    ]);
    assert.equal('broughtBack' in a.definitions[1]!, false);
    assert.equal(checkAttribution(a), undefined);
    const bad = (broughtBack: unknown) =>
      checkAttribution({ ...a, definitions: [{ ...a.definitions[0]!, broughtBack }] });
    assert.match(bad([{ name: 'x', bytes: -1 }]) ?? '', /broughtBack/);
    assert.match(bad([{ name: 1, bytes: 1 }]) ?? '', /broughtBack/);
    assert.match(bad([{ name: 'x', bytes: 1, html: '<b>' }]) ?? '', /broughtBack/);
    assert.match(bad('x') ?? '', /broughtBack/);
  });

  it('sends no per-path objects, and leaves closure sizes to the webview beyond 20k paths', () => {
    const big = syntheticClosure(30_000);
    const s = buildSnapshot(big.analysis);
    assert.equal(s.closureSize, undefined);
    for (const [k, v] of Object.entries(s)) {
      const ok = ArrayBuffer.isView(v) || (k === 'storeDir' && typeof v === 'string') || typeof v === 'boolean';
      assert.ok(ok, `${k} is compact`);
    }
    assert.equal(snapshotNames(s).length, 30_000);
    // What VS Code's postMessage serialises as JSON is a few hundred bytes whatever the closure's size.
    assert.ok(serializeWebviewMessage({ type: 'closure', snapshot: s }).json.length < 2000);
  });
});

/** Every field of two snapshots, typed arrays compared element by element with their types. */
function assertSameSnapshot(actual: unknown, expected: object, what: string): void {
  const a = actual as Record<string, unknown>;
  assert.deepEqual(Object.keys(a).sort(), Object.keys(expected).sort(), what);
  for (const [k, v] of Object.entries(expected)) {
    if (ArrayBuffer.isView(v)) {
      assert.equal(Object.prototype.toString.call(a[k]), Object.prototype.toString.call(v), `${what}: ${k} type`);
      assert.deepEqual(a[k], v, `${what}: ${k}`);
    } else {
      assert.deepEqual(a[k], v, `${what}: ${k}`);
    }
  }
}

describe('snapshot through VS Code’s webview transport (JSON with out-of-band buffers)', () => {
  const closures: [string, () => TestClosure][] = [
    ['the NixOS-like fixture (with attribution)', nixosLikeFixture],
    ['the real 628-path SBOM', realSbomClosure],
    ['the real SBOM without sizes', realSbomWithoutSizes],
    ['a 30,000-path synthetic closure', () => syntheticClosure(30_000)],
  ];
  for (const [what, make] of closures) {
    it(`decode(encode(snapshot)) is exact: ${what}`, () => {
      const c = make();
      const sent = closureMessage(c);
      const wire = serializeWebviewMessage(sent);
      // Per node nothing goes into the JSON: only the field names and buffer references (and the definitions).
      assert.ok(
        wire.json.length < 2000 + JSON.stringify(sent.snapshot.attribution?.definitions ?? []).length,
        `${wire.json.length} bytes of JSON`,
      );
      const received = deserializeWebviewMessage(wire);
      const checked = parseHostMessage(received);
      assert.ok(checked.ok, checked.ok ? '' : checked.reason);
      const got = (checked.value as Extract<HostToWebview, { type: 'closure' }>).snapshot;
      assertSameSnapshot(got, sent.snapshot, what);
      // Decoded on the webview side: the very paths, graph and analyses of the host.
      const g = c.graph;
      assert.deepEqual(snapshotPaths(got), g.paths);
      const back = graphFromSnapshot(got);
      assert.deepEqual(back.paths, g.paths);
      assert.deepEqual(back.roots, g.roots);
      assert.deepEqual(back.revOffsets, g.revOffsets);
      assert.deepEqual(back.revTargets, g.revTargets);
      assert.deepEqual(got.retained, c.analysis.dominators.retained);
      assert.deepEqual(got.distance, c.analysis.distances);
    });
  }

  it('keeps names that are not ASCII (UTF-8 both ways) and full paths outside one store directory', () => {
    const g = ClosureGraph.build(
      [
        { path: '/nix/store/aaaa-wörld-1.0', narSize: 1, references: ['/opt/store/bbbb-日本-2', '/nix/store/cccc-x'] },
        { path: '/opt/store/bbbb-日本-2', narSize: 2, references: [] },
        { path: '/nix/store/cccc-x', narSize: 3, references: [] },
      ],
      ['/nix/store/aaaa-wörld-1.0'],
    );
    const s = buildSnapshot(new ClosureAnalysis(g));
    assert.equal(s.storeDir, '');
    const got = deserializeWebviewMessage(serializeWebviewMessage(s)) as typeof s;
    assert.equal(checkSnapshot(got), undefined);
    assert.deepEqual(snapshotPaths(got), g.paths);
  });

  it('the sliced build gives the same snapshot as the one at once', async () => {
    const c = syntheticClosure(30_000);
    assertSameSnapshot(await buildSnapshotInSlices(c.analysis), buildSnapshot(c.analysis), 'sliced');
    const f = nixosLikeFixture();
    const options = { attribution: f.attribution! };
    assertSameSnapshot(
      await buildSnapshotInSlices(f.analysis, options),
      buildSnapshot(f.analysis, options),
      'with attribution',
    );
  });

  it('a sliced build stops when aborted', async () => {
    const c = syntheticClosure(30_000);
    const abort = new AbortController();
    const run = buildSnapshotInSlices(c.analysis, {}, abort.signal);
    abort.abort(new Error('replaced'));
    await assert.rejects(run, /replaced/);
  });
});
