/**
 * Finds store-path hashes in one file, streaming it in chunks: a 100 MB file never sits in memory, a hash that
 * straddles two chunks is still found, and the 32 bytes around a hit (what Nix prints) are kept across chunks.
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes shown on each side of a hit, as `nix why-depends --precise` shows them. */
export const SNIPPET_MARGIN = 32;
const HASH_LENGTH = 32;

export interface RawHit {
  /** Index into the `hashes` given to scanFile. */
  readonly hashIndex: number;
  /** Byte offset of the hash in the file. */
  readonly offset: number;
  /** Up to SNIPPET_MARGIN bytes before the hash and after it (fewer at the start and end of the file). */
  readonly before: Buffer;
  readonly after: Buffer;
}

export interface ScanOptions {
  /** Report every occurrence; by default the first one of each hash, and reading stops once each was found. */
  readonly allHits?: boolean;
  readonly chunkSize?: number;
  readonly signal?: AbortSignal | undefined;
}

export const DEFAULT_CHUNK_SIZE = 1 << 20;

/**
 * Scans an open file of `size` bytes for `hashes` (32-byte ASCII buffers). Hits come in file order per hash.
 * Between chunks it checks `signal` and throws its reason when aborted.
 */
export async function scanFile(
  file: FileHandle,
  size: number,
  hashes: readonly Buffer[],
  options: ScanOptions = {},
): Promise<RawHit[]> {
  const chunk = Math.max(options.chunkSize ?? DEFAULT_CHUNK_SIZE, 4 * HASH_LENGTH);
  // What is kept from one window to the next: the bytes before the first unfinished position, plus a hash
  // and its trailing margin that might still be cut by the chunk end.
  const keep = SNIPPET_MARGIN + HASH_LENGTH + SNIPPET_MARGIN;
  const buf = Buffer.allocUnsafe(Math.min(chunk, size) + keep);
  const hits: RawHit[] = [];
  const active = hashes.map(() => true);
  let activeCount = hashes.length;
  /** File offset of buf[0]. */
  let windowStart = 0;
  let len = 0;
  /** Hash positions before this index of buf were searched already. */
  let searchFrom = 0;
  while (activeCount > 0) {
    options.signal?.throwIfAborted();
    const want = Math.min(buf.length - len, size - (windowStart + len));
    if (want > 0) {
      const { bytesRead } = await file.read(buf, len, want, windowStart + len);
      if (bytesRead === 0) break; // the file shrank under us: scan what we have
      len += bytesRead;
    }
    const eof = windowStart + len >= size;
    // A hit at p is finished when its trailing margin is in the window too (or the file ends there).
    const searchEnd = eof ? len - HASH_LENGTH + 1 : len - HASH_LENGTH - SNIPPET_MARGIN + 1;
    const view = buf.subarray(0, len);
    for (let h = 0; h < hashes.length; h++) {
      if (!active[h]) continue;
      for (let p = view.indexOf(hashes[h]!, searchFrom); p >= 0 && p < searchEnd; p = view.indexOf(hashes[h]!, p + 1)) {
        hits.push({
          hashIndex: h,
          offset: windowStart + p,
          before: Buffer.from(buf.subarray(Math.max(0, p - SNIPPET_MARGIN), p)),
          after: Buffer.from(buf.subarray(p + HASH_LENGTH, Math.min(len, p + HASH_LENGTH + SNIPPET_MARGIN))),
        });
        if (!options.allHits) {
          active[h] = false;
          activeCount--;
          break;
        }
      }
    }
    if (eof) break;
    // Slide: keep the margin before the first unsearched position and everything after it.
    const keepFrom = Math.max(0, searchEnd - SNIPPET_MARGIN);
    buf.copyWithin(0, keepFrom, len);
    windowStart += keepFrom;
    len -= keepFrom;
    searchFrom = Math.max(0, searchEnd - keepFrom);
  }
  return hits.sort((a, b) => a.hashIndex - b.hashIndex || a.offset - b.offset);
}
