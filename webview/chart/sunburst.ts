/**
 * The sunburst itself: SVG arcs from `layoutSunburst`, zoom transitions between centres, labels where they
 * fit, keyboard navigation (a roving active descendant), and hover/click callbacks. Knows nothing about the
 * closure beyond what `ChartModel` tells it.
 */
import { select, type Selection } from 'd3-selection';
import { arc as d3arc } from 'd3-shape';
import { interpolateNumber } from 'd3-interpolate';
import { easeCubicInOut } from 'd3-ease';
import 'd3-transition';
import { CATEGORIES } from '../../src/shared/categories';
import type { ChartEvents, ChartModel } from './chartModel';
import { colorLabels } from './contrast';
import { fitText, placeLabels, type PlacedLabel } from './labels';
import { layoutSunburst, type Arc, type LayoutOptions } from './layout';
import { children as treeChildren, type ViewTree } from './viewTree';

export type { ChartEvents, ChartModel };

interface Geom {
  x0: number;
  x1: number;
  depth: number;
}

type ArcSel = Selection<SVGPathElement, Arc, SVGGElement, unknown>;

const TAU = 2 * Math.PI;
const DURATION = 450;

export class SunburstChart {
  readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly arcsG: Selection<SVGGElement, unknown, null, undefined>;
  private readonly labelsG: Selection<SVGGElement, unknown, null, undefined>;
  private readonly centerG: Selection<SVGGElement, unknown, null, undefined>;
  private model: ChartModel | undefined;
  private center = 0;
  private arcs: Arc[] = [];
  private byKey = new Map<string, Arc>();
  private geometry = new Map<string, Geom>();
  private radius = 100;
  private r0 = 20;
  private ring = 10;
  /** Rings in use: the deepest drawn arc, so a shallow tree still fills the space. */
  private rings = 3;
  private layoutOptions: LayoutOptions;
  private selected = -1;
  private focusedKey: string | undefined;
  private highlight: ((a: Arc) => boolean) | null = null;
  private readonly resizeObserver: ResizeObserver;

  constructor(
    private readonly host: HTMLElement,
    private readonly events: ChartEvents,
    layoutOptions: LayoutOptions,
  ) {
    this.layoutOptions = layoutOptions;
    this.svg = select(host)
      .append('svg')
      .attr('id', 'chart')
      .attr('role', 'tree')
      .attr('tabindex', '0')
      .attr('aria-label', 'Closure sunburst. Arrow keys move between arcs, Enter zooms in, Escape zooms out.');
    this.arcsG = this.svg.append('g').attr('class', 'arcs');
    this.labelsG = this.svg.append('g').attr('class', 'labels').attr('aria-hidden', 'true');
    this.centerG = this.svg.append('g').attr('class', 'center').attr('role', 'button');
    this.centerG.append('circle').attr('class', 'center-disc');
    this.centerG.append('text').attr('class', 'center-name').attr('dy', '-0.2em');
    this.centerG.append('text').attr('class', 'center-size').attr('dy', '1.1em');
    this.centerG.append('text').attr('class', 'center-self').attr('dy', '2.4em');
    this.centerG.on('click', () => this.events.zoomOut());
    this.svg.on('keydown', (e: KeyboardEvent) => this.onKey(e));
    this.svg.on('focus', () => {
      // Only keyboard focus shows the focused arc's tooltip; a click brings its own.
      const keyboard = this.svg.node()!.matches(':focus-visible');
      if (!this.focusedKey || !this.byKey.has(this.focusedKey))
        this.focus(this.arcs.find((a) => a.depth === 1)?.key, keyboard);
      else this.focus(this.focusedKey, keyboard);
    });
    this.svg.on('blur', () => this.events.hover(null, 0, 0));
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
    this.measure();
  }

  get centerNode(): number {
    return this.center;
  }

  /** The arcs currently drawn (for tests and for the search overlay). */
  get drawnArcs(): readonly Arc[] {
    return this.arcs;
  }

  setLayoutOptions(o: LayoutOptions): void {
    this.layoutOptions = o;
  }

