/**
 * The two packages users install, made as a release would make them: from a copy of the checkout without dist/
 * (as a fresh clone has it), `npm pack` (its prepack builds the production bundles) and `npm run package` (vsce).
 * The .vsix must hold every file the extension loads and nothing else; the npm tarball must install on its own
 * (`npm install -g --offline`: no dependency to fetch) and its `closure-lens` must answer a real query, checked
 * against `nix path-info`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { isBuiltin } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { buildFixture, nixEnv, nixPathInfo, repoRoot } from '../support/fixtures';

interface Manifest {
  name: string;
  version: string;
  main: string;
  icon: string;
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
  contributes: {
    viewsContainers: { activitybar: { icon: string }[] };
    jsonValidation: { url: string }[];
  };
}

/** The environment of npm and the packed CLI: none of the npm_* variables of an enclosing `npm test`. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(nixEnv()).filter(([k]) => !/^npm_/i.test(k)));
  return { ...env, ...extra };
}

/** The checkout's tracked and unignored files, copied without dist/ and out/; node_modules is linked, not copied. */
function copyCheckout(from: string, to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: from,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && f !== 'node_modules' && !/^(dist|out)\//.test(f));
  for (const f of files) {
    const source = path.join(from, f);
    if (!fs.existsSync(source)) continue; // deleted in the work tree, not yet in the index
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    fs.cpSync(source, path.join(to, f), { dereference: false });
  }
  fs.symlinkSync(fs.realpathSync(path.join(from, 'node_modules')), path.join(to, 'node_modules'));
}

