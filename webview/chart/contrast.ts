/**
 * Label colours by measured contrast: black or white text, whichever contrasts more with the arc as it is
 * painted (its fill blended with the page background by its opacity, dimmed or not). The better of the two
 * always reaches WCAG AA's 4.5:1, in any theme.
 */

/** Colours every label in `labels` (an SVG group of <text data-key>) for the arc `#arc-<key>` under it. */
export function colorLabels(labels: SVGGElement): void {
  const bg = parseColor(getComputedStyle(document.body).backgroundColor) ?? [0, 0, 0, 1];
  for (const text of Array.from(labels.querySelectorAll<SVGTextElement>('text[data-key]'))) {
    const arc = document.getElementById(`arc-${text.getAttribute('data-key')}`);
    if (!arc) continue;
    const style = getComputedStyle(arc);
    const fill = parseColor(style.fill);
    if (!fill) continue;
    const alpha = Number(style.fillOpacity) * fill[3]! * Number(style.opacity || 1);
    const painted = [0, 1, 2].map((c) => fill[c]! * alpha + bg[c]! * (1 - alpha));
    const l = luminance(painted);
    text.style.fill = contrast(l, 1) >= contrast(l, 0) ? '#ffffff' : '#000000';
  }
}

/** `rgb(1, 2, 3)` or `rgba(1, 2, 3, 0.5)` as [r, g, b, a] in 0..1. */
function parseColor(css: string): number[] | undefined {
  const m = /rgba?\(([^)]+)\)/.exec(css);
  if (!m) return undefined;
  const v = m[1]!
    .split(/[,\s/]+/)
    .filter(Boolean)
    .map(Number);
  return [v[0]! / 255, v[1]! / 255, v[2]! / 255, v[3] ?? 1];
}

/** WCAG relative luminance of an sRGB colour (components 0..1). */
export function luminance(rgb: readonly number[]): number {
  const lin = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(rgb[0]!) + 0.7152 * lin(rgb[1]!) + 0.0722 * lin(rgb[2]!);
}

export function contrast(l1: number, l2: number): number {
  return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
}
