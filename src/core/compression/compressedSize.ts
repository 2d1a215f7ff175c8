/**
 * Compressed closure size, as users size images (a zstd initrd, a zstd UKI, an xz ISO squashfs): each path's
 * NAR (`nix-store --dump`) runs through the system's `zstd` and `xz` (and node's gzip as a baseline), or the
 * sizes come from a binary cache's narinfo `FileSize`. Per-path results are cached: store paths never change.
 *
 * It is an estimate of an image's size: an image compresses its files as one stream, so matches across
 * store paths (and its own container format) make it differ a little from the sum of per-path NARs.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { ClosureLensError } from '../errors';

export type Codec = 'zstd' | 'xz' | 'gzip';
export const CODECS: readonly Codec[] = ['zstd', 'xz', 'gzip'];

/** The levels images use by default: mkinitrd-ng and UKIs use zstd -19, make-iso9660-image xz -6 (its default). */
export const DEFAULT_LEVELS: Readonly<Record<Codec, number>> = { zstd: 19, xz: 6, gzip: 9 };

export interface PathToCompress {
  readonly path: string;
  readonly narSize: number;
}

export interface CompressionProgress {
  readonly pathsDone: number;
  readonly pathsTotal: number;
  /** NAR bytes compressed so far (cached paths count as done). */
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface ClosureCompression {
  readonly narSize: number;
  /** Sum over paths of the compressed NAR size, per codec asked for. */
  readonly totals: Partial<Record<Codec, number>>;
  readonly perPath: ReadonlyMap<string, Partial<Record<Codec, number>>>;
  readonly levels: Readonly<Record<Codec, number>>;
  /** Paths answered from the cache without compressing. */
  readonly cachedPaths: number;
}

export interface EstimatorOptions {
  readonly codecs?: readonly Codec[];
  readonly levels?: Partial<Record<Codec, number>>;
  /** Paths compressed at once; each runs one `nix-store --dump` and one compressor per codec. */
  readonly concurrency?: number;
  /** A JSON file that keeps results between runs (created when missing). */
  readonly cacheFile?: string;
  /** Environment of the child processes (NIX_CONFIG, PATH). */
  readonly env?: NodeJS.ProcessEnv;
  /** Per path, all codecs together. */
  readonly timeoutMs?: number;
  /** The nix-store binary (default: `nix-store` on PATH); see `nixStoreBeside`. */
  readonly nixStorePath?: string;
}

/**
 * The nix-store that belongs to a configured nix binary: its sibling when there is one (also beside the file a
 * symlink points to, as in /nix/store/…-nix/bin), else `nix-store` on PATH (the nix may be a wrapper script).
 */
export function nixStoreBeside(nixPath: string): string {
  if (!path.isAbsolute(nixPath)) return 'nix-store';
  const candidates = [path.join(path.dirname(nixPath), 'nix-store')];
  try {
    candidates.push(path.join(path.dirname(fs.realpathSync(nixPath)), 'nix-store'));
  } catch {
    // A nix that does not exist fails later with its own message.
  }
  return candidates.find((c) => fs.existsSync(c)) ?? 'nix-store';
}

interface CacheFile {
  readonly version: 1;
  /** key: `<store path> <narSize> <codec>-<level>` → compressed bytes */
  readonly sizes: Record<string, number>;
}

export class CompressionEstimator {
  private readonly codecs: readonly Codec[];
  private readonly levels: Record<Codec, number>;
  private readonly concurrency: number;
  private readonly sizes = new Map<string, number>();
  private cacheLoaded = false;
  private dirty = false;

  constructor(private readonly options: EstimatorOptions = {}) {
    this.codecs = options.codecs ?? ['zstd', 'xz'];
    this.levels = { ...DEFAULT_LEVELS, ...options.levels };
    this.concurrency = Math.max(1, options.concurrency ?? Math.max(1, Math.floor(os.availableParallelism() / 2)));
  }

  private key(p: PathToCompress, codec: Codec): string {
    return `${p.path} ${p.narSize} ${codec}-${this.levels[codec]}`;
  }

