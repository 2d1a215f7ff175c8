import assert from 'node:assert/strict';
import { ClosureGraph, type PathRecord } from '../../src/shared';
import { ClosureAnalysis } from '../../src/core/analysis';
import {
  evaluateRules,
  parseRulesConfig,
  parseSize,
  ruleAppliesTo,
  isGlob,
  type TargetRules,
} from '../../src/core/rules';
import { renderRulesMarkdown, renderRulesText } from '../../src/core/diff';

function sp(seed: string, name: string): string {
  return `/nix/store/${seed.repeat(32).slice(0, 32)}-${name}`;
}

const sys = sp('a', 'nixos-system-web-24.05');
const sw = sp('b', 'system-path');
const git = sp('c', 'git-2.44.0');
const perl = sp('d', 'perl-5.38.2');
const perlDoc = sp('f', 'perl-5.38.2-man');
const openssl1 = sp('g', 'openssl-3.0.13');
const openssl2 = sp('h', 'openssl-3.0.14');
const py = sp('i', 'python3-3.11.9');

const records: PathRecord[] = [
  { path: sys, narSize: 1000, references: [sw] },
  { path: sw, narSize: 2000, references: [git, py] },
  { path: git, narSize: 40_000_000, references: [perl, openssl1] },
  { path: perl, narSize: 60_000_000, references: [perlDoc, openssl2] },
  { path: perlDoc, narSize: 5_000_000, references: [] },
  { path: openssl1, narSize: 6_000_000, references: [] },
  { path: openssl2, narSize: 6_000_000, references: [] },
  { path: py, narSize: 100_000_000, references: [openssl2] },
];
const analysis = new ClosureAnalysis(ClosureGraph.build(records, [sys]));
const id = { installable: '.#nixosConfigurations.web.config.system.build.toplevel', rootPath: sys };

const CONFIG = `{
  // JSON with comments is fine
  "$schema": "./media/closure-lens.schema.json",
  "rules": [
    {
      "target": ".#nixosConfigurations.*.config.system.build.toplevel",
      "name": "servers",
      "maxClosureSize": "200 MiB",
      "maxPaths": 100,
      "maxDuplicates": 0,
      "forbiddenDependencies": ["perl", "/^python3-3\\\\.11/", "ruby"],
      "forbiddenDependenciesRegexes": ["-man$"],
      "mustBeAbsent": ["${openssl1}"],
    },
    {
      "target": ".#packages.x86_64-linux.default",
      "maxClosureSize": 1000000000000
    }
  ]
}
`;

describe('rules: sizes', () => {
  it('parses binary and decimal units', () => {
    assert.equal(parseSize('500 MiB'), 500 * 1024 ** 2);
    assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('80MB'), 80_000_000);
    assert.equal(parseSize('12 KiB'), 12 * 1024);
    assert.equal(parseSize(4096), 4096);
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize('lots'), undefined);
    assert.equal(parseSize('5 parsecs'), undefined);
    assert.equal(parseSize(-1), undefined);
  });
});

describe('rules: the config file', () => {
  it('reads rules with the line of each rule and entry', () => {
    const c = parseRulesConfig(CONFIG);
    assert.deepEqual(c.problems, []);
    assert.equal(c.rules.length, 2);
    const r = c.rules[0]!;
    assert.equal(r.name, 'servers');
    assert.equal(r.maxClosureSize!.bytes, 200 * 1024 ** 2);
    assert.equal(r.maxClosureSize!.span.line, 8);
    assert.equal(r.maxDuplicates!.value, 0);
    assert.deepEqual(
      r.forbiddenDependencies.map((e) => [e.text, e.span.line]),
      [
        ['perl', 11],
        ['/^python3-3\\.11/', 11],
        ['ruby', 11],
      ],
    );
    const lines = CONFIG.split('\n');
    const e = r.forbiddenDependencies[2]!;
    assert.equal(lines[e.span.line - 1]!.slice(e.span.column - 1, e.span.column - 1 + e.span.length), '"ruby"');
    assert.equal(c.rules[1]!.maxClosureSize!.bytes, 1e12);
  });

  it('reports each mistake at its place', () => {
    const c = parseRulesConfig(`{"rules": [
  {"target": ".#a", "maxClosureSize": "big", "maxDuplicates": -1,
   "forbiddenDependencies": ["/(/"], "forbiddenDependenciesRegexes": ["[a"], "colour": "red"},
  {"name": "no target"}
]}`);
    const got = c.problems.map((p) => `${p.span.line}: ${p.message.split(' ')[0]} ${p.message.split(' ')[1]}`);
    assert.equal(c.problems.length, 6, got.join('\n'));
    assert.ok(c.problems.some((p) => /maxClosureSize/.test(p.message) && p.span.line === 2));
    assert.ok(c.problems.some((p) => /maxDuplicates/.test(p.message)));
    assert.ok(c.problems.some((p) => /Invalid regular expression/.test(p.message) && p.span.line === 3));
    assert.ok(c.problems.some((p) => /Unknown rule "colour"/.test(p.message)));
    assert.ok(c.problems.some((p) => /"target" must/.test(p.message) && p.span.line === 4));
  });

  it('reports a JSON syntax error', () => {
    const c = parseRulesConfig('{"rules": [ {"target": ".#a",, } ]');
    assert.ok(c.problems.length > 0);
    assert.match(c.problems[0]!.message, /JSON syntax error/);
  });
});

