// Analyses that only the node side runs (the webview's own are in src/shared/analysis).
export * from './closure';
export * from './cutOff';
export * from './duplicates';
