/**
 * POSIX shell quoting for command lines the user reads or pastes (the log, "Copy why command"): an argument that
 * needs no quoting is left as it is, any other is single-quoted. Nothing is ever run through a shell.
 */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./#-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
