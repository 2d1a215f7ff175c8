/**
 * Path-info JSON read while nix is still writing it. Nix 2.8–2.18 print `nix path-info --json` entry by entry as
 * they query the store: on this machine the output of a 5,000-path closure takes ~50 ms to arrive, of 10,000
 * paths ~175 ms (bench/RESULTS.md). Its compact entries are read as each chunk arrives (compactPathInfo.ts), so
 * little is left to parse when nix exits.
 *
 * Only what the whole-text parser would read the same way is read early: ASCII text (so a chunk boundary never
 * splits a character) in Nix's compact array form, below the size from which parseClosureGraph takes its byte
 * scanner. Anything else, or anything the reader does not match, waits for the end and goes to parseClosureGraph on
 * all the bytes, which decides every result and every error.
 */
import { isAscii } from 'node:buffer';
import type { GraphFromJson } from './pathInfoGraph';
import { atEnd, CompactArrayReader } from './compactPathInfo';
import { GRAPH_SCANNER_MIN_LENGTH, graphOfParsed, parseClosureGraph } from './closureJson';

/** Text kept back for the next piece before the reader starts: `[{"path":"` and a long first path fit. */
const FIRST_PATH_MAX = 4096;

export class PathInfoStream {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;
  /** undefined: not started (the first path is not complete yet); null: given up, everything waits for the end. */
  private reader: CompactArrayReader | null | undefined;
  /** Text after the last piece read: the start of an entry whose end has not arrived. */
  private rest = '';
  /** Where the next piece starts in `rest` (1 before the first piece: the `[`). */
  private from = 1;
  private readBefore = 0;

  /**
   * `pieceLength`: the text a piece holds at least. Nix writes 4 KiB at a time; a piece per 64 KiB keeps the work
   * per piece (slices, the regular expression's setup) small next to the reading.
   */
  constructor(private readonly pieceLength = 64 * 1024) {}

  /** Entries read before `finish` (for tests: that reading overlaps nix's output). */
  get entriesReadEarly(): number {
    return this.readBefore;
  }

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.length += chunk.byteLength;
    if (this.reader === null) return;
    if (this.length >= GRAPH_SCANNER_MIN_LENGTH || !isAscii(chunk)) return this.giveUp();
    this.rest += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    if (this.reader === undefined) {
      this.reader = CompactArrayReader.at(this.rest);
      if (this.reader === undefined) {
        if (this.rest.length > FIRST_PATH_MAX || (this.rest.length > 0 && this.rest[0] !== '[')) this.giveUp();
        return;
      }
    }
    if (this.rest.length < this.pieceLength) return;
    const cut = this.rest.lastIndexOf(',{"path":"') + 1;
    if (cut <= this.from) return;
    const piece = this.rest.slice(0, cut);
    this.rest = this.rest.slice(cut);
    const stop = this.reader.read(piece, this.from);
    this.from = 0;
    if (stop !== piece.length || this.reader.ended) this.giveUp();
    else this.readBefore = this.reader.entries;
  }

  /**
   * The graph of everything pushed, from `rootPaths`: exactly `parseClosureGraph(<all the bytes>, source, rootPaths)`,
   * with the same errors.
   */
  finish(source: string, rootPaths: readonly string[] | undefined): GraphFromJson & { readonly notes: string[] } {
    if (this.reader) {
      const stop = this.reader.read(this.rest, this.from);
      if (stop >= 0 && this.reader.ended && atEnd(this.rest, stop)) {
        return graphOfParsed(this.reader.finish(source, { trustClosure: rootPaths !== undefined }), rootPaths);
      }
    }
    const bytes = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    return parseClosureGraph(bytes, source, rootPaths);
  }

  private giveUp(): void {
    this.reader = null;
    this.rest = '';
  }
}
