/** What the sunburst asks of the page (ChartModel) and tells it (ChartEvents): the chart's whole contract. */
import type { StorePathName } from '../../src/shared/storePath';
import type { LabelParts } from './labels';
import type { Arc } from './layout';
import type { ViewTree } from './viewTree';

export interface ChartModel {
  readonly tree: ViewTree;
  /** Short label, e.g. `perl-5.38.2`. */
  label(node: number): string;
  /** The label split into name and version, for two-line and middle-cut labels. */
  labelParts(node: number): LabelParts;
  /** Index into CATEGORIES. */
  category(node: number): number;
  /** Screen-reader text for an arc. */
  describe(arc: Arc): string;
  /** Text for the centre disc's second line (its size). */
  sizeText(node: number): string;
  /** Third line: the centre's own share, e.g. `55.0 MiB itself`; '' when not worth saying. */
  selfText(node: number): string;
}

export interface ChartEvents {
  /** Click or Enter on an arc that stands for a path. */
  activate(node: number): void;
  /** Click or Enter on a "N more" arc. */
  activateMore(arc: Arc): void;
  /** Click on the centre or Escape: zoom out one level. */
  zoomOut(): void;
  /** Pointer over an arc (null when it leaves). */
  hover(arc: Arc | null, clientX: number, clientY: number): void;
}

/** What a chart model is made from: the closure (ClosureModel) or, before it arrives, its preview (PreviewModel). */
export interface ChartSource {
  label(node: number): string;
  parsedName(node: number): StorePathName;
  /** Index into CATEGORIES. */
  category(node: number): number;
}
