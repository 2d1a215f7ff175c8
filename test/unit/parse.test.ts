import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ClosureLensError } from '../../src/core/errors';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { parseClosureJson, type ParsedClosure } from '../../src/core/parse';
import { firstSyntaxErrorOffset } from '../../src/core/parse';
import { realDataDir } from '../support/realData';

const REPO = path.resolve(__dirname, '../../..');
const REAL = realDataDir();
const REC26 = path.join(REAL, 'nix-2.26-outputs');
const REC28 = path.join(REC26, 'nix-2.8');
const RECORDED = path.join(REPO, 'test/fixtures/recorded');

const read = (file: string): string => readFileSync(file, 'utf8');
const ROOT = '/nix/store/svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system';
const MISSING = '/nix/store/00000000000000000000000000000000-missing';

/** A format-independent snapshot: sorted paths with size, sorted references and hash. */
function snapshot(records: readonly PathRecord[]): string[] {
  return records
    .map((r) => `${r.path} ${r.narSize} ${r.narHash ?? '-'} [${[...r.references].sort().join(' ')}]`)
    .sort();
}

function expectError(fn: () => unknown, code: string, pattern: RegExp): ClosureLensError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ClosureLensError, `expected a ClosureLensError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    assert.ok(e.fix.length > 10, 'every error says what to do');
    return e;
  }
  assert.fail('expected an error');
}

describe('parseClosureJson', () => {
  // The 2.26.3 recording is the reference that every other format of the same closure must reproduce.
  const reference = parseClosureJson(read(path.join(REC26, 'path-info-rs.json')), 'path-info-rs.json');
  const refSnapshot = snapshot(reference.records);

  it('reads Nix 2.26 (object keyed by store path) from the real recording', () => {
    assert.equal(reference.format, 'path-info-object');
    assert.equal(reference.storeDir, '/nix/store');
    assert.equal(reference.records.length, 12);
    assert.deepEqual(reference.roots, [ROOT]);
    assert.deepEqual(reference.invalidPaths, []);
    const glibc = reference.records.find((r) => r.path.endsWith('-glibc-2.39-52'))!;
    assert.equal(glibc.narSize, 224);
    assert.deepEqual(glibc.references, [glibc.path], 'the self-reference is kept as Nix prints it');
    assert.equal(glibc.narHash, 'sha256-xQeITrq/EC9uwTJ8cNQvCkCEKyADrQTSBvs9xg1BURk=');
    assert.equal(glibc.deriver, '/nix/store/4ngnjn1zwfvv4vssmr7dkxh266l58qwj-glibc-2.39-52.drv');
    // The sum of NAR sizes equals what `nix path-info -S` printed for the root in the same recording.
    const rsS = JSON.parse(read(path.join(REC26, 'path-info-rsS.json'))) as Record<string, { closureSize: number }>;
    const total = reference.records.reduce((s, r) => s + r.narSize!, 0);
    assert.equal(total, rsS[ROOT]!.closureSize);
  });

  it('reads Nix 2.8 (array of objects with path) from the real recording, same records', () => {
    const p = parseClosureJson(read(path.join(REC28, 'path-info-rs.json')));
    assert.equal(p.format, 'path-info-array');
    assert.deepEqual(snapshot(p.records), refSnapshot);
    assert.deepEqual(p.roots, [ROOT]);
  });

  it('ignores closureSize from -S (2.8 and 2.26) and gives the same records', () => {
    for (const dir of [REC26, REC28]) {
      const p = parseClosureJson(read(path.join(dir, 'path-info-rsS.json')));
      assert.deepEqual(snapshot(p.records), refSnapshot);
    }
  });

  it('reports invalid paths: 2.8 `"valid": false` and 2.26 `null` (real recordings)', () => {
    for (const dir of [REC26, REC28]) {
      const p = parseClosureJson(read(path.join(dir, 'path-info-missing.json')));
      assert.deepEqual(p.invalidPaths, [MISSING]);
      assert.equal(p.records.length, 0);
      // Mixed with a valid path, but without -r: the valid root's references are not described, so the
      // data is an incomplete closure and must not be drawn as if it were whole.
      expectError(
        () => parseClosureJson(read(path.join(dir, 'path-info-valid-and-missing.json')), 'valid-and-missing'),
        'malformed-json',
        /does not describe/,
      );
    }
  });

  const recorded: [string, ParsedClosure['format'], string[]][] = [
    ['path-info-nix-2.33-json-format-2.json', 'path-info-v2', []],
    ['path-info-nix-2.33-json-format-2-structured-hash.json', 'path-info-v2', [MISSING]],
    ['path-info-nix-json-format-3.json', 'path-info-v2', []],
    ['path-info-nix-2.33-json-format-1.json', 'path-info-object', []],
    ['path-info-lix-with-invalid.json', 'path-info-array', [MISSING]],
  ];
  for (const [file, format, invalid] of recorded) {
    it(`reads ${file} (${format}) into the same records as the real 2.26 recording`, () => {
      const p = parseClosureJson(read(path.join(RECORDED, file)), file);
      assert.equal(p.format, format);
      assert.equal(p.storeDir, '/nix/store');
      assert.deepEqual(p.invalidPaths, invalid);
      assert.deepEqual(p.roots, [ROOT]);
      if (file.includes('structured-hash')) {
        // The same digest, written as hex instead of SRI base64.
        const glibc = p.records.find((r) => r.path.endsWith('-glibc-2.39-52'))!;
        assert.equal(
          glibc.narHash,
          `sha256:${Buffer.from('xQeITrq/EC9uwTJ8cNQvCkCEKyADrQTSBvs9xg1BURk=', 'base64').toString('hex')}`,
        );
        const strip = (s: string[]): string[] => s.map((l) => l.replace(/ sha256\S+ /, ' '));
        assert.deepEqual(strip(snapshot(p.records)), strip(refSnapshot));
      } else {
        assert.deepEqual(snapshot(p.records), refSnapshot);
      }
    });
  }

  it('reads exportReferencesGraph / closureInfo JSON (nix2container, real)', () => {
    const p = parseClosureJson(read(path.join(REAL, 'nix2container-closure-graph/closure-graph.json')));
    assert.equal(p.format, 'closure-info');
    assert.equal(p.records.length, 5);
    assert.deepEqual(p.roots.map((r) => r.slice(44)).sort(), ['bash-5.1-p12', 'hello-2.10']);
    // Its own closureSize column is the oracle for the sum of NAR sizes of each closure.
    const doc = JSON.parse(read(path.join(REAL, 'nix2container-closure-graph/closure-graph.json'))) as {
      path: string;
      closureSize: number;
    }[];
    const g = ClosureGraph.build(p.records, ['/nix/store/2g13canlyc7b44mbr5fh62pdyvv6xrjl-hello-2.10']);
    assert.equal(g.totalNarSize(), doc.find((d) => d.path.endsWith('hello-2.10'))!.closureSize);
  });

  it('accepts exportReferencesGraph written with __structuredAttrs ({"closure": [...]})', () => {
    const arr = JSON.parse(read(path.join(REAL, 'nix2container-closure-graph/closure-graph.json'))) as unknown[];
    const p = parseClosureJson(JSON.stringify({ closure: arr }));
    assert.equal(p.format, 'closure-info');
    assert.equal(p.records.length, 5);
  });

  it('reads a CycloneDX SBOM from sbomnix (real): derivation-level nodes, no sizes, the declared root', () => {
    const text = read(path.join(REAL, 'nix-security-tracker-sbom/sbom.cdx.json'));
    const p = parseClosureJson(text, 'sbom.cdx.json');
    assert.equal(p.format, 'cyclonedx');
    assert.equal(p.records.length, 628, '627 components plus the root component');
    assert.ok(p.records.every((r) => r.narSize === null));
    assert.deepEqual(p.roots, [
      '/nix/store/39j31iqf9qw9b77hn3vyc1r9rdqdmd8y-nixos-system-nixos-23.11.20231119.e4ad989',
    ]);
    // Every edge of the SBOM survives (as a set of derivation pairs).
    const doc = JSON.parse(text) as { dependencies: { ref: string; dependsOn?: string[] }[] };
    const edgeCount = doc.dependencies.reduce((s, d) => s + new Set(d.dependsOn ?? []).size, 0);
    assert.equal(
      p.records.reduce((s, r) => s + r.references.length, 0),
      edgeCount,
    );
    // acl has four outputs; its node is named by the main one.
    assert.ok(p.records.some((r) => r.path === '/nix/store/mmy4fc1arb2ig642chgprgms27vk9hgn-acl-2.3.1'));
    assert.ok(!p.records.some((r) => r.path.endsWith('-acl-2.3.1-man')));
    assert.ok(p.notes.some((n) => /folded/.test(n)));
    const g = ClosureGraph.build(p.records, p.roots);
    assert.equal(g.nodeCount, 628, 'every component is reachable from the root');
    assert.equal(g.sizesKnown, false);
  });

  describe('bad input: one ClosureLensError with the reason', () => {
    const valid = read(path.join(REC26, 'path-info-rs.json'));

    it('truncated JSON says that it ends early', () => {
      expectError(
        () => parseClosureJson(valid.slice(0, 1000), 'closure.json'),
        'malformed-json',
        /closure\.json.*ends early/,
      );
    });

    it('a syntax error names line and column', () => {
      const e = expectError(
        () => parseClosureJson('[\n  {"path": "x",,}\n]', 'f.json'),
        'malformed-json',
        /line 2, column 16/,
      );
      assert.ok(e.cause instanceof SyntaxError);
    });

    it('empty input', () => {
      expectError(() => parseClosureJson('  \n', 'f.json'), 'malformed-json', /empty/);
      expectError(() => parseClosureJson('[]', 'f.json'), 'empty-closure', /no store paths/);
      expectError(() => parseClosureJson('{}', 'f.json'), 'empty-closure', /no store paths/);
    });

    it('wrong types', () => {
      const doc = JSON.parse(valid) as Record<string, Record<string, unknown>>;
      const k = Object.keys(doc)[0]!;
      expectError(
        () => parseClosureJson(JSON.stringify({ ...doc, [k]: { ...doc[k], narSize: '392' } })),
        'malformed-json',
        /narSize of .*zfs-user.* non-negative integer, found the string "392"/,
      );
      expectError(
        () => parseClosureJson(JSON.stringify({ ...doc, [k]: { ...doc[k], references: 'none' } })),
        'malformed-json',
        /references of .* should be an array/,
      );
      expectError(() => parseClosureJson('"hello"'), 'malformed-json', /found the string/);
      expectError(() => parseClosureJson('[1]'), 'malformed-json', /entry 0 should be an object/);
    });

    it('sizes past 2^53 are rejected, not rounded', () => {
      const doc = JSON.parse(valid) as Record<string, Record<string, unknown>>;
      const k = Object.keys(doc)[0]!;
      const text = JSON.stringify({ ...doc, [k]: { ...doc[k], narSize: 1 } }).replace(
        '"narSize":1,',
        '"narSize":9007199254740993,',
      );
      expectError(() => parseClosureJson(text), 'malformed-json', /past 2\^53/);
    });

    it('a missing references field, and a reference to a path the file does not describe', () => {
      const doc = JSON.parse(valid) as Record<string, Record<string, unknown>>;
      const k = Object.keys(doc)[0]!;
      const { references: _dropped, ...noRefs } = doc[k]!;
      expectError(
        () => parseClosureJson(JSON.stringify({ ...doc, [k]: noRefs })),
        'malformed-json',
        /references of .* missing/,
      );
      const single = read(path.join(REC26, 'path-info.json')); // no -r: the root's references are not described
      expectError(
        () => parseClosureJson(single, 'path-info.json'),
        'malformed-json',
        /references .*initrd.* does not describe/,
      );
    });

    it('invalid store paths and an unknown shape', () => {
      expectError(
        () => parseClosureJson('[{"path":"/nix/store/short","narSize":1,"references":[]}]'),
        'malformed-json',
        /not a store path/,
      );
      expectError(() => parseClosureJson('{"foo": 1, "bar": 2}'), 'malformed-json', /not a format closure-lens knows/);
      expectError(
        () => parseClosureJson('{"version": 9, "storeDir": "/nix/store", "info": {}}'),
        'malformed-json',
        /version number 9/,
      );
    });
  });

  it('firstSyntaxErrorOffset finds the first bad character', () => {
    assert.equal(firstSyntaxErrorOffset('{"a":}'), 5);
    assert.equal(firstSyntaxErrorOffset('[1,2'), 4);
    assert.equal(firstSyntaxErrorOffset('[1] x'), 4);
    assert.equal(firstSyntaxErrorOffset('{"a":"\u0001"}'), 6);
  });
});
