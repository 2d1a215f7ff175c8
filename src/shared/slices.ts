/**
 * Long synchronous work cut into slices, so that the extension host's event loop (which every extension and the
 * editor's language features share) never stalls for long. Work is written as a generator that `yield`s between
 * chunks of a few milliseconds each; `runToEnd` runs it at once (CLI, tests), `runInSlices` runs it from one
 * shared scheduler that spends at most SLICE_MS per event-loop turn on all such jobs together, then yields
 * (eventLoop.ts: a zero timeout) so timers, I/O, messages and input get their turn. Jobs take turns
 * round-robin. No `vscode` import: the bench and the webview use it too.
 */
import { afterTurn } from './eventLoop';

/** Work that pauses between chunks: each `yield` is a point where the event loop may run. */
export type Steps<T> = Generator<void, T, void>;

/** Time spent on sliced work per event-loop turn, across all jobs. Well under the 100 ms a user notices. */
export const SLICE_MS = 20;

/** Runs sliced work without pausing. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

interface Job {
  readonly steps: Steps<unknown>;
  readonly signal: AbortSignal | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const queue: Job[] = [];
let scheduled = false;

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? Object.assign(new Error('cancelled'), { name: 'AbortError' });
}

function pump(): void {
  scheduled = false;
  const end = performance.now() + SLICE_MS;
  while (queue.length > 0) {
    const job = queue[0]!;
    let finished = false;
    try {
      do {
        if (job.signal?.aborted) throw abortError(job.signal);
        const r = job.steps.next();
        if (r.done) {
          finished = true;
          job.resolve(r.value);
        }
      } while (!finished && performance.now() < end);
    } catch (e) {
      finished = true;
      job.reject(e);
    }
    queue.shift();
    if (!finished) queue.push(job); // its turn is over: the next job goes first next time
    if (performance.now() >= end) break;
  }
  if (queue.length > 0) {
    scheduled = true;
    afterTurn(pump);
  }
}

/**
 * Runs sliced work in the background: at most SLICE_MS of all sliced work per event-loop turn. Rejects with the
 * signal's reason when it is aborted (the generator is then dropped between two chunks).
 */
export function runInSlices<T>(steps: Steps<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(abortError(options.signal));
      return;
    }
    queue.push({ steps, signal: options.signal, resolve: resolve as (v: unknown) => void, reject });
    if (!scheduled) {
      scheduled = true;
      afterTurn(pump);
    }
  });
}
