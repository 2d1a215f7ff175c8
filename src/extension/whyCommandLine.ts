/** The `closure-lens why` command line that the sunburst's "Copy why command" puts on the clipboard. */
import type { PanelTarget } from '../shared/protocol';
import { shellQuote } from '../shared/shellQuote';

/** `closure-lens why <root> <dep>`: the root as the user named it (installable) or the root store path. */
export function whyCommand(target: PanelTarget, rootPath: string, dep: string): string {
  const root = target.kind === 'installable' ? target.installable : rootPath;
  const cd = target.kind === 'installable' && target.cwd ? `cd ${shellQuote(target.cwd)} && ` : '';
  return `${cd}closure-lens why ${shellQuote(root)} ${shellQuote(dep)}`;
}
