/** `closure-lens compressed <target>`: the estimated zstd/xz size of a closure, or its size in a binary cache. */
import * as path from 'node:path';
import { CODECS, CompressionEstimator, narinfoSizes, type Codec } from '../../core/compression/compressedSize';
import { formatBytes, renderTable } from '../../shared/format';
import { parseStorePath } from '../../shared/storePath';
import { parseCommandArgs, usageError, wholeNumber } from '../args';
import { loadBuilt, type CliContext, type Subcommand } from '../context';
import { OUTPUT_VERSION, type CompressedFromCacheJson, type CompressedJson } from '../outputs';
import { resolveCliOperand } from '../targets';

export const COMPRESSED_USAGE = `closure-lens compressed <target> [--codec zstd,xz,gzip] [--zstd-level N] [--xz-level N]
                        [--binary-cache URL] [--top N] [--json]

Estimates the compressed size of a closure, as images are sized (a zstd initrd or UKI, an xz ISO):
each store path's NAR (nix-store --dump) goes through the system zstd and xz (gzip: node's zlib).
Results are cached per store path in compressed-sizes.json in the cache directory (--cache-dir; none
with --no-cache).
  <target>              an installable (.#name), a store path, or a link into the store (./result)
  --codec LIST          codecs to run (default zstd,xz)
  --zstd-level N        default 19; --xz-level N default 6; --gzip-level N default 9
  --binary-cache URL    read narinfo FileSize from a binary cache (https://… or file:///…) instead
  --concurrency N       paths compressed at once (default: half the CPUs)
  --top N               list the N paths that weigh most compressed (default 10)
  --json                print {"version", "narSize", "totals", "levels", "paths": [...]}
`;

/** The per-store-path size cache, in the CLI's cache directory; none with --no-cache. */
export function sizeCacheOpt(ctx: Pick<CliContext, 'cacheDir'>): { cacheFile?: string } {
  return ctx.cacheDir ? { cacheFile: path.join(ctx.cacheDir, 'compressed-sizes.json') } : {};
}

