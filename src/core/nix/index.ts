// Running nix: the process runner and version detection.
export * from './runner';
export * from './version';
export * from './build';
