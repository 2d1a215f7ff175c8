/**
 * The fixture nixpkgs stand-in (test/fixtures/modules): NixOS-like modules and packages of our own on the
 * vendored real nixpkgs lib (lib and lib-legacy are links to test/fixtures/nixpkgs-lib*, copied as files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './fixtures';

const ENTRIES = ['flake.nix', 'lib', 'lib-legacy', 'pkgs', 'nixos', 'home-manager'];

/** Copies the stand-in into `dir` (e.g. a copy of demo-system's ./nixpkgs), following the lib links. */
export function copyFixtureNixpkgs(dir: string): void {
  const modules = path.join(repoRoot(), 'test', 'fixtures', 'modules');
  for (const entry of ENTRIES) {
    fs.cpSync(path.join(modules, entry), path.join(dir, entry), { recursive: true, dereference: true });
  }
}
