/**
 * Messages between the extension host and the sunburst webview, in both directions, and the runtime
 * checks for everything that comes back from the webview (which is treated as untrusted input).
 *
 * Host → webview: `loading`, `closure` (the graph as typed arrays plus the string table as one UTF-8 byte
 * array: VS Code's `postMessage` JSON-encodes a message but carries typed arrays' buffers out of band, so 100k
 * paths cost the host no per-path serialisation), `attribution` (may arrive later), `select`, `settings`,
 * `error`, `preciseResult`. The webview checks each one with `parseHostMessage` before using it.
 * Webview → host: `ready`, `selected`, `copyPath`, `revealInTree`, `copyWhyCommand`, `openDefinition`,
 * `reportError`, `preciseRequest`, `openReference`. Why-chains are not requested over the wire: the webview rebuilds the `ClosureGraph` with
 * `ClosureGraph.fromArrays` and runs `src/shared/analysis/why.ts` itself.
 *
 * No `vscode` import: both the extension host and the webview bundle import this file.
 */

/** 2: the string table became UTF-8 bytes, the roots an Int32Array. */
export const PROTOCOL_VERSION = 2;

/** The view type of the sunburst panel; the serializer and `onWebviewPanel:` activation use it. */
export const SUNBURST_VIEW_TYPE = 'closureLens.sunburst';

// ---------------------------------------------------------------------------------------------------------
// The graph payload

/**
 * A closure as the webview receives it. Node i is the same node as in the host's `ClosureGraph`
 * (0 is the root; a virtual root has the empty name). Every per-node field is a typed array with its own buffer
 * (VS Code sends a view's whole buffer), so nothing here is serialised node by node.
 */
export interface ClosureSnapshot {
  /** Store directory shared by every path, e.g. `/nix/store`; '' when the paths do not share one. */
  readonly storeDir: string;
  /**
   * Base names (`<hash>-<name>`) joined by '\n' (store names cannot contain a newline), as UTF-8; full paths
   * when `storeDir` is ''. Decoded with `snapshotNames` (TextDecoder + split) in src/core/snapshot.ts.
   */
  readonly names: Uint8Array;
  readonly narSize: Float64Array;
  /** References in CSR form, self-references excluded (as in `ClosureGraph`). */
  readonly refOffsets: Int32Array;
  readonly refTargets: Int32Array;
  readonly selfReference: Uint8Array;
  readonly roots: Int32Array;
  readonly hasVirtualRoot: boolean;
  /** False when the input had no sizes (a CycloneDX SBOM); the sizes are then 0. */
  readonly sizesKnown: boolean;
  /** Immediate dominator of each node; -1 for the root. */
  readonly idom: Int32Array;
  /** Bytes freed if the node were no longer referenced: its size plus everything it alone keeps. */
  readonly retained: Float64Array;
  /** Dominator-tree children in CSR form, sorted by retained size, largest first. */
  readonly childOffsets: Int32Array;
  readonly childTargets: Int32Array;
  /** Shortest reference distance from the root (-1 = unreachable, which a closure never has). */
  readonly distance: Int32Array;
  /**
   * Closure size of each node (as `nix path-info -S`), NaN where the host did not compute it; absent for
   * large closures. The webview computes missing ones itself, one node at a time.
   */
  readonly closureSize?: Float64Array;
  /** Option attribution, when it was already evaluated; otherwise it may follow as an `attribution` message. */
  readonly attribution?: AttributionPayload;
}

/** One option definition (NixOS, home-manager or nix-darwin module system) that puts store paths in the closure. */
export interface OptionDefinition {
  /** Dotted option path, e.g. `environment.systemPackages`. */
  readonly option: string;
  /** The file that holds the definition, mapped back to the workspace when it came from a flake's store copy. */
  readonly file: string;
  /** `file` as the user knows it (`configuration.nix`, `hosts/web.nix`): what panels show; else they shorten `file`. */
  readonly fileLabel?: string;
  /** 1-based line of the definition in `file`; null when the scanner could not place it. */
  readonly line: number | null;
  readonly column?: number | null;
  /** Bytes the closure loses without this definition (0 when another definition brings the same paths). */
  readonly removalCost: number;
  /** The definition is in the flake's own files (the user's configuration), not in a module of nixpkgs. */
  readonly inWorkspace?: boolean;
  /** The option's default value rather than a definition someone wrote. */
  readonly fromDefault?: boolean;
  /** For an option that switches a module on: the combined cost of that module's definitions. */
  readonly moduleCost?: { readonly files: readonly string[]; readonly bytes: number };
  /** Bytes found by evaluating the configuration without this definition (counterfactual), when that ran. */
  readonly counterfactualCost?: number;
  /** The option that switched the defining module on, e.g. `documentation.nixos.enable`, when known. */
  readonly enabledBy?: string;
  /**
   * How `removalCost` is known: 'counterfactual' (measured by evaluating the configuration without it: the true
   * cost), else a graph estimate ('edge-cut', 'node-removal').
   */
  readonly costMethod?: 'counterfactual' | 'edge-cut' | 'node-removal';
  /** Its true cost is being measured now: `removalCost` is only an estimate until a later `attribution`. */
  readonly measuring?: boolean;
  /**
   * Measured: what removing it brings back (paths the closure does not have now), with NAR sizes; null when the
   * path is not in the store (the variant is evaluated, not built).
   */
  readonly broughtBack?: readonly { readonly name: string; readonly bytes: number | null }[];
}

