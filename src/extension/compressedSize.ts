/**
 * "Estimate compressed size": the shown closure's NARs through zstd -19 and xz -6 (core/compression.ts), shown
 * beside the NAR size. Cancellable, and cached per store path on disk, so a second run is instant.
 */
import * as vscode from 'vscode';
import type { ClosureAnalysis } from '../core/analysis/closure';
import {
  CompressionEstimator,
  nixStoreBeside,
  type ClosureCompression,
  type Codec,
  type PathToCompress,
} from '../core/compression/compressedSize';
import { isClosureLensError } from '../core/errors';
import { formatBytes, type SizeStyle } from '../shared/format';
import { Disposable } from './disposables';

export const COMPRESSED_SIZE_COMMAND = 'nixClosureLens.compressedSize';

export interface CompressedSizeDeps {
  /** The closure shown now. */
  readonly current: () =>
    { readonly title: string; readonly rootPath: string; readonly analysis: ClosureAnalysis } | undefined;
  /** Where per-path results are kept between sessions (a JSON file in global storage). */
  readonly cacheFile: string;
  readonly sizeStyle?: () => SizeStyle;
  /** The nix binary from the settings; nix-store is taken from beside it. */
  readonly nixPath?: () => string;
}

export class CompressedSizeCommand extends Disposable {
  private estimator: { key: string; estimator: CompressionEstimator } | undefined;
  private readonly results = this.register(
    new vscode.EventEmitter<{ title: string; rootPath: string; result: ClosureCompression }>(),
  );
  /** Fires with each finished estimate (for a status bar or the sunburst's header). */
  readonly onDidEstimate = this.results.event;

  constructor(private readonly deps: CompressedSizeDeps) {
    super();
    this.register(vscode.commands.registerCommand(COMPRESSED_SIZE_COMMAND, () => this.run()));
  }

  private estimatorFor(nixStorePath: string): CompressionEstimator {
    if (this.estimator?.key !== nixStorePath) {
      this.estimator = {
        key: nixStorePath,
        estimator: new CompressionEstimator({ codecs: ['zstd', 'xz'], cacheFile: this.deps.cacheFile, nixStorePath }),
      };
    }
    return this.estimator.estimator;
  }

  /** The summary line, or undefined when cancelled or nothing is shown. */
  async run(): Promise<string | undefined> {
    const shown = this.deps.current();
    if (!shown) {
      void vscode.window.showInformationMessage(
        'Nix Closure Lens: show a closure first, then estimate its compressed size.',
      );
      return undefined;
    }
    const g = shown.analysis.graph;
    const paths: PathToCompress[] = [];
    for (let i = 0; i < g.nodeCount; i++)
      if (!g.isVirtual(i)) paths.push({ path: g.paths[i]!, narSize: g.narSize[i]! });
    const style = this.deps.sizeStyle?.() ?? 'iec';
    const fmt = (n: number) => formatBytes(n, style);
    try {
      const result = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Compressing ${shown.title} (zstd -19, xz -6)`,
          cancellable: true,
        },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          let last = 0;
          try {
            return await this.estimatorFor(nixStoreBeside(this.deps.nixPath?.() ?? 'nix')).estimate(paths, {
              signal: abort.signal,
              onProgress: (p) => {
                const pct = p.bytesTotal > 0 ? (100 * p.bytesDone) / p.bytesTotal : 100;
                progress.report({
                  increment: pct - last,
                  message: `${p.pathsDone}/${p.pathsTotal} paths, ${fmt(p.bytesDone)} of ${fmt(p.bytesTotal)}`,
                });
                last = pct;
              },
            });
          } finally {
            sub.dispose();
          }
        },
      );
      const line = summaryLine(result, fmt);
      this.results.fire({ title: shown.title, rootPath: shown.rootPath, result });
      void vscode.window.showInformationMessage(`${shown.title}: ${line}`, 'Copy').then((b) => {
        if (b === 'Copy') void vscode.env.clipboard.writeText(`${shown.title}: ${line}`);
      });
      return line;
    } catch (err) {
      if (isClosureLensError(err, 'cancelled')) return undefined;
      console.error('Nix Closure Lens: the compressed-size estimate failed', err);
      const message = isClosureLensError(err) ? `${err.message}. ${err.fix}` : String(err);
      void vscode.window.showErrorMessage(`Nix Closure Lens: ${message}`);
      return undefined;
    }
  }
}

/** `NAR 1.2 GiB · zstd -19 ≈ 400.0 MiB (33%) · xz -6 ≈ 350.0 MiB (29%)` */
export function summaryLine(r: ClosureCompression, fmt: (n: number) => string): string {
  const parts = [`NAR ${fmt(r.narSize)}`];
  for (const c of ['zstd', 'xz', 'gzip'] as Codec[]) {
    const v = r.totals[c];
    if (v === undefined) continue;
    const pct = r.narSize > 0 ? Math.round((100 * v) / r.narSize) : 0;
    parts.push(`${c} -${r.levels[c]} ≈ ${fmt(v)} (${pct}%)`);
  }
  return parts.join(' · ');
}
