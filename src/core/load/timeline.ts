/**
 * Where the time of one load goes: named marks in milliseconds since the load began (nix started, its first and
 * last byte, parsed, analysed, cached). The extension adds its own (panel, posted, painted) and logs one line per
 * load, so a slow first draw can be read off the log instead of guessed at.
 */
export interface TimelineMark {
  readonly name: string;
  /** Milliseconds since the load began. */
  readonly ms: number;
}

export class LoadTimeline {
  private readonly start = performance.now();
  private readonly list: TimelineMark[] = [];

  mark(name: string): void {
    this.list.push({ name, ms: performance.now() - this.start });
  }

  /** Marks the first call only (e.g. nix's first byte among many chunks). */
  markOnce(name: string): void {
    if (!this.list.some((m) => m.name === name)) this.mark(name);
  }

  get marks(): readonly TimelineMark[] {
    return this.list;
  }
}
