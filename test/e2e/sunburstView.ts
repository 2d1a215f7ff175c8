/**
 * What the sunburst webview shows, read from its DOM the way a user reads it: the footer's path count and total
 * size, and the root (the first breadcrumb, whose title is the root's store path).
 */
import type { FrameLocator } from 'playwright-core';
import { waitFor } from './browser';

export interface ShownSunburst {
  /** The footer as displayed, e.g. "42 paths · 1.2 MiB in total · 30 option definitions (evaluated in 0.2 s)". */
  readonly footer: string;
  /** Its closure part: "42 paths · 1.2 MiB in total" (option definitions may arrive later). */
  readonly summary: string;
  readonly pathCount: number;
  /** The total size as displayed, with its rounding: the true value lies within `size ± sizeTolerance`. */
  readonly size: number;
  readonly sizeTolerance: number;
  /** The root's store path. */
  readonly root: string;
}

const UNITS: Record<string, number> = { B: 0, KiB: 1, K: 1, MiB: 2, M: 2, GiB: 3, G: 3, TiB: 4, T: 4 };

/** Waits until the chart is drawn (its footer counts paths), then reads it. */
export async function readSunburst(frame: FrameLocator, timeoutMs = 120_000): Promise<ShownSunburst> {
  const footer = frame.locator('#footer');
  const text = await waitFor(
    'the sunburst footer',
    async () => {
      const t = (await footer.textContent({ timeout: 2000 })) ?? '';
      return /[\d,]+ paths/.test(t) ? t : undefined;
    },
    timeoutMs,
  );
  await frame.locator('svg path[role=treeitem]').first().waitFor({ timeout: 15_000 });
  const pathCount = Number(/([\d,]+) paths/.exec(text)![1]!.replace(/,/g, ''));
  const m = /(\d+)(?:\.(\d+))?\s*(B|KiB|MiB|GiB|TiB|K|M|G|T)\b/.exec(text.split('·')[1] ?? '');
  if (!m) throw new Error(`the sunburst footer shows no total size: ${text}`);
  const unit = 1024 ** UNITS[m[3]!]!;
  const decimals = m[2]?.length ?? 0;
  const root =
    (await frame.locator('#crumbs button.crumb[data-node="0"]').getAttribute('title', { timeout: 15_000 })) ?? '';
  return {
    footer: text,
    summary: text.split(' · ').slice(0, 2).join(' · '),
    pathCount,
    size: Number(`${m[1]}.${m[2] ?? '0'}`) * unit,
    sizeTolerance: 0.5 * 10 ** -decimals * unit,
    root,
  };
}
