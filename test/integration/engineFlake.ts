/**
 * A tiny flake for the engine's integration tests, written to a fresh temp dir: builtins.derivation with
 * sh builtins only. A salt makes every test run's store paths new, so "not built yet" and real builds happen.
 * (Not a *.test.ts file: the test files import it.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface EngineFlake {
  readonly dir: string;
  readonly salt: string;
  /** `path:<dir>#<attr>` */
  installable(attr: string): string;
  /** The `sleep` argument of the `slow` package's builder, to find its process. */
  readonly sleepMarker: string;
}

export const NIX_CONFIG =
  'experimental-features = nix-command flakes\nsubstituters =\nsandbox = false\nfsync-metadata = false\nbuild-users-group =\n';

export function writeEngineFlake(): EngineFlake {
  const dir = mkdtempSync(path.join(tmpdir(), 'engine-flake-'));
  const salt = `${process.pid}-${Date.now()}`;
  const sleepMarker = `300.${process.pid}${Math.floor(Math.random() * 1e6)}`;
  writeFileSync(
    path.join(dir, 'flake.nix'),
    `{
  outputs = { self }: let
    salt = "${salt}";
    mk = name: script: builtins.derivation {
      inherit name;
      system = "x86_64-linux";
      builder = "/bin/sh";
      args = [ "-c" script ];
    };
    # glibc-like: references itself
    base = mk "base-1.0" "echo \${salt} > $out; echo $out >> $out";
    lib = mk "lib-2.0" "echo \${base} > $out";
    tool = mk "tool-3.0" "echo \${base} > $out";
    app = mk "app-4.0" "echo 'building app'; echo \${lib} \${tool} > $out";
  in {
    packages.x86_64-linux = {
      inherit base lib tool app;
      default = app;
      never-built = mk "never-built-1.0" "echo \${salt} never > $out";
      slow = mk "slow-1.0" "/bin/sleep ${sleepMarker}; echo \${salt} > $out";
      fails = mk "fails-1.0" "echo about to fail; exit 3";
    };
    errors = {
      throws = throw "engine-flake: this always throws";
    };
  };
}
`,
  );
  return { dir, salt, sleepMarker, installable: (attr) => `path:${dir}#${attr}` };
}

/** A flake whose flake.nix has a syntax error on line 4, column 9. */
export function writeSyntaxErrorFlake(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'engine-flake-syntax-'));
  writeFileSync(path.join(dir, 'flake.nix'), '{\n  outputs = { self }: {\n\n    x = ;\n  };\n}\n');
  return dir;
}

export { processesWith, waitUntilGone } from '../support/processes';
