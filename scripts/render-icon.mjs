// Renders media/icon.png (128×128, the Marketplace and Open VSX icon) from the activity-bar glyph media/closure.svg:
// the same sunburst, coloured in Nix's blues on a dark rounded square. Run: node scripts/render-icon.mjs
// (needs Chromium: /usr/bin/chromium or $CHROMIUM). The output is committed; rerun it only when the glyph changes.
import { chromium } from 'playwright-core';
import * as fs from 'node:fs';

const glyph = fs.readFileSync(new URL('../media/closure.svg', import.meta.url), 'utf8');
const html = `<!doctype html><html><head><style>
  html, body { margin: 0; background: transparent; }
  .tile { width: 128px; height: 128px; border-radius: 24px; background: #1b2a41; display: grid; place-items: center; }
  svg { width: 112px; height: 112px; stroke-width: 2.1px; }
  circle { fill: #c6e2f7; }
  path:nth-of-type(1), path:nth-of-type(2) { stroke: #7ebae4; }
  path:nth-of-type(n + 3) { stroke: #5277c3; }
</style></head><body><div class="tile">${glyph}</div></body></html>`;

const browser = await chromium.launch({ executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 }, deviceScaleFactor: 1 });
  await page.setContent(html);
  await page
    .locator('.tile')
    .screenshot({ path: new URL('../media/icon.png', import.meta.url).pathname, omitBackground: true });
} finally {
  await browser.close();
}
