// The CLI's pure parts, without a process: option extraction, renderers, dependency resolution.
import assert from 'node:assert/strict';
import { ClosureGraph } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import { isClosureLensError } from '../../src/core/errors';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseClosureJson } from '../../src/core/parse';
import {
  closureJson,
  closureJsonPieces,
  COMMANDS,
  dupsJson,
  extractGlobalOptions,
  mainUsage,
  renderClosureText,
  renderDupsText,
  renderWhyText,
  resolveDependency,
  whyJson,
  whyNote,
} from '../../src/cli';
import { realDataDir } from '../support/realData';

const sp = (c: string, name: string) => `/nix/store/${c.repeat(32)}-${name}`;
const A = sp('a', 'app-1.0');
const B = sp('b', 'libfoo-2.1');
const C = sp('c', 'glibc-2.39');
const D = sp('d', 'tool-3');

function analysis(roots = [A]): ClosureAnalysis {
  const g = ClosureGraph.build(
    [
      { path: A, narSize: 1000, references: [B, C, A] },
      { path: B, narSize: 2000, references: [C] },
      { path: C, narSize: 4000, references: [C] },
      { path: D, narSize: 500, references: [C] },
    ],
    roots,
  );
  return new ClosureAnalysis(g);
}

function userError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => isClosureLensError(e) && message.test(e.message));
}

describe('cli: global options', () => {
  it('takes shared options out of argv wherever they are, in both spellings', () => {
    const { options, rest } = extractGlobalOptions([
      'why',
      '--nix',
      '/bin/nix',
      '.#x',
      '--no-cache',
      'perl',
      '--timeout=5',
      '--json',
    ]);
    assert.deepEqual(options, { nix: '/bin/nix', noCache: true, timeoutSecs: 5, color: 'auto' });
    assert.deepEqual(rest, ['why', '.#x', 'perl', '--json']);
    assert.deepEqual(extractGlobalOptions(['closure', '--', '--nix']).rest, ['closure', '--', '--nix']);
    userError(() => extractGlobalOptions(['closure', '--cache-dir']), /--cache-dir needs a value/);
    userError(() => extractGlobalOptions(['--timeout', '-1']), /--timeout needs a number/);
  });

  it('lists every command of the table in --help', () => {
    for (const name of Object.keys(COMMANDS)) assert.match(mainUsage(), new RegExp(`^  ${name} `, 'm'));
  });
});

describe('cli: renderers', () => {
  it('closure JSON: self-references listed as Nix lists them, sizes exact, heaviest first', () => {
    const out = closureJson(analysis(), A);
    assert.equal(out.root, A);
    assert.equal(out.pathCount, 3);
    assert.equal(out.closureSize, 7000);
    assert.deepEqual(
      out.paths.map((p) => [p.path, p.closureSize, p.retainedSize, p.references]),
      [
        [A, 7000, 7000, [A, B, C]],
        [C, 4000, 4000, [C]],
        [B, 6000, 2000, [C]],
      ],
    );
    assert.equal(closureJson(analysis(), A, 1).paths.length, 1);
  });

  it('several roots: no made-up root path, chains start at a real root', () => {
    const a = analysis([A, D]);
    assert.equal(a.graph.hasVirtualRoot, true);
    const out = closureJson(a, 'closure.json');
    assert.equal(out.root, null);
    assert.equal(out.pathCount, 4);
    assert.ok(out.paths.every((p) => p.path !== ''));
    const dep = a.graph.indexOf(C)!;
    const set = a.why(dep, { all: true });
    assert.deepEqual(whyJson(a, 'closure.json', dep, set).chains, [
      [A, C],
      [D, C],
      [A, B, C],
    ]);
    assert.equal(renderWhyText(a, set), [A, `├───${C}`, `└───${B}`, `    └───${C}`, D, `└───${C}`, ''].join('\n'));
  });

  it('a path asked about itself shows its self-reference as Nix does', () => {
    const g = ClosureGraph.build([{ path: C, narSize: 1, references: [C] }], [C]);
    const a = new ClosureAnalysis(g);
    assert.equal(renderWhyText(a, a.why(0)), `${C}\n└───${C}\n`);
  });

  it('notes say how many chains were left out', () => {
    const a = analysis();
    const dep = a.graph.indexOf(C)!;
    assert.match(whyNote(a.why(dep), false)!, /there are 2 in all/);
    assert.equal(whyNote(a.why(dep, { all: true }), true), undefined);
    assert.match(whyNote(a.why(dep, { all: true, limit: 1 }), true)!, /showing the 1 shortest of 2 chains/);
  });

  it('tables: sizes in binary units, "-" when the input has no sizes', () => {
    const text = renderClosureText(analysis(), A, 10);
    assert.match(text, /^3 paths, closure size 6\.8 KiB$/m);
    assert.match(text, /glibc-2\.39 +3\.9 KiB +3\.9 KiB +3\.9 KiB$/m);
    const g = ClosureGraph.build([{ path: A, narSize: null, references: [] }], [A]);
    const unsized = new ClosureAnalysis(g);
    assert.match(renderClosureText(unsized, A, 10), /sizes unknown/);
    assert.equal(closureJson(unsized, A).paths[0]!.narSize, null);
    assert.equal(renderDupsText(unsized), 'No package is in the closure more than once.\n');
    assert.deepEqual(dupsJson(unsized), { version: 1, groups: [] });
  });
});

