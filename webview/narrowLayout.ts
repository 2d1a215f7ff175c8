/**
 * Below NARROW_PX the side pane goes under the chart (the split turns horizontal): side by side, neither the chart
 * nor store paths in the pane would have room.
 */

/** Panels narrower than this stack the side pane below the chart. */
export const NARROW_PX = 760;

/** The `<vscode-split-layout>` element's properties this file sets. */
export type SplitLayout = HTMLElement & { split: string; handlePosition: string };

/** Applies the layout for the page's width now and whenever it changes; disconnect the observer to stop. */
export function followWidth(app: HTMLElement, split: SplitLayout): ResizeObserver {
  const apply = () => {
    const narrow = app.clientWidth < NARROW_PX;
    if (narrow === app.classList.contains('narrow')) return;
    app.classList.toggle('narrow', narrow);
    split.setAttribute('min-start', narrow ? '200px' : '260px');
    split.setAttribute('min-end', narrow ? '140px' : '220px');
    split.split = narrow ? 'horizontal' : 'vertical';
    split.handlePosition = narrow ? '60%' : '64%';
  };
  apply();
  const observer = new ResizeObserver(apply);
  observer.observe(app);
  return observer;
}
