/**
 * Remembers, per flake, the list of its outputs and the store path each output evaluated to, keyed by a
 * fingerprint of what evaluation reads: flake.lock and the flake's tracked .nix files. Reopening an unchanged
 * flake then needs no nix evaluation at all. Other files (sources a derivation copies) are not fingerprinted:
 * changing only those needs "Refresh".
 *
 * One small JSON file, written atomically (temp file + rename). No `vscode` import.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import type { FlakeOutput } from './flakeOutputs';

const FORMAT = 2;

interface FlakeEntry {
  fingerprint: string;
  /** system → the flake's outputs for it. */
  outputs: Record<string, FlakeOutput[]>;
  /** installable → store path of its (first) output. */
  storePaths: Record<string, string>;
}

interface CacheFile {
  format: number;
  flakes: Record<string, FlakeEntry>;
}

export class FlakeOutputCache {
  private data: CacheFile | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  private async load(): Promise<CacheFile> {
    if (this.data) return this.data;
    try {
      const parsed: unknown = JSON.parse(await fs.readFile(this.file, 'utf8'));
      if (isCacheFile(parsed)) {
        this.data = parsed;
        return parsed;
      }
    } catch {
      // Missing, truncated or foreign: start over; the file is only a cache.
    }
    this.data = { format: FORMAT, flakes: {} };
    return this.data;
  }

  /** The entry for this flake state, if the flake is unchanged since it was written. */
  private entry(data: CacheFile, flakeDir: string, fingerprint: string): FlakeEntry | undefined {
    const e = data.flakes[flakeDir];
    return e && e.fingerprint === fingerprint ? e : undefined;
  }

  /** The entry for this flake state, replacing one for an older state. */
  private entryForWrite(data: CacheFile, flakeDir: string, fingerprint: string): FlakeEntry {
    const e = this.entry(data, flakeDir, fingerprint) ?? { fingerprint, outputs: {}, storePaths: {} };
    data.flakes[flakeDir] = e;
    return e;
  }

  async outputs(flakeDir: string, fingerprint: string, system: string): Promise<FlakeOutput[] | undefined> {
    return this.entry(await this.load(), flakeDir, fingerprint)?.outputs[system];
  }

  async storePath(flakeDir: string, fingerprint: string, installable: string): Promise<string | undefined> {
    return this.entry(await this.load(), flakeDir, fingerprint)?.storePaths[installable];
  }

  async putOutputs(flakeDir: string, fingerprint: string, system: string, outputs: FlakeOutput[]): Promise<void> {
    this.entryForWrite(await this.load(), flakeDir, fingerprint).outputs[system] = outputs;
    await this.save();
  }

  async putStorePath(flakeDir: string, fingerprint: string, installable: string, storePath: string): Promise<void> {
    this.entryForWrite(await this.load(), flakeDir, fingerprint).storePaths[installable] = storePath;
    await this.save();
  }

  async forgetStorePath(flakeDir: string, installable: string): Promise<void> {
    const e = (await this.load()).flakes[flakeDir];
    if (e && installable in e.storePaths) {
      delete e.storePaths[installable];
      await this.save();
    }
  }

  /** Drops everything known about a flake ("Refresh"). */
  async forgetFlake(flakeDir: string): Promise<void> {
    const data = await this.load();
    if (data.flakes[flakeDir]) {
      delete data.flakes[flakeDir];
      await this.save();
    }
  }

  private save(): Promise<void> {
    // Serialise writes so that two quick updates never interleave their renames.
    this.writing = this.writing.then(async () => {
      const text = JSON.stringify(this.data);
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
      try {
        await fs.writeFile(tmp, text);
        await fs.rename(tmp, this.file);
      } catch (err) {
        await fs.rm(tmp, { force: true });
        throw err;
      }
    });
    return this.writing;
  }
}

function isCacheFile(v: unknown): v is CacheFile {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { format?: unknown; flakes?: unknown };
  return o.format === FORMAT && typeof o.flakes === 'object' && o.flakes !== null;
}

/** Per-file content hashes, reused while size and mtime are unchanged. */
const fileHashMemo = new Map<string, { size: number; mtimeMs: number; hash: string }>();

async function hashFile(file: string): Promise<string | undefined> {
  let st;
  try {
    st = await fs.stat(file);
  } catch {
    return undefined; // Tracked but deleted in the work tree.
  }
  if (!st.isFile()) return undefined;
  const memo = fileHashMemo.get(file);
  if (memo && memo.size === st.size && memo.mtimeMs === st.mtimeMs) return memo.hash;
  const hash = createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
  fileHashMemo.set(file, { size: st.size, mtimeMs: st.mtimeMs, hash });
  return hash;
}

function git(args: string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 30_000 }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    );
  });
}

/**
 * For a flake in a git work tree: the tracked .nix files and flake.lock files of the whole repository, as absolute
 * paths. Nix copies the whole repository even for a flake in a subdirectory, which may import `../common.nix`.
 * Undefined when the flake is not in a git work tree (or git is missing).
 */
async function gitTrackedNixFiles(flakeDir: string): Promise<string[] | undefined> {
  const top = (await git(['rev-parse', '--show-toplevel'], flakeDir))?.trim();
  if (!top) return undefined;
  const listed = await git(['ls-files', '-z', '--cached', '--', '*.nix', '*flake.lock'], top);
  return listed
    ?.split('\0')
    .filter((f) => f !== '')
    .map((f) => path.join(top, f));
}

const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.direnv', '.jj']);

async function walkNixFiles(dir: string, out: string[] = []): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    // Symlinks (such as `result` links into the store) are not followed.
    if (e.isDirectory() && !SKIPPED_DIRS.has(e.name)) await walkNixFiles(p, out);
    else if (e.isFile() && (e.name.endsWith('.nix') || e.name === 'flake.lock')) out.push(p);
  }
  return out;
}

/**
 * A digest of flake.lock and every .nix file that Nix can see when it evaluates the flake: in a git work tree the
 * tracked ones of the whole repository (Nix ignores untracked files there), otherwise all of them below the flake.
 */
export async function flakeFingerprint(flakeDir: string): Promise<string> {
  const files = (await gitTrackedNixFiles(flakeDir)) ?? (await walkNixFiles(flakeDir));
  files.sort();
  const h = createHash('sha256');
  h.update(`format ${FORMAT}\0`);
  for (const file of files) {
    const fileHash = await hashFile(file);
    if (fileHash !== undefined) h.update(`${path.relative(flakeDir, file)}\0${fileHash}\0`);
  }
  return h.digest('hex');
}
