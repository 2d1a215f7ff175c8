// Lint: typescript-eslint's recommended rules, and the layer rules of docs/ARCHITECTURE.md.
// Each layer is a folder; what a folder may import is stated here and nowhere else.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

/** Patterns of one layer's forbidden imports, with the reason shown when one is used. */
const forbid = (groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }],
});

const NODE = [
  ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'zlib', 'stream'],
  'src/shared is browser-safe: the webview bundles it, so no Node module.',
];
const VSCODE = [['vscode'], 'Only src/extension talks to VS Code.'];
const CLI = [
  ['**/cli', '**/cli/**'],
  'Only the CLI entry points live in src/cli; move what both need into src/core or src/shared.',
];
const EXTENSION = [
  ['**/extension', '**/extension/**'],
  'src/extension is the VS Code adapter; nothing else imports it.',
];
const WEBVIEW = [['**/webview/**', '**/webview'], 'The webview is its own bundle; share code through src/shared.'];
const CORE = [['**/core', '**/core/**'], 'src/core is the node engine; this layer may not import it.'];
const NODE_PACKAGES = [
  ['execa', 'jsonc-parser', 'jsonc-parser/**'],
  'Node-side packages stay out of src/shared and the webview.',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'out/',
      'test-artifacts/',
      'bench/work/',
      'test/e2e/code-server/',
      'test/fixtures/**/*.js',
      '**/*.cjs',
      '.esbuild.config.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } }, 'import-x/extensions': ['.ts'] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // A module does one thing; past 500 lines a file must say in its header why it is one thing, with
    // `/* eslint-disable max-lines -- <why> */`.
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }] },
  },
  { files: ['src/shared/**/*.ts'], rules: forbid([NODE, VSCODE, CORE, CLI, EXTENSION, WEBVIEW, NODE_PACKAGES]) },
  { files: ['src/core/**/*.ts'], rules: forbid([VSCODE, CLI, EXTENSION, WEBVIEW]) },
  { files: ['src/cli/**/*.ts'], rules: forbid([VSCODE, EXTENSION, WEBVIEW]) },
  { files: ['src/extension/**/*.ts'], rules: forbid([CLI, WEBVIEW]) },
  { files: ['webview/**/*.ts'], rules: forbid([NODE, VSCODE, CORE, CLI, EXTENSION, NODE_PACKAGES]) },
  {
    // Tests may reach into any layer, and use chai-style expressions and require() for fixtures.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
);
