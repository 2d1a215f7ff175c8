/**
 * Flakes are evaluated from a store copy of their source (`/nix/store/…-source/…`), so the module
 * system reports definition files there. This maps them back to the workspace, where the user edits.
 *
 * Not every file of the flake is the user's configuration: a flake can carry a copy of nixpkgs (a
 * vendored tree, a git submodule), whose modules are the plumbing every NixOS has, exactly as when
 * nixpkgs comes from /nix/store. A file below a directory that holds a copy of nixpkgs' module library
 * (`lib/modules.nix`, `lib/options.nix` and `lib/types.nix` side by side) is mapped to the workspace
 * but is not the user's own. The user's own modules that declare options stay theirs: they wrote them.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, isAbsolute, sep } from 'node:path';

export interface StoreCopy {
  /** The flake's store copy, `/nix/store/…-source`. */
  readonly sourcePath: string;
  /** Where the flake lives on disk; null for flakes that are not local (github:, tarballs). */
  readonly localPath: string | null;
}

export interface MappedFile {
  readonly file: string;
  /**
   * True when the file is the user's own: one of the flake's files (mapped into localPath, or in the store
   * copy) and not part of a copy of nixpkgs inside the flake.
   */
  readonly inWorkspace: boolean;
}

/** The files that mark a directory as a copy of nixpkgs (its module library). */
const MODULE_LIBRARY_MARKERS = ['lib/modules.nix', 'lib/options.nix', 'lib/types.nix'];

export class StoreCopyMapper {
  private readonly prefix: string;
  /** Directories of the store copy → whether they lie in a copy of nixpkgs (memoised: one look per directory). */
  private readonly libraryDirs = new Map<string, boolean>();

  constructor(private readonly copy: StoreCopy) {
    this.prefix = copy.sourcePath.endsWith('/') ? copy.sourcePath : `${copy.sourcePath}/`;
  }

  /** A store-copy file → the workspace file; other files are returned unchanged. */
  toWorkspace(file: string): MappedFile {
    if (!file.startsWith(this.prefix)) return { file, inWorkspace: false };
    const own = !this.inModuleLibrary(dirname(file));
    if (this.copy.localPath === null) return { file, inWorkspace: own };
    return { file: join(this.copy.localPath, file.slice(this.prefix.length)), inWorkspace: own };
  }

  /**
   * Whether a directory of the store copy is (below) a copy of nixpkgs: itself or an ancestor, up to but not
   * including the flake's root, holds nixpkgs' module library. The root is left out: a flake that is nixpkgs
   * itself has only its own files.
   */
  private inModuleLibrary(dir: string): boolean {
    if (!dir.startsWith(this.prefix)) return false;
    const known = this.libraryDirs.get(dir);
    if (known !== undefined) return known;
    const found = MODULE_LIBRARY_MARKERS.every((m) => existsSync(join(dir, m))) || this.inModuleLibrary(dirname(dir));
    this.libraryDirs.set(dir, found);
    return found;
  }

  /** A workspace file → its store-copy path (how Nix names it in definitionsWithLocations). */
  toStore(file: string): string | undefined {
    if (this.copy.localPath === null || !isAbsolute(file)) return undefined;
    const rel = relative(this.copy.localPath, file);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    return this.prefix + rel.split(sep).join('/');
  }
}
