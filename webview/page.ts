/**
 * What the panels of the page (side pane, search, breadcrumbs, tooltip, legend) see of it: the closure, the
 * persisted view state, the selection, and the few actions they may start. `App` (webview/app.ts) is the one
 * implementation; panels import only this type, so they never reach into each other.
 */
import type { WebviewState, WebviewToHost } from '../src/shared/protocol';
import type { ViewTree } from './chart/viewTree';
import type { ClosureModel } from './model';

/** `into`: zoom into the path when it has children. `reveal`: make sure it is drawn. `none`: leave the zoom. */
export interface SelectHow {
  zoom: 'into' | 'reveal' | 'none';
  focus: boolean;
}

export interface Page {
  /** The closure shown; undefined while loading or after an error. */
  readonly model: ClosureModel | undefined;
  readonly state: Readonly<WebviewState>;
  /** The target's name, e.g. `nixosConfigurations.host`. */
  readonly title: string;
  /** The selected node, -1 for none. */
  readonly selected: number;
  /** The tree the chart draws (dominator or shortest chains); only while `model` is set. */
  readonly tree: ViewTree;
  /** A size as the settings format it, or a path count when the input has no sizes. */
  size(n: number, countsPaths?: boolean): string;
  select(node: number, how: SelectHow): void;
  /** Whether the chart draws `node` now (as an arc or its centre). */
  isDrawn(node: number): boolean;
  zoomTo(node: number): void;
  post(m: WebviewToHost): void;
  persist(patch: Partial<Omit<WebviewState, 'v'>>): void;
}
