/**
 * Which arcs get a label, where, and how much of the name fits: along a wide arc, across a narrow one when the
 * ring is deep enough, none otherwise; on two lines (name, then version) where the arc has room for two, cut
 * in the middle so that the version stays. Pure arithmetic on the layout (an average glyph advance), except
 * `fitText`, which measures.
 */
import type { Arc } from './layout';

/** Average advance of the 10.5px label font. */
const CHAR = 6.2;

/** Height of a label line, in px (the 10.5px font with its leading). */
const LINE = 12;

export interface PlacedLabel {
  arc: Arc;
  transform: string;
  /** One or two lines. */
  lines: string[];
}

/** A label split where a second line could go: `perl` and `5.38.2 (man)`; tail '' when there is no version. */
export interface LabelParts {
  head: string;
  tail: string;
}

/** Splits `label` after its package name `pname` (the version and output follow it after a dash). */
export function labelParts(label: string, pname: string): LabelParts {
  if (pname && pname.length < label.length && label.startsWith(pname) && label[pname.length] === '-')
    return { head: pname, tail: label.slice(pname.length + 1) };
  return { head: label, tail: '' };
}

/**
 * The lines of a label in `chars` characters a line and `lines` lines at most: whole when it fits; on two
 * lines (name, version) when allowed; else one line cut in the middle, the version kept.
 */
export function fitLabel(p: LabelParts, chars: number, lines: number): string[] {
  const full = p.tail ? `${p.head}-${p.tail}` : p.head;
  if (full.length <= chars) return [full];
  if (lines >= 2 && p.tail) return [ellipsize(p.head, chars), ellipsize(p.tail, chars)];
  return [middleEllipsis(p, chars)];
}

/** `nixos-sys…-24.05`: the head cut so that the version stays, when at least 3 characters of the head remain. */
export function middleEllipsis(p: LabelParts, max: number): string {
  const full = p.tail ? `${p.head}-${p.tail}` : p.head;
  if (full.length <= max) return full;
  const keep = max - p.tail.length - 2;
  if (!p.tail || keep < 3) return ellipsize(full, max);
  return `${p.head.slice(0, keep)}…-${p.tail}`;
}

/** `rad(depth)` is the inner radius of a ring; `ringPx` its thickness; `name` the parts of an arc's label. */
export function placeLabels(
  arcs: readonly Arc[],
  rad: (depth: number) => number,
  ringPx: number,
  name: (a: Arc) => LabelParts,
): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  for (const a of arcs) {
    const r = (rad(a.depth) + rad(a.depth + 1)) / 2;
    const arcLen = (a.x1 - a.x0) * r;
    if (arcLen < 12) continue;
    const angle = ((a.x0 + a.x1) / 2) * (180 / Math.PI);
    let transform: string;
    let chars: number;
    /** Room across the text direction: the ring's thickness along an arc, the arc's width across one. */
    let depthPx: number;
    if (arcLen > ringPx * 1.4 && ringPx >= 14) {
      // Wide arc: write along it, upright, using the arc's length.
      chars = Math.floor((Math.min(arcLen, 2 * r) - 10) / CHAR);
      depthPx = ringPx;
      const flip = angle > 90 && angle < 270;
      transform = `rotate(${angle}) translate(0,${-r}) rotate(${flip ? 180 : 0})`;
    } else {
      if (ringPx < 26) continue;
      chars = Math.floor((ringPx - 8) / CHAR);
      depthPx = arcLen;
      transform = `rotate(${angle - 90}) translate(${r},0) rotate(${angle < 180 ? 0 : 180})`;
    }
    if (chars < 3) continue;
    const lines = fitLabel(name(a), chars, depthPx >= 2 * LINE + 4 ? 2 : 1);
    placed.push({ arc: a, transform, lines });
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