  /**
   * Draws the tree around `center`. With `animate`, arcs move from where they were (zooming in when the new
   * centre was drawn, out when the old centre is drawn now), otherwise they jump.
   */
  draw(model: ChartModel, center: number, animate: boolean): void {
    const previous = { center: this.center, geometry: this.geometry, model: this.model };
    this.model = model;
    this.center = center;
    this.measure();
    // Arcs under ~2 px wide at the first ring are merged: thinner ones read as needles, not wedges.
    const threshold = (rings: number) =>
      Math.max(this.layoutOptions.minAngle, 2 / (this.r0 + (this.radius - this.r0) / Math.max(3, rings)));
    const layout = (maxDepth: number) =>
      layoutSunburst(model.tree, center, { ...this.layoutOptions, maxDepth, minAngle: threshold(maxDepth) }).filter(
        (a) => a.depth > 0,
      );
    // A first pass finds how many rings carry something: outer rings that hold almost nothing (a lone deep
    // chain) would make every ring thin, so they are left to zooming. The second pass draws that many rings.
    const probe = layout(this.layoutOptions.maxDepth);
    const deepest = probe.reduce((m, a) => Math.max(m, a.depth), 0);
    const cover = new Float64Array(deepest + 1);
    for (const a of probe) cover[a.depth]! += a.x1 - a.x0;
    let rings = deepest;
    while (rings > 3 && cover[rings]! < 0.08 * TAU) rings--;
    rings = Math.max(1, rings);
    this.arcs = layout(rings);
    this.rings = Math.max(3, rings);
    // The pruning rule's parameters, for anyone checking which arcs should be drawn (the tests do).
    this.svg
      .attr('data-min-angle', threshold(rings))
      .attr('data-max-depth', rings)
      .attr('data-max-arcs', this.layoutOptions.maxArcs);
    this.measure();
    this.byKey = new Map(this.arcs.map((a) => [a.key, a]));
    const next = new Map<string, Geom>(this.arcs.map((a) => [a.key, { x0: a.x0, x1: a.x1, depth: a.depth }]));
    const reduceMotion = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
    const mapping =
      animate && !reduceMotion && previous.model === model
        ? this.frameMapping(previous.center, previous.geometry, next)
        : null;
    this.geometry = next;
    this.render(mapping);
    this.drawCenter();
  }

  /** Marks the selected path (outline); -1 for none. */
  setSelected(node: number): void {
    this.selected = node;
    this.arcsG.selectAll<SVGPathElement, Arc>('path.arc').classed('selected', (a) => a.node === node && node >= 0);
  }

  /** Dims every arc for which `hit` is false; null clears. */
  setHighlight(hit: ((a: Arc) => boolean) | null): void {
    this.highlight = hit;
    this.applyHighlight();
  }

  /** Whether `node` is drawn: as an arc or as the centre. */
  isDrawn(node: number): boolean {
    return node === this.center || this.byKey.has(`n${node}`);
  }

  /** Moves keyboard focus to the arc of `node` when it is drawn. */
  focusNode(node: number): void {
    if (this.byKey.has(`n${node}`)) this.focus(`n${node}`);
  }

  dispose(): void {
    this.resizeObserver.disconnect();
  }

  private applyHighlight(): void {
    const hit = this.highlight;
    this.arcsG
      .selectAll<SVGPathElement, Arc>('path.arc')
      .classed('match', (a) => (hit ? hit(a) : false))
      .classed('dim', (a) => (hit ? !hit(a) : false));
    colorLabels(this.labelsG.node()!);
  }

  private measure(): void {
    const w = Math.max(120, this.host.clientWidth);
    const h = Math.max(120, this.host.clientHeight);
    this.radius = Math.max(50, Math.min(w, h) / 2 - 6);
    this.r0 = this.radius * 0.2;
    this.ring = (this.radius - this.r0) / this.rings;
    this.svg
      .attr('viewBox', `${-w / 2} ${-h / 2} ${w} ${h}`)
      .attr('width', w)
      .attr('height', h);
  }

  private resize(): void {
    const before = this.radius;
    this.measure();
    // The merge threshold is in pixels, so a new size needs a new layout, not just new radii.
    if (this.model && Math.abs(before - this.radius) > 0.5) {
      this.draw(this.model, this.center, false);
      this.onRedraw?.();
    }
  }

