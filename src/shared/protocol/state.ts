/** The webview's persisted state (vscode.getState/setState), also handed to the serializer after a reload. */
import { DEFAULT_VIEW_SETTINGS, type PanelTarget, type ViewSettings } from './messages';
import { MAX_PATH_LENGTH, isRecord, parsePanelTarget } from './checks';

export type TreeMode = 'dominator' | 'chain';
/** What the main pane shows: the sunburst or the table of every path. */
export type MainView = 'chart' | 'table';
export const TABLE_COLUMNS = ['name', 'version', 'nar', 'closure', 'retained', 'referrers', 'option'] as const;
export type TableColumn = (typeof TABLE_COLUMNS)[number];
export interface TableSort {
  readonly column: TableColumn;
  readonly descending: boolean;
}

export interface WebviewState {
  readonly v: 1;
  readonly title?: string;
  readonly target?: PanelTarget;
  readonly mode: TreeMode;
  /** Full store path of the zoomed-in arc (the centre), if not the root. */
  readonly zoom?: string;
  readonly selected?: string;
  readonly search?: string;
  readonly allChains: boolean;
  /** The why-graph's section is open (absent: closed), so that walking the graph by its nodes keeps it open. */
  readonly whyGraph?: boolean;
  /** Absent: the chart. */
  readonly view?: MainView;
  readonly tableSort?: TableSort;
}

export const INITIAL_STATE: WebviewState = { v: 1, mode: 'dominator', allChains: false };

/** Reads persisted webview state leniently: bad fields fall back to their defaults instead of failing the restore. */
export function parseWebviewState(raw: unknown): WebviewState {
  if (!isRecord(raw) || raw['v'] !== 1) return INITIAL_STATE;
  const str = (k: string, max: number) =>
    typeof raw[k] === 'string' && (raw[k] as string).length <= max ? (raw[k] as string) : undefined;
  const target = parsePanelTarget(raw['target']);
  const title = str('title', 1000);
  const zoom = str('zoom', MAX_PATH_LENGTH);
  const selected = str('selected', MAX_PATH_LENGTH);
  const search = str('search', 1000);
  const sort = raw['tableSort'];
  const tableSort =
    isRecord(sort) && (TABLE_COLUMNS as readonly unknown[]).includes(sort['column'])
      ? { column: sort['column'] as TableColumn, descending: sort['descending'] === true }
      : undefined;
  return {
    v: 1,
    mode: raw['mode'] === 'chain' ? 'chain' : 'dominator',
    allChains: raw['allChains'] === true,
    ...(raw['whyGraph'] === true && { whyGraph: true }),
    ...(title !== undefined && { title }),
    ...(target && { target }),
    ...(zoom !== undefined && { zoom }),
    ...(selected !== undefined && { selected }),
    ...(search !== undefined && { search }),
    ...(raw['view'] === 'table' && { view: 'table' as const }),
    ...(tableSort && { tableSort }),
  };
}

/** Validates settings read from the user's configuration. */
export function normalizeSettings(raw: { maxArcs?: unknown; sizeStyle?: unknown }): ViewSettings {
  const maxArcs =
    typeof raw.maxArcs === 'number' && Number.isFinite(raw.maxArcs)
      ? Math.min(20_000, Math.max(100, Math.round(raw.maxArcs)))
      : DEFAULT_VIEW_SETTINGS.maxArcs;
  const sizeStyle = raw.sizeStyle === 'nix' ? 'nix' : raw.sizeStyle === 'iec' ? 'iec' : DEFAULT_VIEW_SETTINGS.sizeStyle;
  return { maxArcs, sizeStyle };
}
