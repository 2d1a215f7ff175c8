// A Nix-aware lexer and scanner for the positions of option definitions in .nix files.
export * from './lexer';
export * from './scanner';
