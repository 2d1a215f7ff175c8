// esbuild's text loader turns `import x from './file.nix'` into the file's contents.
declare module '*.nix' {
  const source: string;
  export default source;
}
