// Nix's outputs and other closure formats, parsed. closureJson.ts picks the parser for an input; one file per format.
export * from './closureJson';
export * from './buildResult';
export * from './compactPathInfo';
export * from './cyclonedx';
export * from './fastPathInfo';
export * from './internalJson';
export { firstSyntaxErrorOffset, parseJsonText } from './json';
export * from './pathInfo';
export * from './pathInfoGraph';
export * from './pathInfoStream';
export * from './records';
