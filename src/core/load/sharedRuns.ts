/**
 * Loads and builds that are in flight, by key: a second caller of the same key joins the first run instead of
 * starting nix again, gets its progress too, and the run is cancelled only when every caller has cancelled.
 */
import { loadCancelled } from './pipeline';

interface Shared<T, P> {
  controller: AbortController;
  listeners: Set<(p: P) => void>;
  waiters: number;
  promise: Promise<T>;
}

export class SharedRuns {
  private readonly runs = new Map<string, Shared<unknown, unknown>>();

  /**
   * Runs `start` once per key while it is in flight; every caller gets its result and its progress.
   * The run is cancelled only when every caller has cancelled.
   */
  run<T, P>(
    key: string,
    opts: { signal?: AbortSignal; onProgress?: (p: P) => void },
    start: (signal: AbortSignal, emit: (p: P) => void) => Promise<T>,
  ): Promise<T> {
    if (opts.signal?.aborted) return Promise.reject(loadCancelled());
    let entry = this.runs.get(key) as Shared<T, P> | undefined;
    if (!entry) {
      const controller = new AbortController();
      const listeners = new Set<(p: P) => void>();
      const emit = (p: P): void => {
        for (const l of listeners) {
          try {
            l(p);
          } catch {
            // A failing progress callback must not break the load.
          }
        }
      };
      const created: Shared<T, P> = { controller, listeners, waiters: 0, promise: Promise.resolve() as Promise<T> };
      created.promise = start(controller.signal, emit).finally(() => {
        if (this.runs.get(key) === created) this.runs.delete(key);
      });
      // Unobserved rejections are reported to each waiter; this one only keeps Node quiet.
      created.promise.catch(() => undefined);
      this.runs.set(key, created as Shared<unknown, unknown>);
      entry = created;
    }
    const shared = entry;
    shared.waiters++;
    if (opts.onProgress) shared.listeners.add(opts.onProgress);
    return new Promise<T>((resolve, reject) => {
      const leave = (): void => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (opts.onProgress) shared.listeners.delete(opts.onProgress);
      };
      const onAbort = (): void => {
        leave();
        shared.waiters--;
        if (shared.waiters === 0) {
          // Nobody wants it any more: stop nix, and let the next caller start afresh.
          if (this.runs.get(key) === shared) this.runs.delete(key);
          shared.controller.abort();
        }
        reject(loadCancelled());
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      shared.promise.then(
        (v) => {
          leave();
          resolve(v);
        },
        (e: unknown) => {
          leave();
          reject(e);
        },
      );
    });
  }
}
