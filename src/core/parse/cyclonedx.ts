/**
 * A CycloneDX SBOM as sbomnix writes it: one component per derivation (bom-ref = the .drv path), its outputs
 * in `nix:output_path` properties, derivation-level edges in `dependencies`, and no sizes.
 * Each derivation becomes one node named by its main output (the one whose name is the derivation's);
 * other outputs (-man, -doc, …) are folded into it, since the SBOM does not say which output holds a reference.
 */
import type { PathRecord } from '../../shared/graph';
import { baseName } from '../../shared/storePath';
import { describe, isObject, malformed, readString, readStringArray, type JsonObject } from './json';
import { checkClosure, emptyClosure, splitStorePath } from './records';
import type { ParsedClosure } from './types';

export function isCycloneDx(doc: unknown): doc is JsonObject {
  return isObject(doc) && doc['bomFormat'] === 'CycloneDX';
}

export function parseCycloneDx(doc: JsonObject, source: string): ParsedClosure {
  const components = doc['components'];
  if (!Array.isArray(components))
    throw malformed(source, `components should be an array, found ${describe(components)}`);
  const metadata = doc['metadata'];
  const rootComponent = isObject(metadata) && isObject(metadata['component']) ? metadata['component'] : undefined;

  // bom-ref → the node's store path
  const nodeOf = new Map<string, string>();
  let folded = 0;
  const all = rootComponent ? [rootComponent, ...components] : components;
  for (let i = 0; i < all.length; i++) {
    const c: unknown = all[i];
    const where = rootComponent && i === 0 ? 'metadata.component' : `components[${rootComponent ? i - 1 : i}]`;
    if (!isObject(c)) throw malformed(source, `${where} should be an object, found ${describe(c)}`);
    const ref = readString(c['bom-ref'], source, `${where}.bom-ref`);
    const outputs = outputPaths(c, source, where);
    if (outputs.length > 1) folded += outputs.length - 1;
    nodeOf.set(ref, mainOutput(ref, outputs));
  }

  const deps = doc['dependencies'] ?? [];
  if (!Array.isArray(deps)) throw malformed(source, `dependencies should be an array, found ${describe(deps)}`);
  const refsOf = new Map<string, Set<string>>();
  for (let i = 0; i < deps.length; i++) {
    const d: unknown = deps[i];
    if (!isObject(d)) throw malformed(source, `dependencies[${i}] should be an object, found ${describe(d)}`);
    const from = readString(d['ref'], source, `dependencies[${i}].ref`);
    const fromPath = nodeOf.get(from);
    if (fromPath === undefined) throw malformed(source, `dependencies[${i}].ref ${from} is not a component`);
    const on =
      d['dependsOn'] === undefined ? [] : readStringArray(d['dependsOn'], source, `dependencies[${i}].dependsOn`);
    let set = refsOf.get(fromPath);
    if (!set) refsOf.set(fromPath, (set = new Set()));
    for (const to of on) {
      const toPath = nodeOf.get(to);
      if (toPath === undefined) {
        throw malformed(source, `${from} depends on ${to}, which is not a component (the SBOM is incomplete)`);
      }
      set.add(toPath);
    }
  }

  const records: PathRecord[] = [];
  let storeDir: string | undefined;
  for (const path of new Set(nodeOf.values())) {
    const split = splitStorePath(path, source, 'an output path');
    storeDir ??= split.storeDir;
    records.push({ path, narSize: null, references: [...(refsOf.get(path) ?? [])] });
  }
  if (records.length === 0) throw emptyClosure(source);
  const dir = storeDir ?? '/nix/store';
  const topLevel = checkClosure(records, source, dir);
  const declaredRoot = rootComponent ? nodeOf.get(rootComponent['bom-ref'] as string) : undefined;
  const notes = [
    'a CycloneDX SBOM carries no sizes: every size is unknown',
    'edges are between derivations, as sbomnix records them',
  ];
  if (folded > 0)
    notes.push(`${folded} extra outputs (such as -man or -doc) are folded into their derivation's main output`);
  return {
    records,
    roots: declaredRoot !== undefined ? [declaredRoot] : topLevel,
    format: 'cyclonedx',
    storeDir: dir,
    invalidPaths: [],
    notes,
  };
}

function outputPaths(c: JsonObject, source: string, where: string): string[] {
  const props = c['properties'];
  if (props === undefined) return [];
  if (!Array.isArray(props))
    throw malformed(source, `${where}.properties should be an array, found ${describe(props)}`);
  const out: string[] = [];
  for (const p of props) {
    if (isObject(p) && p['name'] === 'nix:output_path')
      out.push(readString(p['value'], source, `${where} nix:output_path`));
  }
  return out;
}

/** The output named like the derivation (`foo-1.0.drv` → `…-foo-1.0`), else the first; the .drv path if none. */
function mainOutput(drvPath: string, outputs: readonly string[]): string {
  if (outputs.length === 0) return drvPath;
  const drvName = baseName(drvPath)
    .slice(33)
    .replace(/\.drv$/, '');
  return outputs.find((o) => baseName(o).slice(33) === drvName) ?? [...outputs].sort()[0]!;
}
