/**
 * The closure worker (bundled as dist/closureWorker.js): runs the analysis pipeline for one load off the host's
 * thread, reports its progress, sends the result's arrays back as transferables, and exits.
 */
import * as os from 'node:os';
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

// Background work: on Linux the nice value is per thread, so this lowers only this thread's priority, and the host's
// thread (the editor's extensions, on a machine whose cores are busy) gets the CPU first when it needs it.
try {
  os.setPriority(os.constants.priority.PRIORITY_BELOW_NORMAL);
} catch {
  // not permitted here: run at the normal priority
}

// One request per worker: once it is answered, nothing keeps the thread alive and it exits.
port.once('message', (request: WorkerRequest) => {
  const input = request.input;
  if (!request.fed || input.kind !== 'path-info') return void answer(input);
  const feed = new ByteFeed();
  const onMessage = (m: WorkerMessage): void => {
    if (m.type === 'chunk') feed.push(m.bytes);
    else if (m.type === 'end') {
      port.off('message', onMessage);
      feed.end();
    }
  };
  port.on('message', onMessage);
  void answer({ ...input, json: feed });
});

async function answer(input: PipelineInput): Promise<void> {
  const reply = (r: WorkerReply, transfer: ArrayBuffer[] = []): void => port!.postMessage(r, transfer);
  try {
    const steps = closurePipeline(input);
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
