/**
 * The expected numbers for the hover and tree tests, computed in the test itself from real nix: the closure from
 * `nix path-info -r --json`, the option definitions from the attribution evaluation (src/core), and the costs from
 * the engine's analyses. Never from the extension's own state.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ClosureAnalysis } from '../../../src/core/analysis';
import { OptionAttribution } from '../../../src/core/attribution';
import { AttributionService } from '../../../src/core/attribution';
import { ClosureGraph } from '../../../src/shared';
import { NixRunner } from '../../../src/core/nix';
import { parseClosureJson } from '../../../src/core/parse';
import type { NixClosureLensApi } from '../../../src/extension/extension';
export { waitFor } from './waitFor';

export const EXTENSION_ID = 'nix-closure-lens.nix-closure-lens';
export const DEMO = 'nixosConfigurations.demo';

export async function api(): Promise<NixClosureLensApi> {
  const ext = vscode.extensions.getExtension<NixClosureLensApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

export function folder(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f && fs.existsSync(path.join(f.uri.fsPath, 'flake.nix')), 'the e2e harness opens the example flake');
  return f.uri.fsPath;
}

export interface Expected {
  readonly toplevel: string;
  readonly analysis: ClosureAnalysis;
  readonly attribution: OptionAttribution;
}

const memo = new Map<string, Promise<Expected>>();

/** The engine's view of a configuration of the workspace flake, from nix directly. */
export function expectedFor(configuration: string): Promise<Expected> {
  let p = memo.get(configuration);
  if (!p) {
    p = compute(configuration);
    memo.set(configuration, p);
  }
  return p;
}

async function compute(configuration: string): Promise<Expected> {
  const nix = new NixRunner({ timeoutMs: 120_000 });
  const flake = `path:${folder()}`;
  const toplevel = (
    await nix.run(['eval', '--raw', `${flake}#${configuration}.config.system.build.toplevel.outPath`])
  ).stdout.trim();
  const parsed = parseClosureJson((await nix.run(['path-info', '-r', '--json', toplevel])).stdout, 'nix path-info');
  const graph = ClosureGraph.build(parsed.records, [toplevel]);
  const analysis = new ClosureAnalysis(graph);
  const ev = await new AttributionService(nix).evaluate(`${flake}#${configuration}`, { cwd: folder() });
  assert.equal(ev.root?.outPath, toplevel, 'the evaluation is of the built system');
  return { toplevel, analysis, attribution: new OptionAttribution({ graph, evaluation: ev }) };
}

/** The definition of `option` in `file` (workspace path) that the attribution found. */
export function definitionIn(e: Expected, file: string, option: string) {
  const d = e.attribution.definitions.find((x) => x.file === file && x.option === option);
  assert.ok(d, `the attribution has a definition of ${option} in ${file}`);
  return d;
}

/** Sum of NAR sizes and the nodes lost without `removed`, largest NAR first. */
export function lost(e: Expected, removed: readonly number[]): { bytes: number; nodes: number[] } {
  const g = e.attribution.graph;
  const nodes = e.attribution.lostNodes(removed).sort((a, b) => g.narSize[b]! - g.narSize[a]! || a - b);
  return { bytes: nodes.reduce((s, i) => s + g.narSize[i]!, 0), nodes };
}
