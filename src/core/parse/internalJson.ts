/**
 * Nix's `--log-format internal-json` stderr (`@nix {json}` per line) turned into build progress:
 * how many builds are done of how many, which derivations are building now, their log lines and phases.
 * Activity and result type numbers are Nix's (libutil/logging.hh), the same in 2.8 and 2.26 recordings.
 */
import { stripAnsi } from '../errors';
import { baseName } from '../../shared/storePath';

const ACT_COPY_PATHS = 103;
const ACT_BUILDS = 104;
const ACT_BUILD = 105;
const RES_BUILD_LOG_LINE = 101;
const RES_SET_PHASE = 104;
const RES_PROGRESS = 105;

export type BuildEvent =
  | {
      readonly kind: 'builds';
      readonly done: number;
      readonly expected: number;
      readonly running: number;
      readonly failed: number;
      /** Names of the derivations building now (`hello-2.12.1`), oldest first. */
      readonly current: readonly string[];
    }
  | { readonly kind: 'copies'; readonly done: number; readonly expected: number }
  | { readonly kind: 'log'; readonly derivation: string; readonly line: string }
  | { readonly kind: 'phase'; readonly derivation: string; readonly phase: string }
  | { readonly kind: 'message'; readonly level: number; readonly text: string };

/** `/nix/store/<hash>-hello-2.12.1.drv` → `hello-2.12.1`. */
export function derivationName(drvPath: string): string {
  return baseName(drvPath)
    .slice(33)
    .replace(/\.drv$/, '');
}

export class InternalJsonProgress {
  private readonly building = new Map<number, string>();
  private builds = { done: 0, expected: 0, running: 0, failed: 0 };
  /** Error messages Nix logged (level 0), without ANSI codes. */
  readonly errors: string[] = [];
  /** Lines that were not `@nix` JSON (a builder that wrote to the terminal, or a Nix that ignored the flag). */
  readonly otherLines: string[] = [];

  /** Feeds one stderr line; returns the events it causes (often none). */
  feed(line: string): BuildEvent[] {
    if (!line.startsWith('@nix ')) {
      if (line.trim() !== '') this.otherLines.push(line);
      return [];
    }
    let o: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(line.slice(5));
      if (typeof v !== 'object' || v === null) return [];
      o = v as Record<string, unknown>;
    } catch {
      this.otherLines.push(line);
      return [];
    }
    const id = typeof o['id'] === 'number' ? o['id'] : -1;
    const fields = Array.isArray(o['fields']) ? (o['fields'] as unknown[]) : [];
    switch (o['action']) {
      case 'start':
        if (typeof o['type'] === 'number') this.activityTypes.set(id, o['type']);
        if (o['type'] === ACT_BUILD && typeof fields[0] === 'string') {
          this.building.set(id, derivationName(fields[0]));
          return [this.buildsEvent()];
        }
        return [];
      case 'stop':
        this.activityTypes.delete(id);
        if (this.building.delete(id)) return [this.buildsEvent()];
        return [];
      case 'result': {
        const type = o['type'];
        if (type === RES_PROGRESS && fields.length >= 4 && fields.every((f) => typeof f === 'number')) {
          const [done, expected, running, failed] = fields as number[];
          if (this.activityType(o) === ACT_COPY_PATHS) {
            return expected! > 0 ? [{ kind: 'copies', done: done!, expected: expected! }] : [];
          }
          if (this.activityType(o) === ACT_BUILDS) {
            this.builds = { done: done!, expected: expected!, running: running!, failed: failed! };
            return [this.buildsEvent()];
          }
          return [];
        }
        const derivation = this.building.get(id);
        if (derivation === undefined) return [];
        if (type === RES_BUILD_LOG_LINE && typeof fields[0] === 'string') {
          return [{ kind: 'log', derivation, line: stripAnsi(fields[0]) }];
        }
        if (type === RES_SET_PHASE && typeof fields[0] === 'string')
          return [{ kind: 'phase', derivation, phase: fields[0] }];
        return [];
      }
      case 'msg': {
        const level = typeof o['level'] === 'number' ? o['level'] : 3;
        const text = typeof o['msg'] === 'string' ? stripAnsi(o['msg']) : '';
        if (level === 0) this.errors.push(text);
        return level <= 3 ? [{ kind: 'message', level, text }] : [];
      }
      default:
        return [];
    }
  }

  /** Each running activity's type, from its `start`, so that a `result` can be attributed to it. */
  private readonly activityTypes = new Map<number, number>();

  private activityType(o: Record<string, unknown>): number | undefined {
    return this.activityTypes.get(o['id'] as number);
  }

  private buildsEvent(): BuildEvent {
    return { kind: 'builds', ...this.builds, current: [...this.building.values()] };
  }
}
