/**
 * The true cost of every definition in the user's files, measured in the background after "Show closure": the
 * configuration is evaluated without each definition (all variants in as few nix processes as the engine
 * allows: src/core/attribution/counterfactualService.ts, cached by toplevel drvPath and definition) and each
 * result is kept here per analysed target, so that the hover, the CodeLens, the sidebar and the why panel can
 * say "measuring…" and then the number. Progress shows in the status bar ("measuring option costs… 12/68");
 * clicking it cancels the run (what finished stays cached).
 */
import * as vscode from 'vscode';
import type { OptionAttribution } from '../core/attribution/attribute';
import type { CounterfactualCost } from '../core/attribution/counterfactual';
import { targetKey, userTargets } from '../core/attribution/counterfactualService';
import type { CounterfactualResult } from '../core/attribution/optionsRender';
import type { AttributionService } from '../core/attribution/service';
import { isClosureLensError } from '../core/errors';
import { CONTEXT_KEYS } from './contributions';
import { Disposable } from './disposables';
import type { NixLog } from './nixLog';

/** What is known of one definition's true cost: the result, or that it is still being measured. */
export type MeasuredState = CounterfactualCost | { readonly error: string } | 'measuring';

interface Run {
  readonly attribution: OptionAttribution;
  readonly title: string;
  readonly controller: AbortController;
  readonly results: Map<number, CounterfactualResult>;
  /** Results for single elements of list definitions, by `targetKey` (`<definition>:<element>`). */
  readonly elementResults: Map<string, CounterfactualResult>;
  /** The definitions this run measures. */
  readonly targets: ReadonlySet<number>;
  /** The list elements it measures, by `targetKey`. */
  readonly elementTargets: ReadonlySet<string>;
  done: number;
  state: 'running' | 'done' | 'cancelled' | 'failed';
  error?: string;
}

export const CANCEL_COMMAND = 'nixClosureLens.cancelOptionCosts';

