/**
 * Flakes are evaluated from a store copy of their source (`/nix/store/…-source/…`), so the module
 * system reports definition files there. This maps them back to the workspace, where the user edits.
 */
import { join, relative, isAbsolute, sep } from 'node:path';

export interface StoreCopy {
  /** The flake's store copy, `/nix/store/…-source`. */
  readonly sourcePath: string;
  /** Where the flake lives on disk; null for flakes that are not local (github:, tarballs). */
  readonly localPath: string | null;
}

export interface MappedFile {
  readonly file: string;
  /** True when the file is one of the flake's own files (mapped into localPath, or in the store copy). */
  readonly inWorkspace: boolean;
}

export class StoreCopyMapper {
  private readonly prefix: string;

  constructor(private readonly copy: StoreCopy) {
    this.prefix = copy.sourcePath.endsWith('/') ? copy.sourcePath : `${copy.sourcePath}/`;
  }

  /** A store-copy file → the workspace file; other files are returned unchanged. */
  toWorkspace(file: string): MappedFile {
    if (!file.startsWith(this.prefix)) return { file, inWorkspace: false };
    if (this.copy.localPath === null) return { file, inWorkspace: true };
    return { file: join(this.copy.localPath, file.slice(this.prefix.length)), inWorkspace: true };
  }

  /** A workspace file → its store-copy path (how Nix names it in definitionsWithLocations). */
  toStore(file: string): string | undefined {
    if (this.copy.localPath === null || !isAbsolute(file)) return undefined;
    const rel = relative(this.copy.localPath, file);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    return this.prefix + rel.split(sep).join('/');
  }
}