  /** Compressed sizes of every path, with bounded concurrency; rejects with 'cancelled' when `signal` aborts. */
  async estimate(
    paths: readonly PathToCompress[],
    opts: { signal?: AbortSignal; onProgress?: (p: CompressionProgress) => void } = {},
  ): Promise<ClosureCompression> {
    this.loadCache();
    const bytesTotal = paths.reduce((s, p) => s + p.narSize, 0);
    let bytesDone = 0;
    let pathsDone = 0;
    let cachedPaths = 0;
    const perPath = new Map<string, Partial<Record<Codec, number>>>();
    const todo: PathToCompress[] = [];
    for (const p of paths) {
      const cached = this.cached(p);
      if (cached) {
        perPath.set(p.path, cached);
        cachedPaths++;
        pathsDone++;
        bytesDone += p.narSize;
      } else todo.push(p);
    }
    const report = () => opts.onProgress?.({ pathsDone, pathsTotal: paths.length, bytesDone, bytesTotal });
    report();
    // Biggest first, so one huge path does not start last and leave the other workers idle.
    todo.sort((a, b) => b.narSize - a.narSize);
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        if (opts.signal?.aborted) throw cancelled(opts.signal);
        const p = todo[next++]!;
        const sizes = await this.compressPath(p.path, p.narSize, opts.signal);
        for (const c of this.codecs) {
          this.sizes.set(this.key(p, c), sizes[c]!);
          this.dirty = true;
        }
        perPath.set(p.path, sizes);
        pathsDone++;
        bytesDone += p.narSize;
        report();
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.concurrency, todo.length) }, worker));
    } finally {
      this.saveCache();
    }
    const totals: Partial<Record<Codec, number>> = {};
    for (const c of this.codecs) {
      let s = 0;
      for (const p of paths) s += perPath.get(p.path)![c]!;
      totals[c] = s;
    }
    return { narSize: bytesTotal, totals, perPath, levels: { ...this.levels }, cachedPaths };
  }

  private cached(p: PathToCompress): Partial<Record<Codec, number>> | undefined {
    const out: Partial<Record<Codec, number>> = {};
    for (const c of this.codecs) {
      const v = this.sizes.get(this.key(p, c));
      if (v === undefined) return undefined;
      out[c] = v;
    }
    return out;
  }

  /**
   * One `nix-store --dump`, teed into one compressor per codec; only the byte counts are kept.
   * `narSize`, when known, tells zstd the input size, so its output is the same as compressing the NAR as a
   * file (a size in the frame header) and does not depend on how the pipe happens to chunk the stream.
   */
  async compressPath(
    storePath: string,
    narSize?: number,
    signal?: AbortSignal,
  ): Promise<Partial<Record<Codec, number>>> {
    const common = {
      cancelSignal: signal,
      timeout: this.options.timeoutMs ?? 30 * 60_000,
      env: this.options.env,
      forceKillAfterDelay: 2000,
    } as const;
    const dump = execa(this.options.nixStorePath ?? 'nix-store', ['--dump', storePath], {
      ...common,
      stdin: 'ignore',
      buffer: { stdout: false },
    });
    const counts: Promise<number>[] = [];
    const children: Promise<unknown>[] = [dump];
    for (const codec of this.codecs) {
      if (codec === 'gzip') {
        const gz = zlib.createGzip({ level: this.levels.gzip });
        dump.stdout.pipe(gz);
        counts.push(countBytes(gz));
        continue;
      }
      // The plain command lines an image build runs, so sizes match what users see.
      const args = [`-${this.levels[codec]}`, '-c'];
      if (codec === 'zstd' && narSize !== undefined) args.push(`--stream-size=${narSize}`);
      const child = execa(codec, args, { ...common, stdin: 'pipe', buffer: { stdout: false } });
      // A compressor that dies early (missing, killed) fails through its own promise, not as an EPIPE here.
      child.stdin.on('error', () => {});
      dump.stdout.pipe(child.stdin);
      counts.push(countBytes(child.stdout));
      children.push(child);
    }
    try {
      const [, sizes] = await Promise.all([Promise.all(children), Promise.all(counts)]);
      const out: Partial<Record<Codec, number>> = {};
      this.codecs.forEach((c, i) => (out[c] = sizes[i]!));
      return out;
    } catch (e) {
      for (const c of children) (c as { kill?: () => boolean }).kill?.();
      throw compressionError(e, storePath, signal);
    }
  }

  private loadCache(): void {
    if (this.cacheLoaded || !this.options.cacheFile) return;
    this.cacheLoaded = true;
    try {
      const data = JSON.parse(fs.readFileSync(this.options.cacheFile, 'utf8')) as CacheFile;
      if (data.version === 1)
        for (const [k, v] of Object.entries(data.sizes)) if (typeof v === 'number') this.sizes.set(k, v);
    } catch {
      // A missing or damaged cache only costs time: it is rebuilt.
    }
  }

  private saveCache(): void {
    if (!this.options.cacheFile || !this.dirty) return;
    const file = this.options.cacheFile;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const data: CacheFile = { version: 1, sizes: Object.fromEntries(this.sizes) };
    fs.writeFileSync(tmp, JSON.stringify(data));
    fs.renameSync(tmp, file);
    this.dirty = false;
  }
}

