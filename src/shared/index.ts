// Browser-safe code shared by the engine, the extension host and the webview: the protocol, the graph, store-path
// names, size formats, the snapshot the webview draws, and the analyses both sides run. No node: imports here.
export * from './analysis';
export * from './format';
export * from './graph';
export * from './protocol';
export * from './slices';
export * from './snapshot';
export * from './sunburstPreview';
export * from './storePath';
export * from './eventLoop';