  /** Called after a redraw that the chart started itself (a resize), so that overlays can follow. */
  onRedraw: (() => void) | undefined;

  private rad(depth: number): number {
    return Math.min(this.radius, Math.max(this.r0, this.r0 + (depth - 1) * this.ring));
  }

  private path(g: Geom): string {
    const x0 = Math.max(0, Math.min(TAU, g.x0));
    const x1 = Math.max(0, Math.min(TAU, g.x1));
    const y0 = this.rad(g.depth);
    const y1 = Math.max(y0, this.rad(g.depth + 1) - 1);
    return (
      d3arc<unknown>()
        .startAngle(x0)
        .endAngle(x1)
        .padAngle(Math.min((x1 - x0) / 2, 0.003))
        .padRadius(this.radius / 2)
        .innerRadius(y0)
        .outerRadius(y1)
        .cornerRadius(Math.min(2, (y1 - y0) / 4))(null) ?? ''
    );
  }

  /**
   * An affine map from the previous frame to the new one: zooming in stretches the new centre's old arc to the
   * full circle; zooming out shrinks the full circle into the old centre's new arc. Null when neither is drawn.
   */
  private frameMapping(
    oldCenter: number,
    oldGeometry: Map<string, Geom>,
    newGeometry: Map<string, Geom>,
  ): ((g: Geom) => Geom) | null {
    if (oldCenter === this.center) return (g) => g;
    const inner = oldGeometry.get(`n${this.center}`);
    if (inner) {
      const k = TAU / (inner.x1 - inner.x0);
      return (g) => ({ x0: (g.x0 - inner.x0) * k, x1: (g.x1 - inner.x0) * k, depth: g.depth - inner.depth });
    }
    const outer = newGeometry.get(`n${oldCenter}`);
    if (outer) {
      const k = (outer.x1 - outer.x0) / TAU;
      return (g) => ({ x0: outer.x0 + g.x0 * k, x1: outer.x0 + g.x1 * k, depth: g.depth + outer.depth });
    }
    return null;
  }