function countBytes(stream: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    stream.on('data', (chunk: Buffer) => (n += chunk.length));
    stream.on('end', () => resolve(n));
    stream.on('error', reject);
  });
}

function cancelled(signal: AbortSignal | undefined): ClosureLensError {
  return new ClosureLensError('cancelled', 'the compressed-size estimate was cancelled', {
    cause: signal?.reason,
    fix: 'run it again when you need it; finished paths are cached',
  });
}

function compressionError(e: unknown, storePath: string, signal: AbortSignal | undefined): ClosureLensError {
  const err = e as {
    code?: string;
    isCanceled?: boolean;
    timedOut?: boolean;
    command?: string;
    stderr?: string;
    shortMessage?: string;
  };
  if (err.isCanceled || signal?.aborted) return cancelled(signal);
  if (err.code === 'ENOENT') {
    const tool = (err.command ?? '').split(' ')[0] || 'a compressor';
    return new ClosureLensError('tool-not-found', `${tool} is not installed or not on PATH`, {
      cause: e,
      fix: `install ${tool === 'nix-store' ? 'Nix' : tool} (e.g. \`apt install ${tool === 'nix-store' ? 'nix-bin' : tool}\`), or estimate with gzip only`,
    });
  }
  if (err.timedOut) {
    return new ClosureLensError('timeout', `compressing ${storePath} timed out`, {
      cause: e,
      fix: 'lower the compression level or raise the timeout; finished paths are cached',
    });
  }
  const stderr = (err.stderr ?? '').trim();
  if (/is not valid|does not exist|No such file/.test(stderr)) {
    return new ClosureLensError('invalid-path', `${storePath} is not in the Nix store, so it cannot be compressed`, {
      cause: e,
      detail: stderr,
      fix: 'build the closure first (`nix build`), or read sizes from a binary cache that has it',
    });
  }
  return new ClosureLensError(
    'nix-failed',
    `compressing ${storePath} failed: ${stderr.split('\n').pop() || err.shortMessage || String(e)}`,
    {
      cause: e,
      detail: stderr,
      fix: 'run `nix-store --dump <path> | zstd -19 -c | wc -c` in a terminal to see what fails',
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Binary caches: narinfo FileSize

export interface NarInfo {
  readonly storePath: string;
  readonly url: string;
  /** `xz`, `zstd`, `bzip2`, `br`, `none`. */
  readonly compression: string;
  readonly fileSize?: number;
  readonly narSize: number;
  readonly narHash: string;
  /** Base names, as narinfo files list them. */
  readonly references: readonly string[];
}

/** One narinfo document (`Key: value` lines). Throws on a document without StorePath, URL or NarSize. */
export function parseNarinfo(text: string): NarInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2).trim());
    else if (line.endsWith(':')) fields.set(line.slice(0, -1), '');
  }
  const storePath = fields.get('StorePath');
  const url = fields.get('URL');
  const narSize = Number(fields.get('NarSize'));
  if (!storePath || !url || !Number.isFinite(narSize)) {
    throw new ClosureLensError('malformed-json', 'a narinfo lacks StorePath, URL or NarSize', {
      detail: text.slice(0, 500),
      fix: 'check the binary cache URL: it should answer <hash>.narinfo with Nix narinfo documents',
    });
  }
  const fileSize = fields.has('FileSize') ? Number(fields.get('FileSize')) : undefined;
  const refs = fields.get('References') ?? '';
  return {
    storePath,
    url,
    // Nix writes no Compression line for bzip2, its historical default.
    compression: fields.get('Compression') ?? 'bzip2',
    ...(fileSize !== undefined && Number.isFinite(fileSize) ? { fileSize } : {}),
    narSize,
    narHash: fields.get('NarHash') ?? '',
    references: refs === '' ? [] : refs.split(' '),
  };
}