describe('rules: matching targets', () => {
  const [servers, pkg] = parseRulesConfig(CONFIG).rules as [TargetRules, TargetRules];
  it('matches globs over installables, attributes and store paths', () => {
    assert.equal(ruleAppliesTo(servers, id), true);
    assert.equal(
      ruleAppliesTo(servers, {
        installable: 'path:.#nixosConfigurations.db.config.system.build.toplevel',
        rootPath: sys,
      }),
      true,
    );
    assert.equal(ruleAppliesTo(pkg, id), false);
    assert.equal(ruleAppliesTo(pkg, { installable: '.#packages.x86_64-linux.default', rootPath: sys }), true);
    const byAttr = { ...servers, target: 'packages.*.default' };
    assert.equal(
      ruleAppliesTo(byAttr, { installable: '/src/flake#packages.x86_64-linux.default', rootPath: sys }),
      true,
    );
    const byPath = { ...servers, target: '/nix/store/*-nixos-system-web-*' };
    assert.equal(ruleAppliesTo(byPath, { rootPath: sys }), true);
    // Local flakes compare as directories: the rule's relative to its file, the closure's to its cwd.
    const local = { ...pkg, target: './sub#packages.x86_64-linux.default' };
    const closure = (installable: string, cwd?: string) => ({ installable, rootPath: sys, ...(cwd ? { cwd } : {}) });
    assert.equal(ruleAppliesTo(local, closure('path:/ws/sub#packages.x86_64-linux.default'), '/ws'), true);
    assert.equal(ruleAppliesTo(local, closure('.#packages.x86_64-linux.default', '/ws/sub'), '/ws'), true);
    assert.equal(ruleAppliesTo(local, closure('.#packages.x86_64-linux.default', '/ws'), '/ws'), false);
    assert.equal(ruleAppliesTo(local, closure('path:/other/sub#packages.x86_64-linux.default'), '/ws'), false);
    // An attribute covers the attributes below it.
    const host = { ...pkg, target: '.#nixosConfigurations.web' };
    assert.equal(
      ruleAppliesTo(host, closure('path:/ws#nixosConfigurations.web.config.system.build.toplevel'), '/ws'),
      true,
    );
    assert.equal(ruleAppliesTo(host, closure('path:/ws#nixosConfigurations.webby'), '/ws'), false);
    assert.equal(isGlob(servers.target), true);
    assert.equal(isGlob(pkg.target), false);
  });
});