export interface AttributionPayload {
  readonly definitions: readonly OptionDefinition[];
  /**
   * Definitions whose value carries node i itself (not merely something that reaches it):
   * defTargets[defOffsets[i] .. defOffsets[i+1]), indices into `definitions`, the user's own definitions first.
   */
  readonly defOffsets: Int32Array;
  readonly defTargets: Int32Array;
  /** How long the evaluation took, for the panel's footer. */
  readonly evalMs?: number;
  /**
   * Per defTargets entry: the node through which that definition's value references node i (its collector,
   * e.g. alice's user-environment for alice's packages), -1 when unknown. A chain names the definition whose
   * collector is the chain's own step.
   */
  readonly defCollectors?: Int32Array;
  /**
   * The user's definitions without which node i goes although their value does not carry it (they switch on
   * what carries it: `boot.initrd.supportedFilesystems = [ "zfs" ]`), the most specific first:
   * enableTargets[enableOffsets[i] .. enableOffsets[i+1]).
   */
  readonly enableOffsets?: Int32Array;
  readonly enableTargets?: Int32Array;
  /** Labels of paths that share a name with another path (`user-environment (alice)`): node i → label. */
  readonly labelNodes?: Int32Array;
  readonly labelTexts?: readonly string[];
}

/**
 * The first drawing's share of a closure (src/shared/sunburstPreview.ts): the dominator tree's nodes that the
 * sunburst can draw around the root, in breadth-first order (the root first, each node after its dominator, each
 * node's children in the tree's order), with the children each one leaves out. Entry k stands for node nodes[k].
 */
export interface SunburstPreview {
  /** Nodes of the whole closure (a virtual root included), as ClosureSnapshot has them. */
  readonly nodeCount: number;
  readonly hasVirtualRoot: boolean;
  readonly nodes: Int32Array;
  /** Store paths ('' for a virtual root) joined by '\n', as UTF-8: one per entry. */
  readonly names: Uint8Array;
  /** The entry of each entry's dominator; -1 for the root (entry 0 only). */
  readonly parent: Int32Array;
  readonly narSize: Float64Array;
  readonly retained: Float64Array;
  /** Children of the entry's node that are not entries: how many, and their retained bytes together. */
  readonly restCount: Int32Array;
  readonly restSize: Float64Array;
  /** NAR bytes of every path of the closure by category (src/shared/categories.ts, in CATEGORIES order): the legend. */
  readonly categoryTotals: Float64Array;
}

/** What the panel shows, in a form that survives a window reload (the serializer reloads it from the cache). */
export type PanelTarget =
  | { readonly kind: 'installable'; readonly installable: string; readonly cwd?: string }
  | { readonly kind: 'store-path'; readonly path: string }
  | { readonly kind: 'json-file'; readonly file: string };

export interface ViewSettings {
  /** Upper bound on drawn arcs; smaller arcs are merged into "N more" arcs. */
  readonly maxArcs: number;
  /** `nix` = like `nix path-info -h` (390.8K), `iec` = 390.8 KiB. */
  readonly sizeStyle: 'nix' | 'iec';
}

export const DEFAULT_VIEW_SETTINGS: ViewSettings = { maxArcs: 2500, sizeStyle: 'iec' };

// ---------------------------------------------------------------------------------------------------------
// Host → webview

