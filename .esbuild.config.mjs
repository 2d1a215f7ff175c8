// The one build: extension host, CLI, webview, and the test and bench bundles.
// execa (and other ESM-only packages) are bundled so that everything runs as CJS on Node 20.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {esbuild.BuildOptions} */
const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  loader: { '.nix': 'text' },
};

/** Every *.test.ts under dir, outside node_modules (test/e2e/code-server has its own, with code-server's tests). */
function testFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? e.name === 'node_modules'
          ? []
          : testFiles(`${dir}/${e.name}`)
        : e.name.endsWith('.test.ts')
          ? [`${dir}/${e.name}`]
          : [],
    );
}

const builds = [
  { ...node, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist', external: ['vscode'] },
  // The extension host analyses large closures in this worker thread (src/core/worker/analyseInWorker.ts).
  { ...node, entryPoints: { closureWorker: 'src/core/worker/closureWorker.ts' }, outdir: 'dist' },
  {
    ...node,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  // The `closure-lens` executable: runs dist/cli.js through a V8 code cache (src/cli/launcher.ts).
  {
    ...node,
    entryPoints: { 'closure-lens': 'src/cli/launcher.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
    // codicon.css (+ its font) is served next to the bundle for <vscode-icon> and toolbar buttons.
    entryPoints: { sunburst: 'webview/main.ts', codicon: 'node_modules/@vscode/codicons/dist/codicon.css' },
    loader: { '.ttf': 'file' },
    outdir: 'dist/webview',
  },
  {
    ...node,
    sourcemap: 'inline',
    entryPoints: [
      ...testFiles('test'),
      'test/e2e/*.ts',
      'test/support/*.ts',
      ...fs
        .readdirSync('bench')
        .filter((f) => f.endsWith('.ts') && f !== 'floor.ts')
        .map((f) => `bench/${f}`),
    ],
    outbase: '.',
    outdir: 'out',
    external: ['vscode', 'mocha', 'playwright-core', '@vscode/test-electron', 'eslint'],
  },
  // The bench's floor (node + execa + nix, nothing else) as lean as a shipped bundle: no inline source map to read.
  { ...node, sourcemap: false, minify: true, entryPoints: { floor: 'bench/floor.ts' }, outdir: 'out/bench' },
  // The CLI as it ships (npm pack and the .vsix build it with --production: minified), for the bench to run.
  {
    ...node,
    sourcemap: false,
    minify: true,
    entryPoints: { cli: 'src/cli/main.ts', 'closure-lens': 'src/cli/launcher.ts' },
    outdir: 'out/bench/shipped-cli',
    banner: { js: '#!/usr/bin/env node' },
  },
];

const existing = [];
// --production (npm run package) builds only what ships in the .vsix; the test and bench bundles stay as they are.
for (const b of production ? builds.filter((b) => b.outdir !== 'out') : builds) {
  // Entry points that do not exist yet are skipped, so the build works while the tree grows.
  const fs = await import('node:fs');
  const eps = b.entryPoints;
  if (!Array.isArray(eps)) {
    const kept = Object.fromEntries(Object.entries(eps).filter(([, f]) => fs.existsSync(f)));
    if (Object.keys(kept).length === 0) continue;
    existing.push({ ...b, entryPoints: kept });
  } else {
    existing.push(b);
  }
}

if (watch) {
  for (const b of existing) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(existing.map((b) => esbuild.build(b)));
}
