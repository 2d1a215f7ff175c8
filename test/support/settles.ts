/** Waiting for a condition in a test (a worker thread gone, a counter reached): polled, never a fixed sleep. */

/** Polls `check` every 20 ms; true once it holds, false if it still does not after `ms`. */
export async function settles(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
