/**
 * Text output as Nix prints it: sizes like `nix path-info -h`, chains like `nix why-depends`, aligned tables.
 */

/**
 * 'nix': Nix 2.8–2.18's `path-info -h` (`224.0`, `1.5K`, `390.8M`: bytes below 1 KiB stay bytes).
 * 'iec': Nix 2.19+'s `path-info -h` (`0.2 KiB`, `1.5 KiB`, `390.8 MiB`: never below KiB).
 */
export type SizeStyle = 'nix' | 'iec';

const PREFIXES = ['K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];

/**
 * A size as `nix path-info -h` prints it. `align` pads the number to Nix's column width (`%6.1f`), so columns
 * of sizes line up exactly as Nix's do.
 */
export function formatBytes(bytes: number, style: SizeStyle = 'iec', options: { align?: boolean } = {}): string {
  // Nix divides while the value is above (not at) 1024.
  let power = 0;
  let value = bytes;
  while (value > 1024 && power < PREFIXES.length) {
    power++;
    value /= 1024;
  }
  if (style === 'nix') {
    const unit = power === 0 ? '' : PREFIXES[power - 1]!;
    const num = fixed1(value);
    return options.align ? `${num.padStart(6)}${unit || ' '}` : `${num}${unit}`;
  }
  const num = fixed1(power === 0 ? value / 1024 : value);
  const unit = `${PREFIXES[power === 0 ? 0 : power - 1]!}iB`;
  return `${options.align ? num.padStart(6) : num} ${unit}`;
}

/** A change in size, in the same units as formatBytes: `+1.5 MiB`, `-1.0 KiB`, `±0.0 KiB`. */
/**
 * A path that comes back without a definition, with its size: `systemd-minimal-255.4 +2.0 MiB`, or "(size
 * unknown: not built)" when it is not in the store (the variant is evaluated, not built). The hover, the
 * counterfactual message and the why panel say it alike.
 */
export function broughtBackText(name: string, bytes: number | null | undefined, size: (n: number) => string): string {
  return `${name} ${bytes === null || bytes === undefined ? '(size unknown: not built)' : `+${size(bytes)}`}`;
}

export function formatSignedBytes(n: number, style: SizeStyle = 'iec'): string {
  const sign = n > 0 ? '+' : n < 0 ? '-' : '±';
  return `${sign}${formatBytes(Math.abs(n), style)}`;
}

/**
 * C's `%.1f`: exact ties round to even (glibc), unlike JavaScript's toFixed, which rounds them up
 * (256 B = 0.25 KiB prints as `0.2 KiB` in Nix).
 */
function fixed1(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const negative = x < 0;
  const a = Math.abs(x);
  let tenths: number;
  // A tie at one decimal means 10·a is k + ½, i.e. 4·a is an odd integer (a is dyadic).
  const quarter = a * 4;
  if (Number.isInteger(quarter) && quarter % 2 === 1) {
    const k = Math.floor(a * 10);
    tenths = k % 2 === 0 ? k : k + 1;
  } else {
    tenths = Number(a.toFixed(1).replace('.', ''));
  }
  const s = `${Math.floor(tenths / 10)}.${tenths % 10}`;
  return negative && tenths !== 0 ? `-${s}` : s;
}

export type Alignment = 'left' | 'right';

/**
 * Rows padded into columns (two spaces apart). Trailing padding of the last column is left off so that
 * lines do not end in spaces. `align[i]` defaults to left.
 */
export function renderTable(rows: readonly (readonly string[])[], align: readonly Alignment[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, textWidth(cell));
    });
  }
  return rows.map((row) => {
    const cells = row.map((cell, i) => {
      const pad = ' '.repeat(widths[i]! - textWidth(cell));
      if (align[i] === 'right') return pad + cell;
      return i === row.length - 1 ? cell : cell + pad;
    });
    return cells.join('  ');
  });
}

/** Display width; store paths and sizes are ASCII, the tree glyphs are one column each. */
function textWidth(s: string): number {
  return [...s].length;
}

/** The tree glyphs of `nix why-depends`: 4 columns per level. */
export const TREE = { conn: '├───', last: '└───', line: '│   ', none: '    ' } as const;

/**
 * Chains drawn as `nix why-depends` draws them: the first element of the chains on its own line, each later
 * element indented under its predecessor, chains sharing a prefix merged into one tree. For a single chain
 * the output equals Nix's (ANSI codes aside); for `--all`-style lists, children appear in first-listed order
 * (shortest chains first). All chains must start at the same element.
 */
export function drawChains(chains: readonly (readonly string[])[]): string[] {
  if (chains.length === 0) return [];
  interface TrieNode {
    label: string;
    children: TrieNode[];
    byLabel: Map<string, TrieNode>;
  }
  const root: TrieNode = { label: chains[0]![0]!, children: [], byLabel: new Map() };
  for (const chain of chains) {
    if (chain[0] !== root.label) throw new Error('drawChains: every chain must start at the same path');
    let at = root;
    for (let k = 1; k < chain.length; k++) {
      let next = at.byLabel.get(chain[k]!);
      if (!next) {
        next = { label: chain[k]!, children: [], byLabel: new Map() };
        at.byLabel.set(next.label, next);
        at.children.push(next);
      }
      at = next;
    }
  }
  const lines = [root.label];
  // Iterative pre-order so that long chains cannot overflow the stack.
  const stack: { node: TrieNode; pad: string; last: boolean }[] = [];
  const pushChildren = (node: TrieNode, pad: string) => {
    for (let k = node.children.length - 1; k >= 0; k--) {
      stack.push({ node: node.children[k]!, pad, last: k === node.children.length - 1 });
    }
  };
  pushChildren(root, '');
  while (stack.length > 0) {
    const { node, pad, last } = stack.pop()!;
    lines.push(pad + (last ? TREE.last : TREE.conn) + node.label);
    pushChildren(node, pad + (last ? TREE.none : TREE.line));
  }
  return lines;
}

/** Removes ANSI escape sequences (Nix writes them even when stdout is not a terminal). */
export function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
