/**
 * The closure worker (bundled as dist/closureWorker.js): runs the analysis pipeline for one load off the host's
 * thread, reports its progress, sends the result's arrays back as transferables, and exits.
 */
import { parentPort } from 'node:worker_threads';
import { ByteFeed } from '../load/byteFeed';
import { closurePipeline, type PipelineInput } from '../load/pipeline';
import {
  closureForTransfer,
  errorForTransfer,
  type WorkerMessage,
  type WorkerReply,
  type WorkerRequest,
} from './messages';

const port = parentPort;
if (!port) throw new Error('closureWorker.js runs as a worker thread (see analyseInWorker.ts)');

// The worker runs at the normal priority. It ran at nice 10 (a per-thread value on Linux) so that the host's thread
// would get the CPU first; but in VS Code the first load is the one thing the user waits for, and on a busy machine
// (nix, the workbench and a new webview all start at Enter) a niced worker gets the CPU last: in real VS Code at
// 10,000 paths the work after nix took 0.42 s niced (bench/RESULTS.md, issue 17). The host's stalls stay measured in
// the load section of the bench.

// One request per worker: once it is answered, nothing keeps the thread alive and it exits.
port.once('message', (request: WorkerRequest) => {
  const input = request.input;
  if (!request.fed || input.kind !== 'path-info') return void answer(input, request.preview);
  const feed = new ByteFeed();
  const onMessage = (m: WorkerMessage): void => {
    if (m.type === 'chunk') feed.push(m.bytes);
    else if (m.type === 'end') {
      port.off('message', onMessage);
      feed.end();
    }
  };
  port.on('message', onMessage);
  void answer({ ...input, json: feed }, request.preview);
});

async function answer(input: PipelineInput, preview: boolean): Promise<void> {
  const reply = (r: WorkerReply, transfer: ArrayBuffer[] = []): void => port!.postMessage(r, transfer);
  try {
    const steps = closurePipeline(input, preview ? { onPreview: (p) => reply({ type: 'preview', preview: p }) } : {});
    for (;;) {
      const step = await steps.next();
      if (step.done) {
        const { message, transfer } = closureForTransfer(step.value);
        reply({ type: 'done', closure: message }, transfer);
        return;
      }
      if (step.value) reply({ type: 'progress', progress: step.value });
    }
  } catch (e) {
    reply({ type: 'failed', error: errorForTransfer(e) });
  }
}
