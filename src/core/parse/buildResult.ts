/**
 * `nix build --json` stdout: `[{"drvPath": …, "outputs": {"out": …}, …}]` (2.26 adds startTime/stopTime).
 * Returns the output paths in the order Nix printed them.
 */
import { describe, isObject, malformed, parseJsonText, readString } from './json';

export interface BuiltDerivation {
  readonly drvPath: string;
  readonly outputs: Readonly<Record<string, string>>;
}

export function parseBuildJson(text: string, source = '`nix build --json`'): BuiltDerivation[] {
  const doc = parseJsonText(text, source);
  if (!Array.isArray(doc)) throw malformed(source, `expected an array, found ${describe(doc)}`);
  return doc.map((entry: unknown, i) => {
    if (!isObject(entry)) throw malformed(source, `entry ${i} should be an object, found ${describe(entry)}`);
    const drvPath = readString(entry['drvPath'], source, `entry ${i}.drvPath`);
    const outs = entry['outputs'];
    if (!isObject(outs)) throw malformed(source, `entry ${i}.outputs should be an object, found ${describe(outs)}`);
    const outputs: Record<string, string> = {};
    for (const [name, path] of Object.entries(outs))
      outputs[name] = readString(path, source, `entry ${i}.outputs.${name}`);
    return { drvPath, outputs };
  });
}

export function outputPaths(built: readonly BuiltDerivation[]): string[] {
  return built.flatMap((b) => Object.values(b.outputs));
}
