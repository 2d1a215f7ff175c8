/**
 * Regular expressions that users and repositories write (`why S /re/`, the sidebar search, `/re/` entries and
 * `forbiddenDependenciesRegexes` of a rules file) run on RE2 (re2js): matching takes time linear in the input,
 * so no pattern can freeze the CLI or the extension host the way a backtracking engine can
 * (`/([a-z0-9.-]+)*!/` on a 26-letter name takes seconds in JavaScript's RegExp, and doubles with each letter).
 * RE2 has no backreferences or lookaround; a pattern using them is reported as invalid, with RE2's reason.
 */
import { RE2JS } from 're2js';

export interface UserRegex {
  /** True when the pattern matches anywhere in `text` (as RegExp.test, unanchored unless the pattern anchors). */
  test(text: string): boolean;
}

export type CompiledRegex = { ok: true; regex: UserRegex } | { ok: false; message: string };

/** Compiles `source` (without slashes) with flags `''` or `'i'`; never throws. */
export function compileUserRegex(source: string, flags = ''): CompiledRegex {
  try {
    const re = RE2JS.compile(source, flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0);
    return { ok: true, regex: { test: (text) => re.test(text) } };
  } catch (e) {
    // re2js says "error parsing regexp: missing closing ): `(`"; the first part repeats what the caller says.
    const reason = (e instanceof Error ? e.message : String(e)).replace(/^error parsing regexp:\s*/, '');
    return { ok: false, message: reason };
  }
}
