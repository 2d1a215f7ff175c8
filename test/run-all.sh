#!/usr/bin/env bash
# Every test: type-check, unit (plain node), integration (real Nix), webview (headless Chromium), e2e (real VS Code).
set -euo pipefail
cd "$(dirname "$0")/.."
source test/support/nix-env.sh
mkdir -p test-artifacts

echo "== build"; rm -rf out; node .esbuild.config.mjs  # out/ afresh: no bundle of a renamed test lingers
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint: layers, import cycles, format"; npm run --silent lint
echo "== mocha: unit, integration, webview"
npx mocha --reporter ./test/support/summary-reporter.cjs --timeout 120000 \
  'out/test/unit/**/*.test.js' 'out/test/integration/**/*.test.js' 'out/test/webview/**/*.test.js'
if [ -f out/test/e2e/run.js ]; then
  echo "== e2e: real VS Code (code-server)"
  node out/test/e2e/run.js
fi
