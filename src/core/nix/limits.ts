/** Limits of a nix call that callers check before they make a runner (kept apart so that checking loads no execa). */

/** Node's timers hold at most 2^31 - 1 ms: a longer delay fires at once (and would stop nix at once). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** The longest timeout in whole seconds (24.8 days): the bound of --timeout and nixClosureLens.timeoutSeconds. */
export const MAX_TIMEOUT_SECONDS = Math.floor(MAX_TIMEOUT_MS / 1000);
/** How long nix gets to exit after SIGTERM before its group is SIGKILLed (the runner's default killGraceMs). */
export const DEFAULT_KILL_GRACE_MS = 3000;
