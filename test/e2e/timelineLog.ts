/**
 * The `timeline …` lines the extension logs per Show closure (src/extension/firstDrawTimeline.ts), read back from
 * the output channel's log file: for the e2e check of their order and for bench/vscode-first-draw.ts.
 */
import type { Profile } from './codeServer';
import { outputChannelLines } from './outputChannel';

export interface TimelineMark {
  readonly name: string;
  readonly ms: number;
}

export interface ParsedTimeline {
  /** The host's marks in the order logged (ms since the command), the final `painted` last. */
  readonly marks: readonly TimelineMark[];
  /** The webview's marks (ms since the closure message reached it). */
  readonly webview: readonly TimelineMark[];
}

/** Every complete timeline line so far (one that ends with the painted mark), oldest first. */
export function timelineLines(profile: Profile): string[] {
  return outputChannelLines(profile, 'Nix Closure Lens').filter((l) => / timeline .* painted [\d,]+$/.test(l));
}

/**
 * e.g. "timeline .#nixosConfigurations.demo (77 paths, ms since the closure was chosen): panel 3 · nix started 411 · … ·
 * posted 520 · webview (80 arcs): preview arrived -120, preview painted -70, script +0, model +2, page +30, drawn +60,
 * painted +75 · painted 610"
 */
export function parseTimeline(line: string): ParsedTimeline {
  const num = (t: string) => Number(t.replace(/,/g, ''));
  return {
    marks: [...line.matchAll(/(?:: |· )([a-z ]+?) (-?[\d,]+)(?= ·|$)/g)].map((m) => ({ name: m[1]!, ms: num(m[2]!) })),
    webview: [
      ...(/ · webview \([\d,]+ arcs\): (.*) · painted /.exec(line)?.[1] ?? '').matchAll(/([a-z ]+) ([+-][\d,]+)/g),
    ].map((m) => ({ name: m[1]!.trim(), ms: num(m[2]!) })),
  };
}
