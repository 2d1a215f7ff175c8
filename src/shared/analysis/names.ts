/**
 * Finding paths by what users type: `perl`, `perl-5.38.2`, a hash, a full store path, or `/regex/`.
 */
import type { ClosureGraph } from '../graph';
import { baseName } from '../storePath';
import { compileUserRegex, type UserRegex } from '../userRegex';

/**
 * Nodes matching `query`, best tier only: an exact store path, base name, hash or full name
 * (`perl-5.38.2-man`); else an exact pname (`perl`); else a pname prefix; else a case-insensitive substring of
 * the name. `/re/` (optionally `/re/i`) matches the name by regular expression (RE2: linear time); an invalid
 * one matches nothing (`resolveName` says why). Each tier is sorted by path. The virtual root never matches.
 */
export function findByName(g: ClosureGraph, query: string): number[] {
  const q = query.trim();
  if (q === '') return [];
  const regex = parseRegex(q);
  if (regex) return regex.ok ? collect(g, (i) => regex.regex.test(g.name(i).name)) : [];

  const direct = g.indexOf(q);
  if (direct !== undefined && !g.isVirtual(direct)) return [direct];
  const base = baseName(q);
  const tiers: ((i: number) => boolean)[] = [
    (i) => {
      const p = g.name(i);
      return p.name === base || p.hash === base || baseName(g.paths[i]!) === base;
    },
    (i) => g.name(i).pname === q,
    (i) => g.name(i).pname.startsWith(q),
    (i) => g.name(i).name.toLowerCase().includes(q.toLowerCase()),
  ];
  for (const tier of tiers) {
    const found = collect(g, tier);
    if (found.length > 0) return found;
  }
  return [];
}

export type NameResolution =
  | { kind: 'unique'; node: number }
  | { kind: 'ambiguous'; nodes: number[] }
  | { kind: 'none' }
  /** `/re/` that is not a regular expression RE2 can run; `message` starts "invalid regular expression: ". */
  | { kind: 'invalid-regex'; message: string };

/**
 * One node for `query`, as `why` needs it. When the best tier holds several paths but exactly one of them is
 * a package's main path (default output, a plain version with no further `-words`), that one wins:
 * `perl` → perl-5.38.2, not perl-5.38.2-man or perl-5.38.2-env. Any other tie is ambiguous and the caller
 * lists the candidates.
 */
export function resolveName(g: ClosureGraph, query: string): NameResolution {
  const regex = parseRegex(query.trim());
  if (regex && !regex.ok) return { kind: 'invalid-regex', message: `invalid regular expression: ${regex.message}` };
  const found = findByName(g, query);
  if (found.length === 0) return { kind: 'none' };
  if (found.length === 1) return { kind: 'unique', node: found[0]! };
  const main = found.filter((i) => isMainPath(g, i));
  if (main.length === 1) return { kind: 'unique', node: main[0]! };
  return { kind: 'ambiguous', nodes: found };
}

/** The default output of a package with a plain version (`perl-5.38.2`, not `perl-5.38.2-env` or `-man`). */
function isMainPath(g: ClosureGraph, i: number): boolean {
  const p = g.name(i);
  return p.output === '' && p.version !== '' && !p.version.includes('-');
}

/**
 * `/re/` or `/re/i`, compiled with RE2 (compileUserRegex); undefined when `q` is not written as a regex. The
 * webview's search field marks a query invalid by this same function, so what it accepts is what is searched.
 */
export function parseRegex(q: string): { ok: true; regex: UserRegex } | { ok: false; message: string } | undefined {
  const m = /^\/(.+)\/([i]?)$/.exec(q);
  return m ? compileUserRegex(m[1]!, m[2]) : undefined;
}

function collect(g: ClosureGraph, match: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < g.nodeCount; i++) if (!g.isVirtual(i) && match(i)) out.push(i);
  return out.sort((a, b) => (g.paths[a]! < g.paths[b]! ? -1 : g.paths[a]! > g.paths[b]! ? 1 : 0));
}
