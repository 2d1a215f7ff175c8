/**
 * Which arcs get a label, where, and how much of the name fits: along a wide arc, across a narrow one when the
 * ring is deep enough, none otherwise. Pure arithmetic on the layout (an average glyph advance), except
 * `fitText`, which measures.
 */
import type { Arc } from './layout';

/** Average advance of the 10.5px label font. */
const CHAR = 6.2;

export interface PlacedLabel {
  arc: Arc;
  transform: string;
  text: string;
}

/** `rad(depth)` is the inner radius of a ring; `ringPx` its thickness; `name` the full label of an arc. */
export function placeLabels(
  arcs: readonly Arc[],
  rad: (depth: number) => number,
  ringPx: number,
  name: (a: Arc) => string,
): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  for (const a of arcs) {
    const r = (rad(a.depth) + rad(a.depth + 1)) / 2;
    const arcLen = (a.x1 - a.x0) * r;
    if (arcLen < 12) continue;
    const angle = ((a.x0 + a.x1) / 2) * (180 / Math.PI);
    let transform: string;
    let chars: number;
    if (arcLen > ringPx * 1.4 && ringPx >= 14) {
      // Wide arc: write along it, upright, using the arc's length.
      chars = Math.floor((Math.min(arcLen, 2 * r) - 10) / CHAR);
      const flip = angle > 90 && angle < 270;
      transform = `rotate(${angle}) translate(0,${-r}) rotate(${flip ? 180 : 0})`;
    } else {
      if (ringPx < 26) continue;
      chars = Math.floor((ringPx - 8) / CHAR);
      transform = `rotate(${angle - 90}) translate(${r},0) rotate(${angle < 180 ? 0 : 180})`;
    }
    if (chars < 3) continue;
    placed.push({ arc: a, transform, text: ellipsize(name(a), chars) });
  }
  return placed;
}

/** Sets the text, shortened with an ellipsis until it is at most `width` pixels wide (measured). */
export function fitText(el: SVGTextElement, text: string, width: number): void {
  el.textContent = text;
  if (el.getComputedTextLength() <= width) return;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    el.textContent = `${text.slice(0, mid)}…`;
    if (el.getComputedTextLength() <= width) lo = mid;
    else hi = mid - 1;
  }
  el.textContent = `${text.slice(0, lo)}…`;
}

export function ellipsize(s: string, max: number): string {
  if (max <= 1) return '';
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
