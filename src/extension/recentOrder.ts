/**
 * "Last used first": the bookkeeping behind the target pick, without `vscode` so that it is tested in plain node.
 */

/** `keys` with `key` moved (or added) to the front, at most `max` long. */
export function pushRecent(keys: readonly string[], key: string, max: number): string[] {
  return [key, ...keys.filter((k) => k !== key)].slice(0, max);
}

/**
 * Splits `items` into those used before, most recent first, and the rest in their given order.
 * Items sharing a key (the same target listed twice) appear once among the recent ones.
 */
export function splitByRecent<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  recentKeys: readonly string[],
): { recent: T[]; rest: T[] } {
  const rank = new Map(recentKeys.map((k, i) => [k, i] as const));
  const recent = new Map<number, T>();
  const rest: T[] = [];
  for (const item of items) {
    const r = rank.get(keyOf(item));
    if (r === undefined) rest.push(item);
    else if (!recent.has(r)) recent.set(r, item);
  }
  return { recent: [...recent.entries()].sort((a, b) => a[0] - b[0]).map(([, item]) => item), rest };
}
