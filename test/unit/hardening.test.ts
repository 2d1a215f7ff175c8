/**
 * Issue 20, second round of hardening: input a user or a repository controls must never choose nix flags, hang,
 * crash the stack, or change an answer. Each case here failed before its fix.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphCache } from '../../src/core/load/graphCache';
import { attributionScript, removeAttributionScript } from '../../src/core/attribution/evaluate';
import { evaluateRules, parseRulesConfig } from '../../src/core/rules';
import { findByName, resolveName } from '../../src/shared/analysis/names';
import { resolveOperand } from '../../src/core/diff/targets';
import { classifyNixFailure, ClosureLensError } from '../../src/core/errors';
import { graphOfParsed } from '../../src/core/parse/closureJson';
import { ClosureEngine } from '../../src/core/load';
import { NixRunner } from '../../src/core/nix';
import { parseJsonText } from '../../src/core/parse/json';
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

describe('hardening: regular expressions from users and repositories run in linear time', () => {
  // 26 letters and no "!": a backtracking engine tries 2^26 ways to split them (seconds); RE2 does one pass.
  const slow = `/nix/store/${'s'.repeat(32)}-${'a'.repeat(26)}`;
  const root = `/nix/store/${'r'.repeat(32)}-root-1.0`;
  const g = ClosureGraph.build(
    [
      { path: root, narSize: 1, references: [slow] },
      { path: slow, narSize: 1, references: [] },
    ],
    [root],
  );
  const within = (ms: number, f: () => void): void => {
    const started = performance.now();
    f();
    const took = performance.now() - started;
    assert.ok(took < ms, `took ${took.toFixed(0)} ms`);
  };

  it('a name lookup /([a-z0-9.-]+)*!/ answers at once', () => {
    within(1_000, () => assert.deepEqual(findByName(g, '/([a-z0-9.-]+)*!/'), []));
    assert.deepEqual(findByName(g, '/^a+$/'), [g.indexOf(slow)]);
    assert.deepEqual(findByName(g, '/ROOT/i'), [g.root]);
  });

  it('a forbiddenDependenciesRegexes or /regex/ entry of a rules file answers at once', () => {
    const config = parseRulesConfig(
      JSON.stringify({
        rules: [
          { target: '*', forbiddenDependenciesRegexes: ['([a-z0-9./-]+)*!'], forbiddenDependencies: ['/([a-z]+)*!/'] },
        ],
      }),
    );
    assert.deepEqual(config.problems, []);
    const a = new ClosureAnalysis(g);
    within(1_000, () => {
      const report = evaluateRules(config.rules[0]!, { rootPath: root }, a);
      assert.ok(report.outcomes.every((o) => !o.broken));
    });
  });

  it('an invalid regex is "invalid regular expression", not "nothing named"', () => {
    const r = resolveName(g, '/(/');
    assert.equal(r.kind, 'invalid-regex');
    assert.match((r as { message: string }).message, /^invalid regular expression: /);
    const config = parseRulesConfig(JSON.stringify({ rules: [{ target: '*', forbiddenDependenciesRegexes: ['('] }] }));
    assert.match(config.problems[0]!.message, /^Invalid regular expression: /);
  });

  it('syntax a linear-time engine cannot run (backreferences, lookahead) is refused with the reason', () => {
    const config = parseRulesConfig(
      JSON.stringify({ rules: [{ target: '*', forbiddenDependenciesRegexes: ['(a)\\1', '(?=x)'] }] }),
    );
    assert.equal(config.problems.length, 2);
    for (const p of config.problems) assert.match(p.message, /^Invalid regular expression: /);
  });
});

describe('hardening: deeply nested input is bad input, not a stack overflow', () => {
  it('a --from-json file of 100,000 "[" is malformed JSON with a place', () => {
    const text = '['.repeat(100_000);
    assert.throws(
      () => parseJsonText(text, 'deep.json'),
      (e) => e instanceof ClosureLensError && e.code === 'malformed-json' && /ends early/.test(e.message),
    );
    const bad = '['.repeat(100_000) + 'x';
    assert.throws(
      () => parseJsonText(bad, 'deep.json'),
      (e) => e instanceof ClosureLensError && /offset 100000/.test(e.message),
    );
  });

  it('a rules file with a 100,000-deep value is one problem at its place', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const text = `{"rules": [{"target": ".#x", "name": ${deep}}]}`;
    const c = parseRulesConfig(text);
    assert.equal(c.problems.length, 1);
    assert.match(c.problems[0]!.message, /nested more than \d+ levels deep/);
    assert.equal(c.problems[0]!.span.line, 1);
    assert.deepEqual(c.rules, []);
  });
});

describe('hardening: the graph cache opens only regular files of a sane size', () => {
  let dir: string;
  const rootPath = `/nix/store/${'c'.repeat(32)}-cached-1.0`;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cache-fault-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a FIFO at the .graph path is a cache miss, at once', async function () {
    this.timeout(5_000);
    const cache = new GraphCache(dir);
    execFileSync('mkfifo', [cache.fileFor(rootPath)]);
    assert.equal(await cache.get(rootPath), undefined);
  });

  it('a symlink to /dev/zero at the .graph path is a cache miss, reading nothing', async function () {
    this.timeout(5_000);
    const cache = new GraphCache(dir);
    fs.symlinkSync('/dev/zero', cache.fileFor(rootPath));
    const before = process.memoryUsage().rss;
    assert.equal(await cache.get(rootPath), undefined);
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024);
  });

  it('a symlink to a real cache file is not followed either', async () => {
    const cache = new GraphCache(dir);
    const g = ClosureGraph.build([{ path: rootPath, narSize: 1, references: [] }], [rootPath]);
    await cache.put(rootPath, g, { source: 'test', format: 'path-info-array', notes: [] });
    assert.ok(await cache.get(rootPath), 'a regular file is read');
    const file = cache.fileFor(rootPath);
    fs.renameSync(file, `${file}.elsewhere`);
    fs.symlinkSync(`${file}.elsewhere`, file);
    assert.equal(await cache.get(rootPath), undefined);
  });
});

describe('hardening: messages that name the cause', () => {
  const drv = '/nix/store/00y0rfc2gfqiqjb04sdxh96l6k7xm6nm-system-units.drv';
  for (const stderr of [`error: path '${drv}' is not valid\n`, `error: path '${drv}' is not a valid store path\n`]) {
    it(`a .drv path is called a derivation, with what to do (${stderr.trim().slice(-20)})`, () => {
      const e = classifyNixFailure({ args: ['path-info', '-rs', '--json', '--', drv], stderr, exitCode: 1 });
      assert.equal(e.code, 'invalid-path');
      assert.match(e.message, /is a derivation/);
      assert.match(e.fix, /nix-store --query --outputs/);
    });
  }

  it('a .drv root missing from nix path-info output is called a derivation too', () => {
    assert.throws(
      () => graphOfParsed({ format: 'path-info-array', records: [] } as never, [drv]),
      (e) => e instanceof ClosureLensError && /is a derivation/.test(e.message),
    );
  });

  it('a --from-json file past what can be read says it is too large, with the limit', async function () {
    this.timeout(20_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-big-'));
    try {
      const file = path.join(dir, 'closure.json');
      fs.writeFileSync(file, '');
      fs.truncateSync(file, 700 * 1024 * 1024); // sparse: no disk used
      const engine = new ClosureEngine({ nix: new NixRunner({ nixPath: '/nonexistent/nix' }) });
      await assert.rejects(
        engine.load({ kind: 'json-file', file }),
        (e) =>
          e instanceof ClosureLensError &&
          e.code === 'too-large' &&
          /700\.0 MiB/.test(e.message) &&
          /limit/.test(e.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hardening: the rules file as editors write it', () => {
  it('a duplicate key is a problem at the second one, not a silent last-wins', () => {
    const text = '{"rules": [{"target": ".#a", "maxPaths": 1, "maxPaths": 1000}]}';
    const c = parseRulesConfig(text);
    assert.equal(c.problems.length, 1);
    const p = c.problems[0]!;
    assert.match(p.message, /Duplicate key "maxPaths"/);
    assert.equal(p.span.offset, text.lastIndexOf('"maxPaths"'));
    const top = parseRulesConfig('{"rules": [], "rules": [{"target": ".#a", "maxPaths": 1}]}');
    assert.match(top.problems[0]!.message, /Duplicate key "rules"/);
    const codec = parseRulesConfig('{"rules": [{"target": ".#a", "maxCompressedSize": {"zstd": "1M", "zstd": "9G"}}]}');
    assert.match(codec.problems[0]!.message, /Duplicate key "zstd"/);
  });

  it('a UTF-8 byte order mark is accepted, with places unchanged', () => {
    const text = '\uFEFF{"rules": [{"target": ".#a", "maxPaths": 1}]}';
    const c = parseRulesConfig(text);
    assert.deepEqual(c.problems, []);
    assert.equal(c.rules[0]!.targetSpan.offset, text.indexOf('".#a"'));
  });
});

describe('hardening: no temporaries left behind', () => {
  /** The pid of a process that has exited. */
  const deadPid = (): number => {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    return Number(r.stdout.toString());
  };

  it('a cache write removes the .tmp a killed process left, and keeps a live one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-cache-tmp-'));
    try {
      const cache = new GraphCache(dir);
      const rootPath = `/nix/store/${'d'.repeat(32)}-x-1.0`;
      const stale = `${cache.fileFor(rootPath)}.${deadPid()}-0123456789ab.tmp`;
      const live = `${cache.fileFor(rootPath)}.${process.ppid}-ba9876543210.tmp`;
      fs.writeFileSync(stale, 'half a graph');
      fs.writeFileSync(live, 'being written');
      const g = ClosureGraph.build([{ path: rootPath, narSize: 1, references: [] }], [rootPath]);
      await cache.put(rootPath, g, { source: 'test', format: 'path-info-array', notes: [] });
      assert.equal(fs.existsSync(stale), false, 'the stale temporary is still there');
      assert.equal(fs.existsSync(live), true, 'a temporary of a live process was removed');
      assert.deepEqual(
        fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')),
        [path.basename(live)],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('attribution.nix lives in a directory named after the process, removed at exit; killed ones are swept', () => {
    const stale = fs.mkdtempSync(path.join(os.tmpdir(), `closure-lens-attr-${deadPid()}-`));
    fs.writeFileSync(path.join(stale, 'attribution.nix'), '{}');
    const script = attributionScript();
    assert.ok(fs.existsSync(script));
    assert.match(path.basename(path.dirname(script)), new RegExp(`^closure-lens-attr-${process.pid}-`));
    assert.equal(fs.existsSync(stale), false, 'the directory of a killed process is still there');
    assert.ok(process.listeners('exit').includes(removeAttributionScript));
    removeAttributionScript();
    assert.equal(fs.existsSync(path.dirname(script)), false);
  });
});
