/**
 * Runs the analysis pipeline in a worker thread (dist/closureWorker.js), one worker per load: the extension host
 * only receives the finished arrays. Cancelling terminates the worker; it never outlives its load.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ClosureLensError } from '../errors';
import {
  loadCancelled,
  type AnalyseOptions,
  type AnalysedClosure,
  type ClosureAnalyser,
  type PipelineInput,
} from '../load/pipeline';
import { ByteFeed } from '../load/byteFeed';
import {
  chunkForTransfer,
  closureFromTransfer,
  errorFromTransfer,
  requestForTransfer,
  type WorkerMessage,
  type WorkerReply,
} from './messages';

export class WorkerAnalyser implements ClosureAnalyser {
  /** Workers started and not yet exited (for tests: none is left behind). */
  static running = 0;
  /** Workers that exited by themselves after answering (code 0), and workers stopped or crashed (any other code). */
  static readonly exits = { answered: 0, stopped: 0 };

  /** `script`: the bundled worker; by default closureWorker.js next to the bundle that runs this code. */
  constructor(readonly script: string = path.join(__dirname, 'closureWorker.js')) {}

  analyse(input: PipelineInput, opts: AnalyseOptions = {}): Promise<AnalysedClosure> {
    const { signal, onProgress } = opts;
    if (signal?.aborted) return Promise.reject(loadCancelled());
    return new Promise<AnalysedClosure>((resolve, reject) => {
      const worker = new Worker(this.script, { name: 'closure-lens analysis' });
      WorkerAnalyser.running++;
      let settled = false;
      let exited = false;
      const settle = (outcome: () => void, stop: boolean): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        outcome();
        if (stop) void worker.terminate();
        // An answered worker exits by itself; one that does not within a second is stopped.
        else setTimeout(() => exited || void worker.terminate(), 1000).unref();
      };
      const onAbort = (): void => settle(() => reject(loadCancelled()), true);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (reply: WorkerReply) => {
        switch (reply.type) {
          case 'progress':
            if (!settled) onProgress?.(reply.progress);
            return;
          case 'preview':
            if (!settled) opts.onPreview?.(reply.preview);
            return;
          case 'done':
            settle(() => resolve(closureFromTransfer(reply.closure)), false);
            return;
          case 'failed':
            settle(() => reject(errorFromTransfer(reply.error)), false);
            return;
        }
      });
      worker.on('error', (e) => settle(() => reject(workerFailed(this.script, e)), true));
      worker.on('exit', (code) => {
        exited = true;
        WorkerAnalyser.running--;
        if (code === 0) WorkerAnalyser.exits.answered++;
        else WorkerAnalyser.exits.stopped++;
        settle(
          () => reject(workerFailed(this.script, new Error(`it exited with code ${code} before answering`))),
          false,
        );
      });
      const { message, transfer } = requestForTransfer(input, opts.onPreview !== undefined);
      worker.postMessage(message, transfer);
      if (input.kind === 'path-info' && input.json instanceof ByteFeed) {
        // nix's output moves to the worker as it arrives; a failed nix call fails the load with its own error.
        const feed = input.json;
        void (async () => {
          try {
            for await (const chunk of feed) {
              if (settled) return;
              const c = chunkForTransfer(chunk);
              worker.postMessage(c.message, c.transfer);
            }
            if (!settled) worker.postMessage({ type: 'end' } satisfies WorkerMessage);
          } catch (e) {
            settle(() => reject(e), true);
          }
        })();
      }
    });
  }
}

/**
 * The worker itself broke. Out of memory (when node reports it rather than ending the process: a worker with tight
 * `resourceLimits` brought the whole test process down from a compiler thread, so it is not tested) means the closure
 * is more than this machine can analyse; anything else (its script missing) is a bug or a broken install.
 */
function workerFailed(script: string, e: Error): Error {
  if ((e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new ClosureLensError(
      'too-large',
      'the closure is too large to analyse here: the analysis ran out of memory',
      {
        fix: 'analyse a smaller closure (one package or one output instead of a whole system); the CLI can be given more memory with NODE_OPTIONS=--max-old-space-size=8192',
        cause: e,
      },
    );
  }
  return new Error(`the closure analysis worker (${script}) failed: ${e.message}`, { cause: e });
}