describe('rules: evaluation', () => {
  const [servers, pkg] = parseRulesConfig(CONFIG).rules;
  const report = evaluateRules(servers!, id, analysis);
  const outcome = (rule: string, pattern?: string) =>
    report.outcomes.find((o) => o.rule === rule && o.pattern === pattern)!;

  it('breaks the size budget with the actual size', () => {
    const o = outcome('maxClosureSize');
    assert.equal(o.broken, true);
    assert.equal(o.actual, analysis.graph.totalNarSize());
    assert.equal(o.limit, 200 * 1024 ** 2);
  });

  it('keeps the path budget', () => {
    assert.equal(outcome('maxPaths').broken, false);
    assert.equal(outcome('maxPaths').actual, 8);
  });

  it('counts duplicates as the duplicates analysis finds them', () => {
    const o = outcome('maxDuplicates');
    assert.equal(o.actual, analysis.duplicates().length);
    assert.ok(o.actual! >= 1, 'two openssl versions are a duplicate');
    assert.equal(o.broken, true);
    const ignoring = evaluateRules(
      { ...servers!, ignoreDuplicates: analysis.duplicates().map((d) => d.pname) },
      id,
      analysis,
    );
    assert.equal(ignoring.outcomes.find((x) => x.rule === 'maxDuplicates')!.broken, false);
  });

  it('finds forbidden names with a shortest chain each', () => {
    const o = outcome('forbiddenDependencies', 'perl');
    assert.equal(o.broken, true);
    assert.equal(o.hitCount, 2, 'perl and perl-man share the pname perl');
    assert.deepEqual(o.hits![0]!.chain, [sys, sw, git, perl]);
    assert.equal(outcome('forbiddenDependencies', 'ruby').broken, false);
    const re = outcome('forbiddenDependencies', '/^python3-3\\.11/');
    assert.equal(re.broken, true);
    assert.deepEqual(
      re.hits!.map((h) => h.path),
      [py],
    );
  });

  it('matches forbiddenDependenciesRegexes against the full store path as NixOS does', () => {
    const o = outcome('forbiddenDependenciesRegexes', '-man$');
    assert.deepEqual(
      o.hits!.map((h) => h.path),
      [perlDoc],
    );
    assert.deepEqual(o.hits![0]!.chain, [sys, sw, git, perl, perlDoc]);
  });

  it('mustBeAbsent takes store paths and names', () => {
    const o = outcome('mustBeAbsent', openssl1);
    assert.equal(o.broken, true);
    assert.deepEqual(o.hits![0]!.chain, [sys, sw, git, openssl1]);
  });

  it('attaches the option origin and renders it', () => {
    const withOrigin = evaluateRules(servers!, id, analysis, {
      origin: (g, node) =>
        g.paths[node] === perl ? { option: 'programs.git.enable', file: 'hosts/web.nix', line: 7 } : undefined,
    });
    const o = withOrigin.outcomes.find((x) => x.pattern === 'perl')!;
    assert.equal(o.hits![0]!.origin!.option, 'programs.git.enable');
    assert.match(
      renderRulesText([withOrigin], '.closure-lens.json'),
      /option: programs\.git\.enable \(hosts\/web\.nix:7\)/,
    );
    const md = renderRulesMarkdown([withOrigin], '.closure-lens.json');
    assert.match(md, /❌/);
    assert.match(md, /option `programs\.git\.enable` in hosts\/web\.nix:7/);
  });

  it('a generous rule holds', () => {
    const r = evaluateRules(pkg!, id, analysis);
    assert.equal(r.outcomes.length, 1);
    assert.equal(r.outcomes[0]!.broken, false);
    assert.match(renderRulesText([r], 'x.json'), /All rules hold/);
  });

  it('warning severity still reports but is marked', () => {
    const r = evaluateRules({ ...servers!, severity: 'warning' }, id, analysis);
    assert.ok(r.outcomes.filter((o) => o.broken).every((o) => o.severity === 'warning'));
  });
});

describe('rules: JSON schema', () => {
  it('lists exactly the keys the parser knows', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { RULE_KEYS } = await import('../../src/core/rules');
    const schemaFile = path.resolve(__dirname, '../../../media/closure-lens.schema.json');
    const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
    assert.deepEqual(Object.keys(schema.definitions.targetRules.properties).sort(), [...RULE_KEYS].sort());
    assert.deepEqual(schema.definitions.targetRules.required, ['target']);
    // The size pattern of the schema accepts what parseSize accepts, and refuses what it refuses.
    const re = new RegExp(schema.definitions.size.oneOf[1].pattern);
    for (const s of ['500 MiB', '1.5G', '80MB', '12 KiB', '4096', '3 gib', '1 TB', '10 B']) {
      assert.ok(re.test(s), s);
      assert.notEqual(parseSize(s), undefined, s);
    }
    for (const s of ['lots', '5 parsecs', '1.5.2G', '']) {
      assert.ok(!re.test(s), s);
      assert.equal(parseSize(s), undefined, s);
    }
  });
});