export type HostToWebview =
  /** The target comes along so that a panel reloaded while still loading can be restored. */
  | { readonly type: 'loading'; readonly title: string; readonly message: string; readonly target?: PanelTarget }
  | {
      readonly type: 'closure';
      readonly protocol: number;
      /** Shown as the first breadcrumb, e.g. `.#nixosConfigurations.laptop`. */
      readonly title: string;
      readonly target: PanelTarget;
      readonly snapshot: ClosureSnapshot;
      readonly settings: ViewSettings;
    }
  /** Sent before `closure` when the closure has sizes: drawn at once by a page that shows nothing yet. */
  | {
      readonly type: 'preview';
      readonly title: string;
      readonly preview: SunburstPreview;
      readonly settings: ViewSettings;
    }
  | { readonly type: 'attribution'; readonly attribution: AttributionPayload }
  /** Select (and zoom to) a path, e.g. from the sidebar's "Show in sunburst". */
  | { readonly type: 'select'; readonly path: string }
  | { readonly type: 'settings'; readonly settings: ViewSettings }
  | { readonly type: 'error'; readonly message: string; readonly fix?: string }
  /** The answer to a `preciseRequest`: for each edge of the chain, the files of the referrer holding the hash. */
  | { readonly type: 'preciseResult'; readonly chain: readonly string[]; readonly edges: readonly PreciseEdge[] };

/** One hit of `--precise`: where inside the referrer the dependency's hash is, and the bytes around it. */
export interface PreciseHit {
  /** Relative to the referrer (`libexec/git-core/git-send-email`); `/` when the referrer is itself a file. */
  readonly file: string;
  readonly kind: 'file' | 'symlink';
  /** Byte offset of the hash in the file (or in the symlink's target). */
  readonly offset: number;
  /** Printable bytes around the hash (others as `.`), as Nix shows them. */
  readonly before: string;
  readonly hash: string;
  readonly after: string;
}

/** The references of one edge `from → to` of a chain; `error` when the referrer could not be read. */
export interface PreciseEdge {
  readonly from: string;
  readonly to: string;
  readonly hits: readonly PreciseHit[];
  readonly error?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Webview → host

export type WebviewToHost =
  /**
   * The page has started (its inline first script, before the bundle loads): send it what it should show.
   * In ms since the epoch, for the load timeline: `documentAt`, when VS Code started the page ("webview started");
   * `sentAt`, when the inline script said this ("webview first script").
   */
  | { readonly type: 'ready'; readonly documentAt: number; readonly sentAt: number }
  /** The user selected a path; the host may sync the sidebar. */
  | { readonly type: 'selected'; readonly path: string }
  | { readonly type: 'copyPath'; readonly path: string }
  | { readonly type: 'revealInTree'; readonly path: string }
  /** Copy `closure-lens why <root> <path>`; the host knows the root. */
  | { readonly type: 'copyWhyCommand'; readonly path: string }
  /** Open an option definition; the host only opens files that it sent in the attribution. */
  | { readonly type: 'openDefinition'; readonly file: string; readonly line: number | null }
  /** Find the files inside each referrer of the chain that hold the next path's hash (`why --precise`). */
  | { readonly type: 'preciseRequest'; readonly chain: readonly string[] }
  /** Open a hit of a `preciseResult`; the host only opens hits that it sent. */
  | { readonly type: 'openReference'; readonly referrer: string; readonly file: string; readonly offset: number }
  /** An uncaught error in the webview, for the output channel. */
  | { readonly type: 'reportError'; readonly message: string }
  /**
   * A closure's first drawing is on screen: the webview's own marks (ms since the `closure` message arrived:
   * script, model, page, drawn, painted), the number of arcs drawn, and when the message arrived (ms since the
   * epoch, by the page's clock; the host's counts from the same epoch), for the host's timeline line in the log.
   */
  | { readonly type: 'drawn'; readonly marks: readonly DrawMark[]; readonly arcs: number; readonly arrivedAt: number };

/** One step of the webview's first drawing of a closure. */
export interface DrawMark {
  /**
   * `script`: the bundle took the message (it arrives before the bundle has loaded when nix is quick).
   * `preview arrived`, `preview painted`: the `preview` before it reached the page and was on screen (negative).
   */
  readonly name: 'preview arrived' | 'preview painted' | 'script' | 'model' | 'page' | 'drawn' | 'painted';
  /** Milliseconds since the `closure` message arrived. */
  readonly ms: number;
}

export const DRAW_MARK_NAMES: readonly DrawMark['name'][] = [
  'preview arrived',
  'preview painted',
  'script',
  'model',
  'page',
  'drawn',
  'painted',
];

export type WebviewMessageType = WebviewToHost['type'];
