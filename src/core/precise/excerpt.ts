/**
 * How a `--precise` hit is shown in an editor: whether the file is text, the line and column of a byte offset in
 * it, and a hex excerpt (for binaries and symlink targets) that holds the hash in one piece.
 */

/** Text: valid UTF-8 without NUL bytes (what an editor can show faithfully). */
export function isText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The 0-based line and UTF-16 column (an editor's position) of a byte offset in UTF-8 text. */
export function lineAndColumn(bytes: Uint8Array, offset: number): { line: number; character: number } {
  const before = bytes.subarray(0, offset);
  let line = 0;
  for (const b of before) if (b === 10) line++;
  const lineStart = before.lastIndexOf(10) + 1;
  return { line, character: new TextDecoder().decode(before.subarray(lineStart)).length };
}

/** What starts the excerpt's last line, the bytes as one line of text. */
export const TEXT_LINE = '\ntext: ';

const shown = (b: number) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.');

/**
 * `xxd`-like lines (offset from `base`, 16 bytes in hex, the printable ones), then the same bytes as one line of
 * text: a 32-character hash always crosses a 16-byte row, so only that last line holds it whole (to select it).
 */
export function hexExcerpt(bytes: Uint8Array, base: number): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = [...bytes.subarray(at, at + 16)];
    const hex = row.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${(base + at).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${row.map(shown).join('')}`);
  }
  return `${lines.join('\n')}\n${TEXT_LINE}${[...bytes].map(shown).join('')}`;
}
