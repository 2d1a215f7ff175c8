// Graph analyses that both the engine and the webview run.
export * from './closureSize';
export * from './condensation';
export * from './dominators';
export * from './names';
export * from './why';
export * from './whyGraph';
