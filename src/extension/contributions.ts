/** Ids that package.json contributes and the code refers to. */
export const HEAVIEST_VIEW_ID = 'nixClosureLens.heaviest';

/** The context keys that package.json's `when` clauses and walkthrough completion events read (contextKeys.ts sets them). */
export const CONTEXT_KEYS = {
  /** A closure has been shown in this window (the one Refresh, Why depends… and friends act on). */
  hasClosure: 'nixClosureLens.hasClosure',
  /** The closure shown last is a NixOS, home-manager or nix-darwin configuration: it has option costs. */
  hasConfiguration: 'nixClosureLens.hasConfiguration',
  /** /run/current-system exists. */
  hasRunningSystem: 'nixClosureLens.hasRunningSystem',
  /** Option costs are being measured in the background (what "Stop measuring option costs" stops). */
  measuringOptionCosts: 'nixClosureLens.measuringOptionCosts',
  /** The workspace's links into the store, as an object keyed by path (`resourcePath in …` tests membership). */
  storeLinks: 'nixClosureLens.storeLinks',
  /** The workspace holds a flake.nix (the walkthrough's first step). */
  hasFlake: 'nixClosureLens.hasFlake',
  /** The workspace holds a .closure-lens.json (the walkthrough's budget step). */
  hasRules: 'nixClosureLens.hasRules',
  /** A hover has shown what an option costs (the walkthrough's hover step). */
  hoveredOptionCost: 'nixClosureLens.hoveredOptionCost',
} as const;