  private render(mapping: ((g: Geom) => Geom) | null): void {
    const model = this.model!;
    const oldGeometry = new Map<string, Geom>();
    this.arcsG.selectAll<SVGPathElement, Arc>('path.arc:not(.exiting)').each(function (a) {
      const g = (this as SVGPathElement & { __geom?: Geom }).__geom;
      if (g) oldGeometry.set(a.key, g);
    });
    const inverse = mapping ? invert(mapping) : null;
    const sel: ArcSel = this.arcsG
      .selectAll<SVGPathElement, Arc>('path.arc:not(.exiting)')
      .data(this.arcs, (a) => a.key);

    const entered = sel
      .enter()
      .append('path')
      .attr('role', 'treeitem')
      .on('click', (e: MouseEvent, a) => {
        e.stopPropagation();
        // The arcs move under the pointer (a zoom): the tooltip would describe an arc no longer there.
        this.events.hover(null, 0, 0);
        this.focus(a.key, false);
        this.activate(a);
      })
      .on('pointermove', (e: PointerEvent, a) => this.events.hover(a, e.clientX, e.clientY))
      .on('pointerleave', () => this.events.hover(null, 0, 0));
    const merged = entered.merge(sel);
    merged
      .attr('id', (a) => `arc-${a.key}`)
      .attr('class', (a) => this.arcClass(model, a))
      .attr('aria-level', (a) => a.depth)
      .attr('aria-label', (a) => model.describe(a))
      .attr('data-node', (a) => a.node)
      .attr('data-depth', (a) => a.depth)
      .attr('data-x0', (a) => a.x0.toFixed(6))
      .attr('data-x1', (a) => a.x1.toFixed(6))
      .attr('data-r0', (a) => this.rad(a.depth).toFixed(2))
      .attr('data-r1', (a) => this.rad(a.depth + 1).toFixed(2));

    // Marked at once, so that readers of the DOM can tell leaving arcs from the drawn ones mid-transition.
    const exit = sel.exit<Arc>().classed('exiting', true).attr('aria-hidden', 'true').attr('role', null);
    this.labelsG.selectAll('text').remove();
    if (!mapping) {
      merged.each(function (a) {
        const g = { x0: a.x0, x1: a.x1, depth: a.depth };
        (this as SVGPathElement & { __geom?: Geom }).__geom = g;
      });
      merged.attr('d', (a) => this.path(a)).attr('opacity', 1);
      exit.remove();
      this.drawLabels();
    } else {
      const arcPath = (g: Geom) => this.path(g);
      // One transition per element (a second one with the same name would cancel the first).
      const t = merged.transition().duration(DURATION).ease(easeCubicInOut);
      t.attrTween('d', function (a) {
        const el = this as SVGPathElement & { __geom?: Geom };
        const to: Geom = { x0: a.x0, x1: a.x1, depth: a.depth };
        const from: Geom = oldGeometry.get(a.key) ?? (inverse ? inverse(to) : to);
        const i0 = interpolateNumber(from.x0, to.x0);
        const i1 = interpolateNumber(from.x1, to.x1);
        const id = interpolateNumber(from.depth, to.depth);
        return (k: number) => {
          el.__geom = { x0: i0(k), x1: i1(k), depth: id(k) };
          return arcPath(el.__geom);
        };
      }).attrTween('opacity', (a) => (oldGeometry.has(a.key) ? () => '1' : (k: number) => String(k)));
      exit
        .transition()
        .duration(DURATION)
        .ease(easeCubicInOut)
        .attrTween('d', function () {
          const el = this as SVGPathElement & { __geom?: Geom };
          const from = el.__geom ?? { x0: 0, x1: 0, depth: 0 };
          const to = mapping(from);
          const i0 = interpolateNumber(from.x0, to.x0);
          const i1 = interpolateNumber(from.x1, to.x1);
          const id = interpolateNumber(from.depth, to.depth);
          return (k: number) => arcPath({ x0: i0(k), x1: i1(k), depth: id(k) });
        })
        .attr('opacity', 0)
        .remove();
      const drawn = this.arcs;
      t.end().then(
        () => {
          if (this.arcs === drawn) this.drawLabels();
        },
        () => undefined, // interrupted by a newer draw, which places its own labels
      );
    }
    this.applyHighlight();
    if (this.focusedKey && this.byKey.has(this.focusedKey)) this.focus(this.focusedKey, false);
    else this.svg.attr('aria-activedescendant', null);
  }

  private arcClass(model: ChartModel, a: Arc): string {
    const cat = a.node >= 0 ? CATEGORIES[model.category(a.node)]!.id : 'more';
    let c = `arc cat-${cat}`;
    if (a.node < 0) c += ' more';
    if (a.hasHiddenChildren) c += ' has-hidden';
    if (a.node >= 0 && a.node === this.selected) c += ' selected';
    if (a.key === this.focusedKey) c += ' focused';
    // Alternate the shade of neighbouring siblings so equal colors stay apart.
    if (a.node >= 0 && siblingParity(model.tree, a)) c += ' alt';
    return c;
  }

  private drawLabels(): void {
    const model = this.model!;
    const placed = placeLabels(
      this.arcs,
      (d) => this.rad(d),
      this.ring,
      (a) => (a.node >= 0 ? model.labelParts(a.node) : { head: `${a.moreCount} more`, tail: '' }),
    );
    this.labelsG
      .selectAll<SVGTextElement, PlacedLabel>('text')
      .data(placed, (p) => p.arc.key)
      .join('text')
      .attr('class', (p) => (p.arc.node < 0 ? 'label more' : 'label'))
      .attr('data-key', (p) => p.arc.key)
      .attr('transform', (p) => p.transform)
      .each(function (p) {
        const text = this as SVGTextElement;
        while (text.firstChild) text.firstChild.remove();
        p.lines.forEach((line, k) => {
          const span = document.createElementNS('http://www.w3.org/2000/svg', 'tspan');
          span.setAttribute('x', '0');
          // Centred on the ring: one line at +0.35em, two at -0.25em and +1.1em below it.
          span.setAttribute('dy', p.lines.length === 1 ? '0.35em' : k === 0 ? '-0.25em' : '1.1em');
          span.textContent = line;
          text.append(span);
        });
      });
    colorLabels(this.labelsG.node()!);
  }