export interface CacheSizes {
  /** FileSize summed over the paths the cache has. */
  readonly fileSize: number;
  /** NAR size of those same paths. */
  readonly narSize: number;
  /** Compression methods seen, with their path counts (a cache can mix xz and zstd over the years). */
  readonly compressions: ReadonlyMap<string, number>;
  readonly perPath: ReadonlyMap<string, NarInfo>;
  /** Paths the cache does not have (or has without FileSize). */
  readonly missing: readonly string[];
}

/**
 * FileSize of each path from a binary cache: `https://cache.example.org`, or `file:///dir` for a cache made
 * with `nix copy --to file:///dir`. Bounded concurrency; cancellable.
 */
export async function narinfoSizes(
  cacheUrl: string,
  storePaths: readonly string[],
  opts: { signal?: AbortSignal; concurrency?: number; timeoutMs?: number } = {},
): Promise<CacheSizes> {
  const base = cacheUrl.replace(/\/+$/, '');
  const perPath = new Map<string, NarInfo>();
  const missing: string[] = [];
  let next = 0;
  const fetchOne = async (storePath: string): Promise<string | undefined> => {
    const hash = path.basename(storePath).slice(0, 32);
    if (base.startsWith('file://')) {
      const file = path.join(new URL(base).pathname, `${hash}.narinfo`);
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    }
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 30_000), ...(opts.signal ? [opts.signal] : [])];
    let res: Response;
    try {
      res = await fetch(`${base}/${hash}.narinfo`, { signal: AbortSignal.any(signals) });
    } catch (e) {
      if (opts.signal?.aborted) throw cancelled(opts.signal);
      throw new ClosureLensError(
        'store-unavailable',
        `the binary cache ${base} cannot be reached: ${(e as Error).message}`,
        {
          cause: e,
          fix: 'check the URL and the network, or estimate by compressing the local NARs instead',
        },
      );
    }
    if (res.status === 404) return undefined;
    if (!res.ok) {
      throw new ClosureLensError(
        'store-unavailable',
        `the binary cache ${base} answered ${res.status} ${res.statusText}`,
        {
          fix: 'check the URL (it should be the cache root, where nix-cache-info lives)',
        },
      );
    }
    return res.text();
  };
  const worker = async () => {
    while (next < storePaths.length) {
      if (opts.signal?.aborted) throw cancelled(opts.signal);
      const p = storePaths[next++]!;
      const text = await fetchOne(p);
      const info = text === undefined ? undefined : parseNarinfo(text);
      if (info && info.fileSize !== undefined) perPath.set(p, info);
      else missing.push(p);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 16, storePaths.length) }, worker));
  let fileSize = 0;
  let narSize = 0;
  const compressions = new Map<string, number>();
  for (const info of perPath.values()) {
    fileSize += info.fileSize!;
    narSize += info.narSize;
    compressions.set(info.compression, (compressions.get(info.compression) ?? 0) + 1);
  }
  return { fileSize, narSize, compressions, perPath, missing };
}
