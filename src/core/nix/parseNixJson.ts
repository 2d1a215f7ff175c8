/**
 * JSON that nix printed, parsed with one error for every caller: when it is not JSON, a ClosureLensError that
 * names what printed it, says what to do, and carries the start of the output for the bug report.
 */
import { ClosureLensError } from '../errors';

export interface NixJsonSource {
  /** What printed it, as the message names it: "`nix flake metadata --json`", "the counterfactual evaluation". */
  readonly what: string;
  /** What the user can do (default: report it as a bug, with the output in the details). */
  readonly fix?: string;
}

const REPORT_IT = 'report this as a bug of closure-lens, with the output in the details';

/** Parses nix's stdout; throws a 'malformed-json' ClosureLensError when it is not JSON. */
export function parseNixJson(stdout: string, source: NixJsonSource): unknown {
  try {
    return JSON.parse(stdout) as unknown;
  } catch (e) {
    throw new ClosureLensError('malformed-json', `${source.what} printed something that is not JSON`, {
      fix: source.fix ?? REPORT_IT,
      cause: e,
      detail: stdout.slice(0, 2000),
    });
  }
}
