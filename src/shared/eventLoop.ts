/**
 * A turn of the event loop between two long synchronous steps, in node and in the webview alike. A zero timeout
 * rather than setImmediate: an immediate queued from an I/O callback (a worker's message, a finished read) runs in
 * the same loop iteration, before any timer, so the two steps would still hold the loop as one.
 */
export function afterTurn(fn: () => void): void {
  setTimeout(fn, 0);
}

/** afterTurn as a promise. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => afterTurn(resolve));
}
