/**
 * Finds the file:line:column positions that a Nix error names, and maps positions inside the flake's store copy
 * (`/nix/store/<hash>-source/<rel>`) back to the file in the work tree. No `vscode` import.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { stripAnsi } from '../core/errors';

export interface ErrorLocation {
  /** As Nix printed it. */
  file: string;
  /** 1-based, as Nix prints them. */
  line: number;
  column: number;
}

/** Every `at <file>:<line>:<col>` of an error trace, innermost (first printed) first, without repeats. */
export function errorLocations(text: string): ErrorLocation[] {
  const seen = new Set<string>();
  const out: ErrorLocation[] = [];
  for (const m of stripAnsi(text).matchAll(/\bat (\/[^\s:]+):(\d+):(\d+)/g)) {
    const key = `${m[1]}:${m[2]}:${m[3]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file: m[1]!, line: Number(m[2]), column: Number(m[3]) });
  }
  return out;
}

/** The first `error: …` line of a Nix message, without colours, for a one-line notification. */
export function errorHeadline(text: string): string {
  const clean = stripAnsi(text);
  const m = /error: (.*)/.exec(clean);
  return (m ? m[1]! : (clean.split('\n').find((l) => l.trim() !== '') ?? clean)).trim();
}

const STORE_SOURCE = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-source(?:\/(.*))?$/;

/**
 * The work-tree file behind a position in a store copy of a flake source. `sourceRoots` are the directories that
 * a `-source` copy can stand for, nearest first (the flake directory, then its ancestors up to the workspace
 * folder, because a git flake in a subdirectory is copied from the repository root). The first candidate that
 * exists wins. Paths that are already in the work tree are returned as they are when they exist.
 */
export async function mapToWorkTree(file: string, sourceRoots: readonly string[]): Promise<string | undefined> {
  const m = STORE_SOURCE.exec(file);
  if (!m) {
    if (file.startsWith('/nix/store/')) return undefined;
    return (await isFile(file)) ? file : undefined;
  }
  const rel = m[1];
  if (rel === undefined) return undefined;
  for (const root of sourceRoots) {
    const candidate = path.join(root, rel);
    if (!candidate.startsWith(path.join(root, path.sep)) && candidate !== root) continue;
    if (await isFile(candidate)) return candidate;
  }
  return undefined;
}

/** The flake directory and its ancestors up to and including `workspaceFolder`. */
export function sourceRootsFor(flakeDir: string, workspaceFolder: string): string[] {
  const roots: string[] = [];
  let dir = path.resolve(flakeDir);
  const stop = path.resolve(workspaceFolder);
  for (;;) {
    roots.push(dir);
    if (dir === stop) break;
    const parent = path.dirname(dir);
    if (parent === dir || !parent.startsWith(stop)) break;
    dir = parent;
  }
  return roots;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}