describe('packages: the .vsix and the npm tarball, built from a clean checkout', function () {
  this.timeout(180_000);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'closure-lens-packages-'));
  const work = path.join(tmp, 'checkout');
  const prefix = path.join(tmp, 'prefix');
  let manifest: Manifest;
  let tarball: string;

  before(function () {
    manifest = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as Manifest;
    copyCheckout(repoRoot(), work);
    assert.ok(!fs.existsSync(path.join(work, 'dist')), 'the copy starts without dist/');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('npm pack builds the bundles (prepack) and packs the CLI with no dependencies', async () => {
    assert.deepEqual(manifest.dependencies ?? {}, {}, 'every runtime dependency is bundled by esbuild');
    const r = await execa('npm', ['pack', '--json', '--pack-destination', tmp], {
      cwd: work,
      env: cleanEnv(),
      reject: false,
    });
    assert.equal(r.exitCode, 0, `npm pack failed:\n${r.stderr}`);
    const [packed] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as {
      filename: string;
      files: { path: string }[];
    }[];
    tarball = path.join(tmp, packed!.filename);
    const files = packed!.files.map((f) => f.path);
    for (const bin of Object.values(manifest.bin)) assert.ok(files.includes(path.normalize(bin)), `${bin} is packed`);
    assert.ok(files.includes('dist/cli.js'), 'the CLI bundle that the launcher runs is packed');
    assert.ok(files.includes('LICENSE'));
    const stray = files.filter((f) => /^(src|test|bench|webview|out|node_modules)\/|\.map$|\.ts$/.test(f));
    assert.deepEqual(stray, [], 'only what users run');
  });

  it('npm install -g installs one package offline, and its closure-lens answers as nix does', async () => {
    assert.ok(tarball, 'npm pack ran');
    const install = await execa(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--offline',
        '--no-audit',
        '--no-fund',
        '--cache',
        path.join(tmp, 'npm-cache'),
        tarball,
      ],
      { env: cleanEnv(), reject: false },
    );
    assert.equal(install.exitCode, 0, `npm install -g failed:\n${install.stderr}`);
    assert.match(install.stdout, /added 1 package\b/);
    const installed = path.join(prefix, 'lib', 'node_modules', manifest.name);
    assert.ok(!fs.existsSync(path.join(installed, 'node_modules')), 'no dependency installed beside it');

    const bin = path.join(prefix, 'bin', 'closure-lens');
    const env = cleanEnv({ XDG_CACHE_HOME: path.join(tmp, 'cache'), NO_COLOR: '1' });
    const version = await execa(bin, ['--version'], { env, reject: false });
    assert.equal(version.exitCode, 0, version.stderr);
    assert.match(version.stdout, new RegExp(`\\b${manifest.version.replace(/\./g, '\\.')}\\b`));

    const fixture = await buildFixture('chain');
    const query = await execa(bin, ['closure', fixture.root, '--json'], { env, reject: false, cwd: tmp });
    assert.equal(query.exitCode, 0, `closure-lens closure failed:\n${query.stderr}`);
    const out = JSON.parse(query.stdout) as { root: string; pathCount: number; closureSize: number };
    const nix = await nixPathInfo([fixture.root], { closureSize: true });
    assert.equal(out.root, fixture.root);
    assert.equal(out.pathCount, nix.size, 'as many paths as nix path-info -r');
    assert.equal(out.closureSize, nix.get(fixture.root)!.closureSize, 'the closure size of nix path-info -S');
  });

  it('npm run package makes a .vsix that vsce accepts, holding every file the extension loads', async () => {
    const r = await execa('npm', ['run', 'package'], { cwd: work, env: cleanEnv(), reject: false });
    assert.equal(r.exitCode, 0, `npm run package failed:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /WARNING/, 'vsce packs without a warning');
    const vsix = path.join(work, 'dist', `${manifest.name}-${manifest.version}.vsix`);
    const files = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.startsWith('extension/'))
      .map((f) => f.slice('extension/'.length));

    const codiconCss = fs.readFileSync(path.join(work, 'dist', 'webview', 'codicon.css'), 'utf8');
    const fonts = [...codiconCss.matchAll(/url\("?\.\/([^")?#]+)/g)].map((m) => `dist/webview/${m[1]}`);
    assert.ok(fonts.length > 0, 'codicon.css loads its font');
    const needed = [
      'package.json',
      'LICENSE.txt',
      'readme.md',
      'changelog.md',
      path.normalize(manifest.main),
      manifest.icon,
      ...manifest.contributes.viewsContainers.activitybar.map((c) => c.icon),
      ...manifest.contributes.jsonValidation.map((j) => path.normalize(j.url)),
      // Loaded by the extension at run time (engineHost.ts, sunburstPanel.ts), and the CLI of the `bin` entry.
      'dist/closureWorker.js',
      'dist/webview/sunburst.js',
      'dist/webview/codicon.css',
      ...fonts,
      'media/sunburst.css',
      'media/closure.svg',
      'dist/cli.js',
      'dist/closure-lens.js',
      // The manifest's %key% strings come from package.nls.json: without it VS Code shows the keys.
      ...(/"%[\w.-]+%"/.test(JSON.stringify(manifest)) ? ['package.nls.json'] : []),
    ];
    for (const f of needed) assert.ok(files.includes(f), `the .vsix lacks ${f}; it holds ${files.join(', ')}`);
    const stray = files.filter((f) => /^(src|test|bench|webview|out|node_modules)\/|\.map$|\.ts$/.test(f));
    assert.deepEqual(stray, [], 'only what the extension runs and shows');

    // The bundles inline their dependencies: they may load node's own modules and `vscode`, nothing from node_modules.
    for (const bundle of ['dist/extension.js', 'dist/closureWorker.js', 'dist/cli.js', 'dist/closure-lens.js']) {
      const text = fs.readFileSync(path.join(work, bundle), 'utf8');
      const loaded = [...text.matchAll(/\brequire\(["'`]([^"'`]+)["'`]\)/g)].map((m) => m[1]!);
      const outside = loaded.filter((m) => m !== 'vscode' && !isBuiltin(m));
      assert.deepEqual([...new Set(outside)], [], `${bundle} loads modules it does not carry`);
    }

    const packed = JSON.parse(
      execFileSync('unzip', ['-p', vsix, 'extension/package.json'], { encoding: 'utf8' }),
    ) as Manifest;
    assert.deepEqual(packed.dependencies ?? {}, {}, 'nothing for VS Code to install beside the bundles');
  });
});
