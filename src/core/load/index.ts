// Loading a closure: nix's output fed through the analysis pipeline into a graph, cached on disk.
export * from './engine';
export * from './pipeline';
export * from './graphCache';
export * from './byteFeed';
export * from './sharedRuns';
export * from './storePaths';
export * from './lruMap';
export * from './timeline';
