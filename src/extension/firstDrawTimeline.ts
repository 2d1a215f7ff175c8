/**
 * One log line per "Show closure": where the time went from the command to the finished sunburst, so that a slow
 * first draw is read off the log (and by the bench) instead of guessed at. The engine's marks (nix started, first
 * and last byte, parsed, analysed, cached), the host's (panel, webview started, first script and ready, posted)
 * and the webview's (script, model, page, drawn, painted: measured in the webview from the closure message's
 * arrival) on one line, in ms since the closure was chosen (Enter in the box that asked, or the command when it named
 * one); a panel prepared while the user chose started its page before that: negative marks.
 */
import type { TimelineMark } from '../core/load/timeline';
import type { WebviewToHost } from '../shared/protocol';
import type { FirstDraw, SunburstPanel } from './sunburstPanel';

/** When a panel's page started, when its first script ran (both by the page's clock) and when the host heard it. */
export interface PageTimes {
  started?: number | undefined;
  script?: number | undefined;
  ready?: number | undefined;
}

/** The first `ready` of a panel, in `performance.now()` time (the page's times are ms since the epoch, as ours). */
export function notePageTimes(t: PageTimes, m: Extract<WebviewToHost, { type: 'ready' }>): void {
  if (t.ready !== undefined) return;
  t.ready = performance.now();
  t.started = m.documentAt - performance.timeOrigin;
  t.script = m.sentAt - performance.timeOrigin;
}

/** Long enough for a 100,000-path closure on a slow machine; a hidden panel may never draw. */
const DRAW_WAIT_MS = 120_000;

export interface FirstDrawTrace {
  readonly title: string;
  readonly paths: number;
  /** `performance.now()` when the command began. */
  readonly commandAt: number;
  /** ms since the command: the panel shown, the load begun. */
  readonly panelMs: number;
  readonly loadStartMs: number;
  /** The engine's marks, in ms since the load began. */
  readonly loadMarks: readonly TimelineMark[];
}

/**
 * Subscribe before posting the closure (the webview may answer before `posted` settles), then log the line once
 * the webview has painted, or say that it did not within DRAW_WAIT_MS.
 */
export function traceFirstDraw(
  panel: SunburstPanel,
  trace: FirstDrawTrace,
  posted: Promise<void>,
  log: (line: string) => void,
): void {
  const drawn = new Promise<FirstDraw | undefined>((resolve) => {
    const timer = setTimeout(() => finish(undefined), DRAW_WAIT_MS);
    const subs = [panel.onDidDraw((d) => finish(d)), panel.onDidDispose(() => finish(undefined))];
    function finish(d: FirstDraw | undefined): void {
      clearTimeout(timer);
      for (const s of subs) s.dispose();
      resolve(d);
    }
  });
  void posted.then(async () => {
    const postedMs = performance.now() - trace.commandAt;
    const draw = await drawn;
    // The webview's page starts while nix runs (the closure waits for it when it is slower), or before the
    // command when the panel was prepared while the user chose (negative: ms before the command).
    const since = (t: number | undefined) => (t === undefined ? undefined : t - trace.commandAt);
    log(
      timelineLine(trace, postedMs, draw, {
        started: since(panel.pageTimes.started),
        script: since(panel.pageTimes.script),
        ready: since(panel.pageTimes.ready),
      }),
    );
  });
}

export function timelineLine(
  trace: FirstDrawTrace,
  postedMs: number,
  draw: FirstDraw | undefined,
  page: PageTimes = {},
): string {
  const ms = (n: number) => Math.round(n).toLocaleString('en');
  const marks = [{ name: 'panel', ms: trace.panelMs }];
  for (const m of trace.loadMarks) marks.push({ name: m.name, ms: trace.loadStartMs + m.ms });
  if (page.started !== undefined) marks.push({ name: 'webview started', ms: page.started });
  if (page.script !== undefined) marks.push({ name: 'webview first script', ms: page.script });
  if (page.ready !== undefined) marks.push({ name: 'webview ready', ms: page.ready });
  marks.push({ name: 'posted', ms: postedMs });
  // The payload's way from the host's post to the page: VS Code's IPC, and (in code-server) the websocket.
  if (draw) marks.push({ name: 'closure arrived', ms: draw.arrivedAt - trace.commandAt });
  // In the order they happened: the webview may be ready before nix starts, or after the payload is built.
  const parts = marks.sort((a, b) => a.ms - b.ms).map((m) => `${m.name} ${ms(m.ms)}`);
  const head = `timeline ${trace.title} (${trace.paths.toLocaleString('en')} paths, ms since the closure was chosen):`;
  if (!draw) return `${head} ${parts.join(' · ')} · not drawn (the panel was hidden or closed)`;
  // The preview's marks come before the closure arrived: negative.
  const webview = draw.marks.map((m) => `${m.name} ${m.ms < 0 ? '-' : '+'}${ms(Math.abs(m.ms))}`).join(', ');
  const total = draw.heardAt - trace.commandAt;
  return `${head} ${parts.join(' · ')} · webview (${draw.arcs.toLocaleString('en')} arcs): ${webview} · painted ${ms(total)}`;
}
