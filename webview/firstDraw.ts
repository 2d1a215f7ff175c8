/**
 * The webview's part of the load timeline (issue 17): when the preview arrived and was painted (before the closure:
 * negative), when the bundle took the `closure` message (it may arrive while the bundle still loads), when the closure model, the page and the drawing were done, and when the frame
 * holding the drawing was painted, in ms since the message arrived, and when it arrived (ms since the epoch: the
 * host reads the payload's way from its post to here). Posted once as a `drawn` message; the host puts it on the
 * load's line in the log.
 */
import type { DrawMark, WebviewToHost } from '../src/shared/protocol';

export class FirstDrawMarks {
  private readonly marks: DrawMark[] = [];

  /** `earlier`: the preview's marks (performance.now() time), read when the report is posted. */
  constructor(
    private readonly receivedAt: number,
    private readonly earlier: readonly { name: DrawMark['name']; at: number }[] = [],
  ) {}

  mark(name: DrawMark['name']): void {
    this.marks.push({ name, ms: performance.now() - this.receivedAt });
  }

  /**
   * The drawing is done: tells the tests and the bench at once (`data-drawn` counts drawings; the
   * `closurelens:drawn` event carries ms since the message arrived and the arcs drawn), and the host once painted.
   */
  drawn(arcs: number, current: () => boolean, post: (m: WebviewToHost) => void): void {
    this.mark('drawn');
    document.body.dataset['drawn'] = String(Number(document.body.dataset['drawn'] ?? '0') + 1);
    const ms = performance.now() - this.receivedAt;
    window.dispatchEvent(new CustomEvent('closurelens:drawn', { detail: { ms, arcs } }));
    this.postWhenPainted(arcs, current, post);
  }

  /**
   * The second frame callback runs once the frame with the drawing has been painted. `current` says whether the
   * drawing is still the one shown (another closure may have replaced it in between).
   */
  private postWhenPainted(arcs: number, current: () => boolean, post: (m: WebviewToHost) => void): void {
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (!current()) return;
        this.mark('painted');
        const before = this.earlier.map((e) => ({ name: e.name, ms: e.at - this.receivedAt }));
        post({
          type: 'drawn',
          marks: [...before, ...this.marks],
          arcs,
          arrivedAt: performance.timeOrigin + this.receivedAt,
        });
      }),
    );
  }
}
