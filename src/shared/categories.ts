/**
 * What kind of thing a store path is, judged from its name, for the sunburst's colors and legend.
 * Colors are VS Code theme variables (with the dark theme's values as fallbacks), so every theme works.
 */
import type { StorePathName } from './storePath';

export type Category = 'library' | 'docs' | 'dev' | 'interpreter' | 'kernel' | 'font' | 'systemd' | 'other';

export interface CategoryInfo {
  readonly id: Category;
  readonly label: string;
  /** The CSS color the category is drawn with (also set in media/sunburst.css as `.cat-<id>`). */
  readonly color: string;
}

export const CATEGORIES: readonly CategoryInfo[] = [
  { id: 'library', label: 'Libraries', color: 'var(--vscode-charts-blue, #3794ff)' },
  { id: 'docs', label: 'man / doc / info', color: 'var(--vscode-charts-yellow, #cca700)' },
  { id: 'dev', label: 'dev outputs', color: 'var(--vscode-charts-orange, #d18616)' },
  { id: 'interpreter', label: 'Perl & Python', color: 'var(--vscode-charts-purple, #b180d7)' },
  { id: 'kernel', label: 'Kernel & modules', color: 'var(--vscode-charts-red, #f14c4c)' },
  { id: 'font', label: 'Fonts', color: 'var(--vscode-charts-green, #89d185)' },
  { id: 'systemd', label: 'systemd & friends', color: 'var(--vscode-terminal-ansiCyan, #29b8db)' },
  { id: 'other', label: 'Everything else', color: 'var(--vscode-charts-foreground, #cccccc)' },
];

export const CATEGORY_INDEX: Readonly<Record<Category, number>> = Object.fromEntries(
  CATEGORIES.map((c, i) => [c.id, i]),
) as Record<Category, number>;

const DOC_OUTPUTS = new Set(['man', 'doc', 'devdoc', 'info']);
const INTERPRETER = /^(perl|perl\d[\d.]*(-.*)?|python[23]?|python\d[\d.]*(-.*)?|python[23]?-minimal|ruby|lua\d*|tcl)$/;
const KERNEL =
  /^(linux|linux-(modules|headers|firmware)|linux_\w+|.*-kernel-modules|kernel-modules|firmware|.*-firmware|zfs-kernel|kmod|kmod-blacklist.*|nvidia-x11)$/;
const SYSTEMD = /^(systemd(-.*)?|dbus(-.*)?|polkit|udev|eudev|elogind|libudev(-zero)?)$/;
const FONT = /(^|-)fonts?(-|$)|^(fontconfig|freetype|dejavu-fonts|noto-fonts.*|font-.*)$/;
/** Well-known libraries whose names do not say so. */
const KNOWN_LIBRARIES = new Set([
  'glibc',
  'musl',
  'openssl',
  'zlib',
  'zstd',
  'xz',
  'bzip2',
  'ncurses',
  'readline',
  'gmp',
  'mpfr',
  'icu4c',
  'pcre',
  'pcre2',
  'sqlite',
  'expat',
  'gcc',
  'libgcc',
  'gnutls',
  'nettle',
  'libffi',
  'acl',
  'attr',
  'audit',
  'libcap',
  'brotli',
  'lz4',
  'libxml2',
  'libxslt',
  'glib',
  'harfbuzz',
  'cairo',
  'pango',
  'gtk+3',
  'gtk4',
  'qtbase',
  'mesa',
  'keyutils',
  'krb5',
  'libkrb5',
  'curl',
  'nghttp2',
  'libidn2',
  'libunistring',
  'p11-kit',
  'libtasn1',
  'db',
  'gdbm',
  'libseccomp',
  'libselinux',
  'pam',
  'linux-pam',
  'libxcrypt',
  'boost',
  'protobuf',
  'abseil-cpp',
]);

/** The category's index into CATEGORIES (what colours, legends and per-category totals use). */
export function categoryIndex(p: StorePathName): number {
  return CATEGORY_INDEX[categorize(p)];
}

export function categorize(p: StorePathName): Category {
  if (DOC_OUTPUTS.has(p.output)) return 'docs';
  if (p.output === 'dev') return 'dev';
  const name = p.pname;
  if (name === '' || p.hash === '') return 'other';
  if (INTERPRETER.test(name)) return 'interpreter';
  if (KERNEL.test(name) || p.output === 'modules' || p.output === 'firmware') return 'kernel';
  if (SYSTEMD.test(name)) return 'systemd';
  if (FONT.test(name)) return 'font';
  if (p.output === 'lib' || name.startsWith('lib') || /[-.]libs?$/.test(name) || KNOWN_LIBRARIES.has(name))
    return 'library';
  if (name.endsWith('-doc') || name.endsWith('-man')) return 'docs';
  return 'other';
}
