/**
 * Duplicates: several store paths of the same package in one closure (two openssl versions, systemd next to
 * systemd-minimal, util-linux next to util-linux-minimal), and what keeping more than one of them costs.
 */
import type { ClosureGraph } from '../../shared/graph';
import type { StorePathName } from '../../shared/storePath';
import type { DominatorTree } from '../../shared/analysis/dominators';
import { EdgeCutSize } from './cutOff';
import { runToEnd, type Steps } from '../../shared/slices';

export interface DuplicateGroup {
  /** The shared package name, variant suffix removed (`systemd` for systemd and systemd-minimal). */
  pname: string;
  /** The members, largest retained size first: the first one is the one that would be kept. */
  paths: number[];
  /**
   * What the duplicate costs: the bytes that would leave the closure if every member but the first (the one
   * with the largest retained size) were gone, i.e. the closure size minus what the root still reaches when the
   * walk skips those members. Unlike a plain sum of retained sizes this neither double counts nested members nor
   * misses paths that only the removed members shared.
   */
  extraBytes: number;
}

/**
 * Name suffixes of build variants of one package. `-unwrapped` is not here: a wrapper and the package it wraps
 * are one package, not two copies.
 */
export const VARIANT_SUFFIXES = [
  'minimal',
  'small',
  'headless',
  'nox',
  'nogui',
  'lite',
  'light',
  'slim',
  'tiny',
  'full',
];
const variantPattern = new RegExp(`-(?:${VARIANT_SUFFIXES.join('|')})$`);

/** A dash-separated word of a store name that is a version (`2.39`, `52`, `1.1.1w`, `2022`), not a name. */
const VERSION_WORD = /^\d[\d.]*(?:[a-z]|[a-z]+\d+)?$/i;

/**
 * What makes two paths "the same package": the words of the name without the version words, and without a
 * variant suffix (`systemd-minimal-255.4` → `systemd`). Words after the version stay, because they name a
 * different thing built from the same source (`linux-6.1.62-modules-shrunk` is not a second `linux`,
 * `perl-5.38.0-env` not a second `perl`); so do words that only start with a digit (`font-adobe-100dpi`).
 */
export function packageKey(p: Pick<StorePathName, 'name' | 'output'>): string {
  const name = p.output ? p.name.slice(0, p.name.length - p.output.length - 1) : p.name;
  const words = name.split('-').filter((w) => !VERSION_WORD.test(w));
  const key = words.join('-').replace(variantPattern, '');
  return key === '' ? name : key;
}

/**
 * Whether a path is a build of a package (a name with a version, and nothing after the version but an output),
 * the only kind of path that can be a duplicate. The rule: a duplicate is the same package in different builds
 * (openssl-3.0.12 twice with different hashes, openssl 1.1 next to 3.0, systemd next to systemd-minimal), not
 * different contents made by one function from different inputs: paths without a version are generated files,
 * profiles and scripts (alice's and bob's `user-environment`, `unit-dbus.service` of the system and of the user,
 * a `security-wrapper` per program), and paths with words after the version are things built from a package for
 * a purpose (`perl-5.38.0-env` with different modules, `linux-6.1.62-modules-shrunk`).
 */
export function isPackageBuild(p: Pick<StorePathName, 'version'>): boolean {
  if (p.version === '') return false;
  const last = p.version.slice(p.version.lastIndexOf('-') + 1);
  return /^\d/.test(last) || VERSION_TAG.test(last);
}

/** Last words that are still part of a version (`1.2.3-rc1`, `2.0-beta`, `0-unstable-2024-05-01` ends in a digit). */
const VERSION_TAG = /^(rc|pre|beta|alpha|git|dev|unstable|post|p)\d*$/i;

export function findDuplicates(g: ClosureGraph, dom: DominatorTree): DuplicateGroup[] {
  return runToEnd(duplicateSteps(g, dom));
}

/**
 * `findDuplicates` as sliced work (src/core/slices.ts): it pauses every thousand names and after each group's
 * cut-off walk, so that the extension host can run it on a 100,000-path closure without stalling.
 */
export function* duplicateSteps(g: ClosureGraph, dom: DominatorTree): Steps<DuplicateGroup[]> {
  // Group per package and output: perl and perl-man are two outputs of one build, not duplicates.
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < g.nodeCount; i++) {
    if ((i & 1023) === 1023) yield;
    if (g.isVirtual(i)) continue;
    const p = g.name(i);
    if (!isPackageBuild(p)) continue;
    const key = `${packageKey(p)}\u0000${p.output}`;
    const members = byKey.get(key);
    if (members) members.push(i);
    else byKey.set(key, [i]);
  }
  const lost = new CutOffSize(g);
  const groups: DuplicateGroup[] = [];
  for (const [key, members] of byKey) {
    if (members.length < 2) continue;
    yield;
    // The root always stays (it cannot be removed from its own closure), else the largest member.
    members.sort(
      (a, b) =>
        Number(b === g.root) - Number(a === g.root) ||
        dom.retained[b]! - dom.retained[a]! ||
        (g.paths[a]! < g.paths[b]! ? -1 : 1),
    );
    groups.push({ pname: key.slice(0, key.indexOf('\u0000')), paths: members, extraBytes: lost.of(members.slice(1)) });
  }
  return groups.sort((a, b) => b.extraBytes - a.extraBytes || (a.pname < b.pname ? -1 : a.pname > b.pname ? 1 : 0));
}

/** NAR bytes that the root no longer reaches when a set of nodes is removed (every edge into them cut). */
export class CutOffSize {
  private readonly cut: EdgeCutSize;
  constructor(g: ClosureGraph) {
    this.cut = new EdgeCutSize(g);
  }
  of(removed: readonly number[]): number {
    return this.cut.bytes(removed.map((node) => ({ node, from: null })));
  }
}
