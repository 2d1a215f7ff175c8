// `--precise`: the files inside a store path that hold each reference, streamed from disk.
export * from './references';
export * from './excerpt';
export * from './chain';
export { scanFile, DEFAULT_CHUNK_SIZE, type RawHit, type ScanOptions } from './scanFile';