export async function runCompressedCommand(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, COMPRESSED_USAGE, {
    codec: { type: 'string' },
    'zstd-level': { type: 'string' },
    'xz-level': { type: 'string' },
    'gzip-level': { type: 'string' },
    'binary-cache': { type: 'string' },
    concurrency: { type: 'string' },
    top: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    ctx.stdout(COMPRESSED_USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw usageError(`compressed takes one target, got ${positionals.length}`, COMPRESSED_USAGE);
  const codecs = (values.codec ?? 'zstd,xz').split(',').map((c) => c.trim()) as Codec[];
  for (const c of codecs) {
    if (!CODECS.includes(c))
      throw usageError(`unknown codec '${c}'; the codecs are ${CODECS.join(', ')}`, COMPRESSED_USAGE);
  }
  const top = wholeNumber(values.top, '--top') ?? 10;
  const operand = resolveCliOperand(positionals[0]!, ctx.cwd);
  const loaded = await loadBuilt(operand.target, ctx);
  const g = loaded.analysis.graph;
  const paths: { path: string; narSize: number }[] = [];
  for (let i = 0; i < g.nodeCount; i++) if (!g.isVirtual(i)) paths.push({ path: g.paths[i]!, narSize: g.narSize[i]! });
  const narSize = paths.reduce((s, p) => s + p.narSize, 0);

  if (values['binary-cache'] !== undefined) {
    const sizes = await narinfoSizes(
      values['binary-cache'],
      paths.map((p) => p.path),
      ctx.signal ? { signal: ctx.signal } : {},
    );
    if (values.json) {
      const out: CompressedFromCacheJson = {
        version: OUTPUT_VERSION,
        narSize,
        cache: values['binary-cache'],
        fileSize: sizes.fileSize,
        cachedNarSize: sizes.narSize,
        compressions: Object.fromEntries(sizes.compressions),
        missing: [...sizes.missing],
      };
      ctx.stdout(JSON.stringify(out, null, 2) + '\n');
    } else {
      const methods = [...sizes.compressions].map(([c, n]) => `${c} ×${n}`).join(', ') || 'none';
      ctx.stdout(`${operand.label}: ${paths.length} paths, NAR size ${formatBytes(narSize)}\n`);
      ctx.stdout(
        `In ${values['binary-cache']}: ${sizes.perPath.size} paths, ${formatBytes(sizes.fileSize)} compressed (${methods}) for ${formatBytes(sizes.narSize)} of NAR\n`,
      );
      if (sizes.missing.length > 0)
        ctx.stdout(
          `Not in the cache: ${sizes.missing.length} paths (${sizes.missing
            .slice(0, 3)
            .map((p) => parseStorePath(p).name)
            .join(', ')}${sizes.missing.length > 3 ? ', …' : ''})\n`,
        );
    }
    return 0;
  }

  const levels: Partial<Record<Codec, number>> = {};
  const zl = wholeNumber(values['zstd-level'], '--zstd-level', 1);
  const xl = wholeNumber(values['xz-level'], '--xz-level');
  const gl = wholeNumber(values['gzip-level'], '--gzip-level', 1);
  if (zl !== undefined) levels.zstd = zl;
  if (xl !== undefined) levels.xz = xl;
  if (gl !== undefined) levels.gzip = gl;
  const concurrency = wholeNumber(values.concurrency, '--concurrency', 1);
  const estimator = new CompressionEstimator({
    codecs,
    levels,
    ...sizeCacheOpt(ctx),
    ...(concurrency ? { concurrency } : {}),
  });
  const result = await estimator.estimate(paths, ctx.signal ? { signal: ctx.signal } : {});
  const ranked = [...paths].sort(
    (a, b) => result.perPath.get(b.path)![codecs[0]!]! - result.perPath.get(a.path)![codecs[0]!]!,
  );
  if (values.json) {
    const out: CompressedJson = {
      version: OUTPUT_VERSION,
      root: loaded.rootPath,
      narSize,
      totals: result.totals,
      levels: Object.fromEntries(codecs.map((c) => [c, result.levels[c]])),
      paths: ranked.map((p) => ({ path: p.path, narSize: p.narSize, ...result.perPath.get(p.path) })),
    };
    ctx.stdout(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  const pct = (n: number) => (narSize > 0 ? `${((100 * n) / narSize).toFixed(1)}%` : '');
  const rows = [
    ['NAR size', formatBytes(narSize), ''],
    ...codecs.map((c) => [`${c} -${result.levels[c]}`, `≈ ${formatBytes(result.totals[c]!)}`, pct(result.totals[c]!)]),
  ];
  ctx.stdout(
    `${operand.label}: ${paths.length} paths (compressed per store path; ${result.cachedPaths} from the cache)\n`,
  );
  ctx.stdout(renderTable(rows, ['left', 'right', 'right']).join('\n') + '\n');
  if (top > 0) {
    ctx.stdout(`\nHeaviest after ${codecs[0]} compression:\n`);
    const tableRows = ranked
      .slice(0, top)
      .map((p) => [
        parseStorePath(p.path).name,
        formatBytes(p.narSize),
        ...codecs.map((c) => formatBytes(result.perPath.get(p.path)![c]!)),
      ]);
    ctx.stdout(
      renderTable([['path', 'NAR', ...codecs], ...tableRows], ['left', 'right', ...codecs.map(() => 'right' as const)])
        .map((l) => `  ${l}`)
        .join('\n') + '\n',
    );
  }
  return 0;
}

export const compressedCommand: Subcommand = {
  summary: 'estimated zstd/xz size of a closure (per-path NARs, or a binary cache)',
  usage: COMPRESSED_USAGE,
  run: runCompressedCommand,
};