  private drawCenter(): void {
    const model = this.model!;
    const c = this.center;
    this.centerG.select('circle').attr('r', Math.max(0, this.r0 - 2));
    fitText(this.centerG.select<SVGTextElement>('.center-name').node()!, model.label(c), this.r0 * 2 - 14);
    this.centerG.select('.center-size').text(model.sizeText(c));
    // The gap around the children is the centre's own size: say so, or the empty ring looks like a bug.
    this.centerG.select('.center-self').text(model.selfText(c));
    this.centerG
      .attr('aria-label', `${model.label(c)}, ${model.sizeText(c)}. Activate to zoom out.`)
      .classed('can-zoom-out', model.tree.parent[c]! >= 0);
  }

  private activate(a: Arc): void {
    if (a.node >= 0) this.events.activate(a.node);
    else this.events.activateMore(a);
  }

  private focus(key: string | undefined, scroll = true): void {
    this.arcsG.selectAll<SVGPathElement, Arc>('path.arc.focused').classed('focused', false);
    this.focusedKey = key;
    if (!key) return;
    const el = this.arcsG.select<SVGPathElement>(`#arc-${cssEscape(key)}`);
    el.classed('focused', true);
    this.svg.attr('aria-activedescendant', `arc-${key}`);
    if (scroll) {
      const a = this.byKey.get(key);
      const box = (el.node() as SVGPathElement | null)?.getBoundingClientRect();
      if (a && box) this.events.hover(a, box.left + box.width / 2, box.top + box.height / 2);
    }
  }

  private onKey(e: KeyboardEvent): void {
    const cur = this.focusedKey ? this.byKey.get(this.focusedKey) : undefined;
    const siblings = (a: Arc) =>
      this.arcs.filter((b) => b.depth === a.depth && b.parentNode === a.parentNode).sort((p, q) => p.x0 - q.x0);
    let next: Arc | undefined;
    switch (e.key) {
      case 'ArrowRight':
      case 'ArrowLeft': {
        if (!cur) {
          next = this.arcs.find((a) => a.depth === 1);
          break;
        }
        // Around the whole ring, not only among siblings: that is what the eye follows.
        const ring = this.arcs.filter((b) => b.depth === cur.depth).sort((p, q) => p.x0 - q.x0);
        const i = ring.indexOf(cur);
        next = ring[(i + (e.key === 'ArrowRight' ? 1 : ring.length - 1)) % ring.length];
        break;
      }
      case 'ArrowDown':
        next = cur ? this.arcs.find((b) => b.parentNode === cur.node && b.depth === cur.depth + 1) : this.arcs[0];
        break;
      case 'ArrowUp':
        if (cur && cur.depth > 1) next = this.byKey.get(`n${cur.parentNode}`);
        break;
      case 'Home':
        next = cur ? siblings(cur)[0] : this.arcs[0];
        break;
      case 'End':
        next = cur ? siblings(cur).at(-1) : this.arcs[0];
        break;
      case 'Enter':
      case ' ':
        if (cur) this.activate(cur);
        e.preventDefault();
        return;
      case 'Escape':
        this.events.zoomOut();
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    if (next) this.focus(next.key);
  }
}

function invert(f: (g: Geom) => Geom): (g: Geom) => Geom {
  // f is affine in x and a shift in depth: recover it from two probes.
  const a = f({ x0: 0, x1: 1, depth: 0 });
  const k = a.x1 - a.x0;
  const b = a.x0;
  const d = a.depth;
  return (g) => ({ x0: (g.x0 - b) / k, x1: (g.x1 - b) / k, depth: g.depth - d });
}

function siblingParity(t: ViewTree, a: Arc): boolean {
  const kids = treeChildren(t, a.parentNode);
  // Children are few where arcs are wide; a linear scan of the first few hundred is cheap.
  const limit = Math.min(kids.length, 400);
  for (let i = 0; i < limit; i++) if (kids[i] === a.node) return i % 2 === 1;
  return false;
}

function cssEscape(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]/g, (c) => `\\${c}`);
}