describe('rules: editor diagnostics', () => {
  const text = `{
  "rules": [
    {
      "target": ".#nixosConfigurations.web",
      "maxClosureSize": "100 MiB",
      "mustBeAbsent": ["perl", "ruby"]
    },
    { "target": ".#other", "maxPaths": 1 },
    { "target": ".#nixosConfigurations.web", "severity": "warning", "maxPaths": 2, "bogus": 1 }
  ]
}`;
  it('puts each broken rule on its line with the chain and the option, and mistakes of the file too', async () => {
    const { diagnoseRulesFile } = await import('../../src/core/rules');
    const closures = [
      {
        id: { installable: '.#nixosConfigurations.web.config.system.build.toplevel', cwd: '/ws', rootPath: sys },
        subject: analysis,
        origin: (g: ClosureGraph, node: number) =>
          g.paths[node] === perl ? { option: 'programs.git.enable', file: '/ws/hosts/web.nix', line: 7 } : undefined,
      },
    ];
    const diags = diagnoseRulesFile(text, '/ws', closures);
    const lines = text.split('\n');
    const at = (d: { span: { line: number; column: number; length: number } }) =>
      lines[d.span.line - 1]!.slice(d.span.column - 1, d.span.column - 1 + d.span.length);
    const byCode = (c: string) => diags.filter((d) => d.code === c);
    assert.equal(byCode('config').length, 1);
    assert.equal(at(byCode('config')[0]!), '"bogus"');
    const perlDiag = byCode('mustBeAbsent');
    assert.equal(perlDiag.length, 1, 'ruby is absent, so only perl breaks');
    assert.equal(at(perlDiag[0]!), '"perl"');
    assert.match(
      perlDiag[0]!.message,
      /nixos-system-web-24\.05 → system-path → git-2\.44\.0 → perl-5\.38\.2 {2}\(option programs\.git\.enable in \/ws\/hosts\/web\.nix:7\)/,
    );
    assert.deepEqual(perlDiag[0]!.related, [
      { file: '/ws/hosts/web.nix', line: 7, message: 'programs.git.enable brings in perl-5.38.2' },
    ]);
    assert.equal(at(byCode('maxClosureSize')[0]!), '"maxClosureSize"');
    // .#other does not apply; the warning block does.
    const paths = byCode('maxPaths');
    assert.equal(paths.length, 1);
    assert.equal(paths[0]!.severity, 'warning');
    assert.equal(paths[0]!.span.line, 9);
    // No closure loaded: only the file's own mistakes.
    assert.deepEqual(
      diagnoseRulesFile(text, '/ws', []).map((d) => d.code),
      ['config'],
    );
  });
});

describe('rules: short attributes', () => {
  it('a short attribute means packages.<system>.<name>, on either side', async () => {
    const { parseRulesConfig: parse, ruleAppliesTo: applies } = await import('../../src/core/rules');
    const sys = `${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-${process.platform}`;
    const [short, long, glob] = parse(
      JSON.stringify({
        rules: [{ target: '.#hello' }, { target: `.#packages.${sys}.hello` }, { target: 'packages.*.hel*' }],
      }),
    ).rules;
    const id = (installable: string) => ({
      installable,
      cwd: '/ws',
      rootPath: '/nix/store/00000000000000000000000000000000-hello',
    });
    assert.equal(applies(short!, id(`.#packages.${sys}.hello`), '/ws'), true);
    assert.equal(applies(long!, id('.#hello'), '/ws'), true);
    assert.equal(applies(glob!, id('.#hello'), '/ws'), true);
    assert.equal(applies(short!, id('.#packages.other-system.hello'), '/ws'), false);
    assert.equal(applies(short!, id('.#nixosConfigurations.hello'), '/ws'), false);
  });
});

describe('rules: compressed-size budgets', () => {
  const cfg = parseRulesConfig(
    JSON.stringify({ rules: [{ target: '.#x', maxCompressedSize: { zstd: '80 MiB', xz: 1000 } }] }),
  );
  it('parses one budget per codec and rejects unknown codecs and bad sizes', () => {
    assert.deepEqual(cfg.problems, []);
    assert.deepEqual(
      cfg.rules[0]!.maxCompressedSize.map((b) => [b.codec, b.bytes]),
      [
        ['zstd', 80 * 1024 ** 2],
        ['xz', 1000],
      ],
    );
    const bad = parseRulesConfig(
      '{"rules": [{"target": ".#x", "maxCompressedSize": {"lz4": "1 MiB", "zstd": "lots"}}]}',
    );
    assert.deepEqual(
      bad.problems.map((p) => p.message.split(';')[0]),
      ['Unknown codec "lz4"', '"zstd" must be bytes or a size such as "80 MiB".'],
    );
    assert.equal(parseRulesConfig('{"rules": [{"target": ".#x", "maxCompressedSize": "80 MiB"}]}').problems.length, 1);
  });
  it('checks the estimate when there is one, and says when there is none', () => {
    const rule = cfg.rules[0]!;
    const none = evaluateRules(rule, id, analysis);
    assert.ok(none.outcomes.every((o) => !o.broken && /not estimated/.test(o.summary)));
    const some = evaluateRules(rule, id, analysis, { compressedSizes: { zstd: 81 * 1024 ** 2, xz: 999 } });
    assert.deepEqual(
      some.outcomes.map((o) => [o.pattern, o.broken, o.actual]),
      [
        ['zstd', true, 81 * 1024 ** 2],
        ['xz', false, 999],
      ],
    );
  });
});
