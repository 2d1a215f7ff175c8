// The analysis worker thread (its entry point closureWorker.ts is a bundle of its own).
export * from './analyseInWorker';
export * from './messages';
