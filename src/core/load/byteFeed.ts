/**
 * Bytes handed over as a process writes them: nix's stdout goes to the analysis (in this thread or a worker) while
 * nix still runs, so the parse overlaps nix's own output. One producer (push, then end or fail) and one reader
 * (`for await`); the reader gets every chunk in order, then the end, or throws what the producer failed with (a
 * failed nix call: its partial output must not be read as a closure, so queued chunks are dropped).
 */
export class ByteFeed implements AsyncIterable<Uint8Array> {
  private queue: Uint8Array[] = [];
  private ended = false;
  private failure: { readonly error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private read = false;

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('ByteFeed: push after the end');
    this.queue.push(chunk);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Ends the feed with `error`; a feed that ended already keeps its end. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.ended = true;
    this.queue = [];
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.read) throw new Error('ByteFeed: read twice');
    this.read = true;
    for (;;) {
      if (this.failure) throw this.failure.error;
      if (this.queue.length > 0) {
        const ready = this.queue;
        this.queue = [];
        yield* ready;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
