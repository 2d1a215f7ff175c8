/**
 * Builds the engine from the settings: one NixRunner (every call logged to the output channel) and one
 * ClosureEngine with its on-disk graph cache. Rebuilt when a nix setting changes.
 */
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { GraphCache } from '../core/load/graphCache';
import { ClosureEngine } from '../core/load/engine';
import { humanStderr } from '../core/errors';
import { NixRunner } from '../core/nix/runner';
import { WorkerAnalyser } from '../core/worker/analyseInWorker';
import type { NixCommandRunner } from './flakeOutputs';
import type { NixLog } from './nixLog';
import { readSettings, type Settings } from './settings';

export class EngineHost {
  private built: { key: string; runner: NixRunner; engine: ClosureEngine } | undefined;

  constructor(
    private readonly storageDir: vscode.Uri,
    private readonly log: NixLog,
  ) {}

  /** The directory of the graph cache: the setting, else the extension's global storage. */
  cacheDir(settings: Settings = readSettings()): string {
    return settings.cacheDirectory !== '' ? settings.cacheDirectory : path.join(this.storageDir.fsPath, 'graphs');
  }

  private current() {
    const s = readSettings();
    const key = JSON.stringify([s.nixPath, s.extraArgs, s.timeoutMs, this.cacheDir(s), s.store]);
    if (this.built?.key !== key) {
      const runner = new NixRunner({
        nixPath: s.nixPath,
        extraArgs: [...s.extraArgs],
        timeoutMs: s.timeoutMs,
        // If the extension host is killed outright, nix and its builders go with it.
        dieWithParent: true,
        onCommand: (c) => this.log.command(c, c.ok ? undefined : lastLines(humanStderr(c.stderr), 60)),
      });
      const engine = new ClosureEngine({
        nix: runner,
        cache: new GraphCache(this.cacheDir(s)),
        ...(s.store ? { store: s.store } : {}),
        analyser: hostAnalyser(),
      });
      this.built = { key, runner, engine };
    }
    return this.built;
  }

  get engine(): ClosureEngine {
    return this.current().engine;
  }

  get runner(): NixCommandRunner {
    return this.current().runner;
  }
}

/**
 * The extension host runs every extension and the editor's language features on one event loop: parsing and
 * analysing a large closure there would freeze them for seconds, so it happens in a worker thread
 * (dist/closureWorker.js, next to this bundle). bench/load.ts measures this configuration.
 */
function hostAnalyser(): WorkerAnalyser {
  return new WorkerAnalyser(path.join(__dirname, 'closureWorker.js'));
}

/** The end of a long stderr: the error is at the end, the build log before it can be megabytes. */
function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.length <= n ? lines.join('\n') : [`… ${lines.length - n} earlier lines`, ...lines.slice(-n)].join('\n');
}