describe('cli: closure --json references', () => {
  const REAL = realDataDir();
  const realAnalysis = (file: string): ClosureAnalysis => {
    const parsed = parseClosureJson(readFileSync(path.join(REAL, file), 'utf8'), file);
    return new ClosureAnalysis(ClosureGraph.build(parsed.records, parsed.roots));
  };

  it('lists references as Nix does (sorted by path, a self-reference included): real closures, several roots, --top, odd names', () => {
    const cases: [ClosureAnalysis, string][] = [
      [analysis(), A],
      [analysis([A, D]), 'closure.json'],
      [realAnalysis('nix-2.26-outputs/path-info-rs.json'), '/nix/store/svrxxagdcgx541y45sgpyldjg99ylmjy-demo-system'],
      [realAnalysis('nix-2.26-outputs/nix-2.8/path-info-rs.json'), 'x'],
      [realAnalysis('nix-security-tracker-sbom/sbom.cdx.json'), 'sbom'],
      [
        new ClosureAnalysis(
          ClosureGraph.build(
            [
              {
                path: sp('e', 'quote"back\\\\slash'),
                narSize: 2 ** 53 - 1,
                references: [sp('f', 'uni-ç-☃'), sp('e', 'quote"back\\\\slash')],
              },
              { path: sp('f', 'uni-ç-☃'), narSize: 0, references: [] },
            ],
            [sp('e', 'quote"back\\\\slash')],
          ),
        ),
        'root "quoted"',
      ],
    ];
    for (const [a, root] of cases) {
      const g = a.graph;
      for (const top of [undefined, 1, 7]) {
        const out = closureJson(a, root, top);
        assert.equal(out.paths.length, top === undefined ? g.pathCount : Math.min(top, g.pathCount));
        for (const p of out.paths) {
          const i = g.indexOf(p.path)!;
          const expected = [...g.references(i)].map((j) => g.paths[j]!);
          if (g.selfReference[i]) expected.push(p.path);
          assert.deepEqual(
            p.references,
            expected.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
            p.path,
          );
        }
        JSON.parse(JSON.stringify(out));
      }
    }
  });
});

describe('cli: dependency resolution', () => {
  const a = analysis();
  it('by store path, name, prefix and /regex/', () => {
    assert.equal(resolveDependency(a, C, A), a.graph.indexOf(C));
    assert.equal(resolveDependency(a, `${C}/`, A), a.graph.indexOf(C));
    assert.equal(resolveDependency(a, 'glibc', A), a.graph.indexOf(C));
    assert.equal(resolveDependency(a, 'libf', A), a.graph.indexOf(B));
    assert.equal(resolveDependency(a, '/^glibc-2/', A), a.graph.indexOf(C));
  });
  it('says what is wrong: not a store path, not in the closure, no match, ambiguous', () => {
    userError(() => resolveDependency(a, '/nix/store/short', A), /is not a store path/);
    userError(() => resolveDependency(a, D, A), /is not in the closure of/);
    userError(() => resolveDependency(a, 'firefox', A), /nothing named 'firefox'/);
    userError(() => resolveDependency(a, '/i/', A), /'\/i\/' matches 2 paths/);
  });
});

describe('cli: closure --json in pieces', () => {
  it('joined, the pieces are JSON.stringify of closureJson and a line break, with and without --top', () => {
    // A chain of 300 paths with a fan at the end: more than two pieces of rows.
    const name = (i: number) =>
      `/nix/store/${String(i)
        .padStart(32, '0')
        .replace(/[0-9]/g, (d) => 'abcdfghijk'[+d]!)}-p-${i}`;
    const records = Array.from({ length: 300 }, (_, i) => ({
      path: name(i),
      narSize: 1000 + i,
      references: i === 0 ? [] : i % 7 === 0 ? [name(i - 1), name(0), name(i)] : [name(i - 1)],
    }));
    const build = (roots: string[]) => new ClosureAnalysis(ClosureGraph.build(records, roots));
    for (const [a, root, top] of [
      [build([name(299)]), name(299), undefined],
      [build([name(299)]), name(299), 5],
      [build([name(299), name(150)]), 'two roots', undefined],
      [analysis(), A, undefined],
      // No sizes (an SBOM), and names JSON must escape (a file may name anything).
      [
        new ClosureAnalysis(
          ClosureGraph.build(
            [
              { path: '/x/"quoted\\name\u0001', narSize: null, references: ['/x/ü-é', '/x/"quoted\\name\u0001'] },
              { path: '/x/ü-é', narSize: null, references: [] },
            ],
            ['/x/"quoted\\name\u0001'],
          ),
        ),
        '/x/"quoted\\name\u0001',
        undefined,
      ],
    ] as const) {
      const joined = [...closureJsonPieces(a, root, top)].join('');
      assert.equal(joined, JSON.stringify(closureJson(a, root, top)) + '\n');
    }
    assert.ok([...closureJsonPieces(build([name(299)]), name(299))].length > 4, 'several pieces');
  });
});