export class OptionMeasurements extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  /** Fires (at most every CHANGE_MS) while results arrive, and when a run ends. */
  readonly onDidChange = this.changed.event;
  /** Finished runs fire their own event: the why panel is refreshed once per run, not per result. */
  private readonly finished = this.register(new vscode.EventEmitter<string>());
  readonly onDidFinish = this.finished.event;
  private readonly runs = new Map<string, Run>();
  private readonly item = this.register(
    vscode.window.createStatusBarItem('nixClosureLens.optionCosts', vscode.StatusBarAlignment.Left, 49),
  );
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly log: NixLog) {
    super();
    this.item.name = 'Nix Closure Lens: option costs';
    this.item.command = CANCEL_COMMAND;
    this.register(vscode.commands.registerCommand(CANCEL_COMMAND, () => this.stopByUser()));
    this.register({
      dispose: () => {
        if (this.pending) clearTimeout(this.pending);
        for (const r of this.runs.values()) r.controller.abort();
      },
    });
  }

  /**
   * Measures every user definition of `attribution` (target `key`) unless a run for this very attribution is
   * going or done; a run for an older attribution of the target is cancelled.
   */
  start(
    key: string,
    title: string,
    attribution: OptionAttribution,
    service: AttributionService,
    opts: { cwd?: string; timeoutMs?: number },
  ): void {
    const previous = this.runs.get(key);
    if (
      previous?.attribution === attribution &&
      !previous.controller.signal.aborted &&
      (previous.state === 'running' || previous.state === 'done')
    )
      return;
    previous?.controller.abort();
    const mine = userTargets(attribution);
    const run: Run = {
      attribution,
      title,
      controller: new AbortController(),
      results: new Map(),
      elementResults: new Map(),
      targets: new Set(mine.filter((t) => t.element === undefined).map((t) => t.definition)),
      elementTargets: new Set(mine.filter((t) => t.element !== undefined).map(targetKey)),
      done: 0,
      state: 'running',
    };
    this.runs.set(key, run);
    if (mine.length === 0) {
      run.state = 'done';
      return;
    }
    const started = performance.now();
    this.showProgress();
    service
      .measure(attribution, mine, {
        signal: run.controller.signal,
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        onResult: (r) => {
          if (this.runs.get(key) !== run) return;
          const result = r.cost ?? { error: r.error! };
          if (r.target.element === undefined) run.results.set(r.target.definition, result);
          else run.elementResults.set(targetKey(r.target), result);
          run.done = run.results.size + run.elementResults.size;
          this.showProgress();
          this.fireSoon();
        },
      })
      .then(
        () => {
          run.state = 'done';
          this.log.info(
            `${title}: measured ${run.results.size} of your definitions and ${run.elementResults.size} list elements without them in ${((performance.now() - started) / 1000).toFixed(1)} s`,
          );
        },
        (err: unknown) => {
          if (run.controller.signal.aborted || isClosureLensError(err, 'cancelled')) run.state = 'cancelled';
          else {
            run.state = 'failed';
            run.error = err instanceof Error ? err.message : String(err);
            this.log.error(
              `measuring the option costs of ${title} failed`,
              isClosureLensError(err) ? `${err.oneLine()}\n${err.detail ?? ''}` : err,
            );
          }
        },
      )
      .finally(() => {
        if (this.runs.get(key) !== run) return;
        this.showProgress();
        this.changed.fire();
        this.finished.fire(key);
      });
  }

  /** "Stop measuring option costs": stops every run and says what was measured before it stopped. */
  private stopByUser(): void {
    const running = [...this.runs.values()].filter((r) => r.state === 'running');
    this.cancel();
    const measured = running.reduce((n, r) => n + r.done, 0);
    const total = running.reduce((n, r) => n + targetCount(r), 0);
    vscode.window.setStatusBarMessage(
      running.length === 0
        ? '$(circle-slash) Nix Closure Lens: no option costs were being measured.'
        : `$(circle-slash) Nix Closure Lens: stopped measuring option costs; ${measured} of ${total} were measured, the rest keep their estimates.`,
      10_000,
    );
  }

  /** Cancels the runs (all, or the target's). What was measured stays. */
  cancel(key?: string): void {
    for (const [k, r] of this.runs) if (key === undefined || k === key) r.controller.abort();
  }

  /** A definition's true cost, 'measuring' while its run goes, undefined when it is not being measured. */
  of(key: string, attribution: OptionAttribution, id: number): MeasuredState | undefined {
    const run = this.runs.get(key);
    if (run?.attribution !== attribution) return undefined;
    return stateOf(run, run.results.get(id), run.targets.has(id));
  }

  /** Element k of definition `id`: its true cost, 'measuring' while its run goes, undefined when not measured. */
  ofElement(key: string, attribution: OptionAttribution, id: number, k: number): MeasuredState | undefined {
    const run = this.runs.get(key);
    if (run?.attribution !== attribution) return undefined;
    const t = targetKey({ definition: id, element: k });
    return stateOf(run, run.elementResults.get(t), run.elementTargets.has(t));
  }

  /** Every result known for the target's attribution (for the why panel and the rankings). */
  results(key: string, attribution: OptionAttribution): ReadonlyMap<number, CounterfactualResult> {
    const run = this.runs.get(key);
    return run?.attribution === attribution ? run.results : new Map();
  }

  /** How far the target's run is; undefined when none ran. */
  progress(key: string): { done: number; total: number; state: Run['state'] } | undefined {
    const run = this.runs.get(key);
    return run && { done: run.done, total: targetCount(run), state: run.state };
  }

  private fireSoon(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.changed.fire();
    }, 150);
  }

  private showProgress(): void {
    const running = [...this.runs.values()].filter((r) => r.state === 'running');
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS.measuringOptionCosts, running.length > 0);
    if (running.length === 0) {
      this.item.hide();
      return;
    }
    const done = running.reduce((s, r) => s + r.done, 0);
    const total = running.reduce((s, r) => s + targetCount(r), 0);
    this.item.text = `$(sync~spin) measuring option costs… ${done}/${total}`;
    this.item.tooltip =
      `Evaluating ${running.map((r) => r.title).join(', ')} without each of your definitions ` +
      '(not built), for what each really costs. Click to cancel.';
    this.item.show();
  }
}

/** What a run measures: its definitions and list elements. */
function targetCount(run: Run): number {
  return run.targets.size + run.elementTargets.size;
}

/** A measured target's state: its result, else 'measuring' while its run goes, or the run's error if it failed. */
function stateOf(run: Run, result: CounterfactualResult | undefined, measures: boolean): MeasuredState | undefined {
  if (result) return result;
  if (run.state === 'running' && measures) return 'measuring';
  if (run.state === 'failed' && measures) return { error: run.error ?? 'the measurement failed' };
  return undefined;
}
