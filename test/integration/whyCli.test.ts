/**
 * `closure-lens why --all` and `--precise` (dist/cli.js, as users run it) against real `nix why-depends`:
 * - on the generated closure with hubs, `--all --json` nodes and edges equal Nix's `--all` tree for the hubs,
 *   and the text tree draws the same edges as Nix's, each path expanded once;
 * - on the directory-tree fixture, `--all --precise` prints what Nix prints (colours and our `[...]` marks
 *   of repeated paths aside), and `--precise --json` names the files Nix names.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import {
  buildFixture,
  nixEnv,
  nixPathInfo,
  nixWhyDepends,
  nixWhyDependsPrecise,
  parseWhyDependsTree,
  repoRoot,
  runNix,
  stripAnsi,
} from '../support/fixtures';
import { realiseHubClosure } from '../support/hubClosure';

interface WhyGraphJson {
  root: string;
  dependency: string;
  nodes: string[];
  edges: [string, string][];
  chains: string[][];
  chainCount: number | string;
  truncated: boolean;
  precise?: { from: string; to: string; files: { file: string; kind: string; before: string; hash: string }[] }[];
}

const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-why-cache-'));
process.on('exit', () => fs.rmSync(cacheHome, { recursive: true, force: true }));

async function cli(args: string[]) {
  const cliJs = path.join(repoRoot(), 'dist', 'cli.js');
  const r = await execa(process.execPath, [cliJs, ...args], {
    env: { ...nixEnv(), XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' },
    reject: false,
    stdin: 'ignore',
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.equal(r.exitCode, 0, `closure-lens ${args.join(' ')} failed (exit ${r.exitCode}):\n${r.stderr}`);
  return r;
}

describe('closure-lens why --all / --precise against real nix why-depends', function () {
  this.timeout(600_000);

  describe('the why-graph of hubs (generated closure)', () => {
    let root: string;
    let hubs: string[];

    before(async () => {
      root = await realiseHubClosure();
      const info = await nixPathInfo([root]);
      const referrers = new Map<string, number>();
      for (const e of info.values()) for (const r of e.references) referrers.set(r, (referrers.get(r) ?? 0) + 1);
      hubs = [...referrers.entries()]
        .filter(([p]) => p !== root)
        .sort((x, y) => y[1] - x[1])
        .slice(0, 6)
        .map(([p]) => p);
    });

    it('--all --json: nodes and edges equal Nix’s --all tree; --limit cuts chains only', async () => {
      for (const hub of hubs) {
        const r = await cli(['why', root, hub, '--all', '--json', '--limit', '3']);
        // the count is an exact JSON number: read it as text, not as a double
        const exact = /"chainCount":(\d+|"too many to count")/.exec(r.stdout)![1]!;
        const out = JSON.parse(r.stdout) as WhyGraphJson;
        const nix = (await nixWhyDepends(root, hub, { all: true }))!;
        assert.deepEqual([...out.nodes].sort(), [...nix.nodes].sort(), `nodes for ${hub}`);
        assert.deepEqual(
          out.edges.map((e) => e.join(' ')).sort(),
          nix.edges.map((e) => e.join(' ')).sort(),
          `edges for ${hub}`,
        );
        assert.ok(out.chains.length <= 3);
        assert.equal(out.truncated, BigInt(exact) > BigInt(out.chains.length));
        for (const c of out.chains) assert.deepEqual([c[0], c[c.length - 1]], [root, hub]);
      }
    });

    it('--all text: each path expanded once, the same edges as Nix draws', async () => {
      for (const hub of hubs.slice(0, 3)) {
        const r = await cli(['why', root, hub, '--all']);
        const ours = parseWhyDependsTree(r.stdout.replace(/ \[\.\.\.\]$/gm, ''));
        const nix = (await nixWhyDepends(root, hub, { all: true }))!;
        assert.deepEqual(ours.edges.map((e) => e.join(' ')).sort(), nix.edges.map((e) => e.join(' ')).sort());
        assert.equal(ours.lines.length, nix.lines.length, 'one line per edge, plus the root');
        const expandedTwice = new Set<string>();
        const expanded = new Set<string>();
        for (const [parent] of ours.edges) expanded.add(parent);
        for (const line of r.stdout.split('\n')) if (line.endsWith(' [...]')) expandedTwice.add(line);
        assert.ok(expanded.size > 0 && expandedTwice.size > 0, 'repeated paths are marked, not expanded');
        assert.equal(r.stderr, '', 'nothing is left out, so nothing to note');
      }
    });
  });

  describe('--precise (directory-tree fixture)', () => {
    const PAIRS: [string, string][] = [
      ['default', 'glibc'],
      ['default', 'zlib'],
      ['git', 'perl'],
    ];

    for (const [from, to] of PAIRS) {
      it(`${from} → ${to}: --all --precise prints what Nix prints`, async () => {
        const fx = await buildFixture('precise');
        const ours = (await cli(['why', fx.output(from), fx.output(to), '--all', '--precise'])).stdout;
        const nix = (await runNix(['why-depends', '--all', '--precise', fx.output(from), fx.output(to)])).stdout;
        assert.equal(ours.replace(/ \[\.\.\.\]$/gm, '').trimEnd(), stripAnsi(nix).trimEnd());
      });
    }

    it('--precise --json names, for each edge of the chain, the files Nix names', async () => {
      const fx = await buildFixture('precise');
      for (const [from, to] of PAIRS) {
        const out = JSON.parse(
          (await cli(['why', fx.output(from), fx.output(to), '--precise', '--json'])).stdout,
        ) as WhyGraphJson;
        const nix = await nixWhyDependsPrecise(fx.output(from), fx.output(to), { all: true });
        for (const e of out.precise!) {
          const theirs = nix.edges.find((n) => n.from === e.from && n.to === e.to)!;
          assert.ok(theirs, `Nix draws ${e.from} → ${e.to}`);
          assert.deepEqual(
            e.files.map((f) => f.file),
            theirs.hits.map((h) => h.replace(/(: …| -> ).*$/, '')),
            `${e.from} → ${e.to}`,
          );
          for (const f of e.files) assert.equal(f.hash, path.basename(e.to).slice(0, 32));
        }
      }
    });
  });
});
